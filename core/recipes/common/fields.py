"""The config fields that several recipes offer, each defined once (help text, range, choices), and the rules
between them. A recipe's config declares ``epochs: int = fields.epochs(30)`` with its own default, so every
recipe keeps its own field order and defaults while the meaning of a key (and its launch form section) is
written in one place.
"""

from __future__ import annotations

import re
from typing import Any

from core.datasets import DATASETS
from core.recipes.common.choices import AMP_MODES, AUGMENT_PRESETS, FREEZE_MODES, OPTIMIZERS, SCHEDULERS
from core.recipes.config import ConfigError, option

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


# -- model ----------------------------------------------------------------------------------------------
def backbone(default: str) -> Any:
    return option(default, section="model", help="any timm model name, e.g. resnet50, convnext_tiny")


def pretrained() -> Any:
    return option(
        False,
        section="model",
        help="false, true (download timm weights: needs the network) or a path to a local weights file",
    )


def freeze(what: str = "the head(s)") -> Any:
    return option("none", section="model", help=f"none, or backbone: train {what} only", choices=FREEZE_MODES)


def unfreeze_epoch() -> Any:
    return option(
        0,
        section="model",
        help="with freeze=backbone, train the backbone too after this many epochs (0: never)",
        min=0,
        max=100_000,
    )


# -- data -----------------------------------------------------------------------------------------------
def dataset(default: str) -> Any:
    return option(default, section="data", help="registered dataset to train on", choices=DATASETS.names)


def data_root() -> Any:
    return option(None, section="data", help="folder of the dataset (none: the built-in set's own folder)")


def image_size(default: int) -> Any:
    return option(
        default,
        section="data",
        help="side of the square training image in pixels (images are resized)",
        min=16,
        max=1024,
    )


def augment(default: str) -> Any:
    return option(default, section="data", help="augmentation preset", choices=AUGMENT_PRESETS)


def batch_size(default: int) -> Any:
    return option(default, section="data", help="images per training step", min=1, max=4096)


# -- optimisation ---------------------------------------------------------------------------------------
def optimizer(default: str) -> Any:
    return option(default, section="optimisation", help="optimizer", choices=OPTIMIZERS)


def lr(default: float) -> Any:
    return option(default, section="optimisation", help="peak learning rate", min=1e-8, max=10.0)


def momentum() -> Any:
    return option(0.9, section="optimisation", help="momentum of sgd (nesterov)", min=0.0, max=0.999)


# -- schedule -------------------------------------------------------------------------------------------
def epochs(default: int) -> Any:
    return option(default, section="schedule", help="number of passes over the training set", min=1, max=100_000)


def scheduler(default: str) -> Any:
    return option(default, section="schedule", help="learning-rate schedule", choices=SCHEDULERS)


def warmup_epochs(default: int) -> Any:
    return option(
        default, section="schedule", help="epochs of linear warm-up from lr/100 (not used by onecycle)", min=0, max=1000
    )


def min_lr_ratio() -> Any:
    return option(0.01, section="schedule", help="cosine ends at lr * this", min=0.0, max=1.0)


def lr_step_epochs() -> Any:
    return option(
        10, section="schedule", help="step: multiply the lr by lr_gamma every this many epochs", min=1, max=10_000
    )


def lr_gamma() -> Any:
    return option(0.1, section="schedule", help="step and plateau: factor applied to the lr", min=1e-4, max=1.0)


def plateau_patience(progress: str = "a lower val loss") -> Any:
    return option(2, section="schedule", help=f"plateau: epochs without {progress} before lowering lr", min=0)


def early_stop_patience(metric: str) -> Any:
    return option(0, section="schedule", help=f"stop after this many epochs without a better {metric} (0: off)", min=0)


# -- regularisation -------------------------------------------------------------------------------------
def weight_decay(default: float) -> Any:
    return option(
        default, section="regularisation", help="weight decay (not applied to biases and norms)", min=0.0, max=10.0
    )


def dropout(default: float, where: str = "before the head(s)") -> Any:
    return option(default, section="regularisation", help=f"dropout {where}", min=0.0, max=0.95)


def label_smoothing(default: float) -> Any:
    return option(default, section="regularisation", help="label smoothing of the cross-entropy", min=0.0, max=0.99)


def focal_gamma(what: str = "plain cross-entropy") -> Any:
    return option(0.0, section="regularisation", help=f"focal loss exponent (0: {what})", min=0.0, max=10.0)


# -- run ------------------------------------------------------------------------------------------------
def device() -> Any:
    return option("auto", section="run", help="auto (cuda when there is one), cpu, cuda or cuda:N")


def amp() -> Any:
    return option(
        "auto",
        section="run",
        help="mixed precision: auto (bf16 on cuda, off on cpu), bf16, fp16 or off",
        choices=AMP_MODES,
    )


def channels_last() -> Any:
    return option(True, section="run", help="channels-last memory format (faster convolutions)")


def compile_model() -> Any:
    return option(False, section="run", help="torch.compile the model (slow first epoch, faster after)")


def threads() -> Any:
    return option(0, section="run", help="CPU threads for torch (0: the torch default, one per core)", min=0, max=1024)


def num_workers() -> Any:
    return option(
        -1,
        section="run",
        help="data loader worker processes; -1: auto (0 on a CPU, where they compete with training; up to 8 on cuda)",
        min=-1,
        max=64,
    )


def seed() -> Any:
    return option(0, section="run", help="seed of weights, shuffling and augmentation", min=0, max=2**31 - 1)


def max_train_batches() -> Any:
    return option(0, section="run", help="stop each training epoch after this many batches (0: all)", min=0)


def max_eval_batches() -> Any:
    return option(0, section="run", help="evaluate at most this many batches (0: all)", min=0)


# -- rules between fields -------------------------------------------------------------------------------
def check_shared(cfg: Any) -> None:
    """The rules every recipe with these fields follows (device, backbone, freezing, pretrained)."""
    if not _DEVICE.match(cfg.device):
        raise ConfigError(f"device={cfg.device!r} is not allowed; use auto, cpu, mps, cuda or cuda:N")
    if not cfg.backbone.strip():
        raise ConfigError("backbone is empty; give a timm model name such as resnet18")
    if cfg.unfreeze_epoch > 0 and cfg.freeze != "backbone":
        raise ConfigError("unfreeze_epoch > 0 needs freeze=backbone (nothing is frozen otherwise)")
    if isinstance(cfg.pretrained, str) and cfg.pretrained.strip().lower() in ("true", "false"):
        # "true" written as text (a form, a hand-edited config.json) means the flag, not a file
        object.__setattr__(cfg, "pretrained", cfg.pretrained.strip().lower() == "true")
    if cfg.pretrained == "":
        raise ConfigError("pretrained is empty; use false, true or a path to a weights file")
