"""What the recipes share: the differential learning rate of the optimizer, class-balanced weights, the shared
config fields (one definition, the same in every recipe) and the checkpoint contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from core.recipes import describe, list_recipes
from core.recipes.common.checkpoint import CheckpointError, base_checkpoint, read_checkpoint, save_checkpoint
from core.recipes.common.losses import inverse_frequency_weights
from core.recipes.common.optim import build_optimizer, set_lr


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)


@pytest.mark.parametrize("name", ["adamw", "sgd"])
def test_a_backbone_lr_ratio_scales_only_the_backbones_groups(name: str) -> None:
    net = Net()
    optimizer = build_optimizer(net, name, lr=0.1, weight_decay=0.05, momentum=0.9, lr_scales={net.backbone: 0.1})
    set_lr(optimizer, 0.2)
    backbone = {id(p) for p in net.backbone.parameters()}
    seen = 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            expected = 0.02 if id(p) in backbone else 0.2
            assert group["lr"] == pytest.approx(expected)
            assert group["weight_decay"] == (0.0 if p.ndim <= 1 else 0.05)  # no decay on biases and norms
            seen += 1
    assert seen == len(list(net.parameters()))


def test_without_scales_the_optimizer_is_timms_plain_one() -> None:
    optimizer = build_optimizer(Net(), "adam", lr=0.1, weight_decay=0.0, momentum=0.9)
    set_lr(optimizer, 0.3)
    assert all(g["lr"] == 0.3 for g in optimizer.param_groups)


def test_class_balanced_weights_lie_between_none_and_inverse_frequency() -> None:
    counts = torch.tensor([100.0, 10.0, 1.0, 0.0])
    plain = inverse_frequency_weights(counts)
    balanced = inverse_frequency_weights(counts, beta=0.99)
    for w in (plain, balanced):
        assert (w * counts).sum() == pytest.approx(counts.sum()) and w[3] == 0  # an average image weighs 1
    assert plain[2] / plain[0] == pytest.approx(100.0)
    assert 1.0 < balanced[2] / balanced[0] < 100.0
    assert torch.allclose(inverse_frequency_weights(counts, beta=0.0)[:3], torch.ones(3))  # beta 0: no balancing


def test_shared_fields_mean_the_same_in_every_recipe() -> None:
    specs = [{s.name: s for s in describe(entry.config_cls)} for entry in list_recipes()]
    shared = set.intersection(*(set(s) for s in specs)) - {"dropout", "freeze", "early_stop_patience", "balance",
                                                          "plateau_patience", "focal_gamma"}  # fmt: skip
    assert {"lr", "optimizer", "scheduler", "backbone", "pretrained", "seed", "device"} <= shared
    for name in shared:
        first = specs[0][name]
        assert all((s[name].help, s[name].choices, s[name].min, s[name].max, s[name].type, s[name].section) ==
                   (first.help, first.choices, first.min, first.max, first.type, first.section)
                   for s in specs), name  # fmt: skip


def test_checkpoints_are_checked_for_their_recipe_and_version(tmp_path: Path) -> None:
    path = tmp_path / "ckpt" / "c.pt"
    save_checkpoint(path, base_checkpoint("reid", 1, {"lr": 0.1}, 3, {"val/mAP": 0.5}, nn.Linear(2, 2)))
    assert read_checkpoint(path, "reid", 1)["epoch"] == 3
    with pytest.raises(CheckpointError, match="recipe 'reid', not 'classify'"):
        read_checkpoint(path, "classify", 1)
    with pytest.raises(CheckpointError, match="version 1; this code reads version 2"):
        read_checkpoint(path, "reid", 2)
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]  # no temporary file left
