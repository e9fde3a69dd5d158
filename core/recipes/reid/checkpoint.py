"""Self-describing checkpoints of the reid recipe: the embedder can be rebuilt from the file alone.

Besides the fields every recipe writes (``core.recipes.common.checkpoint``), a reid checkpoint holds the
identity names; ``last.pt`` also holds the training state: optimizer, scaler, schedule, early-stopping
bookkeeping and the loss's own parameters (the identity proxies of ArcFace and its kin).
"""

from __future__ import annotations

import os
from typing import Any

import torch

from core.recipes.common import checkpoint as common
from core.recipes.config import from_dict
from core.recipes.reid.config import ReidConfig
from core.recipes.reid.model import Embedder, build_embedder

RECIPE = "reid"
RECIPE_VERSION = 1  # bump when the model layout or the checkpoint fields change


def make_checkpoint(
    *,
    config: dict[str, Any],
    identities: list[str],
    epoch: int,
    metrics: dict[str, float],
    model: torch.nn.Module,
    training_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checkpoint dict. ``training_state`` only for last.pt."""
    checkpoint = common.base_checkpoint(RECIPE, RECIPE_VERSION, config, epoch, metrics, model)
    checkpoint["identities"] = list(identities)
    if training_state is not None:
        checkpoint["training"] = training_state
    return checkpoint


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a reid checkpoint with ``weights_only=True``; CheckpointError when this code cannot use it."""
    return common.read_checkpoint(path, RECIPE, RECIPE_VERSION)


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Embedder, dict]:
    """Rebuild the embedder of a checkpoint from the file alone, in eval mode on ``device``.

    Returns:
        (model, meta): meta is the checkpoint without the model and training state.
    """
    build = lambda checkpoint: build_embedder(from_dict(ReidConfig, checkpoint["config"]))  # noqa: E731
    return common.load_model(path, RECIPE, RECIPE_VERSION, build, device)  # type: ignore[return-value]
