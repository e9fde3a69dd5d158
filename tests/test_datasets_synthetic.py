"""Tests for the built-in synthetic-cars dataset, generated at a tiny size so they stay fast."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.datasets import DatasetError, ensure_synthetic_cars, generate_synthetic_cars, load_dataset, synthetic_cars
from core.datasets.synthetic_cars import FOLDER_NAME, render_image

TINY = {"n_makes": 3, "models_per_make": 3, "images_per_class": 14, "image_size": 32}


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_synthetic_cars(tmp_path_factory.mktemp("synthetic") / "cars", seed=0, **TINY)


def test_same_seed_gives_identical_bytes(tiny: Path, tmp_path: Path):
    again = generate_synthetic_cars(tmp_path / "again", seed=0, **TINY)
    other = generate_synthetic_cars(tmp_path / "other", seed=1, **TINY)
    reference = file_bytes(tiny)
    assert len(reference) > 100
    assert file_bytes(again) == reference
    changed = file_bytes(other)
    assert sum(changed.get(name) != content for name, content in reference.items()) > 0.9 * len(reference)


def test_layout_loads_through_the_registry(tiny: Path):
    data = load_dataset("synthetic-cars", str(tiny))
    assert data.name == "synthetic-cars" and data.root == str(tiny)
    assert data.makes == ["hatchback", "sedan", "suv"]
    assert len(data.classes) == 9 and data.skipped == 0
    assert set(data.splits) == {"train", "val", "test"}
    for split, samples in data.splits.items():
        assert {s.label for s in samples} == set(range(9)), f"a class is missing from {split}"
        for s in samples:  # hierarchy: <split>/<make>/<model>/<n>.png, model "sedan-a" belongs to make "sedan"
            model, make = Path(s.path).parent.name, Path(s.path).parent.parent.name
            assert model == data.classes[s.label] and make == data.makes[data.class_to_make[s.label]]
            assert model.rsplit("-", 1)[0] == make and Path(s.path).parts[-4] == split
    with Image.open(data.splits["train"][0].path) as image:
        assert image.size == (32, 32) and image.mode == "RGB"


def test_class_sizes_are_imbalanced_and_split_70_15_15(tiny: Path):
    data = load_dataset("synthetic-cars", str(tiny))
    train = Counter(s.label for s in data.splits["train"])
    assert max(train.values()) >= 2.5 * min(train.values())
    total = sum(len(v) for v in data.splits.values())
    assert 0.1 < len(data.splits["val"]) / total < 0.2 and 0.1 < len(data.splits["test"]) / total < 0.2


def mean_colours(cls: int, n: int) -> np.ndarray:
    return np.stack([np.asarray(render_image(0, cls, "train", i, 3, 32), float).mean(axis=(0, 1)) for i in range(n)])


def test_mean_colour_does_not_give_the_model_away():
    # Models a and b of a make share a palette: their mean-colour ranges overlap on every channel...
    a, b = mean_colours(0, 30), mean_colours(1, 30)
    assert np.all(np.maximum(a.min(0), b.min(0)) < np.minimum(a.max(0), b.max(0)))
    # ...and a nearest-centroid classifier on mean colour stays near chance (1/6) over six classes.
    feats = {c: mean_colours(c, 30) for c in range(6)}
    centroids = np.stack([f[::2].mean(0) for f in feats.values()])
    hits = [np.argmin(((f[1::2, None] - centroids) ** 2).sum(-1), axis=1) == c for c, f in feats.items()]
    assert np.concatenate(hits).mean() < 0.4


def test_models_of_a_make_differ_in_details():
    variants = synthetic_cars.VARIANTS
    for make in range(len(synthetic_cars.FAMILIES)):
        own = [variants[(model + make) % len(variants)] for model in range(3)]
        assert len({(d.wheel, d.stripe, d.lights, d.tint) for d in own}) == 3
        assert len({d.wheel for d in own}) == 3  # wheels alone tell the models of a make apart


def test_ensure_generates_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = []

    def small(out_dir, seed=0, **kwargs):
        calls.append(out_dir)
        return generate_synthetic_cars(out_dir, seed, **TINY)

    monkeypatch.setattr(synthetic_cars, "generate_synthetic_cars", small)
    folder = ensure_synthetic_cars(tmp_path / "data")
    assert folder == tmp_path / "data" / FOLDER_NAME and (folder / "manifest.json").is_file()
    assert ensure_synthetic_cars(tmp_path / "data") == folder and len(calls) == 1
    data = load_dataset("synthetic-cars", data_dir=str(tmp_path / "data"))
    assert data.root == str(folder) and len(calls) == 1
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "env"))
    assert ensure_synthetic_cars() == tmp_path / "env" / FOLDER_NAME
    assert [p.name for p in (tmp_path / "data").iterdir()] == [FOLDER_NAME]  # no temporary folders left


def test_failed_generation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(synthetic_cars, "render_image", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_synthetic_cars(tmp_path / "out", **TINY)
    assert not [p for p in tmp_path.iterdir() if p.name != "runs"]


def test_existing_folders(tiny: Path, tmp_path: Path):
    with pytest.raises(FileExistsError):
        generate_synthetic_cars(tiny, **TINY)
    out = generate_synthetic_cars(tmp_path / "o", seed=1, **TINY)
    assert generate_synthetic_cars(out, seed=0, overwrite=True, **TINY) == out
    assert file_bytes(out) == file_bytes(tiny)
    stray = tmp_path / "data" / FOLDER_NAME
    stray.mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        ensure_synthetic_cars(tmp_path / "data")
    with pytest.raises(DatasetError, match="makes"):
        generate_synthetic_cars(tmp_path / "x", n_makes=99)
