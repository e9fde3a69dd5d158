"""The pieces of a training loop every recipe shares: the engine (model, optimizer, precision, schedule), mixed
precision, moving batches to the device, a bounded pass over a loader and one optimizer step.

A recipe's own loop module holds its step (forward + loss, returning ``{"loss", "output"}``) and its epoch
functions, built from these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader

from core.recipes.common.optim import LrSchedule


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Engine:
    """Everything a step needs, built once per run."""

    model: nn.Module  # what runs forward: raw_model, or torch.compile of it
    raw_model: nn.Module  # the parameters, for checkpoints (compile wraps the module)
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    schedule: LrSchedule
    device: torch.device
    amp_dtype: torch.dtype | None  # None: full precision
    channels_last: bool
    heartbeat: Callable[[], None] = lambda: None  # called every batch: tells watchers the loop is alive


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


def n_batches(loader: DataLoader, max_batches: int) -> int:
    """Batches one pass will take: all, or at most ``max_batches`` when it is > 0."""
    return min(len(loader), max_batches) if max_batches else len(loader)


def batches(loader: DataLoader, max_batches: int) -> Iterator[tuple[int, tuple]]:
    """``(i, batch)`` for the first :func:`n_batches` batches of ``loader``."""
    limit = n_batches(loader, max_batches)
    for i, batch in enumerate(loader):
        if i >= limit:
            return
        yield i, batch


def optimizer_step(engine: Engine, loss: torch.Tensor) -> None:
    """Backward and one optimizer step, through the gradient scaler (a no-op outside fp16)."""
    engine.optimizer.zero_grad(set_to_none=True)
    engine.scaler.scale(loss).backward()
    engine.scaler.step(engine.optimizer)
    engine.scaler.update()


def check_finite(loss: float) -> float:
    """``loss``, or TrainingDiverged when it is NaN or infinite."""
    if loss != loss or loss in (float("inf"), float("-inf")):
        raise TrainingDiverged(f"the loss is {loss}: training diverged; lower lr or use warmup_epochs")
    return loss
