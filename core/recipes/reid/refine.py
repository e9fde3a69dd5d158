"""Retrieval over one split as the re-ID protocol has it, with the inference refinements switchable: each
image is a query against all the other images of the split (an identity with a single image is no query),
ranked by distances that flip test-time augmentation, query expansion and k-reciprocal re-ranking refine.

Shared by the end-of-run evaluation and the Gallery page, so both rank the same way. The order is fixed:
flip TTA makes the embeddings, query expansion moves the queries, re-ranking rewrites the distances.
The queries are the gallery here: query expansion's neighbours include the query itself, and re-ranking
sees each image twice (as a query and as a gallery item), as it is commonly run on a single set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.evaluation.retrieval import (
    average_precisions,
    cmc,
    combine_flips,
    identity_balanced_map,
    k_reciprocal_rerank,
    mean_average_precision,
    pairwise_distances,
    query_expansion,
)
from core.recipes.reid.choices import ALL_REFINEMENTS, REFINEMENTS


@dataclass(frozen=True)
class Refinements:
    """Which refinements are on, and their settings (the config's qe_* and rerank_* keys)."""

    flip: bool = False
    qe: bool = False
    rerank: bool = False
    qe_top_k: int = 3
    qe_alpha: float = 0.0
    k1: int = 20
    k2: int = 6
    lambda_value: float = 0.3

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **switches: bool) -> Refinements:
        """The settings of a run's config (a dict, e.g. its config.json), with ``switches`` turned on or off."""
        return cls(
            qe_top_k=int(config.get("qe_top_k", cls.qe_top_k)), qe_alpha=float(config.get("qe_alpha", cls.qe_alpha)),
            k1=int(config.get("rerank_k1", cls.k1)), k2=int(config.get("rerank_k2", cls.k2)),
            lambda_value=float(config.get("rerank_lambda", cls.lambda_value)), **switches,
        )  # fmt: skip

    def only(self, *names: str) -> Refinements:
        """These settings with exactly the refinements ``names`` on (see REFINEMENTS)."""
        return replace(self, **{name: name in names for name in REFINEMENTS})

    @property
    def suffix(self) -> str:
        """The metric-name suffix: '' plain, '@flip', '@qe', '@rerank', '@all', or e.g. '@flip+qe'."""
        on = [name for name in REFINEMENTS if getattr(self, name)]
        if not on:
            return ""
        return f"@{ALL_REFINEMENTS}" if len(on) == len(REFINEMENTS) else "@" + "+".join(on)


def refined_distances(embeddings: Any, flipped: Any | None, refine: Refinements) -> torch.Tensor:
    """(N, N) distances of every image of a split to every other, refined as ``refine`` asks.

    Args:
        embeddings: (N, D) embeddings of the images (normalised here).
        flipped: (N, D) embeddings of their mirror images; needed for ``refine.flip``.
    """
    x = torch.as_tensor(np.asarray(embeddings) if not isinstance(embeddings, torch.Tensor) else embeddings)
    x = F.normalize(x.float(), dim=1)
    if refine.flip:
        if flipped is None:
            raise ValueError("flip TTA needs the embeddings of the mirrored images; this run did not save them")
        x = combine_flips(x, flipped)
    q = query_expansion(x, x, refine.qe_top_k, refine.qe_alpha) if refine.qe else x
    dist = pairwise_distances(q, x)
    if refine.rerank:
        q_q = pairwise_distances(q, q) if refine.qe else dist
        k2 = min(refine.k2, refine.k1 + 1)
        dist = k_reciprocal_rerank(dist, q_q, pairwise_distances(x, x), refine.k1, k2, refine.lambda_value)
    return dist


def query_aps(dist: torch.Tensor, labels: Any) -> np.ndarray:
    """(N,) average precision of each image as a query against all the others; NaN for identities with one
    image (no query)."""
    return np.asarray(average_precisions(dist, labels, labels, exclude_self=True).cpu())


def retrieval_metrics(dist: torch.Tensor, labels: Any) -> dict[str, float]:
    """mAP, identity-balanced mAP, rank-1 and rank-5 under the protocol, from the (N, N) distances."""
    labels = torch.as_tensor(np.asarray(labels)).to(dist.device)
    ranks = cmc(dist, labels, labels, ks=(1, 5), exclude_self=True)
    return {
        "mAP": mean_average_precision(dist, labels, labels, exclude_self=True),
        "mAP_identity": identity_balanced_map(dist, labels, labels, exclude_self=True),
        "rank1": ranks[1],
        "rank5": ranks[5],
    }


def top_matches(dist: torch.Tensor, k: int, rows: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` closest other images of each query (or of the queries ``rows``): (Q, k) indices and distances,
    nearest first; a query never matches itself."""
    rows = torch.arange(dist.shape[0]) if rows is None else torch.as_tensor(rows).reshape(-1)
    block = dist[rows.to(dist.device)].clone()
    block[torch.arange(len(rows)), rows.to(dist.device)] = float("inf")
    found = block.topk(min(k, dist.shape[1] - 1), dim=1, largest=False)
    return found.indices.cpu(), found.values.cpu()


def summarize(aps: np.ndarray, labels: Any, top: Any, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """The metrics of :func:`retrieval_metrics` from one pass: each query's AP (:func:`query_aps`) and its
    closest others (:func:`top_matches`, at least ``max(ks)`` of them). What the Gallery recomputes at every
    switch; a test checks that it equals the evaluation functions.

    Args:
        aps: (N,) AP per image, NaN for no query. labels: (N,) identities. top: (N, K) closest other images.
    """
    labels, top = np.asarray(labels), np.asarray(top)
    queries = np.isfinite(aps)
    per_identity = [aps[queries & (labels == k)].mean() for k in np.unique(labels[queries])]
    hits = labels[top[queries]] == labels[queries][:, None]  # (Q, K) is the j-th closest a match
    nan = float("nan")
    metrics = {"mAP": float(aps[queries].mean()) if queries.any() else nan,
               "mAP_identity": float(np.mean(per_identity)) if per_identity else nan}  # fmt: skip
    return metrics | {f"rank{k}": float(hits[:, :k].any(axis=1).mean()) if queries.any() else nan for k in ks}
