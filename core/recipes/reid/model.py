"""The reid model: a timm backbone's feature map, pooled (average or GeM with a learned p), a BN neck and a
projection head, giving one embedding per image.

    feature map (B, C, h, w) -> pool (B, C) -> BatchNorm1d (B, C) -> [Linear, BN, ReLU, Dropout] x (n-1)
    -> Linear (B, D)

The losses normalise the embedding themselves; retrieval compares L2-normalised embeddings.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from core.recipes.common.backbone import FreezableBackbone, create_backbone
from core.recipes.reid.config import ReidConfig


class GeM(nn.Module):
    """Generalised-mean pooling: ``mean(x ** p) ** (1 / p)`` over the map, p learned (1: average, large: max)."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.p.clamp(min=1.0)  # below 1 the mean is no longer a pooling of activations
        return x.float().clamp(min=self.eps).pow(p).mean(dim=(-2, -1)).pow(1.0 / p)  # (B, C, h, w) -> (B, C)


class AvgPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(-2, -1))  # (B, C, h, w) -> (B, C)


def projection_head(width_in: int, layers: int, width: int, out: int, dropout: float) -> nn.Module:
    """``layers`` linear layers from ``width_in`` to ``out``, each after dropout, the hidden ones ``width`` wide
    with BN and ReLU; 0 layers is the identity (the pooled features are the embedding)."""
    if layers == 0:
        return nn.Identity()
    sizes = [width_in, *[width] * (layers - 1), out]
    blocks: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        blocks += [nn.Dropout(dropout), nn.Linear(a, b)] if dropout else [nn.Linear(a, b)]
        if i < layers - 1:
            blocks += [nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
    return nn.Sequential(*blocks)


class Embedder(FreezableBackbone):
    """Backbone feature map -> pooling -> BN neck -> projection head: ``forward`` gives (B, D) embeddings."""

    def __init__(self, backbone: nn.Module, *, pooling: str = "gem", gem_p: float = 3.0, bn_neck: bool = True,
                 head_layers: int = 1, head_width: int = 512, embedding_size: int = 128,
                 dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        self.backbone = backbone
        channels = backbone.num_features
        self.pool = GeM(gem_p) if pooling == "gem" else AvgPool()
        self.neck = nn.BatchNorm1d(channels) if bn_neck else nn.Identity()
        self.head = projection_head(channels, head_layers, head_width, embedding_size, dropout)
        self.embedding_size = embedding_size if head_layers else channels
        self.backbone_frozen = False

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C, h, w); a transformer's patch tokens are folded into a map."""
        features = self.backbone.forward_features(x)
        if features.ndim == 3:  # (B, N, C) tokens: drop class / prefix tokens, fold the patch grid
            side = int(features.shape[1] ** 0.5)
            grid = features[:, features.shape[1] - side * side :]
            features = grid.transpose(1, 2).reshape(features.shape[0], -1, side, side)
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(self.feature_map(x)).float()  # (B, C), float32 for the neck and the loss
        return self.head(self.neck(pooled))  # (B, D)

    @property
    def gem_p(self) -> float | None:
        """The learned p of GeM pooling, or None with average pooling."""
        return float(self.pool.p.detach().clamp(min=1.0)) if isinstance(self.pool, GeM) else None


class Normalised(nn.Module):
    """An Embedder whose output is L2-normalised (what retrieval compares and Grad-CAM explains)."""

    def __init__(self, model: Embedder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model(x), dim=1)


def build_embedder(cfg: ReidConfig, pretrained: bool | str = False) -> Embedder:
    """The Embedder a reid config describes (``pretrained`` overrides the config: resuming loads no weights).

    Raises:
        ModelError: unknown backbone. PretrainedWeightsError: weights not available or not fitting.
    """
    body = create_backbone(cfg.backbone, pretrained, cfg.image_size)
    return Embedder(
        body, pooling=cfg.pooling, gem_p=cfg.gem_p, bn_neck=cfg.bn_neck, head_layers=cfg.head_layers,
        head_width=cfg.head_width, embedding_size=cfg.embedding_size, dropout=cfg.dropout,
    )  # fmt: skip
