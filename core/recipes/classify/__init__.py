"""The ``classify`` recipe: hierarchical (make / model) fine-grained classification with a timm backbone.

Importing this package registers the recipe without importing torch; the training modules are imported
when a run starts. Rebuild a trained model with ``core.recipes.classify.checkpoint.load_checkpoint``.
"""

from __future__ import annotations

from core.recipes.classify.config import ClassifyConfig
from core.recipes.common.entry import lazy_entry
from core.recipes.registry import register_recipe

register_recipe(
    lazy_entry(
        "classify",
        "fine-grained classification with make/model heads (timm backbone)",
        ClassifyConfig,
        "core.recipes.classify.train",
        objective="val/top1",
    )
)

__all__ = ["ClassifyConfig"]
