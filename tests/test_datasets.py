"""Tests for the dataset registry and the imagefolder loader (offline, on tmp_path)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.datasets import (
    DatasetEntry,
    DatasetError,
    default_data_dir,
    get_dataset,
    list_datasets,
    load_dataset,
    register_dataset,
    registry,
)
from core.datasets.image_folder import is_readable_image, make_from_class_name, split_stratified
from core.runfolder.paths import REPO_ROOT

BUILTIN = {"synthetic-cars", "imagefolder", "stanford-cars"}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """An empty folder for the test's dataset (tmp_path itself holds the runs folder conftest makes)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def write_image(path: Path, colour: tuple[int, int, int] = (200, 30, 30), fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 16), colour).save(path, format=fmt)
    return path


def write_tree(root: Path, classes: dict[str, int], ext: str = "png") -> None:
    """`classes` maps a relative class folder ("bmw/m3" or "BMW M3 Coupe 2012") to its number of images."""
    for k, (folder, count) in enumerate(classes.items()):
        for i in range(count):
            write_image(root / folder / f"{i:03d}.{ext}", (k * 20 % 256, i * 9 % 256, 90))


def all_paths(data) -> list[str]:
    return [s.path for samples in data.splits.values() for s in samples]


# --- registry ---------------------------------------------------------------------------------------------


def test_builtin_entries_are_registered_and_listed():
    entries = list_datasets()
    assert BUILTIN <= {e.name for e in entries}
    assert [e.name for e in entries] == sorted(e.name for e in entries)
    for entry in entries:
        assert entry.description and callable(entry.loader)
        assert get_dataset(entry.name) is entry
    assert not get_dataset("synthetic-cars").needs_root
    assert get_dataset("imagefolder").needs_root and get_dataset("stanford-cars").needs_root


@pytest.mark.parametrize("entry", [e for e in list_datasets() if e.needs_root], ids=lambda e: e.name)
def test_every_disk_dataset_names_a_missing_root(entry: DatasetEntry, data_root: Path):
    with pytest.raises(DatasetError, match="data_root"):
        load_dataset(entry.name)
    missing = data_root / "nowhere"
    with pytest.raises(DatasetError, match=str(missing)):
        load_dataset(entry.name, str(missing))


def test_unknown_name_lists_the_known_names():
    with pytest.raises(DatasetError) as info:
        get_dataset("cifar-100")
    assert "cifar-100" in str(info.value)
    for name in BUILTIN:
        assert name in str(info.value)
    with pytest.raises(DatasetError, match="synthetic-cars"):
        load_dataset("nope")


def test_duplicate_registration_warns_and_replaces(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(registry.DATASETS, "_entries", dict(registry.DATASETS._entries))
    first = get_dataset("imagefolder")
    replacement = DatasetEntry("imagefolder", "replacement", True, first.loader)
    with pytest.warns(UserWarning, match="imagefolder"):
        register_dataset(replacement)
    assert get_dataset("imagefolder") is replacement
    assert len([e for e in list_datasets() if e.name == "imagefolder"]) == 1


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.1), (1.0, 0.0), (0.5, 0.5), (0.2, -0.1)])
def test_bad_fractions_are_rejected(val: float, test: float, data_root: Path):
    with pytest.raises(DatasetError, match="fraction"):
        load_dataset("imagefolder", str(data_root), val_fraction=val, test_fraction=test)


def test_listing_datasets_does_not_import_torch():
    # Pages list datasets; importing torch there would cost seconds (ImageListDataset is imported lazily).
    code = "import sys, core.datasets as d; d.list_datasets(); assert 'torch' not in sys.modules; d.ImageListDataset"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, data_root: Path):
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    assert default_data_dir() == REPO_ROOT / "data"
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(data_root / "d"))
    assert default_data_dir() == data_root / "d"


# --- imagefolder: layouts ---------------------------------------------------------------------------------


