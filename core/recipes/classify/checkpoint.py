"""Self-describing checkpoints of the classify recipe: the model can be rebuilt from the file alone.

Besides the fields every recipe writes (``core.recipes.common.checkpoint``: config, recipe and version, epoch,
metrics, model state), a classify checkpoint holds the class and make names and ``class_to_make``;
``last.pt`` also holds the optimizer, scaler and schedule state and the early-stopping bookkeeping.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from core.recipes.classify.config import ClassifyConfig
from core.recipes.classify.model import Classifier, build_model
from core.recipes.common import checkpoint as common
from core.recipes.common.checkpoint import BEST, LAST, CheckpointError, save_checkpoint
from core.recipes.config import from_dict

__all__ = [
    "BEST", "LAST", "RECIPE", "RECIPE_VERSION", "CheckpointError", "load_checkpoint", "make_checkpoint",
    "read_checkpoint", "save_checkpoint",
]  # fmt: skip

RECIPE = "classify"
RECIPE_VERSION = 1  # bump when the model layout or the checkpoint fields change


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
    checkpoint = common.base_checkpoint(RECIPE, RECIPE_VERSION, config, epoch, metrics, model)
    checkpoint |= {
        "classes": list(classes),
        "makes": list(makes),
        "class_to_make": [int(m) for m in class_to_make],
    }
    if training_state is not None:
        checkpoint["training"] = training_state
    return checkpoint


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a classify checkpoint with ``weights_only=True``; CheckpointError when this code cannot use it."""
    return common.read_checkpoint(path, RECIPE, RECIPE_VERSION)


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Classifier, dict]:
    """Rebuild the model of a checkpoint from the file alone, in eval mode on ``device``.

    Returns:
        (model, meta): meta is the checkpoint without the model and training state (config dict,
        classes, makes, class_to_make, epoch, metrics, recipe and version).
    """
    return common.load_model(path, RECIPE, RECIPE_VERSION, _build, device)  # type: ignore[return-value]


def _build(checkpoint: dict[str, Any]) -> Classifier:
    cfg = from_dict(ClassifyConfig, checkpoint["config"])
    n_makes = len(checkpoint["makes"]) if cfg.heads == "multi" else 0
    return build_model(
        cfg.backbone, len(checkpoint["classes"]), n_makes=n_makes, dropout=cfg.dropout, image_size=cfg.image_size
    )
