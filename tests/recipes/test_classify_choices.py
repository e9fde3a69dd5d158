"""Each choice list of the classify recipe is defined once: the config offers it and the builders handle it all."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from core.recipes import describe
from core.recipes.classify import ClassifyConfig, choices
from core.recipes.common.data import build_transform
from core.recipes.common.optim import LrSchedule, build_optimizer

# config field -> the list in core.recipes.classify.choices that it offers
FIELD_CHOICES = {
    "augment": choices.AUGMENT_PRESETS,
    "balance": choices.BALANCE_MODES,
    "heads": choices.HEADS,
    "freeze": choices.FREEZE_MODES,
    "optimizer": choices.OPTIMIZERS,
    "scheduler": choices.SCHEDULERS,
    "amp": choices.AMP_MODES,
}
DATA_CONFIG = {"mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25), "interpolation": "bilinear"}


def test_the_config_offers_the_lists_of_the_choices_module() -> None:
    specs = {s.name: s for s in describe(ClassifyConfig)}
    for field, offered in FIELD_CHOICES.items():
        assert specs[field].choices == offered, field
        assert specs[field].default in offered


@pytest.mark.parametrize("name", choices.OPTIMIZERS)
def test_every_optimizer_choice_builds(name: str) -> None:
    optimizer = build_optimizer(nn.Linear(3, 2), name, lr=0.1, weight_decay=0.01, momentum=0.9)
    assert isinstance(optimizer, torch.optim.Optimizer)


@pytest.mark.parametrize("name", choices.SCHEDULERS)
def test_every_scheduler_choice_gives_a_positive_lr(name: str) -> None:
    schedule = LrSchedule(name, base_lr=0.1, epochs=4, warmup_epochs=1)
    assert all(0 < schedule.lr_at(t) <= 0.1 for t in (0.0, 0.5, 2.0, 3.9))


@pytest.mark.parametrize("preset", choices.AUGMENT_PRESETS)
def test_every_augment_choice_builds(preset: str) -> None:
    assert build_transform(preset, 16, DATA_CONFIG, train=True) is not None


def test_an_unknown_name_is_refused_by_the_builders() -> None:
    with pytest.raises(ValueError, match="adamw"):
        build_optimizer(nn.Linear(3, 2), "lion", lr=0.1, weight_decay=0.0, momentum=0.9)
    with pytest.raises(ValueError, match="cosine"):
        LrSchedule("linear", base_lr=0.1, epochs=4)
    with pytest.raises(ValueError, match="light"):
        build_transform("heavy", 16, DATA_CONFIG, train=True)


def test_grad_cam_methods_are_the_choices_list(tmp_path: Path) -> None:
    from core.recipes.classify import predict

    assert list(predict.METHODS) == list(choices.CAM_METHODS)
    assert all(isinstance(cls, type) for cls in predict.METHODS.values())
    with pytest.raises(predict.PredictError, match="best, last"):
        predict.checkpoint_path(tmp_path, "newest")
