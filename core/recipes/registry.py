"""The recipe registry: named training programs, each with its typed config and its train function.

Frozen entries in a :class:`core.registry.Registry`, filled by explicit ``register_recipe`` calls (a warning on
a duplicate name, an error listing the known names on an unknown one). The CLI, the launcher and the launch
form list from here; nothing else keeps a list of recipe names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.evaluation.semantics import infer_goal
from core.registry import Registry


class RecipeNotFoundError(ValueError):
    """No recipe has that name; the message lists the registered ones."""


@dataclass
class RunContext:
    """What the runner hands a recipe's ``train`` besides the config and the open run.

    Attributes:
        prepared: what the entry's ``prepare(cfg, resuming)`` returned (e.g. the loaded dataset).
        resume_from: the checkpoint to continue from when resuming, else None.
        echo: where progress lines go (the CLI prints them; a launched run's stdout is its console.log).
    """

    prepared: Any = None
    resume_from: Path | None = None
    echo: Callable[[str], None] = field(default=print)


def _nothing_to_prepare(cfg: Any, resuming: bool) -> None:
    return None


@dataclass(frozen=True)
class RecipeEntry:
    """A registered recipe.

    Attributes:
        name: what users type (``python -m core run NAME``).
        description: one line for the CLI and the launch page.
        config_cls: the typed config dataclass (see core.recipes.config).
        objective: the metric the recipe is judged by (``val/top1``, ``val/mAP_identity``): what a Bayesian
            sweep optimises unless told otherwise; its direction follows from the name
            (:func:`objective_direction`).
        train: ``train(cfg, run, ctx)``: trains, logging through ``run``; raises on failure.
        prepare: ``prepare(cfg, resuming) -> prepared``: checks the inputs (dataset, weights) before a run
            folder exists, so bad input creates nothing; its result reaches ``train`` as ``ctx.prepared``.
    """

    name: str
    description: str
    config_cls: type
    objective: str
    train: Callable[[Any, Any, RunContext], None]
    prepare: Callable[[Any, bool], Any] = _nothing_to_prepare


def objective_direction(metric: str) -> str:
    """How a sweep optimises ``metric``: ``minimize`` when lower is better (a loss, an error), else ``maximize``."""
    return "minimize" if infer_goal(metric) == "min" else "maximize"


RECIPES: Registry[RecipeEntry] = Registry("recipe", RecipeNotFoundError)


# The public functions are the registry's own methods: `get_recipe` raises RecipeNotFoundError listing the
# known names (and the closest one, for a typo).
register_recipe = RECIPES.register
list_recipes = RECIPES.entries
get_recipe = RECIPES.get
