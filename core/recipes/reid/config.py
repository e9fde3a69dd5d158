"""The typed config of the ``reid`` recipe: every setting with its default, range and help text.

Keys mean what they mean in ``classify`` where both have them (those fields are defined once, in
``core.recipes.common.fields``). The defaults are the CPU-sized run that learns ``synthetic-spots`` from
scratch in a few minutes on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.recipes.common import fields
from core.recipes.common.choices import BALANCE_MODES
from core.recipes.config import ConfigError, RecipeConfig, option
from core.recipes.reid.choices import LOSSES, MINERS, POOLINGS


@dataclass(frozen=True)
class ReidConfig(RecipeConfig):
    """Settings of a re-identification (metric learning) run."""

    # -- model -----------------------------------------------------------------------------------
    backbone: str = fields.backbone("resnet10t")  # learns coats from scratch; mobilenets barely do
    pretrained: bool | str = fields.pretrained()
    freeze: str = fields.freeze("the pooling, neck and head")
    unfreeze_epoch: int = fields.unfreeze_epoch()
    pooling: str = option(
        "gem", section="model", help="gem (generalised mean, learned p) or avg over the feature map", choices=POOLINGS
    )
    gem_p: float = option(
        3.0, section="model", help="initial p of GeM pooling (learned; logged as train/gem_p)", min=1.0, max=20.0
    )
    bn_neck: bool = option(True, section="model", help="batch norm on the pooled features (BNNeck) before the head")
    head_layers: int = option(
        1, section="model", help="linear layers of the projection head (0: the pooled features are the embedding)",
        min=0, max=6,
    )  # fmt: skip
    head_width: int = option(512, section="model", help="width of the projection head's hidden layers", min=8,
                             max=8192)  # fmt: skip
    embedding_size: int = option(128, section="model", help="size of the embedding (output of the projection head)",
                                 min=2, max=8192)  # fmt: skip
    # -- data ------------------------------------------------------------------------------------
    dataset: str = fields.dataset("synthetic-spots")
    data_root: str | None = fields.data_root()
    image_size: int = fields.image_size(64)
    augment: str = fields.augment("light")
    balance: str = option(
        "none", section="data",
        help="none, loss (class-balanced weights by the effective number of images, see class_balance_beta) or "
        "sampler (identity-balanced batches: images_per_identity of each identity; triplet always uses it)",
        choices=BALANCE_MODES,
    )  # fmt: skip
    images_per_identity: int = option(
        4, section="data", help="identity-balanced sampler: images of each identity per batch", min=2
    )
    class_balance_beta: float = option(
        0.999, section="data", help="balance=loss: beta of the effective number of images (1 - beta^n) / (1 - beta)",
        min=0.0, max=0.99999,
    )  # fmt: skip
    batch_size: int = fields.batch_size(32)
    # -- optimisation ----------------------------------------------------------------------------
    optimizer: str = fields.optimizer("adamw")
    lr: float = fields.lr(0.002)
    backbone_lr_ratio: float = option(
        1.0, section="optimisation",
        help="learning rate of the backbone relative to lr (a differential learning rate; 1: the same)",
        min=0.0, max=10.0,
    )  # fmt: skip
    momentum: float = fields.momentum()
    # -- schedule --------------------------------------------------------------------------------
    epochs: int = fields.epochs(25)
    scheduler: str = fields.scheduler("cosine")
    warmup_epochs: int = fields.warmup_epochs(1)
    min_lr_ratio: float = fields.min_lr_ratio()
    lr_step_epochs: int = fields.lr_step_epochs()
    lr_gamma: float = fields.lr_gamma()
    plateau_patience: int = fields.plateau_patience("a better val mAP")
    early_stop_patience: int = fields.early_stop_patience("val mAP")
    # -- regularisation (and the metric-learning loss) -----------------------------------------------
    weight_decay: float = fields.weight_decay(0.05)
    dropout: float = fields.dropout(0.0, "in the projection head")
    loss: str = option(
        "arcface", section="regularisation", help="metric-learning loss (pytorch-metric-learning)", choices=LOSSES
    )
    margin: float | None = option(
        None, section="regularisation",
        help="loss margin (none: the loss's default: ArcFace 28.6 degrees, CosFace 0.35, triplet 0.2)", min=0.0,
    )  # fmt: skip
    scale: float | None = option(
        None, section="regularisation", help="logit scale of ArcFace / CosFace (none: 30)", min=1.0, max=256.0
    )
    sub_centers: int = option(
        3, section="regularisation", help="subcenter-arcface: centres per identity", min=1, max=16
    )
    miner: str = option(
        "batch-hard", section="regularisation", help="triplet: which triplets of a batch are used", choices=MINERS
    )
    focal_gamma: float = fields.focal_gamma("plain cross-entropy of the margin losses")
    label_smoothing: float = fields.label_smoothing(0.0)
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
    # inference refinements (test metrics @flip, @qe, @rerank, @all; the Gallery's defaults)
    qe_top_k: int = option(3, section="run", help="query expansion: neighbours averaged into each query", min=1,
                           max=100)  # fmt: skip
    qe_alpha: float = option(
        0.0, section="run", help="query expansion: weight neighbours by similarity**alpha (0: plain mean)", min=0.0,
        max=10.0,
    )  # fmt: skip
    rerank_k1: int = option(20, section="run", help="k-reciprocal re-ranking: neighbourhood size k1", min=1,
                            max=1000)  # fmt: skip
    rerank_k2: int = option(6, section="run", help="k-reciprocal re-ranking: local query expansion k2", min=1,
                            max=1000)  # fmt: skip
    rerank_lambda: float = option(0.3, section="run", help="k-reciprocal re-ranking: weight of the original distance",
                                  min=0.0, max=1.0)  # fmt: skip
    top_k: int = option(10, section="run", help="gallery matches saved per query (test/queries table, Gallery page)",
                        min=1, max=100)  # fmt: skip

    @property
    def uses_sampler(self) -> bool:
        """Identity-balanced batches: asked for, or needed by the triplet loss (positives in every batch)."""
        return self.balance == "sampler" or self.loss == "triplet"

    def check(self) -> None:
        """Rules between fields."""
        fields.check_shared(self)
        if self.loss == "triplet" and self.focal_gamma > 0:
            raise ConfigError("focal_gamma > 0 needs a margin loss (arcface, cosface, subcenter-arcface), not triplet")
        if self.loss == "triplet" and (self.balance == "loss" or self.label_smoothing > 0):
            raise ConfigError(
                "balance=loss and label_smoothing weight a cross-entropy; use them with arcface, cosface or "
                "subcenter-arcface (triplet batches are identity-balanced by its sampler already)"
            )
        if self.loss == "triplet" and self.scale is not None:
            raise ConfigError("scale is the logit scale of arcface / cosface; triplet has none: leave it at none")
        if self.uses_sampler and self.batch_size % self.images_per_identity:
            raise ConfigError(
                f"batch_size={self.batch_size} must be a multiple of images_per_identity={self.images_per_identity} "
                "(identity-balanced batches hold whole groups)"
            )
