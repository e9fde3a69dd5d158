"""The recipe and dataset registries, parametrised over every entry, so an entry added later is exercised too.

Also: listing them stays cheap (no torch, no scipy), which the launch form and the Compare page rely on.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from core.datasets import DATASETS, DatasetEntry, DatasetError, get_dataset, list_datasets
from core.recipes import RECIPES, RecipeEntry, RecipeNotFoundError, describe, get_recipe, list_recipes
from core.registry import Registry
from tests.conftest import REPO

# (registry, its public list and get functions, the error an unknown name raises)
REGISTRIES = [
    pytest.param(RECIPES, list_recipes, get_recipe, RecipeNotFoundError, id="recipes"),
    pytest.param(DATASETS, list_datasets, get_dataset, DatasetError, id="datasets"),
]
ENTRIES = [pytest.param(entry, id=f"recipe:{entry.name}") for entry in list_recipes()] + [
    pytest.param(entry, id=f"dataset:{entry.name}") for entry in list_datasets()
]


@pytest.mark.parametrize(("registry", "list_all", "get", "error"), REGISTRIES)
def test_the_public_functions_read_the_one_registry(
    registry: Registry[Any], list_all: Callable[[], list[Any]], get: Callable[[str], Any], error: type[Exception]
) -> None:
    entries = list_all()
    assert entries == registry.entries() and entries
    assert [e.name for e in entries] == sorted(e.name for e in entries)
    for entry in entries:
        assert get(entry.name) is entry


@pytest.mark.parametrize(("registry", "list_all", "get", "error"), REGISTRIES)
def test_an_unknown_name_names_the_known_ones(
    registry: Registry[Any], list_all: Callable[[], list[Any]], get: Callable[[str], Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        get("no-such-entry")
    message = str(info.value)
    assert "'no-such-entry'" in message and all(name in message for name in registry.names())
    typo = registry.names()[0][:-1] + "x"  # one letter off a real name
    with pytest.raises(error, match=f"did you mean '{registry.names()[0]}'"):
        get(typo)


@pytest.mark.parametrize("entry", ENTRIES)
def test_every_entry_is_frozen_and_described(entry: RecipeEntry | DatasetEntry) -> None:
    assert entry.name and entry.description
    with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError
        entry.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("entry", list_recipes(), ids=lambda e: e.name)
def test_every_recipe_has_a_describable_config_with_defaults(entry: RecipeEntry) -> None:
    assert describe(entry.config_cls) and entry.config_cls() is not None
    assert callable(entry.train) and callable(entry.prepare)
    assert entry.objective.startswith("val/")  # a Bayesian sweep's default: a metric every run logs each epoch


@pytest.mark.parametrize("entry", list_datasets(), ids=lambda e: e.name)
def test_every_dataset_loader_has_the_one_signature(entry: DatasetEntry) -> None:
    # DatasetLoader: loader(root, options: SplitOptions); load_dataset calls every loader that way
    assert list(inspect.signature(entry.loader).parameters) == ["root", "options"]


def test_importing_and_listing_recipes_and_datasets_imports_neither_torch_nor_scipy() -> None:
    # The launch form and the Compare page list these; torch or scipy would cost them seconds.
    code = (
        "import sys, core.recipes as r, core.datasets as d\n"
        "r.list_recipes(); d.list_datasets()\n"
        "[r.describe(e.config_cls) for e in r.list_recipes()]\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'scipy'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
