"""Training recipes: a registry of named programs with typed configs, and the runner that starts them.

Importing this package registers the built-in recipes (``classify``, ``reid``). Torch is imported only when a
recipe trains, so listing recipes and describing their configs stays cheap (the launch page does that).
"""

from __future__ import annotations

from core.recipes import classify, reid  # noqa: F401  (registers the recipes)
from core.recipes.config import ConfigError, FieldSpec, describe, diff, from_dict, option, parse_overrides, to_dict
from core.recipes.registry import (
    RECIPES,
    RecipeEntry,
    RecipeNotFoundError,
    RunContext,
    get_recipe,
    list_recipes,
    register_recipe,
)

__all__ = [
    "RECIPES",
    "ConfigError",
    "FieldSpec",
    "RecipeEntry",
    "RecipeNotFoundError",
    "RunContext",
    "describe",
    "diff",
    "from_dict",
    "get_recipe",
    "list_recipes",
    "option",
    "parse_overrides",
    "register_recipe",
    "to_dict",
]
