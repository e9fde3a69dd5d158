"""Input checks shared by the metric functions of ``core.evaluation``: arrays in (numpy, lists, or torch
tensors, detached and moved to the CPU without importing torch), validated numpy out; a bad shape, a non-integer
label or an out-of-range index raises ValueError naming the argument."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Row = dict[str, Any]


def to_numpy(x: Any) -> np.ndarray:
    """Array for x; a torch tensor is detached and copied to the CPU (duck-typed: no torch import)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":  # numpy has no bfloat16; mixed precision produces it
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def check_scores(x: Any, name: str) -> np.ndarray:
    """Validated (N, C) float64 score matrix."""
    arr = to_numpy(x)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, C) with C >= 1 classes, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def check_indices(
    x: Any, name: str, *, length: int | None = None, upper: int | None = None, lower: int | None = 0
) -> np.ndarray:
    """Validated (N,) int64 index vector with values in [lower, upper) (a None bound is not checked)."""
    arr = to_numpy(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},) to match the other inputs, got {arr.shape}")
    if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):  # e.g. labels loaded from a CSV
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    low_bad = lower is not None and arr.size and arr.min() < lower
    high_bad = upper is not None and arr.size and arr.max() >= upper
    if low_bad or high_bad:
        bounds = f"[{'-inf' if lower is None else lower}, {upper if upper is not None else 'inf'})"
        raise ValueError(f"{name} must hold indices in {bounds}, got values in [{arr.min()}, {arr.max()}]")
    return arr


def check_count(value: Any, name: str, *, minimum: int = 1) -> int:
    """Validated integer parameter such as k or n."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def make_pairs(
    pred_classes: Any, labels: Any, class_to_make: Any, n_makes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(make of the predicted model, true make), both (N,), after validating the three inputs."""
    c2m = check_indices(class_to_make, "class_to_make", upper=n_makes)
    pred = check_indices(pred_classes, "pred_classes", upper=len(c2m))
    truth = check_indices(labels, "labels", length=len(pred), upper=len(c2m))
    return c2m[pred], c2m[truth]


def share_of(hits: np.ndarray) -> float:
    """Mean of a boolean vector; nan when it is empty."""
    return float(hits.mean()) if hits.size else math.nan


def name_key(name: str) -> tuple[str, str]:
    """Sort key for display names: case-insensitive ("smart" sits beside "Scion"), then exact."""
    return (name.casefold(), name)


