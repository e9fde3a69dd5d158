"""The built-in `synthetic-spots` dataset for re-identification: individuals told apart by their coat alone.

Each individual (jaguar, leopard or cheetah: rosettes with a dot, open rosettes, solid spots) has a unique
random layout of marks and its own density and mark size; ground colours are shared, so colour never names
an individual. Photos show it in random poses, viewpoints, scales and crops, over random backgrounds, behind
grass, under random lighting (see `synthetic_spots_draw`). Image counts per individual are imbalanced as in
the jaguar re-ID set (by default 31 individuals with 13 to 183 images). The set is generated once into
`<data_dir>/synthetic-spots-v<VERSION>/{train,val,test}/<species>_<nn>/` (the flat layout `imagefolder`
reads, the species being the make); every split holds at least two images of every individual, so each is
a query of the re-ID protocol. The same seed gives byte-identical files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from core.datasets.generated import MANIFEST, GeneratedSet, split_counts, write_image_set
from core.datasets.registry import (
    DatasetEntry,
    DatasetError,
    register_dataset,
)
from core.datasets.synthetic_spots_draw import SPECIES, draw_texture, make_coat, render_image

__all__ = ["FOLDER_NAME", "MANIFEST", "VERSION", "ensure_synthetic_spots", "generate_synthetic_spots"]

VERSION = 1  # bump when the drawing changes: the folder name changes with it, so old sets are not reused
FOLDER_NAME = f"synthetic-spots-v{VERSION}"
MIN_PER_SPLIT = 2  # images of every individual in val and test: one query and its match


def individual_names(n: int) -> list[str]:
    """``jaguar_00``, ``leopard_01``, ``cheetah_02``, ...: the species cycles, the number is the individual."""
    return [f"{SPECIES[i % len(SPECIES)]}_{i:02d}" for i in range(n)]


def image_counts(
    n: int, min_images: int, max_images: int, fractions: dict[str, float], seed: int
) -> list[dict[str, int]]:
    """Images per split of each individual: totals spaced geometrically from ``min_images`` to ``max_images``
    (few individuals with many photos, many with few), shuffled by seed; val and test get at least two each."""
    if n < 2 or not 2 * MIN_PER_SPLIT + 1 <= min_images <= max_images:
        raise DatasetError(
            f"synthetic-spots needs at least 2 individuals and {2 * MIN_PER_SPLIT + 1} <= min_images <= max_images "
            f"(one train image and {MIN_PER_SPLIT} for val and test each); got {n}, {min_images}, {max_images}"
        )
    totals = np.random.default_rng([seed, 11]).permutation(np.geomspace(min_images, max_images, n).round())
    return split_counts(totals.astype(int), fractions, MIN_PER_SPLIT)


def generate_synthetic_spots(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    n_individuals: int = 31,
    min_images: int = 13,
    max_images: int = 183,
    image_size: int = 96,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    overwrite: bool = False,
) -> Path:
    """Write the synthetic-spots set to `out_dir/{train,val,test}/<individual>/<n>.png` and a manifest.

    Written into a temporary sibling folder and renamed into place, so `out_dir` is either complete or
    absent. With the defaults: 31 individuals, about 1,900 images of 96x96 (70/15/15).

    Args:
        min_images, max_images: the fewest and the most images of one individual, over all splits.
        overwrite: replace an existing `out_dir`; otherwise an existing one raises FileExistsError.

    Returns:
        `out_dir` as an absolute path.
    """
    names = individual_names(n_individuals)
    counts = image_counts(n_individuals, min_images, max_images, {"val": val_fraction, "test": test_fraction}, seed)
    manifest = {
        "generator": "synthetic-spots",
        "version": VERSION,
        "seed": seed,
        "individuals": [{"name": name, **c} for name, c in zip(names, counts, strict=True)],
    }
    return write_image_set(out_dir, _images(seed, names, counts, image_size), manifest, overwrite)


def _images(seed: int, names: list[str], counts: list[dict[str, int]], size: int) -> Iterator[tuple[str, Image.Image]]:
    """(relative path, image) of every photo; each coat is drawn once and reused for its photos."""
    for index, (name, per_split) in enumerate(zip(names, counts, strict=True)):
        coat = make_coat(seed, index, SPECIES[index % len(SPECIES)])
        flank = draw_texture(coat)
        for split, count in per_split.items():
            for n in range(count):
                yield f"{split}/{name}/{n:04d}.png", render_image(seed, coat, flank, index, split, n, size)


SET = GeneratedSet("synthetic-spots", FOLDER_NAME, lambda out: generate_synthetic_spots(out))


def ensure_synthetic_spots(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The synthetic-spots folder under `data_dir` (default `default_data_dir()`), generated if missing."""
    return SET.ensure(data_dir)


register_dataset(
    DatasetEntry(
        name="synthetic-spots",
        description=(
            "Built in, for re-ID: 31 drawn big cats (jaguar, leopard, cheetah) told apart by their coat, "
            "13 to 183 photos each in random poses, crops and light, 96x96 px, about 1,400 train / 300 val / "
            "300 test images; generated on first use"
        ),
        needs_root=False,
        loader=SET.load,
    )
)
