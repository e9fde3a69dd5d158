"""The `imagefolder` dataset: class folders on disk, hierarchical (make/model) or flat (class + make rule).

Also holds the pieces the other loaders share: the cheap image check, the Stanford Cars make rule and
the seeded stratified split.
"""

from __future__ import annotations

import csv
import json
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from core.datasets.registry import (
    SPLITS,
    ClassificationData,
    DatasetEntry,
    DatasetError,
    Sample,
    SplitOptions,
    register_dataset,
)

# PIL format -> file extensions: the images the loaders read and the Predict page accepts.
IMAGE_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "BMP": (".bmp",), "WEBP": (".webp",)}
IMAGE_EXTENSIONS = tuple(ext for extensions in IMAGE_FORMATS.values() for ext in extensions)
# What PIL raises on a broken file (UnidentifiedImageError and "image file is truncated" are OSErrors).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
LAYOUT = (
    "root/<make>/<model>/*.jpg, root/<class>/*.jpg with makes.csv or makes.json (class,make) or "
    "Stanford Cars class names, or either of those inside root/{train,val,test}/"
)
SPLIT_ALIASES = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
# Stanford Cars makes of more than one word (the other 46 of its 49 makes are the first word).
MULTI_WORD_MAKES = ("AM General", "Aston Martin", "Land Rover", "Mercedes Benz", "Rolls Royce")
_JPEG_TAIL_BYTES = 1024  # room for padding some encoders write after the end marker

ClassKey = tuple[str | None, str]  # (make folder or None when flat, class folder)


def layout_error(path: Path | str, problem: str) -> DatasetError:
    """A DatasetError that names the path, the problem and the layout expected."""
    return DatasetError(f"{problem} (at {path}). Expected {LAYOUT} — pass data_root=PATH")


def is_readable_image(path: str | os.PathLike[str]) -> bool:
    """Cheap integrity check at scan time, without decoding pixels.

    Opens the header (rejects empty, non-image and unknown files), runs PIL's `verify` (checks PNG chunk
    CRCs through to IEND, so truncated PNGs fail) and, since `verify` does nothing for JPEG, looks for
    the JPEG end marker near the end of the file (truncated downloads lack it). Anything that passes
    this but still fails to decode is tolerated later by `ImageListDataset`.
    """
    try:
        with open(path, "rb") as f:
            with Image.open(f) as image:
                fmt = image.format
                image.verify()
            return fmt != "JPEG" or _has_jpeg_end_marker(f)
    except DECODE_ERRORS:
        return False


def _has_jpeg_end_marker(f: BinaryIO) -> bool:
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - _JPEG_TAIL_BYTES))
    return b"\xff\xd9" in f.read()


def make_from_class_name(name: str) -> str:
    """The make in a Stanford Cars class name: "Aston Martin V8 Vantage Convertible 2012" -> "Aston Martin".

    Multi-word makes (AM General, Aston Martin, Land Rover; also Mercedes Benz, Rolls Royce spelt with a
    space) are matched case-insensitively, with "_" read as a space; otherwise the make is the first word.
    """
    words = name.replace("_", " ").split()
    if not words:
        raise DatasetError(f"empty class name {name!r}: cannot take a make from it")
    for make in MULTI_WORD_MAKES:
        n = len(make.split())
        if [w.lower() for w in words[:n]] == make.lower().split():
            return " ".join(words[:n])
    return words[0]


def split_stratified(
    paths_by_class: dict[str, list[str]], fractions: dict[str, float], seed: int, where: Path | str
) -> dict[str, dict[str, list[str]]]:
    """Split each class's paths at random into `fractions` (e.g. {"val": .15, "test": .15}) and "train".

    Each class is shuffled by its own generator, seeded from `seed` and the class name, so a class keeps
    its split when other classes are added. Every split gets at least one image of every class.

    Returns:
        split name -> class name -> sorted paths.
    """
    out: dict[str, dict[str, list[str]]] = {"train": {}, **{s: {} for s in fractions}}
    for name, paths in paths_by_class.items():
        if len(paths) < 1 + len(fractions):
            raise layout_error(
                where,
                f"class {name!r} has {len(paths)} readable image(s); a random split into "
                f"{'/'.join(out)} needs at least {len(out)} per class: add images or lower the fractions",
            )
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        ordered = sorted(paths)
        shuffled = [ordered[i] for i in rng.permutation(len(ordered))]
        start = 0
        for i, (split, fraction) in enumerate(fractions.items()):
            reserve = len(fractions) - i  # one image for each later split and for train
            count = min(max(1, round(len(paths) * fraction)), len(paths) - start - reserve)
            out[split][name] = sorted(shuffled[start : start + count])
            start += count
        out["train"][name] = sorted(shuffled[start:])
    return out


