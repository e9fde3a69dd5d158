"""Textbook retrieval code, the peers of core.evaluation.retrieval: a per-query Python loop for average
precision (as pytorch-metric-learning and the Market-1501 evaluation scripts compute it) and the NumPy
k-reciprocal re-ranking as it is commonly implemented (Zhong et al., CVPR 2017, the authors' re_ranking.py).
The tests use them as oracles; bench/bench_retrieval.py times against them."""

from __future__ import annotations

import numpy as np


def average_precisions_loop(dist: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray) -> np.ndarray:
    """AP per query by sorting each row (stable) and walking it; NaN without a match."""
    aps = np.full(len(query_labels), np.nan)
    for i in range(len(query_labels)):
        order = np.argsort(dist[i], kind="stable")
        hits = gallery_labels[order] == query_labels[i]
        if not hits.any():
            continue
        positions = np.flatnonzero(hits) + 1  # 1-based ranks of the matches
        aps[i] = np.mean(np.arange(1, len(positions) + 1) / positions)
    return aps


def cmc_loop(dist: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray, k: int) -> float:
    firsts = []
    for i in range(len(query_labels)):
        hits = gallery_labels[np.argsort(dist[i], kind="stable")] == query_labels[i]
        if hits.any():
            firsts.append(int(np.argmax(hits)) + 1)
    return float(np.mean(np.array(firsts) <= k))


def re_ranking(q_g_dist, q_q_dist, g_g_dist, k1=20, k2=6, lambda_value=0.3):
    """The commonly used NumPy implementation, kept as written (loops and all)."""
    original_dist = np.concatenate(
        [np.concatenate([q_q_dist, q_g_dist], axis=1), np.concatenate([q_g_dist.T, g_g_dist], axis=1)], axis=0
    )
    return _re_ranking_full(original_dist, q_g_dist.shape[0], k1, k2, lambda_value)[:, q_g_dist.shape[0]:]


def _re_ranking_full(original_dist, query_num, k1, k2, lambda_value):
    """The implementation from the full matrix on; returns the query rows (all columns)."""
    original_dist = np.power(original_dist, 2).astype(np.float32)
    original_dist = np.transpose(1.0 * original_dist / np.max(original_dist, axis=0))
    V = np.zeros_like(original_dist).astype(np.float32)
    initial_rank = np.argsort(original_dist).astype(np.int32)
    all_num = original_dist.shape[0]
    for i in range(all_num):
        forward_k_neigh_index = initial_rank[i, : k1 + 1]
        backward_k_neigh_index = initial_rank[forward_k_neigh_index, : k1 + 1]
        fi = np.where(backward_k_neigh_index == i)[0]
        k_reciprocal_index = forward_k_neigh_index[fi]
        k_reciprocal_expansion_index = k_reciprocal_index
        for j in range(len(k_reciprocal_index)):
            candidate = k_reciprocal_index[j]
            candidate_forward = initial_rank[candidate, : int(np.around(k1 / 2.0)) + 1]
            candidate_backward = initial_rank[candidate_forward, : int(np.around(k1 / 2.0)) + 1]
            fi_candidate = np.where(candidate_backward == candidate)[0]
            candidate_k_reciprocal_index = candidate_forward[fi_candidate]
            if len(np.intersect1d(candidate_k_reciprocal_index, k_reciprocal_index)) > 2.0 / 3 * len(
                candidate_k_reciprocal_index
            ):
                k_reciprocal_expansion_index = np.append(k_reciprocal_expansion_index, candidate_k_reciprocal_index)
        k_reciprocal_expansion_index = np.unique(k_reciprocal_expansion_index)
        weight = np.exp(-original_dist[i, k_reciprocal_expansion_index])
        V[i, k_reciprocal_expansion_index] = 1.0 * weight / np.sum(weight)
    original_dist = original_dist[:query_num,]
    if k2 != 1:
        V_qe = np.zeros_like(V, dtype=np.float32)
        for i in range(all_num):
            V_qe[i, :] = np.mean(V[initial_rank[i, :k2], :], axis=0)
        V = V_qe
    inv_index = [np.where(V[:, i] != 0)[0] for i in range(all_num)]
    jaccard_dist = np.zeros_like(original_dist, dtype=np.float32)
    for i in range(query_num):
        temp_min = np.zeros(shape=[1, all_num], dtype=np.float32)
        ind_non_zero = np.where(V[i, :] != 0)[0]
        ind_images = [inv_index[ind] for ind in ind_non_zero]
        for j in range(len(ind_non_zero)):
            temp_min[0, ind_images[j]] = temp_min[0, ind_images[j]] + np.minimum(
                V[i, ind_non_zero[j]], V[ind_images[j], ind_non_zero[j]]
            )
        jaccard_dist[i] = 1 - temp_min / (2.0 - temp_min)
    final_dist = jaccard_dist * (1 - lambda_value) + original_dist * lambda_value
    return final_dist[:query_num]
