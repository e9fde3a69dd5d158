"""The cross-entropy every recipe shares (label smoothing, class weights and focal modulation, in float32)
and the class weights that balance it.

Computed in float32 whatever the autocast precision: log-softmax of bf16 logits loses the small
probabilities that focal loss depends on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ClassificationLoss(nn.Module):
    """Cross-entropy over C classes, averaged over the batch.

    Per image: ``(1 - s) * nll + s * mean_c(-log p_c)`` (label smoothing s), multiplied by
    ``(1 - p_true) ** gamma`` when focal (gamma > 0). With class weights the batch mean is weighted by
    the weight of each image's class (as ``F.cross_entropy(weight=...)`` does without smoothing).
    """

    def __init__(
        self, class_weights: torch.Tensor | None = None, label_smoothing: float = 0.0, focal_gamma: float = 0.0
    ) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing={label_smoothing} must be in [0, 1)")
        if focal_gamma < 0:
            raise ValueError(f"focal_gamma={focal_gamma} must be >= 0 (0 turns focal loss off)")
        self.register_buffer("class_weights", class_weights.float() if class_weights is not None else None)
        self.label_smoothing = label_smoothing
        self.focal_gamma = focal_gamma

    def per_sample(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) the loss of each image, smoothed and focal, before class weights."""
        logp = F.log_softmax(logits.float(), dim=-1)  # (B, C)
        nll = -logp.gather(1, target[:, None]).squeeze(1)  # (B,)
        loss = nll
        if self.label_smoothing:
            loss = (1.0 - self.label_smoothing) * nll - self.label_smoothing * logp.mean(dim=-1)
        if self.focal_gamma:
            loss = (1.0 - torch.exp(-nll)).pow(self.focal_gamma) * loss  # down-weights easy images
        return loss

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = self.per_sample(logits, target)
        if self.class_weights is None:
            return loss.mean()
        w = self.class_weights[target]  # (B,)
        return (w * loss).sum() / w.sum().clamp_min(1e-12)


def inverse_frequency_weights(counts: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """(C,) class weights proportional to 1 / count, scaled so that an average image weighs 1.

    With ``beta < 1``, 1 / the effective number of images ``(1 - beta**n) / (1 - beta)`` instead (the
    class-balanced loss of Cui et al., CVPR 2019): large classes are down-weighted less than by 1 / n.
    Classes without samples get weight 0 (they never appear as targets).
    """
    counts = counts.float()
    effective = counts if beta >= 1.0 else (1.0 - beta**counts) / (1.0 - beta)
    weights = torch.where(counts > 0, 1.0 / effective.clamp_min(1.0), torch.zeros_like(counts))
    return weights * counts.sum() / (weights * counts).sum().clamp_min(1e-12)
