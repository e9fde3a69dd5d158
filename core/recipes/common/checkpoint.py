"""Self-describing checkpoints shared by the recipes: written atomically, read with ``weights_only=True``,
and checked to be of the recipe and version that reads them.

A checkpoint holds only tensors and plain containers of primitives: a format tag, the recipe name and
version, the config as a dict, the epoch, its metrics and the model state, plus whatever the recipe adds
(class names, ...); ``last.pt`` also holds the training state that resuming needs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from core.runfolder import metricslog

FORMAT = "experiment-explorer/checkpoint"
LAST, BEST = "last.pt", "best.pt"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or written by another recipe or version."""


def save_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    """Write ``checkpoint`` to ``path`` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def base_checkpoint(
    recipe: str, version: int, config: dict[str, Any], epoch: int, metrics: dict[str, float], model: torch.nn.Module
) -> dict[str, Any]:
    """The fields every recipe's checkpoint has; the recipe adds its own."""
    return {
        "format": FORMAT,
        "recipe": recipe,
        "recipe_version": version,
        "config": dict(config),
        "epoch": int(epoch),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def read_checkpoint(path: str | os.PathLike[str], recipe: str, version: int) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and check that it is ``recipe``'s, at ``version``.

    Raises:
        CheckpointError: no such file, not a checkpoint of ``recipe``, or another version of it.
    """
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"no checkpoint at {file}; a run writes checkpoints/last.pt after its first epoch")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError) as exc:
        raise CheckpointError(f"cannot read checkpoint {file}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{file} is not an Experiment Explorer checkpoint (no format tag {FORMAT!r})")
    if checkpoint.get("recipe") != recipe:
        raise CheckpointError(f"{file} was written by recipe {checkpoint.get('recipe')!r}, not {recipe!r}")
    if checkpoint.get("recipe_version") != version:
        raise CheckpointError(
            f"{file} was written by {recipe} version {checkpoint.get('recipe_version')}; this code reads "
            f"version {version}: retrain the run, or use the code version that wrote it"
        )
    return checkpoint


def last_logged_step(run_dir: Path, name: str) -> int:
    """The highest step at which ``name`` was logged in the run's metrics log (0 when never): what a resumed
    run compares with its checkpoint's epoch to log an epoch that a stop lost, and never one twice."""
    return max((r.step for r in metricslog.read_records(run_dir, name)), default=0)


def load_model(
    path: str | os.PathLike[str],
    recipe: str,
    version: int,
    build: Callable[[dict[str, Any]], torch.nn.Module],
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a checkpoint's model from the file alone (``build(checkpoint)`` makes it), in eval mode on ``device``.

    Returns:
        (model, meta): meta is the checkpoint without the model and training state.
    """
    checkpoint = read_checkpoint(path, recipe, version)
    model = build(checkpoint)
    model.load_state_dict(checkpoint["model"])
    meta = {k: v for k, v in checkpoint.items() if k not in ("model", "training")}
    return model.to(device).eval(), meta
