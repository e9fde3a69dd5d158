"""The ``reid`` recipe: re-identification of individuals by metric learning (timm backbone, GeM pooling, BN
neck, projection head, ArcFace-family or triplet losses), with retrieval metrics and inference refinements.

Importing this package registers the recipe without importing torch; the training modules are imported
when a run starts. Rebuild a trained embedder with ``core.recipes.reid.checkpoint.load_checkpoint``.
"""

from __future__ import annotations

from core.recipes.common.entry import lazy_entry
from core.recipes.registry import register_recipe
from core.recipes.reid.config import ReidConfig

register_recipe(
    lazy_entry(
        "reid",
        "re-identification of individuals by metric learning: mAP, rank-k, refinements (timm backbone)",
        ReidConfig,
        "core.recipes.reid.train",
        objective="val/mAP_identity",
    )
)

__all__ = ["ReidConfig"]