def test_hierarchical_layout_with_random_split(data_root: Path):
    write_tree(data_root, {"bmw/m3": 10, "bmw/x5": 7, "audi/a4": 8, "audi/tt": 20})
    data = load_dataset("imagefolder", str(data_root), seed=3)
    assert data.name == "imagefolder" and data.root == str(data_root.resolve())
    assert data.makes == ["audi", "bmw"]
    assert data.classes == ["a4", "tt", "m3", "x5"]  # grouped by make
    assert [data.makes[m] for m in data.class_to_make] == ["audi", "audi", "bmw", "bmw"]
    assert set(data.splits) == {"train", "val", "test"}
    paths = all_paths(data)
    assert len(paths) == len(set(paths)) == 45 and all(Path(p).is_absolute() for p in paths)
    for split, samples in data.splits.items():
        assert {s.label for s in samples} == set(range(4)), split
    for sample in data.splits["train"]:  # label matches the folder the image is in
        assert Path(sample.path).parent.name == data.classes[sample.label]
    assert data.skipped == 0


def test_random_split_is_seeded_and_stratified(data_root: Path):
    write_tree(data_root, {"bmw/m3": 40, "audi/a4": 20})
    a = load_dataset("imagefolder", str(data_root), seed=1)
    b = load_dataset("imagefolder", str(data_root), seed=1)
    c = load_dataset("imagefolder", str(data_root), seed=2)
    assert a.splits == b.splits
    assert a.splits["val"] != c.splits["val"]
    counts = {s: [sum(x.label == k for x in a.splits[s]) for k in range(2)] for s in a.splits}
    assert counts == {"train": [14, 28], "val": [3, 6], "test": [3, 6]}  # 15% of 20 and of 40, per class
    no_test = load_dataset("imagefolder", str(data_root), test_fraction=0.0)
    assert set(no_test.splits) == {"train", "val"}


def test_flat_layout_with_makes_csv(data_root: Path):
    write_tree(data_root, {"c1": 4, "c2": 4, "c3": 4})
    (data_root / "makes.csv").write_text("class,make\nc1,Ford\nc2,Ford\nc3,Audi\n")
    data = load_dataset("imagefolder", str(data_root))
    assert data.makes == ["Audi", "Ford"]
    assert dict(zip(data.classes, (data.makes[m] for m in data.class_to_make), strict=True)) == {
        "c1": "Ford",
        "c2": "Ford",
        "c3": "Audi",
    }


def test_flat_layout_with_makes_json(data_root: Path):
    write_tree(data_root, {"c1": 3, "c2": 3})
    (data_root / "makes.json").write_text(json.dumps({"c1": "A", "c2": "B", "unused": "C"}))
    data = load_dataset("imagefolder", str(data_root))
    assert data.makes == ["A", "B"] and data.class_to_make == [0, 1]


def test_flat_layout_with_stanford_class_names(data_root: Path):
    names = [
        "AM General Hummer SUV 2000",
        "Aston Martin V8 Vantage Convertible 2012",
        "Aston Martin Virage Coupe 2012",
        "BMW M3 Coupe 2012",
        "Land Rover LR2 SUV 2012",
        "Mercedes-Benz SL-Class Coupe 2009",
    ]
    write_tree(data_root, dict.fromkeys(names, 3), ext="jpg")
    data = load_dataset("imagefolder", str(data_root))
    assert data.makes == ["AM General", "Aston Martin", "BMW", "Land Rover", "Mercedes-Benz"]
    assert data.class_to_make == [0, 1, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("Aston Martin V8 Vantage Convertible 2012", "Aston Martin"),
        ("AM General Hummer SUV 2000", "AM General"),
        ("Land Rover Range Rover SUV 2012", "Land Rover"),
        ("Mercedes-Benz Sprinter Van 2012", "Mercedes-Benz"),
        ("Rolls-Royce Ghost Sedan 2012", "Rolls-Royce"),
        ("Ram C/V Cargo Van Minivan 2012", "Ram"),
        ("Dodge Ram Pickup 3500 Crew Cab 2010", "Dodge"),
        ("smart fortwo Convertible 2012", "smart"),
        ("Aston_Martin_Virage_Coupe_2012", "Aston Martin"),
        ("HUMMER H3T Crew Cab 2010", "HUMMER"),
        ("Tesla", "Tesla"),
    ],
)
def test_make_from_stanford_class_name(name: str, make: str):
    assert make_from_class_name(name) == make


