"""The dataset registry: named loaders that each return a `ClassificationData` (samples, classes, makes).

Frozen entries in a `core.registry.Registry`, filled by explicit `register_dataset` calls; every loader has
the one signature `DatasetLoader` (root, `SplitOptions`). The UI and the CLI list from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.registry import Registry
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
class SplitOptions:
    """How a loader splits the data and where built-in sets live; checked when built.

    Attributes:
        seed: seeds any random split (the same seed gives the same split).
        val_fraction: share of each class held out for validation when the data has no val split.
        test_fraction: share of each class held out for test when the data has no split folders at all.
        data_dir: where built-in datasets are generated; None: `default_data_dir()`.
    """

    seed: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    data_dir: str | None = None

    def __post_init__(self) -> None:
        _check_fractions(self.val_fraction, self.test_fraction)


class DatasetLoader(Protocol):
    """What a registered loader is: the data under `root` (None for a built-in set's own folder), split by `options`."""

    def __call__(self, root: str | os.PathLike[str] | None, options: SplitOptions) -> ClassificationData: ...


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset."""

    name: str
    description: str
    needs_root: bool  # False for built-in synthetic sets
    loader: DatasetLoader


DATASETS: Registry[DatasetEntry] = Registry("dataset", DatasetError)


# The public functions are the registry's own methods: `get_dataset` raises DatasetError listing the known names.
register_dataset = DATASETS.register
list_datasets = DATASETS.entries
get_dataset = DATASETS.get


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
        seed, val_fraction, test_fraction, data_dir: see `SplitOptions`.

    Raises:
        DatasetError: unknown name, missing root, bad fractions, or a missing or malformed dataset.
    """
    entry = get_dataset(name)
    options = SplitOptions(seed, val_fraction, test_fraction, data_dir)
    if entry.needs_root and not root:
        raise DatasetError(
            f"dataset {name!r} reads images from disk and needs a folder: pass data_root=PATH. "
            f"Expected: {entry.description}"
        )
    data = entry.loader(root, options)
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
