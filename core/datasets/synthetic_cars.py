"""The built-in `synthetic-cars` dataset: drawn side-view vehicles, make = silhouette, model = details.

Each make is a body family (sedan, hatchback, SUV, pickup, ...: outline, roof line, number of windows);
each model of a make is a set of details (colour palette, wheel style and size, window tint, stripes,
lights). Two models of a make share a palette, so colour alone never tells them apart. Images get random
backgrounds with clutter, scale, position, flip, a slight tilt and lighting changes; class sizes are
imbalanced. The set is generated once into `<data_dir>/synthetic-cars-v<VERSION>/` as train/val/test folders in
the make/model layout that `imagefolder` reads; the same seed gives byte-identical files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.datasets.generated import MANIFEST, GeneratedSet, split_counts, write_image_set
from core.datasets.registry import (
    DatasetEntry,
    DatasetError,
    register_dataset,
)
from core.datasets.synthetic_cars_draw import FAMILIES, VARIANTS, render_image

VERSION = 2  # bump when the drawing changes: the folder name changes with it, so old sets are not reused
FOLDER_NAME = f"synthetic-cars-v{VERSION}"
__all__ = ["FOLDER_NAME", "MANIFEST", "VERSION", "ensure_synthetic_cars", "generate_synthetic_cars"]


def class_names(n_makes: int, models_per_make: int) -> list[tuple[str, str]]:
    """(make, model) of each class, e.g. ("sedan", "sedan-a")."""
    if not 1 <= n_makes <= len(FAMILIES) or not 1 <= models_per_make <= len(VARIANTS):
        raise DatasetError(
            f"synthetic-cars supports 1..{len(FAMILIES)} makes and 1..{len(VARIANTS)} models per make, "
            f"not {n_makes} and {models_per_make}"
        )
    return [
        (FAMILIES[m].name, f"{FAMILIES[m].name}-{'abcd'[k]}") for m in range(n_makes) for k in range(models_per_make)
    ]


def class_counts(
    n_classes: int, images_per_class: int, imbalance: float, fractions: dict[str, float], seed: int
) -> list[dict[str, int]]:
    """Images per split of each class: class totals spread evenly from 1x to `imbalance`x, shuffled by seed."""
    weights = np.random.default_rng([seed, 7]).permutation(np.linspace(1.0, imbalance, n_classes))
    return split_counts(np.maximum(3, np.round(images_per_class * weights / weights.mean()).astype(int)), fractions)


def generate_synthetic_cars(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    n_makes: int = 8,
    models_per_make: int = 3,
    images_per_class: int = 150,
    image_size: int = 96,
    imbalance: float = 3.0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    overwrite: bool = False,
) -> Path:
    """Write the synthetic-cars set to `out_dir/{train,val,test}/<make>/<model>/<n>.png` and a manifest.

    Written into a temporary sibling folder and renamed into place, so `out_dir` is either complete or
    absent. With the defaults: 24 classes, about 3,600 images of 96x96 (70/15/15), the largest classes
    three times the size of the smallest.

    Args:
        images_per_class: mean number of images per class over all splits.
        imbalance: size of the largest class relative to the smallest.
        overwrite: replace an existing `out_dir`; otherwise an existing one raises FileExistsError.

    Returns:
        `out_dir` as an absolute path.
    """
    names = class_names(n_makes, models_per_make)
    fractions = {"val": val_fraction, "test": test_fraction}
    counts = class_counts(len(names), images_per_class, imbalance, fractions, seed)
    images = (
        (f"{split}/{make}/{model}/{n:04d}.png", render_image(seed, index, split, n, models_per_make, image_size))
        for index, ((make, model), per_split) in enumerate(zip(names, counts, strict=True))
        for split, count in per_split.items()
        for n in range(count)
    )
    return write_image_set(out_dir, images, _manifest(seed, names, counts), overwrite)


def _manifest(seed: int, names: list[tuple[str, str]], counts: list[dict[str, int]]) -> dict:
    """The manifest: generator, version, seed and each class's images per split (its presence marks a whole set)."""
    classes = [{"make": make, "model": model, **c} for (make, model), c in zip(names, counts, strict=True)]
    return {"generator": "synthetic-cars", "version": VERSION, "seed": seed, "classes": classes}


SET = GeneratedSet("synthetic-cars", FOLDER_NAME, lambda out: generate_synthetic_cars(out))


def ensure_synthetic_cars(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The synthetic-cars folder under `data_dir` (default `default_data_dir()`), generated if missing."""
    return SET.ensure(data_dir)


register_dataset(
    DatasetEntry(
        name="synthetic-cars",
        description=(
            "Built in: drawn cars, 8 makes (body shape) x 3 models (colours, wheels, stripes, lights), "
            "96x96 px, about 2,500 train / 540 val / 540 test images, imbalanced; generated on first use"
        ),
        needs_root=False,
        loader=SET.load,
    )
)