def test_split_folders_are_used_as_given(data_root: Path):
    for split, n in (("train", 5), ("val", 2), ("test", 3)):
        write_tree(data_root / split, {"vw/golf": n, "vw/polo": n, "kia/rio": n})
    data = load_dataset("imagefolder", str(data_root), seed=9)
    assert {s: len(v) for s, v in data.splits.items()} == {"train": 15, "val": 6, "test": 9}
    for split, samples in data.splits.items():
        assert all(f"/{split}/" in s.path for s in samples)
    assert data.splits == load_dataset("imagefolder", str(data_root), seed=1).splits  # seed plays no part


def test_missing_val_folder_is_carved_from_train(data_root: Path):
    write_tree(data_root / "train", {"a": 20, "b": 10})
    write_tree(data_root / "test", {"a": 2, "b": 2})
    (data_root / "makes.csv").write_text("a,X\nb,Y\n")
    data = load_dataset("imagefolder", str(data_root), seed=4, val_fraction=0.2)
    assert {s: len(v) for s, v in data.splits.items()} == {"train": 24, "val": 6, "test": 4}
    assert not {s.path for s in data.splits["train"]} & {s.path for s in data.splits["val"]}
    assert all("/train/" in s.path for s in data.splits["val"])
    assert data.splits == load_dataset("imagefolder", str(data_root), seed=4, val_fraction=0.2).splits
    train_only = data_root / "only"
    write_tree(train_only / "train", {"a": 5, "b": 5})
    (train_only / "makes.csv").write_text("a,X\nb,Y\n")
    assert set(load_dataset("imagefolder", str(train_only)).splits) == {"train", "val"}


def test_model_names_shared_by_two_makes_stay_distinct(data_root: Path):
    write_tree(data_root, {"ford/other": 3, "audi/other": 3, "audi/a4": 3})
    data = load_dataset("imagefolder", str(data_root))
    assert data.classes == ["a4", "audi/other", "ford/other"]


# --- imagefolder: corrupt images and errors ----------------------------------------------------------------


def noise_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(buffer, format=fmt)
    return buffer.getvalue()


