"""Writing a built-in, generated image set: into a temporary sibling folder, then renamed into place, so a set
is either complete (its manifest written last) or absent; and finding or generating it on first use
(``GeneratedSet``: where it lives, and its loader for the dataset registry)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from core.datasets.image_folder import load_image_folder
from core.datasets.registry import ClassificationData, DatasetError, SplitOptions, default_data_dir

MANIFEST = "manifest.json"


def write_image_set(
    out_dir: str | os.PathLike[str],
    images: Iterable[tuple[str, Image.Image]],
    manifest: dict[str, Any],
    overwrite: bool,
) -> Path:
    """Write ``images`` (relative path, image) as PNGs and ``manifest`` under ``out_dir``, atomically.

    Raises:
        FileExistsError: ``out_dir`` exists and ``overwrite`` is False.
    """
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; pass overwrite=True or delete it to regenerate")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        for relative, image in images:
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path, format="PNG")
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _publish(tmp, out, overwrite)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    """Rename `tmp` to `out`. If another process published `out` meanwhile, keep theirs (same seed, same set)."""
    if overwrite and out.exists():
        shutil.rmtree(out)
    try:
        os.rename(tmp, out)
    except OSError:
        if not (out / MANIFEST).is_file():
            raise


def ensure_at(folder: Path, generator: str, generate: Callable[[Path], Path]) -> Path:
    """``folder`` when it holds a complete set (its manifest), else ``generate(folder)`` when it is absent.

    Raises:
        DatasetError: ``folder`` exists without a manifest (an interrupted or foreign folder).
    """
    if (folder / MANIFEST).is_file():
        return folder
    if folder.exists():
        raise DatasetError(
            f"{folder} exists but has no {MANIFEST}, so it is not a complete {generator} set; delete it to regenerate"
        )
    return generate(folder)


@dataclass(frozen=True)
class GeneratedSet:
    """A built-in set drawn by code (``generate(folder)`` writes it), generated on first use and read as an image
    folder. It ships its own train/val/test folders, so a run's seed and split fractions do not change it."""

    name: str  # the dataset's name, as registered
    folder_name: str  # its folder under the data folder (with the drawing's version: a new drawing, a new folder)
    generate: Callable[[Path], Path]

    def ensure(self, data_dir: str | os.PathLike[str] | None = None) -> Path:
        """The set's folder under ``data_dir`` (default ``default_data_dir()``), generated if missing."""
        return self.ensure_at(Path(data_dir or default_data_dir()).expanduser().resolve() / self.folder_name)

    def ensure_at(self, folder: Path) -> Path:
        return ensure_at(folder, self.name, self.generate)

    def load(self, root: str | os.PathLike[str] | None, options: SplitOptions) -> ClassificationData:
        """The registry's loader: the set at ``root`` if given (generated there if missing), else under
        ``options.data_dir``."""
        folder = self.ensure_at(Path(root).expanduser().resolve()) if root else self.ensure(options.data_dir)
        return load_image_folder(folder, options)


def split_counts(totals: Iterable[int], fractions: dict[str, float], minimum: int = 1) -> list[dict[str, int]]:
    """Images per split of each class from its total: ``fractions`` of it (at least ``minimum``) in each
    named split, the rest (at least one) in train."""
    counts = []
    for total in totals:
        split = {s: max(minimum, round(int(total) * fraction)) for s, fraction in fractions.items()}
        counts.append({"train": max(1, int(total) - sum(split.values())), **split})
    return counts
