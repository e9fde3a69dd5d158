"""Retrieval metrics for re-identification, and the inference refinements that change a ranking: mAP,
identity-balanced mAP and CMC from a query x gallery distance matrix, k-reciprocal re-ranking (Zhong et al.,
CVPR 2017), query expansion and flip test-time augmentation.

Pure functions of arrays (numpy or torch; vectorised torch inside, on the tensors' device, so on the GPU
when the embeddings are there), memory bounded by working on blocks of query rows. A smaller distance is a
better match. Ties between a match and a non-match at exactly the same distance rank the non-match first
(the pessimistic reading).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from core.evaluation.rerank import k_reciprocal_rerank
from core.evaluation.tensors import ROW_BLOCK
from core.evaluation.tensors import as_tensor as _tensor
from core.evaluation.tensors import like as _like

__all__ = [
    "average_precisions", "cmc", "combine_flips", "identity_balanced_map", "k_reciprocal_rerank",
    "mean_average_precision", "pairwise_distances", "query_expansion",
]  # fmt: skip


def _check(dist: torch.Tensor, ql: torch.Tensor, gl: torch.Tensor) -> None:
    if dist.ndim != 2 or dist.shape != (len(ql), len(gl)):
        raise ValueError(
            f"dist must be (queries, gallery) = ({len(ql)}, {len(gl)}) to match the label arrays, "
            f"got {tuple(dist.shape)}"
        )


def _ranks_of_matches(dist: torch.Tensor, ql: torch.Tensor, gl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For a block of queries: the 1-based rank of each query's j-th closest match (Q x P, padded) and the
    number of matches per query. Only the matches are sorted; every non-match is placed by a binary search
    among them, so the cost is O(Q x G x log P) instead of a full sort of each row."""
    match = gl[None, :] == ql[:, None]
    n_match = match.sum(1)
    p = max(int(n_match.max()), 1) if len(ql) else 1
    inf = torch.tensor(math.inf, dtype=dist.dtype, device=dist.device)
    closest = torch.where(match, dist, inf).topk(p, dim=1, largest=False, sorted=True).values.contiguous()
    before = torch.searchsorted(closest, dist.contiguous())  # matches strictly closer than each item
    before = before.masked_fill(match, p)  # matches go to a spare bin
    counts = torch.zeros(len(ql), p + 1, dtype=torch.long, device=dist.device)
    counts.scatter_add_(1, before, torch.ones_like(before))
    j = torch.arange(p, device=dist.device)
    non_matches_before = counts[:, :p].cumsum(1)  # non-matches at or closer than the j-th match
    return non_matches_before + j + 1, n_match


def average_precisions(dist: Any, query_labels: Any, gallery_labels: Any) -> Any:
    """Average precision of each query's ranking of the gallery; NaN where the gallery holds no match.

    Args:
        dist: (Q, G) distances, smaller is closer.
        query_labels: (Q,) identity of each query.
        gallery_labels: (G,) identity of each gallery item.
    """
    d, ql, gl = _tensor(dist), _tensor(query_labels), _tensor(gallery_labels)
    gl = gl.to(d.device)
    ql = ql.to(d.device)
    _check(d, ql, gl)
    out = []
    for s in range(0, len(ql), ROW_BLOCK):
        ranks, n_match = _ranks_of_matches(d[s : s + ROW_BLOCK], ql[s : s + ROW_BLOCK], gl)
        j = torch.arange(ranks.shape[1], device=d.device)
        precision = (j + 1).to(torch.float64) / ranks.to(torch.float64)
        valid = j[None, :] < n_match[:, None]
        ap = (precision * valid).sum(1) / n_match.clamp(min=1)
        out.append(torch.where(n_match > 0, ap, torch.tensor(math.nan, dtype=torch.float64, device=d.device)))
    result = torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)
    return _like(result, dist)


def mean_average_precision(dist: Any, query_labels: Any, gallery_labels: Any) -> float:
    """mAP: the mean of the queries' average precisions, over queries with a match in the gallery."""
    aps = np.asarray(_like(_tensor(average_precisions(dist, query_labels, gallery_labels)).cpu(), None))
    finite = aps[np.isfinite(aps)]
    return float(finite.mean()) if finite.size else math.nan


def identity_balanced_map(dist: Any, query_labels: Any, gallery_labels: Any) -> float:
    """The mean over identities of the mean AP of that identity's queries: each individual counts once,
    however many images it has (an imbalanced set otherwise rewards the frequent identities)."""
    aps = np.asarray(_like(_tensor(average_precisions(dist, query_labels, gallery_labels)).cpu(), None))
    labels = np.asarray(_tensor(query_labels).cpu())
    per_identity = [aps[labels == k] for k in np.unique(labels)]
    means = [a[np.isfinite(a)].mean() for a in per_identity if np.isfinite(a).any()]
    return float(np.mean(means)) if means else math.nan


def cmc(dist: Any, query_labels: Any, gallery_labels: Any, ks: tuple[int, ...] = (1, 5)) -> dict[int, float]:
    """Rank-k accuracy: the share of queries (with a match) whose first match is among the k closest."""
    d, ql, gl = _tensor(dist), _tensor(query_labels), _tensor(gallery_labels)
    ql, gl = ql.to(d.device), gl.to(d.device)
    _check(d, ql, gl)
    firsts = []
    for s in range(0, len(ql), ROW_BLOCK):
        ranks, n_match = _ranks_of_matches(d[s : s + ROW_BLOCK], ql[s : s + ROW_BLOCK], gl)
        firsts.append(ranks[n_match > 0, 0])
    first = torch.cat(firsts).cpu() if firsts else torch.zeros(0)
    return {k: float((first <= k).double().mean()) if len(first) else math.nan for k in ks}


def pairwise_distances(a: Any, b: Any) -> torch.Tensor:
    """Euclidean distances between the rows of a and b (embeddings), as torch on their device."""
    return torch.cdist(_tensor(a, torch.float32), _tensor(b, torch.float32).to(_tensor(a).device))


def combine_flips(embeddings: Any, flipped: Any) -> torch.Tensor:
    """Flip test-time augmentation: the L2-normalised mean of an image's and its mirror image's embeddings."""
    mean = _tensor(embeddings, torch.float32) + _tensor(flipped, torch.float32)
    return torch.nn.functional.normalize(mean, dim=1)


def query_expansion(queries: Any, gallery: Any, top_k: int = 5, alpha: float = 0.0) -> torch.Tensor:
    """Query expansion: each (L2-normalised) query is replaced by the normalised sum of itself and its top_k
    gallery neighbours, weighted by similarity**alpha (alpha 0: average query expansion; alpha > 0: alpha-QE
    of Radenović et al.)."""
    q = torch.nn.functional.normalize(_tensor(queries, torch.float32), dim=1)
    g = torch.nn.functional.normalize(_tensor(gallery, torch.float32).to(q.device), dim=1)
    if top_k < 1:
        return q
    sims, idx = (q @ g.T).topk(min(top_k, len(g)), dim=1)
    weights = sims.clamp(min=0) ** alpha if alpha > 0 else torch.ones_like(sims)
    expanded = q + (weights[..., None] * g[idx]).sum(1)
    return torch.nn.functional.normalize(expanded, dim=1)
