"""Self-describing checkpoints of the classify recipe: the model can be rebuilt from the file alone.

A checkpoint holds only tensors and plain containers of primitives, so ``torch.load(path,
weights_only=True)`` reads it: the config as a dict, the recipe name and version, class and make names,
``class_to_make``, the epoch, its metrics, and the model state; ``last.pt`` also holds the optimizer,
scaler and schedule state and the early-stopping bookkeeping. Files are replaced atomically.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import torch

from core.recipes.classify.config import ClassifyConfig
from core.recipes.classify.model import Classifier, build_model
from core.recipes.config import from_dict

RECIPE = "classify"
RECIPE_VERSION = 1  # bump when the model layout or the checkpoint fields change
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


def make_checkpoint(
    *,
    config: dict[str, Any],
    classes: list[str],
    makes: list[str],
    class_to_make: list[int],
    epoch: int,
    metrics: dict[str, float],
    model: torch.nn.Module,
    training_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checkpoint dict. ``training_state`` (optimizer, scaler, schedule, progress) only for last.pt."""
    checkpoint = {
        "format": FORMAT,
        "recipe": RECIPE,
        "recipe_version": RECIPE_VERSION,
        "config": dict(config),
        "classes": list(classes),
        "makes": list(makes),
        "class_to_make": [int(m) for m in class_to_make],
        "epoch": int(epoch),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if training_state is not None:
        checkpoint["training"] = training_state
    return checkpoint


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and check that this code can use it.

    Raises:
        CheckpointError: no such file, not a classify checkpoint, or another recipe version.
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
    if checkpoint.get("recipe") != RECIPE:
        raise CheckpointError(f"{file} was written by recipe {checkpoint.get('recipe')!r}, not {RECIPE!r}")
    if checkpoint.get("recipe_version") != RECIPE_VERSION:
        raise CheckpointError(
            f"{file} was written by classify version {checkpoint.get('recipe_version')}; this code reads "
            f"version {RECIPE_VERSION}: retrain the run, or use the code version that wrote it"
        )
    return checkpoint


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Classifier, dict]:
    """Rebuild the model of a checkpoint from the file alone, in eval mode on ``device``.

    Returns:
        (model, meta): meta is the checkpoint without the model and training state (config dict,
        classes, makes, class_to_make, epoch, metrics, recipe and version).
    """
    checkpoint = read_checkpoint(path)
    cfg = from_dict(ClassifyConfig, checkpoint["config"])
    n_makes = len(checkpoint["makes"]) if cfg.heads == "multi" else 0
    model = build_model(
        cfg.backbone, len(checkpoint["classes"]), n_makes=n_makes, dropout=cfg.dropout, image_size=cfg.image_size
    )
    model.load_state_dict(checkpoint["model"])
    meta = {k: v for k, v in checkpoint.items() if k not in ("model", "training")}
    return model.to(device).eval(), meta
