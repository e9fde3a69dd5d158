"""The reid training loader: shuffled batches, or identity-balanced ones (pml's MPerClassSampler: a few
identities per batch, ``images_per_identity`` images each) when the loss needs positives in every batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pytorch_metric_learning.samplers import MPerClassSampler
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from core.datasets import DatasetError, ImageListDataset, Sample


def check_sampler(samples: Sequence[Sample], images_per_identity: int, batch_size: int, where: str) -> None:
    """Identity-balanced batches need enough identities to fill a batch; a DatasetError says what to change."""
    identities = len({s.label for s in samples})
    if identities * images_per_identity < batch_size:
        raise DatasetError(
            f"the train split of {where} has {identities} identities: {images_per_identity} images of each fill "
            f"{identities * images_per_identity} places, fewer than batch_size={batch_size}; lower batch_size "
            "or raise images_per_identity"
        )


def build_train_loader(samples: Sequence[Sample], transform: v2.Compose, *, batch_size: int, num_workers: int,
                       images_per_identity: int | None, pin_memory: bool) -> DataLoader:  # fmt: skip
    """Training batches of ``(images, labels, indices)``, about one pass over ``samples`` per epoch.

    With ``images_per_identity`` the batches are identity-balanced (the sampler draws from NumPy's global
    generator, which ``seed_epoch`` seeds); otherwise shuffled by ``loader.generator``. The last partial
    batch is dropped when there is more than one batch (a batch of one breaks batch norm in training mode).
    """
    sampler = None
    if images_per_identity:
        sampler = MPerClassSampler([s.label for s in samples], m=images_per_identity, batch_size=batch_size,
                                   length_before_new_iter=max(len(samples), batch_size))  # fmt: skip
    return DataLoader(
        ImageListDataset(samples, transform), batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
        num_workers=num_workers, pin_memory=pin_memory, drop_last=len(samples) > batch_size,
        generator=torch.Generator(), persistent_workers=False,
    )  # fmt: skip
