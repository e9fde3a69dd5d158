"""Optimizers (through timm's factory) and the learning-rate schedule, a pure function of training progress.

As in nanoGPT's ``get_lr``, the learning rate is computed for each step from the fractional epoch and set
on the optimizer, so resuming needs no scheduler object: only the plateau state is saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import timm.optim
import torch
from torch import nn

from core.recipes.common.choices import OPTIMIZERS, SCHEDULERS

ONECYCLE_RISE = 0.3  # share of the run onecycle spends rising to the peak
ONECYCLE_DIV, ONECYCLE_FINAL_DIV = 25.0, 1e4  # as torch's OneCycleLR: start at lr/25, end at lr/25/1e4


def build_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float,
    momentum: float,
    lr_scales: Mapping[nn.Module, float] | None = None,
) -> torch.optim.Optimizer:
    """adamw, adam or sgd (nesterov) over all parameters, without weight decay on biases and norms.

    Build it before freezing anything: timm leaves out parameters that do not require gradients, and a
    backbone unfrozen later must already be in the optimizer.

    Args:
        lr_scales: sub-modules of ``model`` whose learning rate is ``lr`` times a factor (a differential
            backbone learning rate); their groups carry ``lr_scale``, which :func:`set_lr` applies.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not supported; choose one of {', '.join(OPTIMIZERS)}")
    opt = "sgd" if name == "sgd" else name  # timm's "sgd" is SGD with nesterov momentum
    groups = None
    if lr_scales:
        groups = _scaled_groups(timm.optim.param_groups_weight_decay(model, weight_decay), lr_scales)
    return timm.optim.create_optimizer_v2(
        groups if groups is not None else model, opt=opt, lr=lr, weight_decay=weight_decay, momentum=momentum
    )


def _scaled_groups(groups: list[dict], lr_scales: Mapping[nn.Module, float]) -> list[dict]:
    """timm's decay / no-decay groups, each split by learning-rate factor (parameters of no listed module: 1)."""
    scale_of = {id(p): scale for module, scale in lr_scales.items() for p in module.parameters()}
    out = []
    for group in groups:
        by_scale: dict[float, list[nn.Parameter]] = {}
        for p in group["params"]:
            by_scale.setdefault(scale_of.get(id(p), 1.0), []).append(p)
        out += [{**group, "params": params, "lr_scale": scale} for scale, params in by_scale.items()]
    return out


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (times the group's ``lr_scale`` when it has one)."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


@dataclass
class LrSchedule:
    """Learning rate as a function of the fractional epoch ``t`` in [0, epochs].

    cosine: linear warm-up from lr/100, then cosine down to ``lr * min_lr_ratio``. onecycle: its own
    cosine rise from lr/25 over the first 30 % (warm-up is not added), then cosine down to lr/25/1e4.
    step: lr * gamma ** (t // step_epochs) after warm-up. plateau: lr times ``gamma`` per
    ``patience`` epochs without a lower val loss (see :meth:`observe`). none: constant after warm-up.
    """

    name: str
    base_lr: float
    epochs: int
    warmup_epochs: float = 0.0
    min_lr_ratio: float = 0.0
    step_epochs: int = 10
    gamma: float = 0.1
    patience: int = 2
    plateau_scale: float = 1.0
    best_loss: float = math.inf
    bad_epochs: int = 0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULERS:
            raise ValueError(f"scheduler={self.name!r} is not supported; choose one of {', '.join(SCHEDULERS)}")

    def lr_at(self, t: float) -> float:
        """The learning rate after ``t`` epochs of training (fractions within an epoch)."""
        if self.name == "onecycle":
            return self._onecycle(t)
        warm = min(1.0, 0.01 + 0.99 * t / self.warmup_epochs) if self.warmup_epochs > 0 else 1.0
        if self.name == "cosine":
            span = max(self.epochs - self.warmup_epochs, 1e-9)
            progress = min(max((t - self.warmup_epochs) / span, 0.0), 1.0)
            floor = self.base_lr * self.min_lr_ratio
            return warm * (floor + (self.base_lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))
        if self.name == "step":
            return warm * self.base_lr * self.gamma ** math.floor(t / self.step_epochs)
        if self.name == "plateau":
            return warm * self.base_lr * self.plateau_scale
        return warm * self.base_lr

    def _onecycle(self, t: float) -> float:
        rise = max(self.epochs * ONECYCLE_RISE, 1e-9)
        start, end = self.base_lr / ONECYCLE_DIV, self.base_lr / ONECYCLE_DIV / ONECYCLE_FINAL_DIV
        if t < rise:
            return start + (self.base_lr - start) * 0.5 * (1.0 - math.cos(math.pi * t / rise))
        progress = min((t - rise) / max(self.epochs - rise, 1e-9), 1.0)
        return end + (self.base_lr - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def observe(self, val_loss: float) -> None:
        """End of an epoch: the plateau schedule lowers the lr after ``patience`` epochs without progress."""
        if self.name != "plateau" or not math.isfinite(val_loss):
            return
        if val_loss < self.best_loss:
            self.best_loss, self.bad_epochs = val_loss, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.plateau_scale *= self.gamma
            self.bad_epochs = 0

    def state_dict(self) -> dict[str, float]:
        """The state that changes during training (the rest comes from the config)."""
        return {"plateau_scale": self.plateau_scale, "best_loss": self.best_loss, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.plateau_scale = float(state["plateau_scale"])
        self.best_loss = float(state["best_loss"])
        self.bad_epochs = int(state["bad_epochs"])
