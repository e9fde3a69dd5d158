"""Loggers for training frameworks, on top of core.tracking: ``core.integrations.lightning.ExplorerLogger`` for
PyTorch Lightning and ``core.integrations.huggingface.ExplorerCallback`` for Hugging Face ``Trainer``. Each
module imports its framework; this package imports nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
           "eval": "val", "test": "test"}  # fmt: skip


def metric_name(name: str, default_split: str = "train") -> str:
    """A framework's metric name as the explorer's ``split/name``: 'val_loss' and 'eval_loss' -> 'val/loss',
    'train/acc' stays, 'loss' -> 'train/loss', 'learning_rate' -> 'train/lr'."""
    if "/" in name:
        split, _, rest = name.partition("/")
        return f"{_SPLITS.get(split, split)}/{rest}"
    match = re.match(r"^(train|training|val|valid|validation|eval|test)[_\-.](.+)$", name)
    if match:
        return f"{_SPLITS[match.group(1)]}/{match.group(2)}"
    return f"{default_split}/{'lr' if name in ('learning_rate', 'lr') else name}"


def numbers(metrics: Mapping[str, Any], default_split: str = "train", skip: tuple[str, ...] = ()) -> dict[str, float]:
    """The numeric entries of a framework's metrics dict (tensors included), renamed by :func:`metric_name`."""
    out = {}
    for key, value in metrics.items():
        if key in skip:
            continue
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            continue
        out[metric_name(key, default_split)] = number  # NaN kept: it is a finding (divergence)
    return out


def flat_config(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Hyperparameters as a flat JSON-ready dict ('optimizer.lr'); objects become their text."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_config(value, f"{name}."))
        elif value is None or isinstance(value, bool | int | float | str):
            out[name] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, bool | int | float | str) for v in value):
            out[name] = list(value)
        else:
            out[name] = str(value)
    return out
