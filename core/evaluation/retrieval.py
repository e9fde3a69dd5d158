"""Retrieval metrics for re-identification, and the inference refinements that change a ranking: mAP,
identity-balanced mAP and CMC from a query x gallery distance matrix, k-reciprocal re-ranking (Zhong et al.,
CVPR 2017), query expansion and flip test-time augmentation.

Pure functions of arrays (numpy or torch; vectorised torch inside, on the tensors' device, so on the GPU
when the embeddings are there), memory bounded by working on blocks of query rows. A smaller distance is a
better match. Items at exactly the same distance are ranked in gallery order, as a stable sort ranks them.
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


def _match_ranks(d: torch.Tensor, ql: torch.Tensor, gl: torch.Tensor, exclude_self: bool):
    """Per block of query rows: the 1-based rank of each query's j-th closest match (B x P, padded) and the
    number of matches per query, as a stable sort of each row ranks them (equal distances in gallery order).

    Only the matches are sorted; every other item is placed among them by a binary search, so the cost is
    O(G log P) per query instead of a sort of the row: batched on a GPU, row by row in NumPy on the CPU
    (where torch's batched search is slower than NumPy's). With ``exclude_self``, query i is gallery item i
    and is left out of its own ranking (the leave-one-out protocol of a val set).
    """
    if exclude_self and d.shape[0] != d.shape[1]:
        raise ValueError(f"exclude_self needs the queries to be the gallery (a square dist), got {tuple(d.shape)}")
    for s in range(0, len(ql), ROW_BLOCK):
        block, labels = d[s : s + ROW_BLOCK], ql[s : s + ROW_BLOCK]
        match = gl[None, :] == labels[:, None]
        if exclude_self:
            rows = torch.arange(len(labels), device=d.device)
            match[rows, rows + s] = False
            block = block.clone()
            block[rows, rows + s] = math.inf  # ranked after everything: no effect on any match's rank
        ranker = _ranks_torch if d.is_cuda else _ranks_numpy
        yield ranker(block, match)


def _ranks_numpy(dist: torch.Tensor, match: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d, m = dist.numpy(), match.numpy()
    n_match = m.sum(1)
    p = max(int(n_match.max()), 1) if len(d) else 1
    ranks = np.zeros((len(d), p), dtype=np.int64)
    for i in range(len(d)):
        where = np.flatnonzero(m[i])
        if len(where):  # no match: AP NaN, no rank
            near = np.flatnonzero(d[i] <= d[i, where].max())  # items ranked before the farthest match, or tied
            ranks[i, : len(where)] = _row_ranks(d[i, near], m[i, near])
    return torch.from_numpy(ranks), torch.from_numpy(n_match)


FEW_MATCHES = 32  # up to this many matches, a row's items are compared with each match; beyond, it is sorted


def _row_ranks(row: np.ndarray, match: np.ndarray) -> np.ndarray:
    """1-based ranks of one row's matches, closest first, as a stable sort of the row ranks them. With few
    matches and no ties, the j-th closest match is preceded by exactly the items whose distance is below it:
    counted by comparing every item with the matches, cheaper than a sort. Many matches, an item at exactly a
    match's distance, or two matches at one distance: the row is sorted (stable: ties in gallery order)."""
    if np.count_nonzero(match) <= FEW_MATCHES:
        closest = np.sort(row[match])[:, None]
        below, at = (row < closest).sum(1), (row == closest).sum(1)
        if np.all(at == 1):
            return below + 1
    return np.flatnonzero(match[np.argsort(row, kind="stable")]) + 1


