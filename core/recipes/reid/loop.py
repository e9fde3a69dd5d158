"""The training loop of the reid recipe, nanoGPT-style: a step function, one epoch of training, and a pass
that embeds every image of a split (and, for flip TTA, its mirror image).

The step (forward + loss) returns ``{"loss", "output"}`` with the embeddings as output; the epoch functions
keep per-batch results on the device, so the host waits for the GPU once per epoch, not per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from core.recipes.common.loop import Engine, autocast, batches, check_finite, n_batches, optimizer_step, to_device
from core.recipes.common.optim import set_lr


@dataclass
class EpochStats:
    """What a training epoch produced: its mean loss, the last learning rate, images seen and time taken."""

    loss: float
    lr: float
    n_images: int
    seconds: float


@dataclass
class Embedded:
    """The L2-normalised embeddings of a split's images (CPU, float32), in loader order."""

    embeddings: torch.Tensor  # (N, D)
    flipped: torch.Tensor | None  # (N, D) of the mirror images, when asked for
    labels: torch.Tensor  # (N,) identity of each image
    indices: torch.Tensor  # (N,) positions in the loader's sample list
    seconds: float

    @property
    def n_images(self) -> int:
        return int(self.labels.shape[0])


def forward_step(engine: Engine, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Forward and loss of one batch: ``{"loss": scalar tensor, "output": (B, D) embeddings}``."""
    with autocast(engine):
        embeddings = engine.model(images)
    return {"loss": engine.criterion(embeddings, labels), "output": embeddings}


def train_one_epoch(engine: Engine, loader: DataLoader, epoch: int, max_batches: int = 0) -> EpochStats:
    """One pass over the training loader (epoch is 1-based); the lr follows the schedule at every step."""
    engine.model.train()
    engine.criterion.train()
    started, total, lr = time.perf_counter(), n_batches(loader, max_batches), 0.0
    loss_sum, n = torch.zeros((), device=engine.device), 0
    for i, (images, labels, _) in batches(loader, max_batches):
        lr = engine.schedule.lr_at(epoch - 1 + i / total)
        set_lr(engine.optimizer, lr)
        images, labels = to_device(engine, images, labels)
        step = forward_step(engine, images, labels)
        optimizer_step(engine, step["loss"])
        loss_sum += step["loss"].detach().float() * len(labels)
        n += len(labels)
        engine.heartbeat()
    loss = check_finite(float(loss_sum) / n) if n else float("nan")
    return EpochStats(loss, lr, n, time.perf_counter() - started)


@torch.no_grad()
def embed(engine: Engine, loader: DataLoader, max_batches: int = 0, *, flip: bool = False) -> Embedded:
    """The normalised embedding of every image of ``loader`` in eval mode (and of its mirror image)."""
    engine.model.eval()
    started = time.perf_counter()
    parts: dict[str, list[torch.Tensor]] = {"embeddings": [], "flipped": [], "labels": [], "indices": []}
    for _, (images, labels, indices) in batches(loader, max_batches):
        images, labels = to_device(engine, images, labels)
        with autocast(engine):
            parts["embeddings"].append(F.normalize(engine.model(images).float(), dim=1))
            if flip:
                parts["flipped"].append(F.normalize(engine.model(images.flip(-1)).float(), dim=1))
        parts["labels"].append(labels)
        parts["indices"].append(indices)
        engine.heartbeat()
    cat = {k: torch.cat(v).cpu() if v else None for k, v in parts.items()}
    if cat["labels"] is None:
        raise ValueError("no images to embed: the split is empty")
    return Embedded(cat["embeddings"], cat["flipped"], cat["labels"], cat["indices"], time.perf_counter() - started)
