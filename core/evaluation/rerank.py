"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) as it is commonly implemented, vectorised in torch and
memory bounded: the (Q+G) x (Q+G) distance matrix is never held, only blocks of its rows and a sparse V.

The steps of the common implementation, each kept exactly: squared distances, each column divided by its
maximum; the k1 + 1 nearest neighbours of every image (itself included); its k-reciprocal set (neighbours
that have it among their own k1 + 1); the set expanded by each member's round(k1 / 2)-reciprocal set when
more than 2/3 of that set lies in it; Gaussian weights exp(-d) over the expanded set, normalised (the rows of
V); local query expansion averaging the rows of the k2 nearest neighbours; the Jaccard distance from the sums
of element-wise minima of V's rows; and the blend ``jaccard * (1 - lambda) + original * lambda``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from core.evaluation.tensors import ROW_BLOCK
from core.evaluation.tensors import as_tensor as _tensor
from core.evaluation.tensors import like as _like


class _Blocks:
    """The full distance matrix [[q_q, q_g], [q_g^T, g_g]], transposed, squared and divided by each column's
    maximum, as the common implementation builds it (``(d**2 / max(d**2, axis=0)).T``), served by blocks of rows
    or by entries; it is never held whole. The transposed inputs are kept contiguous (as much memory as the
    inputs) so that a block of rows is two slices side by side."""

    def __init__(self, q_g: torch.Tensor, q_q: torch.Tensor, g_g: torch.Tensor) -> None:
        self.q_g, self.q_qT, self.q_gT, self.g_gT = q_g, q_q.T.contiguous(), q_g.T.contiguous(), g_g.T.contiguous()
        self.n_query, self.n = q_q.shape[0], q_q.shape[0] + g_g.shape[0]
        self.row_max = torch.empty(self.n, dtype=torch.float32, device=q_g.device)  # filled by rows()

    def raw_rows(self, start: int, stop: int) -> torch.Tensor:
        nq, parts = self.n_query, []
        if start < nq:  # rows of full^T for queries: [q_q^T | q_g]
            a, b = start, min(stop, nq)
            parts.append(torch.cat([self.q_qT[a:b], self.q_g[a:b]], dim=1))
        if stop > nq:  # for gallery images: [q_g^T | g_g^T]
            a, b = max(start - nq, 0), stop - nq
            parts.append(torch.cat([self.q_gT[a:b], self.g_gT[a:b]], dim=1))
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def rows(self, start: int, stop: int) -> torch.Tensor:
        """Rows [start, stop) of the normalised matrix (float32); records each row's maximum for ``entries``."""
        block = self.raw_rows(start, stop).to(torch.float32) ** 2
        self.row_max[start:stop] = block.max(dim=1).values
        return block / self.row_max[start:stop, None]

    def entries(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Entries (rows[k], cols[k]) of the normalised matrix, once ``rows`` has seen every row."""
        nq = self.n_query
        rq, cq = rows < nq, cols < nq
        r, c = torch.where(rq, rows, rows - nq), torch.where(cq, cols, cols - nq)
        value = torch.where(
            rq,
            torch.where(cq, self.q_qT[r.clamp(max=nq - 1), c.clamp(max=nq - 1)], self.q_g[r.clamp(max=nq - 1), c]),
            torch.where(cq, self.q_gT[r, c.clamp(max=nq - 1)], self.g_gT[r, c]),
        )  # fmt: skip
        return value.to(torch.float32) ** 2 / self.row_max[rows]


def _neighbours(blocks: _Blocks, k: int) -> torch.Tensor:
    """The k nearest of every row (itself included), nearest first: (N, k) indices."""
    out = [blocks.rows(s, min(s + ROW_BLOCK, blocks.n)).topk(k, dim=1, largest=False, sorted=True).indices
           for s in range(0, blocks.n, ROW_BLOCK)]  # fmt: skip
    return torch.cat(out)


def _reciprocal(forward: torch.Tensor) -> torch.Tensor:
    """mask[i, t]: forward[i, t] has i among its own neighbours (N x k booleans)."""
    rows = torch.arange(len(forward), device=forward.device)[:, None, None]
    return (forward[forward] == rows).any(-1)


def _expanded_sets(forward: torch.Tensor, recip: torch.Tensor, half: torch.Tensor, half_recip: torch.Tensor,
                   rows: slice) -> torch.Tensor:  # fmt: skip
    """Each row's k-reciprocal set expanded by the half-size sets that overlap it by more than 2/3: (c, m)
    indices sorted, with n (the number of images) where there is nothing."""
    n = len(forward)
    own, own_mask = forward[rows], recip[rows]  # (c, K)
    cand, cand_mask = half[own], half_recip[own]  # (c, K, H): each member's half-size reciprocal set
    in_own = ((cand[..., None] == own[:, None, None, :]) & own_mask[:, None, None, :]).any(-1) & cand_mask
    overlap = in_own.sum(-1).to(torch.float64)
    size = cand_mask.sum(-1).to(torch.float64)
    accept = own_mask & (overlap > 2.0 / 3.0 * size)  # the implementation's float comparison, kept exactly
    members = torch.where(own_mask, own, n)
    added = torch.where(accept[..., None] & cand_mask, cand, n).flatten(1)
    return torch.cat([members, added], dim=1).sort(dim=1).values


def _weights(blocks: _Blocks, sets: torch.Tensor, start: int, stop: int) -> tuple[torch.Tensor, ...]:
    """COO entries (row, column, weight) of V for rows [start, stop): exp(-d) over each unique set member,
    normalised to sum 1."""
    n = blocks.n
    fresh = torch.ones_like(sets, dtype=torch.bool)
    fresh[:, 1:] = sets[:, 1:] != sets[:, :-1]
    keep = fresh & (sets < n)
    rows = torch.arange(start, stop, device=sets.device)[:, None].expand_as(sets)
    dist = blocks.entries(rows.reshape(-1), sets.clamp(max=n - 1).reshape(-1)).view(sets.shape)
    w = torch.where(keep, torch.exp(-dist), torch.zeros_like(dist))
    w = w / w.sum(1, keepdim=True)
    r, c = keep.nonzero(as_tuple=True)
    return r + start, sets[r, c], w[r, c]


def _sparse_v(blocks: _Blocks, forward: torch.Tensor, k1: int) -> torch.Tensor:
    """V as a coalesced sparse (N x N) float32 matrix."""
    recip = _reciprocal(forward)
    half_k = round(k1 / 2)  # numpy's around, as the implementation: round half to even
    half = forward[:, : half_k + 1].contiguous()
    half_recip = _reciprocal(half)
    rows, cols, vals = [], [], []
    for s in range(0, blocks.n, ROW_BLOCK):
        e = min(s + ROW_BLOCK, blocks.n)
        sets = _expanded_sets(forward, recip, half, half_recip, slice(s, e))
        r, c, v = _weights(blocks, sets, s, e)
        rows.append(r), cols.append(c), vals.append(v)
    index = torch.stack([torch.cat(rows), torch.cat(cols)])
    return torch.sparse_coo_tensor(index, torch.cat(vals), (blocks.n, blocks.n), check_invariants=False).coalesce()


def _local_query_expansion(v: torch.Tensor, forward: torch.Tensor, k2: int) -> torch.Tensor:
    """Each row of V replaced by the mean of the rows of its k2 nearest neighbours (itself first)."""
    n = v.shape[0]
    src = forward[:, :k2]  # (N, k2)
    a_index = torch.stack([torch.arange(n, device=v.device).repeat_interleave(k2), src.reshape(-1)])
    weights = torch.full((n * k2,), 1.0 / k2, device=v.device)
    a = torch.sparse_coo_tensor(a_index, weights, (n, n), check_invariants=False).coalesce()
    with warnings.catch_warnings():  # torch notes that its sparse support is in beta; the product is checked
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse.mm(a, v).coalesce()


def _jaccard(v: torch.Tensor, n_query: int) -> torch.Tensor:
    """Jaccard distances between the query rows of V and its gallery rows: 1 - m / (2 - m), m being the sum
    of element-wise minima, from the entries the two rows share (an inverted index over V's columns)."""
    n = v.shape[0]
    rows, cols = v.indices()
    vals = v.values()
    gallery = rows >= n_query
    by_col = torch.argsort(cols[gallery], stable=True)
    g_rows, g_cols, g_vals = rows[gallery][by_col], cols[gallery][by_col], vals[gallery][by_col]
    col_start = torch.searchsorted(g_cols, torch.arange(n, device=v.device))
    col_count = torch.bincount(g_cols, minlength=n)
    out = []
    for s in range(0, n_query, ROW_BLOCK):
        e = min(s + ROW_BLOCK, n_query)
        mine = (rows >= s) & (rows < e)
        q_rows, q_cols, q_vals = rows[mine], cols[mine], vals[mine]
        reps = col_count[q_cols]
        pair_q = torch.repeat_interleave(torch.arange(len(q_rows), device=v.device), reps)
        offsets = torch.arange(int(reps.sum()), device=v.device) - torch.repeat_interleave(reps.cumsum(0) - reps, reps)
        pair_g = col_start[q_cols][pair_q] + offsets
        minima = torch.minimum(q_vals[pair_q], g_vals[pair_g])
        m = torch.zeros(e - s, n - n_query, dtype=vals.dtype, device=v.device)
        m.index_put_((q_rows[pair_q] - s, g_rows[pair_g] - n_query), minima, accumulate=True)
        out.append(1 - m / (2.0 - m))
    return torch.cat(out)


def k_reciprocal_rerank(q_g_dist: Any, q_q_dist: Any, g_g_dist: Any, k1: int = 20, k2: int = 6,
                        lambda_value: float = 0.3) -> Any:  # fmt: skip
    """Re-ranked (Q, G) distances by k-reciprocal encoding.

    Args:
        q_g_dist: (Q, G) query-gallery distances; q_q_dist: (Q, Q); g_g_dist: (G, G).
        k1: neighbours of the k-reciprocal sets (the paper's 20).
        k2: neighbours averaged by local query expansion (1: none).
        lambda_value: weight of the original distance in the blend (0: Jaccard only).

    Returns:
        (Q, G) distances, numpy or torch as the input; torch computes on the inputs' device.
    """
    q_g, q_q, g_g = _tensor(q_g_dist, torch.float32), _tensor(q_q_dist, torch.float32), _tensor(g_g_dist, torch.float32)
    if q_g.shape != (q_q.shape[0], g_g.shape[0]) or q_q.shape[0] != q_q.shape[1] or g_g.shape[0] != g_g.shape[1]:
        raise ValueError(f"need q_g (Q, G), q_q (Q, Q), g_g (G, G); got {tuple(q_g.shape)}, {tuple(q_q.shape)}, "
                         f"{tuple(g_g.shape)}")  # fmt: skip
    q_q, g_g = q_q.to(q_g.device), g_g.to(q_g.device)
    blocks = _Blocks(q_g, q_q, g_g)
    k1 = min(k1, blocks.n - 1)
    forward = _neighbours(blocks, k1 + 1)
    v = _sparse_v(blocks, forward, k1)
    if k2 != 1:
        v = _local_query_expansion(v, forward, k2)
    jaccard = _jaccard(v, blocks.n_query)
    nq = blocks.n_query
    original = q_g**2 / blocks.row_max[:nq, None]  # the query rows' gallery columns
    return _like(jaccard * (1 - lambda_value) + original * lambda_value, q_g_dist)