def _ranks_torch(dist: torch.Tensor, match: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n_match = match.sum(1)
    p = max(int(n_match.max()), 1) if len(dist) else 1
    inf = torch.tensor(math.inf, dtype=dist.dtype, device=dist.device)
    closest, where = torch.where(match, dist, inf).topk(p, dim=1, largest=False, sorted=True)
    closest = closest.contiguous()
    before = torch.searchsorted(closest, dist.contiguous())  # matches strictly closer than each item
    before += _tied_matches_first(dist, match, closest, where, before)
    before = before.masked_fill(match, p)  # matches go to a spare bin
    counts = torch.zeros(len(dist), p + 1, dtype=torch.long, device=dist.device)
    counts.scatter_add_(1, before, torch.ones_like(before))
    j = torch.arange(p, device=dist.device)
    non_matches_before = counts[:, :p].cumsum(1)  # non-matches ranked before the j-th match
    return non_matches_before + j + 1, n_match


def _tied_matches_first(dist: torch.Tensor, match: torch.Tensor, closest: torch.Tensor, where: torch.Tensor,
                        before: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """For a non-match at exactly a match's distance: how many such matches come earlier in the gallery (a
    stable sort puts them first). Ties are rare, so only the tied items are looked at."""
    p = closest.shape[1]
    tied = ~match & (before < p) & (closest.gather(1, before.clamp(max=p - 1)) == dist)
    extra = torch.zeros_like(before)
    rows, cols = tied.nonzero(as_tuple=True)
    if len(rows):
        same = (closest[rows] == dist[rows, cols][:, None]) & (where[rows] < cols[:, None])
        extra[rows, cols] = same.sum(1)
    return extra


def _inputs(dist: Any, query_labels: Any, gallery_labels: Any) -> tuple[torch.Tensor, ...]:
    d = _tensor(dist)
    ql, gl = _tensor(query_labels).to(d.device), _tensor(gallery_labels).to(d.device)
    _check(d, ql, gl)
    return d, ql, gl


def average_precisions(dist: Any, query_labels: Any, gallery_labels: Any, *, exclude_self: bool = False) -> Any:
    """Average precision of each query's ranking of the gallery; NaN where the gallery holds no match.

    Args:
        dist: (Q, G) distances, smaller is closer.
        query_labels: (Q,) identity of each query.
        gallery_labels: (G,) identity of each gallery item.
        exclude_self: the queries are the gallery (each val image a query against all the others): query i
            does not retrieve itself, and an identity with a single image has no match (NaN).
    """
    d, ql, gl = _inputs(dist, query_labels, gallery_labels)
    out = []
    for ranks, n_match in _match_ranks(d, ql, gl, exclude_self):
        j = torch.arange(ranks.shape[1], device=d.device)
        precision = (j + 1).to(torch.float64) / ranks.to(torch.float64)
        valid = j[None, :] < n_match[:, None]
        ap = torch.where(valid, precision, 0.0).sum(1) / n_match.clamp(min=1)
        out.append(torch.where(n_match > 0, ap, torch.tensor(math.nan, dtype=torch.float64, device=d.device)))
    result = torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)
    return _like(result, dist)


def mean_average_precision(dist: Any, query_labels: Any, gallery_labels: Any, *, exclude_self: bool = False) -> float:
    """mAP: the mean of the queries' average precisions, over queries with a match in the gallery."""
    aps = _aps(dist, query_labels, gallery_labels, exclude_self)
    finite = aps[np.isfinite(aps)]
    return float(finite.mean()) if finite.size else math.nan


def identity_balanced_map(dist: Any, query_labels: Any, gallery_labels: Any, *, exclude_self: bool = False) -> float:
    """The mean over identities of the mean AP of that identity's queries: each individual counts once,
    however many images it has (an imbalanced set otherwise rewards the frequent identities)."""
    aps = _aps(dist, query_labels, gallery_labels, exclude_self)
    labels = np.asarray(_tensor(query_labels).cpu())
    per_identity = [aps[labels == k] for k in np.unique(labels)]
    means = [a[np.isfinite(a)].mean() for a in per_identity if np.isfinite(a).any()]
    return float(np.mean(means)) if means else math.nan


def _aps(dist: Any, query_labels: Any, gallery_labels: Any, exclude_self: bool) -> np.ndarray:
    aps = average_precisions(_tensor(dist), query_labels, gallery_labels, exclude_self=exclude_self)
    return aps.cpu().numpy()


def cmc(dist: Any, query_labels: Any, gallery_labels: Any, ks: tuple[int, ...] = (1, 5), *,
        exclude_self: bool = False) -> dict[int, float]:  # fmt: skip
    """Rank-k accuracy: the share of queries (with a match) whose first match is among the k closest."""
    d, ql, gl = _inputs(dist, query_labels, gallery_labels)
    firsts = [ranks[n_match > 0, 0].cpu() for ranks, n_match in _match_ranks(d, ql, gl, exclude_self)]
    first = torch.cat(firsts) if firsts else torch.zeros(0)
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
