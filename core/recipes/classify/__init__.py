"""The ``classify`` recipe: hierarchical (make / model) fine-grained classification with a timm backbone.

Importing this package registers the recipe without importing torch; the training modules are imported
when a run starts. Rebuild a trained model with ``core.recipes.classify.checkpoint.load_checkpoint``.
"""

from __future__ import annotations

from typing import Any

from core.recipes.classify.config import ClassifyConfig
from core.recipes.registry import RecipeEntry, RunContext, register_recipe


def _prepare(cfg: ClassifyConfig, resuming: bool) -> Any:
    from core.recipes.classify.train import prepare

    return prepare(cfg, resuming)


def _train(cfg: ClassifyConfig, run: Any, ctx: RunContext) -> None:
    from core.recipes.classify.train import train

    train(cfg, run, ctx)


register_recipe(
    RecipeEntry(
        name="classify",
        description="fine-grained classification with make/model heads (timm backbone)",
        config_cls=ClassifyConfig,
        train=_train,
        prepare=_prepare,
    )
)

__all__ = ["ClassifyConfig"]
