"""The `csv-manifest` dataset: a CSV of `path,label[,split]` rows, as re-ID competition data ships it.

Paths are relative to the CSV file (absolute ones are taken as they are); the label is the class, for re-ID
the individual; the optional split is train, val or test. Without a split column each label is split at
random (seeded) into train/val/test; with one, a missing val split is carved from train. Unlike the image
folders, a label need not appear in every split: re-ID data often keeps its test individuals out of training.
Each label is its own make (a manifest has no hierarchy). Unreadable or missing images are skipped and
counted.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from core.datasets.image_folder import SPLIT_ALIASES, is_readable_image, split_stratified
from core.datasets.registry import (
    SPLITS,
    ClassificationData,
    DatasetEntry,
    DatasetError,
    Sample,
    SplitOptions,
    register_dataset,
)

LAYOUT = (
    "a CSV file (or a folder holding manifest.csv) with rows path,label or path,label,split: an optional "
    "header row, paths relative to the CSV file, split one of train, val, test"
)
DEFAULT_NAME = "manifest.csv"
_SPLIT_OF = {alias: split for split, aliases in SPLIT_ALIASES.items() for alias in aliases}
Row = tuple[str, str, str | None]  # (absolute path, label, split or None)


def manifest_error(path: Path | str, problem: str) -> DatasetError:
    """A DatasetError that names the path, the problem and the layout expected."""
    return DatasetError(f"{problem} (at {path}). Expected {LAYOUT} — pass data_root=PATH")


def find_manifest(root: str | os.PathLike[str] | None) -> Path:
    """The CSV file: `root` itself, or `root/manifest.csv` when `root` is a folder."""
    if not root:
        raise manifest_error("(none)", "no data_root given")
    path = Path(root).expanduser().resolve()
    if path.is_dir():
        path = path / DEFAULT_NAME
    if not path.is_file():
        raise manifest_error(path, f"{path} does not exist")
    return path


def _is_header(row: list[str]) -> bool:
    return [c.strip().lower() for c in row[:2]] == ["path", "label"]


def read_rows(csv_path: Path) -> list[Row]:
    """The rows of the manifest, paths made absolute; one error naming the line for any malformed row."""
    rows: list[Row] = []
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            lines = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise manifest_error(csv_path, f"cannot read the CSV ({exc})") from None
    for line_no, row in enumerate(lines, start=1):
        if not row or (line_no == 1 and _is_header(row)):
            continue
        cells = [c.strip() for c in row]
        if len(cells) not in (2, 3) or not cells[0] or not cells[1]:
            raise manifest_error(csv_path, f"line {line_no} is {row!r}; each row must be path,label[,split]")
        split = None
        if len(cells) == 3:
            split = _SPLIT_OF.get(cells[2].lower())
            if split is None:
                raise manifest_error(csv_path, f"line {line_no} has split {cells[2]!r}; use train, val or test")
        rows.append((str((csv_path.parent / cells[0]).resolve()), cells[1], split))
    if not rows:
        raise manifest_error(csv_path, "the manifest lists no images")
    if len({split is None for _, _, split in rows}) > 1:
        raise manifest_error(csv_path, "some rows have a split and others do not; give it on every row or on none")
    return rows


def _random_split(
    by_label: dict[str, list[str]], fractions: dict[str, float], seed: int, csv_path: Path
) -> dict[str, dict[str, list[str]]]:
    """`split_stratified`, after checking that every label has an image for each split."""
    needed = 1 + len(fractions)
    short = sorted(label for label, paths in by_label.items() if len(paths) < needed)
    if short:
        raise manifest_error(
            csv_path,
            f"{len(short)} label(s) have fewer than {needed} readable images, e.g. {short[:5]}, too few to split "
            f"into {'/'.join(['train', *fractions])}: add a split column, add images, or lower the fractions",
        )
    return split_stratified(by_label, fractions, seed, csv_path)


def load_csv_manifest(root: str | os.PathLike[str] | None, options: SplitOptions) -> ClassificationData:
    """Read the manifest at `root` (see LAYOUT); `options.data_dir` is unused."""
    csv_path = find_manifest(root)
    rows = read_rows(csv_path)
    readable = [(path, label, split) for path, label, split in rows if is_readable_image(path)]
    if not readable:
        raise manifest_error(csv_path, f"none of the {len(rows)} images it lists can be read, e.g. {rows[0][0]}")
    split_paths: dict[str, dict[str, list[str]]] = {}
    for path, label, split in readable:
        split_paths.setdefault(split or "all", {}).setdefault(label, []).append(path)
    fractions = {"val": options.val_fraction, "test": options.test_fraction}
    if "all" in split_paths:
        split_paths = _random_split(split_paths["all"], {k: v for k, v in fractions.items() if v > 0}, options.seed,
                                    csv_path)  # fmt: skip
    elif "val" not in split_paths and "train" in split_paths:
        split_paths |= _random_split(split_paths.pop("train"), {"val": options.val_fraction}, options.seed, csv_path)
    if "train" not in split_paths:
        raise manifest_error(csv_path, "no row is in the train split; mark the training images train")
    classes = sorted({label for _, label, _ in readable})
    label_of = {label: i for i, label in enumerate(classes)}
    splits = {
        split: [Sample(p, label_of[label]) for label in sorted(split_paths[split]) for p in split_paths[split][label]]
        for split in SPLITS
        if split in split_paths
    }
    return ClassificationData(
        name="", root=str(csv_path), classes=classes, makes=classes, class_to_make=list(range(len(classes))),
        splits=splits, skipped=len(rows) - len(readable),
    )  # fmt: skip


register_dataset(
    DatasetEntry(
        name="csv-manifest",
        description=f"A re-ID manifest on disk: {LAYOUT}",
        needs_root=True,
        loader=load_csv_manifest,
    )
)
