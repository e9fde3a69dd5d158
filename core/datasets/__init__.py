"""Datasets of the recipes: one registry of named loaders returning `ClassificationData` (for re-ID, the
classes are the individuals).

Importing this package registers the built-in entries (synthetic-cars, synthetic-spots, imagefolder,
stanford-cars, csv-manifest).
`ImageListDataset` is imported on first use, so listing datasets does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.datasets import (  # noqa: F401  (registers entries)
    csv_manifest,
    image_folder,
    stanford_cars,
    synthetic_cars,
    synthetic_spots,
)
from core.datasets.registry import (
    DATASETS,
    ClassificationData,
    DatasetEntry,
    DatasetError,
    DatasetLoader,
    Sample,
    SplitOptions,
    default_data_dir,
    get_dataset,
    list_datasets,
    load_dataset,
    register_dataset,
)
from core.datasets.synthetic_cars import ensure_synthetic_cars, generate_synthetic_cars
from core.datasets.synthetic_spots import ensure_synthetic_spots, generate_synthetic_spots

if TYPE_CHECKING:
    from core.datasets.image_list import ImageListDataset

__all__ = [
    "DATASETS",
    "ClassificationData",
    "DatasetEntry",
    "DatasetError",
    "DatasetLoader",
    "ImageListDataset",
    "Sample",
    "SplitOptions",
    "default_data_dir",
    "ensure_synthetic_cars",
    "ensure_synthetic_spots",
    "generate_synthetic_cars",
    "generate_synthetic_spots",
    "get_dataset",
    "list_datasets",
    "load_dataset",
    "register_dataset",
]


def __getattr__(name: str) -> Any:
    if name == "ImageListDataset":  # lazy: it imports torch, which takes seconds
        from core.datasets.image_list import ImageListDataset

        return ImageListDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
