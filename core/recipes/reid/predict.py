"""A trained reid run's embedder on new images, for the Gallery page: embed an upload to search the gallery
with it, and Grad-CAM on the embedding: what in the query makes it similar to a chosen gallery image.

    handle = load_run_model(run_dir)                         # once per run (the page caches it)
    emb, flipped = embed_image(handle, image)                # (D,), (D,) normalised
    result = explain_similarity(handle, query, match_embedding)

Image reading, the CAM methods and overlays are the Predict page's (``core.recipes.classify.predict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from core import runfolder
from core.recipes.classify.predict import PredictError, activation_map, load_for_inference, overlay
from core.recipes.common.checkpoint import BEST
from core.recipes.reid.checkpoint import load_checkpoint
from core.recipes.reid.model import Normalised


@dataclass
class EmbedderHandle:
    """A loaded embedder with what it needs to read an image."""

    model: Normalised
    meta: dict[str, Any]
    transform: Any
    device: torch.device
    run_id: str
    layers: list[str] = field(default_factory=list)  # where a CAM can be taken; the last is the default


class SimilarityTarget:
    """A Grad-CAM target (a tiny callable, as pytorch-grad-cam's): the cosine similarity of an image's
    embedding, (D,), with a fixed one."""

    def __init__(self, concept: torch.Tensor) -> None:
        self.concept = concept

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return F.cosine_similarity(output, self.concept, dim=0)


@dataclass
class SimilarityExplanation:
    overlay: Image.Image  # the query with the heat map, at the query's size
    cam: np.ndarray = field(repr=False)  # (H, W) in [0, 1]
    similarity: float  # cosine similarity of the query's embedding and the match's
    layer: str


def load_run_model(run_dir: Path, device: torch.device | None = None) -> EmbedderHandle:
    """Load a reid run's best checkpoint; a missing file or another recipe version is a PredictError."""
    path = run_dir / runfolder.CHECKPOINTS_DIR / BEST
    if not path.is_file():
        raise PredictError(f"run {run_dir.name} has no {BEST}; pick a reid run that finished an epoch")
    model, meta, transform, device, layers = load_for_inference(path, load_checkpoint, device)
    return EmbedderHandle(Normalised(model).eval(), meta, transform, device, run_dir.name, layers)


def _batch(handle: EmbedderHandle, image: Image.Image) -> torch.Tensor:
    return handle.transform(image.convert("RGB")).unsqueeze(0).to(handle.device)  # (1, 3, S, S)


def embed_image(handle: EmbedderHandle, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The normalised embedding of ``image`` and of its mirror image: two (D,) float32 arrays."""
    x = _batch(handle, image)
    with torch.inference_mode():
        out = handle.model(torch.cat([x, x.flip(-1)]))  # (2, D)
    return out[0].float().cpu().numpy(), out[1].float().cpu().numpy()


def explain_similarity(handle: EmbedderHandle, query: Image.Image, match: np.ndarray, *, method: str = "gradcam",
                       layer: str | None = None, opacity: float = 0.5) -> SimilarityExplanation:  # fmt: skip
    """Grad-CAM of the cosine similarity between ``query``'s embedding and ``match`` (a gallery embedding):
    the regions of the query that make it resemble that gallery image."""
    if not handle.layers:
        raise PredictError(f"no layer of backbone {handle.meta['config']['backbone']} outputs a spatial map")
    name = layer or handle.layers[-1]
    module = dict(handle.model.model.backbone.named_modules()).get(name)
    if module is None:
        raise PredictError(f"layer {name!r} is not in the backbone; pick one of the listed layers")
    x = _batch(handle, query)
    concept = torch.as_tensor(match, dtype=torch.float32, device=handle.device)
    cam = activation_map(handle.model, module, x, SimilarityTarget(concept), method)
    with torch.inference_mode():
        similarity = float(F.cosine_similarity(handle.model(x)[0], concept, dim=0))
    return SimilarityExplanation(*overlay(query, cam, opacity), similarity, name)
