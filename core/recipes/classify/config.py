"""The typed config of the ``classify`` recipe: every setting with its default, range and help text.

The defaults are the CPU-sized run that learns ``synthetic-cars`` in a few minutes on two cores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.datasets import DATASETS
from core.recipes.classify.choices import (
    AMP_MODES,
    AUGMENT_PRESETS,
    BALANCE_MODES,
    FREEZE_MODES,
    HEADS,
    OPTIMIZERS,
    SCHEDULERS,
)
from core.recipes.config import ConfigError, RecipeConfig, option

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class ClassifyConfig(RecipeConfig):
    """Settings of a hierarchical (make / model) classification run."""

    # -- data ------------------------------------------------------------------------------------
    dataset: str = option("synthetic-cars", help="registered dataset to train on", choices=DATASETS.names)
    data_root: str | None = option(None, help="folder of the dataset (none: the built-in set's own folder)")
    image_size: int = option(
        128, help="side of the square training image in pixels (images are resized)", min=16, max=1024
    )
    augment: str = option("light", help="augmentation preset", choices=AUGMENT_PRESETS)
    balance: str = option(
        "none", help="class balancing: none, weighted loss, or a weighted sampler", choices=BALANCE_MODES
    )
    batch_size: int = option(32, help="images per training step", min=1, max=4096)
    num_workers: int = option(
        -1,
        help="data loader worker processes; -1: auto (0 on a CPU, where they compete with training; up to 8 on cuda)",
        min=-1,
        max=64,
    )
    # -- model -----------------------------------------------------------------------------------
    backbone: str = option("mobilenetv3_small_100", help="any timm model name, e.g. resnet50, convnext_tiny")
    pretrained: bool | str = option(
        False, help="false, true (download timm weights: needs the network) or a path to a local weights file"
    )
    heads: str = option("single", help="single (model) or multi (model + make head)", choices=HEADS)
    dropout: float = option(0.0, help="dropout before the head(s)", min=0.0, max=0.95)
    make_loss_weight: float = option(0.5, help="weight of the make-head loss (multi)", min=0.0, max=100.0)
    consistency_weight: float = option(
        0.0, help="weight of the term penalising make head and model head disagreeing (multi)", min=0.0, max=100.0
    )
    freeze: str = option("none", help="none, or backbone: train the head(s) only", choices=FREEZE_MODES)
    unfreeze_epoch: int = option(
        0, help="with freeze=backbone, train the backbone too after this many epochs (0: never)", min=0, max=100_000
    )
    # -- optimisation ----------------------------------------------------------------------------
    epochs: int = option(30, help="number of passes over the training set", min=1, max=100_000)
    optimizer: str = option("adamw", help="optimizer", choices=OPTIMIZERS)
    lr: float = option(0.002, help="peak learning rate", min=1e-8, max=10.0)
    weight_decay: float = option(0.05, help="weight decay (not applied to biases and norms)", min=0.0, max=10.0)
    momentum: float = option(0.9, help="momentum of sgd (nesterov)", min=0.0, max=0.999)
    scheduler: str = option("cosine", help="learning-rate schedule", choices=SCHEDULERS)
    warmup_epochs: int = option(1, help="epochs of linear warm-up from lr/100 (not used by onecycle)", min=0, max=1000)
    min_lr_ratio: float = option(0.01, help="cosine ends at lr * this", min=0.0, max=1.0)
    lr_step_epochs: int = option(10, help="step: multiply the lr by lr_gamma every this many epochs", min=1, max=10_000)
    lr_gamma: float = option(0.1, help="step and plateau: factor applied to the lr", min=1e-4, max=1.0)
    plateau_patience: int = option(2, help="plateau: epochs without a lower val loss before lowering lr", min=0)
    label_smoothing: float = option(0.1, help="label smoothing of the cross-entropy", min=0.0, max=0.99)
    focal_gamma: float = option(0.0, help="focal loss exponent (0: plain cross-entropy)", min=0.0, max=10.0)
    early_stop_patience: int = option(0, help="stop after this many epochs without a better val top-1 (0: off)", min=0)
    # -- hardware --------------------------------------------------------------------------------
    device: str = option("auto", help="auto (cuda when there is one), cpu, cuda or cuda:N")
    amp: str = option(
        "auto",
        help="mixed precision: auto (bf16 on cuda, off on cpu), bf16, fp16 or off",
        choices=AMP_MODES,
    )
    channels_last: bool = option(True, help="channels-last memory format (faster convolutions)")
    compile: bool = option(False, help="torch.compile the model (slow first epoch, faster after)")
    threads: int = option(0, help="CPU threads for torch (0: the torch default, one per core)", min=0, max=1024)
    seed: int = option(0, help="seed of weights, shuffling and augmentation", min=0, max=2**31 - 1)
    # -- smoke tests -----------------------------------------------------------------------------
    max_train_batches: int = option(0, help="stop each training epoch after this many batches (0: all)", min=0)
    max_eval_batches: int = option(0, help="evaluate at most this many batches (0: all)", min=0)

    def check(self) -> None:
        """Rules between fields."""
        if not _DEVICE.match(self.device):
            raise ConfigError(f"device={self.device!r} is not allowed; use auto, cpu, mps, cuda or cuda:N")
        if not self.backbone.strip():
            raise ConfigError("backbone is empty; give a timm model name such as resnet18")
        if self.consistency_weight > 0 and self.heads != "multi":
            raise ConfigError("consistency_weight > 0 needs heads=multi (it compares the make and model heads)")
        if self.unfreeze_epoch > 0 and self.freeze != "backbone":
            raise ConfigError("unfreeze_epoch > 0 needs freeze=backbone (nothing is frozen otherwise)")
        if isinstance(self.pretrained, str) and self.pretrained.strip().lower() in ("true", "false"):
            # "true" written as text (a form, a hand-edited config.json) means the flag, not a file
            object.__setattr__(self, "pretrained", self.pretrained.strip().lower() == "true")
        if self.pretrained == "":
            raise ConfigError("pretrained is empty; use false, true or a path to a weights file")
