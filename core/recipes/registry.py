"""The recipe registry: named training programs, each with its typed config and its train function.

Modelled on timm's registries: frozen entries filled by explicit ``register_recipe`` calls, a warning on a
duplicate name, an error listing the known names on an unknown one. The CLI, the launcher and the launch
form list from here; nothing else keeps a list of recipe names.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
        train: ``train(cfg, run, ctx)``: trains, logging through ``run``; raises on failure.
        prepare: ``prepare(cfg, resuming) -> prepared``: checks the inputs (dataset, weights) before a run
            folder exists, so bad input creates nothing; its result reaches ``train`` as ``ctx.prepared``.
    """

    name: str
    description: str
    config_cls: type
    train: Callable[[Any, Any, RunContext], None]
    prepare: Callable[[Any, bool], Any] = _nothing_to_prepare


_REGISTRY: dict[str, RecipeEntry] = {}


def register_recipe(entry: RecipeEntry) -> RecipeEntry:
    """Add ``entry``; a second entry with the same name replaces the first, with a warning."""
    if entry.name in _REGISTRY:
        warnings.warn(
            f"recipe {entry.name!r} is registered twice; the later registration replaces the earlier",
            stacklevel=2,
        )
    _REGISTRY[entry.name] = entry
    return entry


def list_recipes() -> list[RecipeEntry]:
    """All registered recipes, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_recipe(name: str) -> RecipeEntry:
    """The recipe registered as ``name``.

    Raises:
        RecipeNotFoundError: no recipe has that name; the message lists the known names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise RecipeNotFoundError(f"unknown recipe {name!r}; known recipes: {known}") from None
