"""The reid criterion: a pytorch-metric-learning loss on (embeddings, identities), with a miner for triplet.

ArcFace, CosFace and Sub-center ArcFace learn a proxy per identity (their ``W``, trained with the model and
saved in ``last.pt``). Their focal, class-balanced and label-smoothed variants swap the per-image
cross-entropy these pml losses compute (their ``cross_entropy`` module, called with ``reduction="none"``)
for the shared ``ClassificationLoss``: one definition of focal loss in the project.
"""

from __future__ import annotations

import torch
from pytorch_metric_learning import losses, miners
from torch import nn

from core.recipes.common.losses import ClassificationLoss, inverse_frequency_weights
from core.recipes.reid.choices import LOSS_DEFAULTS
from core.recipes.reid.config import ReidConfig

MARGIN_LOSSES = {
    "arcface": losses.ArcFaceLoss,
    "cosface": losses.CosFaceLoss,
    "subcenter-arcface": losses.SubCenterArcFaceLoss,
}


class PerImageCrossEntropy(nn.Module):
    """(B,) cross-entropy of each image, focal / smoothed and times its identity's weight: what pml's margin
    losses call as ``self.cross_entropy(logits, labels)`` before reducing over the batch."""

    def __init__(self, base: ClassificationLoss) -> None:
        super().__init__()
        self.base = base

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        loss = self.base.per_sample(logits, labels)
        return loss if self.base.class_weights is None else loss * self.base.class_weights[labels]


class MetricLoss(nn.Module):
    """``loss(embeddings, labels)``: a pml loss, on the pairs or triplets a miner picks when there is one.

    Computed in float32: pml casts its proxies to the embeddings' dtype, which must not become bf16.
    """

    def __init__(self, loss: nn.Module, miner: nn.Module | None = None) -> None:
        super().__init__()
        self.loss = loss
        self.miner = miner

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        embeddings = embeddings.float()
        mined = self.miner(embeddings, labels) if self.miner is not None else None
        return self.loss(embeddings, labels, mined)


def loss_setting(cfg: ReidConfig, key: str) -> float | None:
    """The config's margin or scale, or the loss's own default when it is none."""
    value = getattr(cfg, key)
    return value if value is not None else LOSS_DEFAULTS[cfg.loss][key]


def build_criterion(cfg: ReidConfig, n_identities: int, embedding_size: int, counts: torch.Tensor) -> MetricLoss:
    """The loss the config names, for ``n_identities`` classes of ``counts`` training images each."""
    margin = loss_setting(cfg, "margin")
    if cfg.loss == "triplet":
        miner = (miners.BatchHardMiner() if cfg.miner == "batch-hard"
                 else miners.TripletMarginMiner(margin=margin, type_of_triplets=cfg.miner))  # fmt: skip
        return MetricLoss(losses.TripletMarginLoss(margin=margin), miner)
    extra = {"sub_centers": cfg.sub_centers} if cfg.loss == "subcenter-arcface" else {}
    loss = MARGIN_LOSSES[cfg.loss](
        num_classes=n_identities,
        embedding_size=embedding_size,
        margin=margin,
        scale=loss_setting(cfg, "scale"),
        **extra,
    )
    weights = inverse_frequency_weights(counts, cfg.class_balance_beta) if cfg.balance == "loss" else None
    if weights is not None or cfg.focal_gamma or cfg.label_smoothing:
        loss.cross_entropy = PerImageCrossEntropy(ClassificationLoss(weights, cfg.label_smoothing, cfg.focal_gamma))
    return MetricLoss(loss)