def _list_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(sub-folders, image files) of `folder`, sorted, hidden entries left out."""
    dirs, images = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                dirs.append(Path(entry.path))
            elif entry.name.lower().endswith(IMAGE_EXTENSIONS):
                images.append(Path(entry.path))
    return sorted(dirs), sorted(images)


def scan_class_folders(split_dir: Path) -> tuple[dict[ClassKey, list[Path]], bool]:
    """The image files of each class folder under `split_dir`, and whether the layout is hierarchical.

    Hierarchical: every top folder holds only folders (make/model). Flat: every top folder holds images.
    """
    top, loose = _list_folder(split_dir)
    if not top:
        found = f"{len(loose)} image(s) but no class folders" if loose else "no class folders"
        raise layout_error(split_dir, f"found {found}")
    listed = {d: _list_folder(d) for d in top}
    with_dirs = [d.name for d, (sub, _) in listed.items() if sub]
    with_images = [d.name for d, (_, imgs) in listed.items() if imgs]
    if with_dirs and with_images:
        raise layout_error(
            split_dir,
            f"mixed layout: {with_dirs[0]!r} holds folders (make/model) but {with_images[0]!r} holds images "
            "(flat); use one layout throughout",
        )
    if not with_dirs:
        return {(None, d.name): imgs for d, (_, imgs) in listed.items()}, False
    classes: dict[ClassKey, list[Path]] = {}
    for make_dir, (model_dirs, _) in listed.items():
        if not model_dirs:
            raise layout_error(make_dir, f"make folder {make_dir.name!r} has no model folders")
        for model_dir in model_dirs:
            classes[(make_dir.name, model_dir.name)] = _list_folder(model_dir)[1]
    return classes, True


def read_make_mapping(root: Path) -> tuple[Path, dict[str, str]] | None:
    """(file, class -> make) from root/makes.csv (rows `class,make`, optional header) or root/makes.json."""
    csv_path, json_path = root / "makes.csv", root / "makes.json"
    if csv_path.is_file():
        mapping = {}
        with open(csv_path, newline="", encoding="utf-8") as f:
            for line_no, row in enumerate(csv.reader(f), start=1):
                if not row or (line_no == 1 and [c.strip().lower() for c in row] == ["class", "make"]):
                    continue
                if len(row) != 2 or not row[0].strip() or not row[1].strip():
                    raise layout_error(csv_path, f"line {line_no} is {row!r}; each row must be `class,make`")
                mapping[row[0].strip()] = row[1].strip()
        return csv_path, mapping
    if json_path.is_file():
        try:
            mapping = json.loads(json_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise layout_error(json_path, f"not valid JSON ({exc})") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise layout_error(json_path, 'makes.json must be one object {"<class>": "<make>", ...}')
        return json_path, mapping
    return None


def _find_split_dirs(root: Path) -> dict[str, Path] | None:
    """split -> folder when `root` holds train/ (and maybe val/, test/); None when it has no split folders."""
    dirs = {d.name: d for d in _list_folder(root)[0]}
    found = {s: dirs[a] for s, aliases in SPLIT_ALIASES.items() for a in aliases if a in dirs}
    if not found:
        return None
    if "train" not in found:
        raise layout_error(root, f"found {', '.join(d.name + '/' for d in found.values())} but no train/")
    others = sorted(set(dirs) - {d.name for d in found.values()})
    if others:
        raise layout_error(root, f"split folders sit beside other folders {others}; move those into train/")
    return found


def _scan_readable(split_dir: Path) -> tuple[dict[ClassKey, list[str]], bool, int]:
    """Like `scan_class_folders`, keeping only images that pass `is_readable_image`; also the count skipped."""
    classes, hierarchical = scan_class_folders(split_dir)
    readable: dict[ClassKey, list[str]] = {}
    skipped = 0
    for key, files in classes.items():
        readable[key] = [str(f) for f in files if is_readable_image(f)]
        skipped += len(files) - len(readable[key])
    return readable, hierarchical, skipped


def _name_classes(keys: set[ClassKey], hierarchical: bool, root: Path) -> dict[ClassKey, tuple[str, str]]:
    """(class name, make) of each folder key. Hierarchical model names shared by two makes become make/model."""
    if hierarchical:
        models = [model for _, model in keys]
        return {
            (make, model): (model if models.count(model) == 1 else f"{make}/{model}", str(make)) for make, model in keys
        }
    found = read_make_mapping(root)
    if found is None:
        return {key: (key[1], make_from_class_name(key[1])) for key in keys}
    path, mapping = found
    missing = sorted(name for _, name in keys if name not in mapping)
    if missing:
        raise layout_error(path, f"{path.name} has no make for classes {missing[:5]}; add them as `class,make`")
    return {key: (key[1], mapping[key[1]]) for key in keys}


def assemble_data(
    root: Path,
    classes: list[str],
    class_makes: list[str],
    split_paths: dict[str, dict[str, list[str]]],
    skipped: int,
    split_dirs: dict[str, Path],
) -> ClassificationData:
    """Build a `ClassificationData`, checking that every class has images in every split.

    Args:
        classes: class names in label order; `class_makes` gives the make of each.
        split_paths: split -> class name -> image paths.
        split_dirs: split -> folder to name in errors.
    """
    order = [s for s in SPLITS if s in split_paths]
    for split in order:
        empty = [c for c in classes if not split_paths[split].get(c)]
        if empty:
            raise layout_error(
                split_dirs.get(split, root),
                f"{len(empty)} class(es) have no readable images in the {split} split, e.g. {empty[:5]}",
            )
    makes = sorted(set(class_makes))
    splits = {
        split: [Sample(path, label) for label, c in enumerate(classes) for path in split_paths[split][c]]
        for split in order
    }
    return ClassificationData(
        name="",
        root=str(root),
        classes=classes,
        makes=makes,
        class_to_make=[makes.index(m) for m in class_makes],
        splits=splits,
        skipped=skipped,
    )


def resolve_root(root: str | os.PathLike[str] | None) -> Path:
    """`root` as an absolute path to an existing folder, else a DatasetError naming it."""
    if not root:
        raise layout_error("(none)", "no data_root given")
    path = Path(root).expanduser().resolve()
    if not path.exists():
        raise layout_error(path, f"data_root {path} does not exist")
    if not path.is_dir():
        raise layout_error(path, f"data_root {path} is a file, not a folder")
    return path


def load_image_folder(root: str | os.PathLike[str] | None, options: SplitOptions) -> ClassificationData:
    """Read an image-folder dataset (layouts in `LAYOUT`); `options.data_dir` is unused.

    With train/ (val/, test/) folders those are the splits and a missing val/ is carved from train/
    with `options.seed`; without split folders each class is split at random into train/val/test.
    """
    root_path = resolve_root(root)
    split_dirs = _find_split_dirs(root_path) or {"all": root_path}
    scans = {split: _scan_readable(folder) for split, folder in split_dirs.items()}
    if len({hierarchical for _, hierarchical, _ in scans.values()}) > 1:
        raise layout_error(root_path, "split folders use different layouts (make/model in one, flat in another)")
    hierarchical = next(iter(scans.values()))[1]
    keys = {key for found, _, _ in scans.values() for key in found}
    names = _name_classes(keys, hierarchical, root_path)
    split_paths: dict[str, dict[str, list[str]]] = {
        split: {names[key][0]: paths for key, paths in found.items()} for split, (found, _, _) in scans.items()
    }
    val, test, seed = options.val_fraction, options.test_fraction, options.seed
    if "all" in split_paths:
        fractions = {"val": val, "test": test} if test > 0 else {"val": val}
        split_paths = split_stratified(split_paths.pop("all"), fractions, seed, root_path)
    elif "val" not in split_paths:
        carved = split_stratified(split_paths.pop("train"), {"val": val}, seed, split_dirs["train"])
        split_paths.update(carved)
    ordered = sorted(names.values(), key=lambda pair: (pair[1], pair[0]))
    return assemble_data(
        root_path,
        [name for name, _ in ordered],
        [make for _, make in ordered],
        split_paths,
        sum(skipped for _, _, skipped in scans.values()),
        split_dirs,
    )


register_dataset(
    DatasetEntry(
        name="imagefolder",
        description=f"Image folders: {LAYOUT}",
        needs_root=True,
        loader=load_image_folder,
    )
)
