"""Data pieces every recipe shares: preprocessing resolved from the timm model, the augmentation presets
(torchvision.transforms.v2), the evaluation loader and per-epoch seeding.

Normalisation and interpolation come from the timm model's data config, never hard-coded. Shuffling and
augmentation are seeded per epoch (``seed``, ``epoch``), so a resumed run sees the same batches as an
uninterrupted one without saving RNG states.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import timm.data
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from core.datasets import ImageListDataset, Sample
from core.recipes.common.choices import AUGMENT_PRESETS

LIGHT_RATIO = (0.85, 1.18)  # crop aspect range of the light preset (torchvision's default 3/4..4/3 distorts shapes)


def model_data_config(backbone: nn.Module) -> dict:
    """timm's preprocessing for ``backbone``: mean, std and interpolation (input size is ours)."""
    return timm.data.resolve_model_data_config(backbone)


def build_transform(preset: str, image_size: int, data_config: dict, *, train: bool) -> v2.Compose:
    """The image pipeline: PIL image -> normalised float tensor (3, image_size, image_size).

    Args:
        preset: none (resize only), light (resized crop, flip, mild colour jitter) or strong (wider crops,
            flip, TrivialAugmentWide, random erasing). Evaluation always uses none.
        data_config: from :func:`model_data_config`.
        train: False gives the evaluation pipeline whatever the preset.
    """
    if preset not in AUGMENT_PRESETS:
        raise ValueError(f"augment={preset!r} is not a preset; choose one of {', '.join(AUGMENT_PRESETS)}")
    interpolation = v2.InterpolationMode(data_config.get("interpolation", "bilinear"))
    size = (image_size, image_size)
    # the augmentations run on the PIL image: PIL's colour ops are several times faster than on uint8 tensors
    tail: list[nn.Module] = [
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=list(data_config["mean"]), std=list(data_config["std"])),
    ]
    if not train or preset == "none":
        return v2.Compose([v2.Resize(size, interpolation=interpolation, antialias=True), *tail])
    if preset == "light":
        augment = [  # a narrow aspect range: body proportions are what tells makes apart
            v2.RandomResizedCrop(
                size, scale=(0.6, 1.0), ratio=LIGHT_RATIO, interpolation=interpolation, antialias=True
            ),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        ]
        return v2.Compose([*augment, *tail])
    augment = [
        v2.RandomResizedCrop(size, scale=(0.3, 1.0), interpolation=interpolation, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.TrivialAugmentWide(interpolation=v2.InterpolationMode.BILINEAR),  # bicubic is PIL-only there
        v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.02),
    ]
    return v2.Compose([*augment, *tail, v2.RandomErasing(p=0.25, value=0)])


def build_eval_loader(
    samples: Sequence[Sample], transform: v2.Compose, *, batch_size: int, num_workers: int, pin_memory: bool
) -> DataLoader:
    """Batches of ``(images, labels, indices)`` in sample order."""
    return DataLoader(
        ImageListDataset(samples, transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=pin_memory,
    )


def seed_epoch(loader: DataLoader, seed: int, epoch: int) -> None:
    """Make epoch ``epoch``'s order and augmentation a function of (seed, epoch) alone."""
    loader.generator.manual_seed(seed * 1_000_003 + epoch)
    torch.manual_seed(seed * 1_000_033 + epoch)  # augmentation and dropout in this process
    np.random.seed((seed * 1_000_037 + epoch) % 2**32)  # samplers that draw from numpy's global generator
