"""The training loop of the classify recipe, nanoGPT-style: a step function, one epoch of training, evaluation.

The step (forward + loss) returns ``{"loss", "output"}``; the epoch functions own the optimizer calls and
collect the logits of every image on the device, so the host waits for the GPU once per epoch, not per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from core.recipes.common.loop import Engine, autocast, batches, check_finite, n_batches, optimizer_step, to_device
from core.recipes.common.optim import set_lr

__all__ = ["Engine", "Outputs", "evaluate", "forward_step", "train_one_epoch"]


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


def forward_step(engine: Engine, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Forward and loss of one batch: ``{"loss": scalar tensor, "output": {"logits", ["make_logits"]}}``."""
    with autocast(engine):
        output = engine.model(images)
    return {"loss": engine.criterion(output, labels), "output": output}


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
        if n:
            check_finite(loss)
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
    for i, (images, labels, indices) in batches(loader, max_batches):
        lr = engine.schedule.lr_at(epoch - 1 + i / total)
        set_lr(engine.optimizer, lr)
        images, labels = to_device(engine, images, labels)
        step = forward_step(engine, images, labels)
        optimizer_step(engine, step["loss"])
        seen.add(step, labels, indices)
        engine.heartbeat()
    return seen.finish(started, lr)


@torch.no_grad()
def evaluate(engine: Engine, loader: DataLoader, max_batches: int = 0) -> Outputs:
    """Loss and logits of every image of ``loader`` with the model in eval mode."""
    engine.model.eval()
    started = time.perf_counter()
    seen = _Collector()
    for _, (images, labels, indices) in batches(loader, max_batches):
        images, labels = to_device(engine, images, labels)
        seen.add(forward_step(engine, images, labels), labels, indices)
        engine.heartbeat()
    return seen.finish(started)
