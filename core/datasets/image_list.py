"""A torch Dataset over a list of `Sample`s that survives images which fail to decode."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from PIL import Image

from core.datasets.image_folder import DECODE_ERRORS
from core.datasets.registry import DatasetError, Sample


class ImageListDataset(torch.utils.data.Dataset):
    """Images as RGB, passed through `transform`; items are `(image, label, index)`.

    The scan already drops files that fail a cheap check, but some break only when decoded (a JPEG
    truncated mid-stream, a file changed on disk). Such a sample does not crash training: the next
    decodable sample (wrapping around) is returned instead, with its own label and index, so `index`
    always names the image actually returned. Each failure is warned about once and counted in
    `self.failed`, and the path is remembered in `self.failed_paths` so it is not retried. With
    DataLoader workers each worker process keeps its own copy of these counters.

    Args:
        samples: the images and labels, e.g. `ClassificationData.splits["train"]`.
        transform: applied to the PIL image; None returns the PIL image itself.
    """

    def __init__(self, samples: Sequence[Sample], transform: Callable[[Image.Image], Any] | None = None):
        self.samples = list(samples)
        self.transform = transform
        self.failed = 0
        self.failed_paths: set[str] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int, int]:
        for offset in range(len(self.samples)):
            i = (index + offset) % len(self.samples)
            image = self._load(self.samples[i].path)
            if image is not None:
                out = self.transform(image) if self.transform is not None else image
                return out, self.samples[i].label, i
        if not self.samples:
            raise IndexError(f"index {index} of an empty ImageListDataset")
        raise DatasetError(f"none of the {len(self.samples)} images could be decoded, e.g. {self.samples[0].path}")

    def _load(self, path: str) -> Image.Image | None:
        """The image as RGB, or None (counted and warned about) when it cannot be decoded."""
        if path in self.failed_paths:
            return None
        try:
            with Image.open(path) as image:
                return image.convert("RGB")  # convert() decodes fully, so a truncated file fails here
        except DECODE_ERRORS as exc:
            self.failed += 1
            self.failed_paths.add(path)
            warnings.warn(f"skipping unreadable image {path}: {exc}", stacklevel=2)
            return None