def write_corrupt_files(folder: Path) -> list[Path]:
    """A zero-byte file, a truncated PNG, a truncated JPEG and a text file, all with image names."""
    folder.mkdir(parents=True, exist_ok=True)
    png, jpeg = noise_bytes("PNG"), noise_bytes("JPEG")
    files = {
        "empty.jpg": b"",
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpeg[: len(jpeg) * 2 // 3],
        "text.jpg": b"this is not an image\n",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return [folder / name for name in files]


def test_corrupt_images_are_skipped_and_counted(data_root: Path):
    write_tree(data_root, {"bmw/m3": 4, "audi/a4": 4}, ext="jpg")
    bad = write_corrupt_files(data_root / "bmw" / "m3")
    (data_root / "audi" / "a4" / "notes.txt").write_text("not an image name: ignored, not counted")
    data = load_dataset("imagefolder", str(data_root))
    assert data.skipped == len(bad)
    assert not {str(p) for p in bad} & set(all_paths(data))
    assert len(all_paths(data)) == 8


def test_readable_image_check(data_root: Path):
    for bad in write_corrupt_files(data_root):
        assert not is_readable_image(bad), bad.name
    assert not is_readable_image(data_root / "missing.png")
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("WEBP", "webp")):
        good = data_root / f"good.{ext}"
        good.write_bytes(noise_bytes(fmt))
        assert is_readable_image(good), ext
    padded = data_root / "padded.jpg"  # some encoders write bytes after the end marker
    padded.write_bytes(noise_bytes("JPEG") + b"\0" * 100)
    assert is_readable_image(padded)


def expect_error(root: Path, match: str, **kwargs) -> str:
    with pytest.raises(DatasetError, match=match) as info:
        load_dataset("imagefolder", str(root), **kwargs)
    message = str(info.value)
    assert "Expected" in message and "data_root" in message
    return message


def test_missing_root_and_file_root(data_root: Path):
    message = expect_error(data_root / "x" / "y", "does not exist")
    assert str(data_root / "x" / "y") in message and "root/<make>/<model>/*.jpg" in message
    (data_root / "file.txt").write_text("")
    expect_error(data_root / "file.txt", "not a folder")


def test_empty_and_loose_roots(data_root: Path):
    assert str(data_root) in expect_error(data_root, "no class folders")
    write_image(data_root / "loose.jpg")
    expect_error(data_root, "1 image")


def test_mixed_layout_is_rejected(data_root: Path):
    write_tree(data_root, {"bmw/m3": 3, "flatclass": 3})
    expect_error(data_root, "mixed layout")


def test_empty_make_and_class_folders(data_root: Path):
    write_tree(data_root / "h", {"bmw/m3": 3})
    (data_root / "h" / "audi").mkdir()
    assert str(data_root / "h" / "audi") in expect_error(data_root / "h", "no model folders")
    write_tree(data_root / "f", {"BMW M3": 3})
    (data_root / "f" / "BMW X5").mkdir()
    expect_error(data_root / "f", "'BMW X5' has 0 readable")


def test_class_too_small_for_a_random_split(data_root: Path):
    write_tree(data_root, {"bmw/m3": 10, "bmw/z1": 2})
    expect_error(data_root, "'z1' has 2 readable")
    assert len(load_dataset("imagefolder", str(data_root), test_fraction=0).splits["val"]) == 3  # 2 of m3, 1 of z1


def test_class_missing_from_a_split_folder(data_root: Path):
    write_tree(data_root / "train", {"vw/golf": 3, "vw/polo": 3})
    write_tree(data_root / "val", {"vw/golf": 1})
    assert str(data_root / "val") in expect_error(data_root, "no readable images in the val split")
    write_tree(data_root / "val", {"vw/polo": 1, "vw/up": 1})
    expect_error(data_root, "in the train split")


def test_class_whose_images_are_all_corrupt(data_root: Path):
    write_tree(data_root / "train", {"vw/golf": 3})
    write_corrupt_files(data_root / "train" / "vw" / "polo")
    write_tree(data_root / "val", {"vw/golf": 1, "vw/polo": 1})
    expect_error(data_root, r"no readable images in the train split, e.g. \['polo'\]")


def test_malformed_split_folders(data_root: Path):
    write_tree(data_root / "a" / "val", {"vw/golf": 3})
    expect_error(data_root / "a", "no train/")
    write_tree(data_root / "b" / "train", {"vw/golf": 3})
    write_tree(data_root / "b" / "extra", {"vw/golf": 3})
    expect_error(data_root / "b", "beside other folders")
    write_tree(data_root / "c" / "train", {"vw/golf": 3})
    write_tree(data_root / "c" / "val", {"golf": 3})
    expect_error(data_root / "c", "different layouts")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("makes.csv", "c1,Ford\n", r"no make for classes \['c2'\]"),
        ("makes.csv", "c1,Ford\nc2\n", "line 2"),
        ("makes.json", "[1, 2]", "one object"),
        ("makes.json", "{oops", "not valid JSON"),
    ],
)
def test_malformed_make_mapping(data_root: Path, name: str, content: str, match: str):
    write_tree(data_root, {"c1": 3, "c2": 3})
    (data_root / name).write_text(content)
    assert str(data_root / name) in expect_error(data_root, match)


# --- seeded split property ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(3, 60), min_size=1, max_size=6),
    val=st.floats(0.01, 0.5),
    test=st.sampled_from([0.0, 0.05, 0.15, 0.4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_stratified_partitions_every_class(sizes: list[int], val: float, test: float, seed: int):
    paths = {f"class{k}": [f"/d/{k}/{i}.png" for i in range(n)] for k, n in enumerate(sizes)}
    fractions = {"val": val, "test": test} if test else {"val": val}
    out = split_stratified(paths, fractions, seed, "/d")
    assert out == split_stratified(paths, fractions, seed, "/d")
    assert set(out) == {"train", *fractions}
    for name, files in paths.items():
        parts = [out[split][name] for split in out]
        assert all(parts), "every split gets every class"
        assert sorted(p for part in parts for p in part) == sorted(files)
        assert abs(len(out["val"][name]) - round(len(files) * val)) <= max(1, len(fractions))
