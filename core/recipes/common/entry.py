"""A recipe's registry entry whose program lives in a module imported only when a run starts, so that
registering (and listing, and describing the config) never imports torch."""

from __future__ import annotations

import importlib
from typing import Any

from core.recipes.registry import RecipeEntry, RunContext


def lazy_entry(name: str, description: str, config_cls: type, module: str, *, objective: str) -> RecipeEntry:
    """The entry of recipe ``name``; ``module`` (e.g. ``core.recipes.reid.train``) defines ``prepare(cfg,
    resuming)`` and ``train(cfg, run, ctx)``; ``objective`` is the metric the recipe is judged by."""

    def prepare(cfg: Any, resuming: bool) -> Any:
        return importlib.import_module(module).prepare(cfg, resuming)

    def train(cfg: Any, run: Any, ctx: RunContext) -> None:
        importlib.import_module(module).train(cfg, run, ctx)

    return RecipeEntry(name=name, description=description, config_cls=config_cls, objective=objective, train=train,
                       prepare=prepare)
