"""The `stanford-cars` dataset: the official layout (devkit .mat files) as torchvision's `StanfordCars` reads it."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from core.datasets.image_folder import (
    assemble_data,
    is_readable_image,
    make_from_class_name,
    resolve_root,
    split_stratified,
)
from core.datasets.registry import ClassificationData, DatasetEntry, DatasetError, SplitOptions, register_dataset

LAYOUT = (
    "stanford_cars/devkit/cars_meta.mat, stanford_cars/devkit/cars_train_annos.mat, "
    "stanford_cars/cars_test_annos_withlabels.mat, stanford_cars/cars_train/*.jpg, stanford_cars/cars_test/*.jpg "
    "(data_root is stanford_cars/ or the folder holding it)"
)


def _error(path: Path, problem: str) -> DatasetError:
    return DatasetError(f"{problem} (at {path}). Expected the Stanford Cars layout {LAYOUT} — pass data_root=PATH")


def find_base_folder(root: Path) -> Path:
    """The folder holding devkit/: `root` itself or, as torchvision expects, `root/stanford_cars`."""
    for candidate in (root, root / "stanford_cars"):
        if (candidate / "devkit").is_dir():
            return candidate
    raise _error(root, f"no devkit/ folder in {root} or {root / 'stanford_cars'}")


def _load_mat_field(path: Path, field: str) -> np.ndarray:
    """One variable of a .mat file, as a 1-D array."""
    if not path.is_file():
        raise _error(path, f"{path.name} is missing")
    import scipy.io  # here, not at the top: it takes a second, and listing datasets must stay cheap

    try:
        return np.atleast_1d(scipy.io.loadmat(path, squeeze_me=True)[field])
    except KeyError:
        raise _error(path, f"{path.name} has no {field!r} variable") from None
    except (scipy.io.matlab.MatReadError, OSError, ValueError, TypeError, NotImplementedError) as exc:
        raise _error(path, f"{path.name} is not a readable .mat file ({exc})") from None


def read_class_names(base: Path) -> list[str]:
    """The 196 class names of devkit/cars_meta.mat, in label order."""
    return [str(name).strip() for name in _load_mat_field(base / "devkit" / "cars_meta.mat", "class_names")]


def read_annotations(mat_path: Path, n_classes: int) -> list[tuple[str, int]]:
    """(file name, 0-based class) of each image in an annotations .mat file (its classes count from 1)."""
    records = _load_mat_field(mat_path, "annotations")
    try:
        pairs = [(str(r["fname"]), int(r["class"]) - 1) for r in records]
    except (ValueError, IndexError, TypeError):
        raise _error(mat_path, f"{mat_path.name} annotations lack the fields 'fname' and 'class'") from None
    bad = [name for name, label in pairs if not 0 <= label < n_classes]
    if bad:
        raise _error(mat_path, f"{len(bad)} annotations have a class outside 1..{n_classes}, e.g. {bad[0]}")
    return pairs


def _image_folder(base: Path, name: str) -> Path:
    """base/name, or base/name/name as some re-distributions nest it."""
    folder = base / name
    if (folder / name).is_dir():
        return folder / name
    if not folder.is_dir():
        raise _error(folder, f"image folder {name}/ is missing")
    return folder


def _read_split(base: Path, annotations: Path, images: str, classes: list[str]) -> tuple[dict[str, list[str]], int]:
    """class name -> readable image paths of one official split, and how many were skipped."""
    folder = _image_folder(base, images)
    by_class: dict[str, list[str]] = {name: [] for name in classes}
    skipped = 0
    for fname, label in read_annotations(annotations, len(classes)):
        path = folder / fname
        if is_readable_image(path):  # a missing file counts as unreadable
            by_class[classes[label]].append(str(path))
        else:
            skipped += 1
    return by_class, skipped


def load_stanford_cars(root: str | os.PathLike[str] | None, options: SplitOptions) -> ClassificationData:
    """Read Stanford Cars from disk (nothing is downloaded); val is carved from the official train split.

    The official test split (cars_test_annos_withlabels.mat) is the test split, so `options.test_fraction`
    and `options.data_dir` are unused. Without that file the data has no test split (a warning says so).
    """
    base = find_base_folder(resolve_root(root))
    classes = read_class_names(base)
    train, skipped = _read_split(base, base / "devkit" / "cars_train_annos.mat", "cars_train", classes)
    split_paths = split_stratified(train, {"val": options.val_fraction}, options.seed, base / "cars_train")
    split_dirs = {"train": base / "cars_train", "val": base / "cars_train", "test": base / "cars_test"}
    test_annotations = base / "cars_test_annos_withlabels.mat"
    if test_annotations.is_file():
        split_paths["test"], test_skipped = _read_split(base, test_annotations, "cars_test", classes)
        skipped += test_skipped
    else:
        warnings.warn(f"{test_annotations} is missing, so this Stanford Cars has no test split", stacklevel=2)
    makes = [make_from_class_name(name) for name in classes]
    return assemble_data(base, classes, makes, split_paths, skipped, split_dirs)


register_dataset(
    DatasetEntry(
        name="stanford-cars",
        description=f"Stanford Cars (196 models, 49 makes) on disk: {LAYOUT}",
        needs_root=True,
        loader=load_stanford_cars,
    )
)
