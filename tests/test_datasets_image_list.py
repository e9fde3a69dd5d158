"""Tests for ImageListDataset: RGB items, and images that fail to decode at load time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.datasets import DatasetError, ImageListDataset, Sample
from tests.test_datasets import noise_bytes, write_image


def test_image_list_dataset_returns_rgb_items(tmp_path: Path):
    grey = tmp_path / "grey.png"
    Image.new("L", (10, 8), 128).save(grey)
    ds = ImageListDataset([Sample(str(grey), 3)])
    image, label, index = ds[0]
    assert image.mode == "RGB" and image.size == (10, 8) and (label, index) == (3, 0)
    sized = ImageListDataset([Sample(str(grey), 3)], transform=lambda im: im.size)
    assert sized[0] == ((10, 8), 3, 0)
    assert len(sized) == 1


def test_image_list_dataset_skips_images_that_fail_to_decode(tmp_path: Path):
    good = [write_image(tmp_path / f"{i}.png") for i in range(2)]
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(noise_bytes("JPEG")[:900])  # header intact: opens, then fails to decode
    gone = tmp_path / "deleted.png"
    samples = [Sample(str(good[0]), 0), Sample(str(truncated), 1), Sample(str(gone), 2), Sample(str(good[1]), 3)]
    ds = ImageListDataset(samples)
    with pytest.warns(UserWarning, match="unreadable image"):
        image, label, index = ds[1]
    assert (label, index) == (3, 3) and image.mode == "RGB"  # the next decodable sample, with its own index
    assert ds.failed == 2 and ds.failed_paths == {str(truncated), str(gone)}
    assert ds[2][1:] == (3, 3) and ds.failed == 2  # known failures are not retried
    assert ds[0][1:] == (0, 0)


def test_image_list_dataset_works_in_a_dataloader(tmp_path: Path):
    files = [write_image(tmp_path / f"{i}.png", (i * 40, 0, 0)) for i in range(5)]
    (tmp_path / "1.png").write_bytes(b"")
    ds = ImageListDataset(
        [Sample(str(f), i) for i, f in enumerate(files)],
        transform=lambda im: torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1),  # (3, H, W)
    )
    with pytest.warns(UserWarning):
        batches = list(torch.utils.data.DataLoader(ds, batch_size=5))
    images, labels, indices = batches[0]
    assert images.shape == (5, 3, 16, 24)
    assert labels.tolist() == [0, 2, 2, 3, 4] and indices.tolist() == [0, 2, 2, 3, 4]


def test_image_list_dataset_with_nothing_decodable(tmp_path: Path):
    (tmp_path / "a.png").write_bytes(b"")
    ds = ImageListDataset([Sample(str(tmp_path / "a.png"), 0)])
    with pytest.warns(UserWarning), pytest.raises(DatasetError, match="could be decoded"):
        ds[0]
