"""Tests for the stanford-cars loader on a tiny fake devkit written with scipy.io.savemat."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from core.datasets import DatasetError, load_dataset

NAMES = [
    "AM General Hummer SUV 2000",
    "Aston Martin V8 Vantage Convertible 2012",
    "BMW M3 Coupe 2012",
    "Rolls-Royce Ghost Sedan 2012",
]
FIELDS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname")


def write_annotations(mat: Path, images: Path, per_class: int, prefix: str) -> list[tuple[str, int]]:
    """Images of each class plus a 1 x N struct array `annotations` as the devkit has it (classes from 1)."""
    images.mkdir(parents=True, exist_ok=True)
    records, truth = [], []
    for label in range(len(NAMES)):
        for i in range(per_class):
            fname = f"{prefix}{label}{i:03d}.jpg"
            Image.new("RGB", (20, 14), (label * 60, i * 10, 40)).save(images / fname)
            records.append((1, 2, 19, 13, label + 1, fname))
            truth.append((str(images / fname), label))
    scipy.io.savemat(mat, {"annotations": np.array(records, dtype=[(f, "O") for f in FIELDS]).reshape(1, -1)})
    return truth


def write_fake_stanford_cars(root: Path, nested: bool = False) -> tuple[Path, list, list]:
    base = root / "stanford_cars"
    (base / "devkit").mkdir(parents=True)
    scipy.io.savemat(base / "devkit" / "cars_meta.mat", {"class_names": np.array([NAMES], dtype=object)})
    train_dir = base / "cars_train" / ("cars_train" if nested else "")
    test_dir = base / "cars_test" / ("cars_test" if nested else "")
    train = write_annotations(base / "devkit" / "cars_train_annos.mat", train_dir, 10, "tr")
    test = write_annotations(base / "cars_test_annos_withlabels.mat", test_dir, 3, "te")
    return base, train, test


@pytest.fixture
def fake(tmp_path: Path) -> tuple[Path, list, list]:
    return write_fake_stanford_cars(tmp_path / "data")


def pairs(samples) -> set[tuple[str, int]]:
    return {(s.path, s.label) for s in samples}


def test_loads_the_official_layout(fake):
    base, train, test = fake
    data = load_dataset("stanford-cars", str(base.parent), seed=5)
    assert data.name == "stanford-cars" and data.root == str(base)
    assert data.classes == NAMES
    assert data.makes == ["AM General", "Aston Martin", "BMW", "Rolls-Royce"]
    assert data.class_to_make == [0, 1, 2, 3]
    assert pairs(data.splits["train"]) | pairs(data.splits["val"]) == set(train)
    assert not pairs(data.splits["train"]) & pairs(data.splits["val"])
    assert pairs(data.splits["test"]) == set(test)
    assert [sum(s.label == k for s in data.splits["val"]) for k in range(4)] == [2, 2, 2, 2]  # 15% of 10
    assert data.skipped == 0
    again = load_dataset("stanford-cars", str(base), seed=5)  # the stanford_cars folder itself works too
    assert again.splits == data.splits
    assert load_dataset("stanford-cars", str(base), seed=6).splits["val"] != data.splits["val"]


def test_agrees_with_torchvision(fake):
    torchvision = pytest.importorskip("torchvision")
    base, _, _ = fake
    data = load_dataset("stanford-cars", str(base.parent))
    for split, ours in (("train", data.splits["train"] + data.splits["val"]), ("test", data.splits["test"])):
        theirs = torchvision.datasets.StanfordCars(str(base.parent), split=split)
        assert theirs.classes == data.classes
        assert {(str(Path(p)), label) for p, label in theirs._samples} == pairs(ours)


def test_nested_image_folders(tmp_path: Path):
    base, train, _ = write_fake_stanford_cars(tmp_path / "data", nested=True)
    data = load_dataset("stanford-cars", str(base))
    assert pairs(data.splits["train"]) | pairs(data.splits["val"]) == set(train)


def test_missing_and_corrupt_images_are_skipped(fake):
    base, train, _ = fake
    Path(train[0][0]).unlink()
    Path(train[1][0]).write_bytes(b"GIF89a broken")
    data = load_dataset("stanford-cars", str(base))
    assert data.skipped == 2
    assert len(data.splits["train"]) + len(data.splits["val"]) == len(train) - 2


def test_missing_test_labels_warns_and_drops_test(fake):
    base, _, _ = fake
    (base / "cars_test_annos_withlabels.mat").unlink()
    with pytest.warns(UserWarning, match="no test split"):
        data = load_dataset("stanford-cars", str(base))
    assert set(data.splits) == {"train", "val"}


@pytest.mark.parametrize(
    ("breakage", "match"),
    [
        (lambda base: (base / "devkit" / "cars_meta.mat").unlink(), "cars_meta.mat is missing"),
        (lambda base: (base / "devkit" / "cars_train_annos.mat").write_bytes(b"junk"), "not a readable .mat"),
        (lambda base: scipy.io.savemat(base / "devkit" / "cars_meta.mat", {"names": np.arange(3)}), "'class_names'"),
        (
            lambda base: [p.unlink() for p in (base / "cars_train").iterdir()] and (base / "cars_train").rmdir(),
            "cars_train/ is missing",
        ),
    ],
)
def test_malformed_layout_names_the_file(fake, breakage, match: str):
    base, _, _ = fake
    breakage(base)
    with warnings.catch_warnings(), pytest.raises(DatasetError, match=match) as info:
        load_dataset("stanford-cars", str(base))
    assert str(base) in str(info.value) and "devkit/cars_meta.mat" in str(info.value)


def test_no_devkit(tmp_path: Path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DatasetError, match="no devkit/") as info:
        load_dataset("stanford-cars", str(tmp_path / "data"))
    assert str(tmp_path / "data") in str(info.value)


def test_class_out_of_range(fake):
    base, _, _ = fake
    record = np.array([(1, 1, 2, 2, 99, "x.jpg")], dtype=[(f, "O") for f in FIELDS]).reshape(1, -1)
    scipy.io.savemat(base / "devkit" / "cars_train_annos.mat", {"annotations": record})
    with pytest.raises(DatasetError, match=r"outside 1\.\.4"):
        load_dataset("stanford-cars", str(base))
