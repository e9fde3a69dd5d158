"""The training loop of the classify recipe, nanoGPT-style: a step function, one epoch of training, evaluation.

The step (forward + loss) returns ``{"loss", "output"}``; the epoch functions own the optimizer calls and
collect the logits of every image on the device, so the host waits for the GPU once per epoch, not per step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader

from core.recipes.classify.losses import HierarchicalLoss
from core.recipes.classify.model import Classifier
from core.recipes.classify.optim import LrSchedule, set_lr


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Engine:
    """Everything a step needs, built once per run."""

    model: nn.Module  # what runs forward: raw_model, or torch.compile of it
    raw_model: Classifier  # the parameters, for checkpoints (compile wraps the module)
    criterion: HierarchicalLoss
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    schedule: LrSchedule
    device: torch.device
    amp_dtype: torch.dtype | None  # None: full precision
    channels_last: bool
    heartbeat: Callable[[], None] = lambda: None  # called every batch: tells watchers the loop is alive


@dataclass
class Outputs:
    """What one pass over a loader produced: mean loss and, per image, logits, labels and dataset indices."""

    loss: float
    logits: torch.Tensor  # (N, C) float32, CPU
    make_logits: torch.Tensor | None  # (N, M) float32, CPU; None for a single head
    labels: torch.Tensor  # (N,)
    indices: torch.Tensor  # (N,) positions in the loader's sample list
    seconds: float
    lr: float = 0.0  # learning rate of the last step (training only)

    @property
    def n_images(self) -> int:
        return int(self.labels.shape[0])


def autocast(engine: Engine) -> contextlib.AbstractContextManager:
    """Mixed precision for the forward pass, or nothing."""
    if engine.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=engine.device.type, dtype=engine.amp_dtype)


def to_device(engine: Engine, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to the device (asynchronously from pinned memory), channels-last when asked."""
    fmt = torch.channels_last if engine.channels_last else torch.contiguous_format
    images = images.to(engine.device, non_blocking=True, memory_format=fmt)
    return images, labels.to(engine.device, non_blocking=True)


def forward_step(engine: Engine, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Forward and loss of one batch: ``{"loss": scalar tensor, "output": {"logits", ["make_logits"]}}``."""
    with autocast(engine):
        output = engine.model(images)
    return {"loss": engine.criterion(output, labels), "output": output}


def n_batches(loader: DataLoader, max_batches: int) -> int:
    """Batches one pass will take: all, or at most ``max_batches`` when it is > 0."""
    return min(len(loader), max_batches) if max_batches else len(loader)


def _batches(loader: DataLoader, max_batches: int) -> Iterator[tuple[int, tuple]]:
    limit = n_batches(loader, max_batches)
    for i, batch in enumerate(loader):
        if i >= limit:
            return
        yield i, batch


class _Collector:
    """Gathers per-batch outputs on the device; one transfer to the CPU at the end."""

    def __init__(self) -> None:
        self.loss_sum: torch.Tensor | float = 0.0
        self.parts: dict[str, list[torch.Tensor]] = {"logits": [], "make_logits": [], "labels": [], "indices": []}

    def add(self, step: dict, labels: torch.Tensor, indices: torch.Tensor) -> None:
        self.loss_sum = self.loss_sum + step["loss"].detach().float() * labels.shape[0]
        self.parts["logits"].append(step["output"]["logits"].detach().float())
        if "make_logits" in step["output"]:
            self.parts["make_logits"].append(step["output"]["make_logits"].detach().float())
        self.parts["labels"].append(labels)
        self.parts["indices"].append(indices)

    def finish(self, started: float, lr: float = 0.0) -> Outputs:
        cat = {k: torch.cat(v).cpu() if v else None for k, v in self.parts.items()}
        n = cat["labels"].shape[0] if cat["labels"] is not None else 0
        loss = float(self.loss_sum) / n if n else float("nan")
        if n and not torch.isfinite(torch.tensor(loss)):
            raise TrainingDiverged(f"the loss is {loss}: training diverged; lower lr or use warmup_epochs")
        empty = torch.zeros(0, dtype=torch.long)
        return Outputs(
            loss=loss,
            logits=cat["logits"] if cat["logits"] is not None else torch.zeros(0, 1),
            make_logits=cat["make_logits"],
            labels=cat["labels"] if cat["labels"] is not None else empty,
            indices=cat["indices"] if cat["indices"] is not None else empty,
            seconds=time.perf_counter() - started,
            lr=lr,
        )


def train_one_epoch(engine: Engine, loader: DataLoader, epoch: int, max_batches: int = 0) -> Outputs:
    """One pass over the training loader (epoch is 1-based); the lr follows the schedule at every step."""
    engine.model.train()
    started, total, lr = time.perf_counter(), n_batches(loader, max_batches), 0.0
    seen = _Collector()
    for i, (images, labels, indices) in _batches(loader, max_batches):
        lr = engine.schedule.lr_at(epoch - 1 + i / total)
        set_lr(engine.optimizer, lr)
        images, labels = to_device(engine, images, labels)
        step = forward_step(engine, images, labels)
        engine.optimizer.zero_grad(set_to_none=True)
        engine.scaler.scale(step["loss"]).backward()
        engine.scaler.step(engine.optimizer)
        engine.scaler.update()
        seen.add(step, labels, indices)
        engine.heartbeat()
    return seen.finish(started, lr)


@torch.no_grad()
def evaluate(engine: Engine, loader: DataLoader, max_batches: int = 0) -> Outputs:
    """Loss and logits of every image of ``loader`` with the model in eval mode."""
    engine.model.eval()
    started = time.perf_counter()
    seen = _Collector()
    for _, (images, labels, indices) in _batches(loader, max_batches):
        images, labels = to_device(engine, images, labels)
        seen.add(forward_step(engine, images, labels), labels, indices)
        engine.heartbeat()
    return seen.finish(started)
