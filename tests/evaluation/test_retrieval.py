"""Retrieval metrics and re-ranking against the textbook loops (bench/textbook_retrieval.py) and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bench.textbook_retrieval import average_precisions_loop, cmc_loop, re_ranking
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


def _embedded(n: int, identities: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, identities, n)
    centres = rng.normal(size=(identities, 8))
    return (centres[labels] + 0.7 * rng.normal(size=(n, 8))).astype(np.float32), labels


def test_average_precision_by_hand() -> None:
    # query 0 (id 1): gallery ranked 1, 2, 1 -> matches at ranks 1 and 3: AP = (1/1 + 2/3) / 2
    dist = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    aps = average_precisions(dist, np.array([1, 7]), np.array([1, 2, 1]))
    assert aps[0] == pytest.approx((1 + 2 / 3) / 2)
    assert math.isnan(aps[1])  # identity 7 is not in the gallery
    assert cmc(dist, np.array([1, 7]), np.array([1, 2, 1]), ks=(1,)) == {1: 1.0}


def test_identity_balanced_map_weighs_each_identity_once() -> None:
    # identity 0 has three queries with AP 1, identity 1 one query with AP 0.5
    dist = np.array([[0.1, 0.9], [0.1, 0.9], [0.1, 0.9], [0.1, 0.2]])
    q, g = np.array([0, 0, 0, 1]), np.array([0, 1])
    assert mean_average_precision(dist, q, g) == pytest.approx((3 * 1 + 0.5) / 4)
    assert identity_balanced_map(dist, q, g) == pytest.approx((1 + 0.5) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_the_per_query_loop(seed: int) -> None:
    emb, labels = _embedded(300, 25, seed)
    q, g = emb[:60], emb[60:]
    dist = pairwise_distances(q, g).numpy()
    expected = average_precisions_loop(dist, labels[:60], labels[60:])
    got = average_precisions(dist, labels[:60], labels[60:])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    for k in (1, 5):
        assert cmc(dist, labels[:60], labels[60:], ks=(k,))[k] == pytest.approx(
            cmc_loop(dist, labels[:60], labels[60:], k)
        )


@pytest.mark.parametrize(("k1", "k2", "lam"), [(20, 6, 0.3), (5, 1, 0.0), (7, 3, 0.5)])
def test_rerank_equals_the_common_implementation(k1: int, k2: int, lam: float) -> None:
    emb, _ = _embedded(140, 12, 3)
    q, g = emb[:40], emb[40:]
    q_g, q_q, g_g = (pairwise_distances(a, b).numpy() for a, b in ((q, g), (q, q), (g, g)))
    expected = re_ranking(q_g, q_q, g_g, k1=k1, k2=k2, lambda_value=lam)
    got = k_reciprocal_rerank(q_g, q_q, g_g, k1=k1, k2=k2, lambda_value=lam)
    assert isinstance(got, np.ndarray) and got.shape == (40, 100)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_rerank_keeps_torch_in_torch_and_changes_the_ranking() -> None:
    emb, labels = _embedded(200, 10, 4)
    q, g = torch.from_numpy(emb[:50]), torch.from_numpy(emb[50:])
    q_g = pairwise_distances(q, g)
    got = k_reciprocal_rerank(q_g, pairwise_distances(q, q), pairwise_distances(g, g))
    assert isinstance(got, torch.Tensor)
    assert mean_average_precision(got, labels[:50], labels[50:]) != mean_average_precision(
        q_g, labels[:50], labels[50:]
    )


def test_flips_and_query_expansion_return_unit_vectors() -> None:
    emb, _ = _embedded(30, 5, 5)
    combined = combine_flips(emb, emb[::-1].copy())
    assert torch.allclose(combined.norm(dim=1), torch.ones(30))
    expanded = query_expansion(emb[:5], emb[5:], top_k=3, alpha=3.0)
    assert expanded.shape == (5, 8) and torch.allclose(expanded.norm(dim=1), torch.ones(5))
    g = torch.nn.functional.normalize(torch.from_numpy(emb[5:]), dim=1)
    q = torch.nn.functional.normalize(torch.from_numpy(emb[:5]), dim=1)
    idx = (q @ g.T).topk(3, dim=1).indices
    by_hand = torch.nn.functional.normalize(q + g[idx].sum(1), dim=1)  # alpha 0: plain average
    assert torch.allclose(query_expansion(emb[:5], emb[5:], top_k=3), by_hand, atol=1e-6)


def test_equal_distances_rank_in_gallery_order_as_a_stable_sort() -> None:
    dist = np.array([[0.5, 0.5, 0.5, 0.2]], dtype=np.float32)
    ql, gl = np.array([1]), np.array([2, 1, 2, 1])
    assert average_precisions(dist, ql, gl)[0] == pytest.approx(average_precisions_loop(dist, ql, gl)[0])


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_rows_with_many_ties_equal_the_per_query_loop(decimals: int) -> None:
    emb, labels = _embedded(400, 12, decimals)
    dist = pairwise_distances(emb[:80], emb[80:]).numpy().round(decimals)  # ties between matches and others
    expected = average_precisions_loop(dist, labels[:80], labels[80:])
    np.testing.assert_allclose(average_precisions(dist, labels[:80], labels[80:]), expected, rtol=1e-12)


def test_the_gpu_ranking_equals_the_cpu_ranking() -> None:
    from core.evaluation.retrieval import _ranks_numpy, _ranks_torch

    emb, labels = _embedded(120, 9, 6)
    dist = pairwise_distances(emb[:30], emb[30:]).round(decimals=1)  # many ties on purpose
    match = torch.from_numpy(labels[30:])[None, :] == torch.from_numpy(labels[:30])[:, None]
    (cpu_ranks, cpu_n), (torch_ranks, torch_n) = _ranks_numpy(dist, match), _ranks_torch(dist, match)
    valid = torch.arange(cpu_ranks.shape[1])[None, :] < cpu_n[:, None]
    assert torch.equal(cpu_n, torch_n) and torch.equal(cpu_ranks[valid], torch_ranks[valid])


def test_leave_one_out_protocol_skips_self_and_single_images() -> None:
    emb, labels = _embedded(60, 8, 7)
    labels[0] = 99  # an identity with a single image: not a query
    dist = pairwise_distances(emb, emb).numpy()
    aps = average_precisions(dist, labels, labels, exclude_self=True)
    assert math.isnan(aps[0])
    for i in (1, 17, 42):
        others = np.arange(60) != i
        expected = average_precisions_loop(dist[i : i + 1, others], labels[i : i + 1], labels[others])[0]
        assert aps[i] == pytest.approx(expected)
    expected_map = np.nanmean(aps)
    assert mean_average_precision(dist, labels, labels, exclude_self=True) == pytest.approx(expected_map)
