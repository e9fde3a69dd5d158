"""The csv-manifest loader: `path,label[,split]` rows, relative paths, seeded splits, skipped images counted,
and one clear error naming the file and the layout for each way a manifest can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.datasets import DatasetError, load_dataset


def write_images(folder: Path, labels: dict[str, int]) -> list[tuple[str, str]]:
    """``n`` small PNGs per label under folder/<label>/; (path relative to folder, label) pairs."""
    rows = []
    for k, (label, n) in enumerate(labels.items()):
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", (8, 8), (20 * k, 10 * i, 90)).save(folder / label / f"{i}.png")
            rows.append((f"{label}/{i}.png", label))
    return rows


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rows_without_split_are_split_at_random_per_label(tmp_path: Path) -> None:
    rows = write_images(tmp_path, {"jaguar A": 6, "jaguar B": 5})
    csv = write_csv(tmp_path / "train.csv", ["path,label", *[f"{p},{label}" for p, label in rows]])
    data = load_dataset("csv-manifest", str(csv), seed=3)
    assert data.name == "csv-manifest" and data.classes == ["jaguar A", "jaguar B"] and data.makes == data.classes
    assert set(data.splits) == {"train", "val", "test"} and data.skipped == 0
    assert sum(len(s) for s in data.splits.values()) == 11
    for samples in data.splits.values():
        assert {s.label for s in samples} == {0, 1} and all(Path(s.path).is_absolute() for s in samples)
    again = load_dataset("csv-manifest", str(csv), seed=3)
    assert again.splits == data.splits


def test_a_split_column_is_used_and_a_label_may_miss_a_split(tmp_path: Path) -> None:
    rows = write_images(tmp_path / "img", {"a": 3, "b": 3, "c": 2})
    lines = [f"img/{p},{label},{'test' if label == 'c' else ('validation' if p.endswith('0.png') else 'train')}"
             for p, label in rows]  # fmt: skip
    write_csv(tmp_path / "manifest.csv", lines)
    data = load_dataset("csv-manifest", str(tmp_path))  # a folder: its manifest.csv
    assert {s.label for s in data.splits["test"]} == {2} and {s.label for s in data.splits["train"]} == {0, 1}
    assert len(data.splits["val"]) == 2


def test_unreadable_and_missing_images_are_skipped_and_counted(tmp_path: Path) -> None:
    rows = write_images(tmp_path, {"a": 4, "b": 4})
    (tmp_path / "a" / "0.png").write_bytes(b"not a png")
    lines = [f"{p},{label}" for p, label in rows] + ["a/missing.png,a"]
    data = load_dataset("csv-manifest", str(write_csv(tmp_path / "m.csv", lines)))
    assert data.skipped == 2 and sum(len(s) for s in data.splits.values()) == 7


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([], "lists no images"),
        (["a/0.png"], "line 1 .* must be path,label"),
        (["a/0.png,a,train,extra"], "line 1"),
        (["a/0.png,a,holdout"], "split 'holdout'"),
        (["a/0.png,a,train", "a/1.png,a"], "on every row or on none"),
        (["a/0.png,a,val", "a/1.png,a,test"], "no row is in the train split"),
        (["a/0.png,a", "a/1.png,a"], "fewer than 3 readable images"),
        (["nothing/here.png,a"], "none of the 1 images"),
    ],
)
def test_malformed_manifests_name_the_file_and_the_layout(tmp_path: Path, lines: list[str], words: str) -> None:
    write_images(tmp_path, {"a": 2})
    csv = write_csv(tmp_path / "bad.csv", lines)
    with pytest.raises(DatasetError, match=words) as info:
        load_dataset("csv-manifest", str(csv))
    assert str(csv) in str(info.value) and "path,label[,split]" not in words and "rows path,label" in str(info.value)


def test_a_missing_manifest_or_root_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("csv-manifest", str(tmp_path / "nope.csv"))
    with pytest.raises(DatasetError, match=r"manifest\.csv"):
        load_dataset("csv-manifest", str(tmp_path))
    with pytest.raises(DatasetError, match="needs a folder"):
        load_dataset("csv-manifest")
