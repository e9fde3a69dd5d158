"""Losses of the classify recipe: the multi-head sum of cross-entropies (``ClassificationLoss``: label
smoothing, class weights, focal modulation, shared with other recipes) with an optional term penalising
disagreement between the make and model heads.

Computed in float32 whatever the autocast precision: log-softmax of bf16 logits loses the small
probabilities that focal loss and the consistency term depend on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.recipes.common.losses import ClassificationLoss

__all__ = ["ClassificationLoss", "HierarchicalLoss", "head_disagreement", "make_marginal"]


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
