"""Data for the classify recipe: class balancing (weighted loss or weighted sampler) and the training loader.

The augmentation presets, the evaluation loader and per-epoch seeding are shared with other recipes
(``core.recipes.common.data``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
from torchvision.transforms import v2

from core.datasets import ImageListDataset, Sample
from core.recipes.common.losses import inverse_frequency_weights

__all__ = ["build_train_loader", "class_counts", "inverse_frequency_weights"]


def class_counts(samples: Sequence[Sample], n_classes: int) -> torch.Tensor:
    """(C,) number of samples of each class."""
    labels = torch.tensor([s.label for s in samples], dtype=torch.long)
    return torch.bincount(labels, minlength=n_classes)


def build_train_loader(
    samples: Sequence[Sample],
    transform: v2.Compose,
    *,
    n_classes: int,
    batch_size: int,
    num_workers: int,
    balance_sampler: bool,
    pin_memory: bool,
) -> DataLoader:
    """Shuffled (or class-balanced) training batches of ``(images, labels, indices)``.

    Reseed ``loader.generator`` with :func:`seed_epoch` before each epoch. The last partial batch is
    dropped when there is more than one batch (a batch of one breaks batch norm in training mode).
    """
    generator = torch.Generator()
    dataset = ImageListDataset(samples, transform)
    sampler = None
    if balance_sampler:
        per_class = inverse_frequency_weights(class_counts(samples, n_classes))
        weights = per_class[torch.tensor([s.label for s in samples], dtype=torch.long)].double()
        sampler = WeightedRandomSampler(weights, num_samples=len(samples), replacement=True, generator=generator)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        drop_last=len(samples) > batch_size,
        generator=generator,
        persistent_workers=False,  # fresh workers per epoch take their seeds from the reseeded generator
    )
