"""What a reid run reports: the protocol's metrics of a split (plain per epoch; at the end also with each
inference refinement and with all of them), the per-query and per-identity tables, and the saved embeddings.

Metric names are ``split/name[@refinement]``: ``val/mAP``, ``test/mAP_identity``, ``test/rank1@flip``,
``test/mAP@qe``, ``test/mAP@rerank``, ``test/mAP@all`` (all three combined).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from core.datasets import ClassificationData
from core.recipes.reid.choices import REFINEMENTS
from core.recipes.reid.embeddings import SavedEmbeddings
from core.recipes.reid.loop import Embedded
from core.recipes.reid.refine import Refinements, query_aps, refined_distances, retrieval_metrics, top_matches


def saved_embeddings(out: Embedded, data: ClassificationData, split: str) -> SavedEmbeddings:
    """The embeddings of a pass with the image paths and identity names they need to be read alone."""
    samples = data.splits[split]
    return SavedEmbeddings(
        out.embeddings.numpy(), None if out.flipped is None else out.flipped.numpy(), out.labels.numpy(),
        np.array([samples[int(i)].path for i in out.indices]), np.array(data.classes),
    )  # fmt: skip


PLAIN = Refinements()


def split_metrics(saved: SavedEmbeddings, prefix: str, refine: Refinements = PLAIN) -> dict[str, float]:
    """``{prefix}/mAP``, ``/mAP_identity``, ``/rank1``, ``/rank5`` (with the refinement suffix, if any)."""
    dist = refined_distances(saved.embeddings, saved.flipped, refine)
    return {f"{prefix}/{name}{refine.suffix}": value for name, value in retrieval_metrics(dist, saved.labels).items()}


def refinement_metrics(saved: SavedEmbeddings, prefix: str, settings: Refinements) -> dict[str, float]:
    """The metrics plain, with each refinement alone, and with all of them (``@flip``, ``@qe``, ``@rerank``,
    ``@all``)."""
    metrics = split_metrics(saved, prefix, settings.only())
    for chosen in [(name,) for name in REFINEMENTS] + [REFINEMENTS]:
        metrics |= split_metrics(saved, prefix, settings.only(*chosen))
    return metrics


def query_rows(saved: SavedEmbeddings, refine: Refinements, top_k: int) -> list[dict[str, Any]]:
    """One row per query: its image, identity, AP, the rank of its first match and its top-k gallery images
    (image, identity, distance, cosine similarity, whether it is the same identity)."""
    dist = refined_distances(saved.embeddings, saved.flipped, refine)
    aps = query_aps(dist, saved.labels)
    queries = np.flatnonzero(np.isfinite(aps))
    if not len(queries):
        return []
    top, top_dist = top_matches(dist, top_k, queries)
    emb = torch.from_numpy(saved.embeddings)
    names = saved.names
    rows = []
    for q, indices, distances in zip(queries, top.tolist(), top_dist.tolist(), strict=True):
        similarity = (emb[indices] @ emb[q]).tolist()
        matches = [
            {"image": str(saved.paths[g]), "identity": str(names[g]), "distance": d, "similarity": s,
             "correct": bool(saved.labels[g] == saved.labels[q])}
            for g, d, s in zip(indices, distances, similarity, strict=True)
        ]  # fmt: skip
        first = next((i + 1 for i, m in enumerate(matches) if m["correct"]), None)
        rows.append({"image": str(saved.paths[q]), "identity": str(names[q]), "ap": float(aps[q]),
                     "first_match_rank": first, "top": matches})  # fmt: skip
    return rows


def identity_rows(queries: list[dict[str, Any]], saved: SavedEmbeddings) -> list[dict[str, Any]]:
    """One row per identity of the split: images, queries, mean AP of its queries and its rank-1 share."""
    counts = np.bincount(saved.labels, minlength=len(saved.identities))
    by_identity: dict[str, list[dict[str, Any]]] = {}
    for row in queries:
        by_identity.setdefault(row["identity"], []).append(row)
    rows = []
    for index in np.flatnonzero(counts):
        name = str(saved.identities[index])
        mine = by_identity.get(name, [])
        rows.append({
            "identity": name, "images": int(counts[index]), "queries": len(mine),
            "mAP": float(np.mean([r["ap"] for r in mine])) if mine else math.nan,
            "rank1": float(np.mean([r["first_match_rank"] == 1 for r in mine])) if mine else math.nan,
        })  # fmt: skip
    return rows
