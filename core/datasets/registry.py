"""The dataset registry: named loaders that each return a `ClassificationData` (samples, classes, makes).

Modelled on timm's registries: frozen entries filled by explicit `register_dataset` calls, a warning on a
duplicate name, an error listing the known names on an unknown one. The UI and the CLI list from here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.runfolder.paths import REPO_ROOT

SPLITS = ("train", "val", "test")


class DatasetError(ValueError):
    """A dataset is missing or malformed; the message names the path, the layout expected and the fix."""


@dataclass(frozen=True)
class Sample:
    """One image: its absolute path and its class index."""

    path: str
    label: int  # index into ClassificationData.classes


@dataclass
class ClassificationData:
    """A hierarchical classification dataset: model classes, their makes and the samples of each split."""

    name: str
    root: str
    classes: list[str]
    makes: list[str]
    class_to_make: list[int]  # make index of each class
    splits: dict[str, list[Sample]]  # keys among "train", "val", "test"; "test" may be absent
    skipped: int  # corrupt or unreadable images skipped while scanning


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset.

    `loader(root, *, seed, val_fraction, test_fraction, data_dir)` returns the `ClassificationData`.
    """

    name: str
    description: str
    needs_root: bool  # False for built-in synthetic sets
    loader: Callable[..., ClassificationData]


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(entry: DatasetEntry) -> None:
    """Add `entry` to the registry; a second entry with the same name replaces the first, with a warning."""
    if entry.name in _REGISTRY:
        warnings.warn(
            f"dataset {entry.name!r} is registered twice; the later registration replaces the earlier",
            stacklevel=2,
        )
    _REGISTRY[entry.name] = entry


def list_datasets() -> list[DatasetEntry]:
    """All registered datasets, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_dataset(name: str) -> DatasetEntry:
    """The entry registered as `name`.

    Raises:
        DatasetError: no dataset has that name; the message lists the known names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {known}") from None


def load_dataset(
    name: str,
    root: str | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    data_dir: str | None = None,
) -> ClassificationData:
    """Load the dataset registered as `name`.

    Args:
        name: a registered dataset name (see `list_datasets`).
        root: the folder to read; required by datasets with `needs_root`. For a built-in synthetic set it
            is the folder the set lives in (generated there if missing); by default one under `data_dir`.
        seed: seeds any random split (the same seed gives the same split).
        val_fraction: share of each class held out for validation when the data has no val split.
        test_fraction: share of each class held out for test when the data has no split folders at all.
        data_dir: where built-in datasets are generated; default `default_data_dir()`.

    Raises:
        DatasetError: unknown name, missing root, bad fractions, or a missing or malformed dataset.
    """
    entry = get_dataset(name)
    _check_fractions(val_fraction, test_fraction)
    if entry.needs_root and not root:
        raise DatasetError(
            f"dataset {name!r} reads images from disk and needs a folder: pass data_root=PATH. "
            f"Expected: {entry.description}"
        )
    data = entry.loader(root, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction, data_dir=data_dir)
    data.name = name
    return data


def default_data_dir() -> Path:
    """Where built-in datasets are generated: env EXPLORER_DATA_DIR, else ``data/`` in the repository."""
    chosen = os.environ.get("EXPLORER_DATA_DIR") or REPO_ROOT / "data"
    return Path(chosen).expanduser().resolve()


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction={val_fraction} must be between 0 and 1 (exclusive), e.g. 0.15")
    if not 0.0 <= test_fraction < 1.0:
        raise DatasetError(f"test_fraction={test_fraction} must be in [0, 1), e.g. 0.15")
    if val_fraction + test_fraction >= 1.0:
        raise DatasetError(
            f"val_fraction + test_fraction = {val_fraction + test_fraction} leaves nothing to train on; "
            "keep their sum below 1, e.g. 0.15 + 0.15"
        )
