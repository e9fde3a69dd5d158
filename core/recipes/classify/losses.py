"""Losses of the classify recipe: cross-entropy with label smoothing, class weights and focal modulation,
and the multi-head sum with an optional term penalising disagreement between the make and model heads.

Computed in float32 whatever the autocast precision: log-softmax of bf16 logits loses the small
probabilities that focal loss and the consistency term depend on.
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

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits.float(), dim=-1)  # (B, C)
        nll = -logp.gather(1, target[:, None]).squeeze(1)  # (B,)
        loss = nll
        if self.label_smoothing:
            loss = (1.0 - self.label_smoothing) * nll - self.label_smoothing * logp.mean(dim=-1)
        if self.focal_gamma:
            loss = (1.0 - torch.exp(-nll)).pow(self.focal_gamma) * loss  # down-weights easy images
        if self.class_weights is None:
            return loss.mean()
        w = self.class_weights[target]  # (B,)
        return (w * loss).sum() / w.sum().clamp_min(1e-12)


def make_marginal(probs: torch.Tensor, class_to_make: torch.Tensor, n_makes: int) -> torch.Tensor:
    """(B, M) make probabilities: the model probabilities (B, C) summed over each make's models."""
    out = probs.new_zeros(probs.shape[0], n_makes)
    return out.index_add(1, class_to_make, probs)


def head_disagreement(
    logits: torch.Tensor, make_logits: torch.Tensor, class_to_make: torch.Tensor, eps: float = 1e-7
) -> torch.Tensor:
    """Symmetric KL between the make head and the make marginal of the model head, batch mean.

    0 when both heads give the same make distribution; both heads receive gradients.
    """
    p = F.softmax(make_logits.float(), dim=-1)  # (B, M) make head
    q = make_marginal(F.softmax(logits.float(), dim=-1), class_to_make, make_logits.shape[-1])  # (B, M)
    p, q = p.clamp_min(eps), q.clamp_min(eps)
    return 0.5 * ((p - q) * (p.log() - q.log())).sum(dim=-1).mean()


class HierarchicalLoss(nn.Module):
    """Model-head loss, plus for a multi-head model ``make_weight * make loss + consistency_weight * disagreement``."""

    def __init__(
        self,
        model_loss: ClassificationLoss,
        class_to_make: torch.Tensor,
        make_loss: ClassificationLoss | None = None,
        make_weight: float = 0.0,
        consistency_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.model_loss = model_loss
        self.make_loss = make_loss
        self.register_buffer("class_to_make", class_to_make.long())
        self.make_weight = make_weight
        self.consistency_weight = consistency_weight

    def forward(self, output: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        loss = self.model_loss(output["logits"], labels)
        make_logits = output.get("make_logits")
        if make_logits is None:
            return loss
        if self.make_loss is not None and self.make_weight:
            loss = loss + self.make_weight * self.make_loss(make_logits, self.class_to_make[labels])
        if self.consistency_weight:
            loss = loss + self.consistency_weight * head_disagreement(output["logits"], make_logits, self.class_to_make)
        return loss
