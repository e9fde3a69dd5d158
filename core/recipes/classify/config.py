"""The typed config of the ``classify`` recipe: every setting with its default, range and help text.

The defaults are the CPU-sized run that learns ``synthetic-cars`` in a few minutes on two cores. Fields that
other recipes offer too are defined once in ``core.recipes.common.fields``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.recipes.classify.choices import BALANCE_MODES, HEADS
from core.recipes.common import fields
from core.recipes.config import ConfigError, RecipeConfig, option


@dataclass(frozen=True)
class ClassifyConfig(RecipeConfig):
    """Settings of a hierarchical (make / model) classification run."""

    # -- model -----------------------------------------------------------------------------------
    backbone: str = fields.backbone("mobilenetv3_small_100")
    pretrained: bool | str = fields.pretrained()
    heads: str = option("single", section="model", help="single (model) or multi (model + make head)", choices=HEADS)
    freeze: str = fields.freeze()
    unfreeze_epoch: int = fields.unfreeze_epoch()
    # -- data ------------------------------------------------------------------------------------
    dataset: str = fields.dataset("synthetic-cars")
    data_root: str | None = fields.data_root()
    image_size: int = fields.image_size(128)
    augment: str = fields.augment("light")
    balance: str = option(
        "none", section="data", help="class balancing: none, weighted loss, or a weighted sampler",
        choices=BALANCE_MODES,
    )  # fmt: skip
    batch_size: int = fields.batch_size(32)
    # -- optimisation ----------------------------------------------------------------------------
    optimizer: str = fields.optimizer("adamw")
    lr: float = fields.lr(0.002)
    momentum: float = fields.momentum()
    # -- schedule --------------------------------------------------------------------------------
    epochs: int = fields.epochs(30)
    scheduler: str = fields.scheduler("cosine")
    warmup_epochs: int = fields.warmup_epochs(1)
    min_lr_ratio: float = fields.min_lr_ratio()
    lr_step_epochs: int = fields.lr_step_epochs()
    lr_gamma: float = fields.lr_gamma()
    plateau_patience: int = fields.plateau_patience()
    early_stop_patience: int = fields.early_stop_patience("val top-1")
    # -- regularisation (and the loss) -----------------------------------------------------------
    weight_decay: float = fields.weight_decay(0.05)
    dropout: float = fields.dropout(0.0)
    label_smoothing: float = fields.label_smoothing(0.1)
    focal_gamma: float = fields.focal_gamma()
    make_loss_weight: float = option(
        0.5, section="regularisation", help="weight of the make-head loss (multi)", min=0.0, max=100.0
    )
    consistency_weight: float = option(
        0.0, section="regularisation", help="weight of the term penalising make head and model head disagreeing "
        "(multi)", min=0.0, max=100.0,
    )  # fmt: skip
    # -- run: where and how it runs, not what it learns ------------------------------------------
    device: str = fields.device()
    amp: str = fields.amp()
    channels_last: bool = fields.channels_last()
    compile: bool = fields.compile_model()
    threads: int = fields.threads()
    num_workers: int = fields.num_workers()
    seed: int = fields.seed()
    max_train_batches: int = fields.max_train_batches()
    max_eval_batches: int = fields.max_eval_batches()

    def check(self) -> None:
        """Rules between fields."""
        fields.check_shared(self)
        if self.consistency_weight > 0 and self.heads != "multi":
            raise ConfigError("consistency_weight > 0 needs heads=multi (it compares the make and model heads)")
