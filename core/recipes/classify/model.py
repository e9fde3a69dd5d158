"""The classify model: a timm backbone (no classifier) with a model head and, for ``heads=multi``, a make head.

The backbone and its pretrained weights come from ``core.recipes.common.backbone`` (timm's weights, a local
file, or an earlier run's checkpoint); a download that fails is a :class:`PretrainedWeightsError`.
"""

from __future__ import annotations

import torch
from torch import nn

from core.recipes.common.backbone import (
    FreezableBackbone,
    ModelError,
    PretrainedWeightsError,
    count_parameters,
    create_backbone,
)

__all__ = ["Classifier", "LogitsOnly", "ModelError", "PretrainedWeightsError", "build_model", "count_parameters"]


class Classifier(FreezableBackbone):
    """Backbone features -> dropout -> model head (and make head).

    ``forward`` returns ``{"logits": (B, C)}`` plus ``"make_logits": (B, M)`` with a make head.
    """

    def __init__(self, backbone: nn.Module, n_classes: int, n_makes: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        width = getattr(backbone, "head_hidden_size", None) or backbone.num_features
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)
        self.make_head = nn.Linear(width, n_makes) if n_makes else None
        self.backbone_frozen = False

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.drop(self.backbone(x))  # (B, 3, H, W) -> (B, F): pooled, pre-logits
        out = {"logits": self.head(features)}  # (B, C)
        if self.make_head is not None:
            out["make_logits"] = self.make_head(features)  # (B, M)
        return out


class LogitsOnly(nn.Module):
    """Wraps a Classifier so that it returns the model logits as a plain tensor (what Grad-CAM expects)."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["logits"]


def build_model(
    backbone: str,
    n_classes: int,
    *,
    n_makes: int = 0,
    pretrained: bool | str = False,
    dropout: float = 0.0,
    image_size: int | None = None,
) -> Classifier:
    """A Classifier over the timm model ``backbone``.

    Args:
        n_makes: size of the make head; 0 for a single (model) head.
        pretrained: False, True (timm's weights, downloaded or from the local cache) or a weights file.
        image_size: the input side, passed to models with a fixed input size (ViTs).

    Raises:
        ModelError: unknown backbone. PretrainedWeightsError: weights not available or not fitting.
    """
    return Classifier(create_backbone(backbone, pretrained, image_size), n_classes, n_makes, dropout)
