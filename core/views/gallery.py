"""What the Gallery page shows for a finished reid run: its saved embeddings ranked as the re-ID protocol has
it (each image a query against all the others), with flip TTA, query expansion and re-ranking switchable; a
query to look at (random, worst AP, by identity); its top-k gallery with similarity and correct / wrong marks;
and a 2-D map of the val embeddings. The page loads and caches; every number comes from here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import runfolder
from core.recipes.reid.embeddings import EmbeddingsError, SavedEmbeddings, embeddings_file, load_embeddings
from core.recipes.reid.refine import Refinements, query_aps, refined_distances, summarize, top_matches
from core.store import Store, queries
from core.views.labels import run_label
from core.views.predict import FINISHED

SOURCES = ("random", "worst AP", "by identity", "upload")
SWITCHES = {"flip": "Flip TTA", "qe": "Query expansion", "rerank": "Re-ranking"}  # Refinements field -> label
METRICS = {"mAP": "mAP", "mAP_identity": "identity-balanced mAP", "rank1": "rank-1", "rank5": "rank-5"}
MAX_K = 20  # the most gallery matches a query shows
RANDOM_KEY = "gallery_random"  # the session's random query, kept across reruns


class GalleryError(ValueError):
    """A run whose gallery cannot be shown; the message says why and what to pick instead."""


@dataclass(frozen=True)
class Gallery:
    """A run's saved embeddings of one split and its refinement settings (from its config)."""

    run_id: str
    split: str
    saved: SavedEmbeddings
    settings: Refinements


@dataclass(frozen=True)
class Ranking:
    """Every query's ranking of the gallery under one choice of refinements."""

    aps: np.ndarray  # (N,) AP of each image as a query; NaN for an identity with one image
    metrics: dict[str, float]  # mAP, mAP_identity, rank1, rank5
    top: np.ndarray  # (N, K) the K closest other images of each image, nearest first
    distance: np.ndarray  # (N, K) their distances


def finished_runs(store: Store, has_embeddings: Callable[[str], bool], limit: int = 300) -> dict[str, str]:
    """The finished reid runs that saved embeddings, newest first: id -> label with the test mAP."""
    runs, _ = queries.find_runs(store, metrics=["test/mAP"], recipe=["reid"], status=list(FINISHED), limit=limit)
    rows = zip(runs["id"], runs["name"], runs["test/mAP"], strict=True)
    return {run_id: run_label(name, run_id) + (f" · mAP {m:.3f}" if m == m else "")
            for run_id, name, m in rows if has_embeddings(run_id)}  # fmt: skip


def split_file(run_dir: Path, split: str) -> Path:
    return run_dir / runfolder.ARTIFACTS_DIR / embeddings_file(split)


def gallery_split(run_dir: Path) -> str | None:
    """The split the Gallery ranks: test, or val for a dataset without test images; None when neither was saved."""
    return next((split for split in ("test", "val") if split_file(run_dir, split).is_file()), None)


def load_gallery(run_dir: Path, split: str | None = None) -> Gallery:
    """The run's embeddings of ``split`` (default: test, else val) and the refinement settings of its config."""
    split = split or gallery_split(run_dir)
    if split is None:
        raise GalleryError(f"run {run_dir.name} saved no embeddings; pick a reid run that finished")
    try:
        saved = load_embeddings(split_file(run_dir, split))
    except EmbeddingsError as exc:
        raise GalleryError(str(exc)) from exc
    config = runfolder.read_json(run_dir / runfolder.CONFIG_FILE, {}) or {}
    return Gallery(run_dir.name, split, saved, Refinements.from_config(config))


def refinements(gallery: Gallery, on: dict[str, bool]) -> Refinements:
    """The run's settings with the switches of ``on`` (keys of SWITCHES)."""
    return gallery.settings.only(*(name for name, chosen in on.items() if chosen))


def can_switch(gallery: Gallery, name: str) -> bool:
    """Whether the refinement ``name`` can be turned on: flip TTA needs the mirrored images' embeddings."""
    return name != "flip" or gallery.saved.flipped is not None


def switch_help(gallery: Gallery, name: str) -> str | None:
    """Why a switch is off for good, or None."""
    return None if can_switch(gallery, name) else "this run saved no embeddings of mirrored images"


def rank(gallery: Gallery, refine: Refinements, k: int = MAX_K) -> Ranking:
    """Rank every image against all the others of the split; the overall metrics and each query's top k."""
    dist = refined_distances(gallery.saved.embeddings, gallery.saved.flipped, refine)
    top, distance = top_matches(dist, max(k, 5))
    aps = query_aps(dist, gallery.saved.labels)  # one ranking pass; the metrics follow from it
    return Ranking(aps, summarize(aps, gallery.saved.labels, top.numpy()), top.numpy(), distance.numpy())


def rank_upload(gallery: Gallery, embedding: np.ndarray, flipped: np.ndarray, refine: Refinements,
                k: int = MAX_K) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """An image from outside the split as one more query (it matches no one, so it has no AP): its top k
    (indices, distances) and the embedding similarities are measured from (with flip TTA, the mean's)."""
    saved = gallery.saved
    emb = np.vstack([saved.embeddings, embedding[None]])
    flips = np.vstack([saved.flipped, flipped[None]]) if saved.flipped is not None else None
    top, distance = top_matches(refined_distances(emb, flips, refine), k, [len(emb) - 1])
    vector = embedding + flipped if refine.flip else embedding
    return top.numpy()[0], distance.numpy()[0], vector / np.linalg.norm(vector)


def deltas(ranking: Ranking, plain: Ranking) -> list[tuple[str, float, float]]:
    """(label, value, change from the plain ranking) of each overall metric."""
    return [(label, ranking.metrics[key], ranking.metrics[key] - plain.metrics[key]) for key, label in METRICS.items()]


# -- choosing a query ----------------------------------------------------------------------------------
def query_indices(ranking: Ranking) -> np.ndarray:
    """The images that are queries (their identity has another image in the split)."""
    return np.flatnonzero(np.isfinite(ranking.aps))


def worst_queries(ranking: Ranking, n: int = 50) -> list[int]:
    """The ``n`` queries with the lowest AP, worst first."""
    found = query_indices(ranking)
    return found[np.argsort(ranking.aps[found], kind="stable")][:n].tolist()


def identities(gallery: Gallery, ranking: Ranking) -> list[str]:
    """The identities that have queries, sorted."""
    return sorted({str(name) for name in gallery.saved.names[query_indices(ranking)]})


def queries_of(gallery: Gallery, ranking: Ranking, identity: str) -> list[int]:
    """The queries of one identity, in split order."""
    found = query_indices(ranking)
    return found[gallery.saved.names[found] == identity].tolist()


def random_query(ranking: Ranking, state: MutableMapping[str, Any], shuffle: bool,
                 rng: random.Random | None = None) -> int | None:  # fmt: skip
    """A random query that stays the same across reruns until ``shuffle`` asks for another one; None when the
    split has no query (every identity has one image)."""
    found = query_indices(ranking)
    if not len(found):
        return None
    if shuffle or RANDOM_KEY not in state:
        state[RANDOM_KEY] = (rng or random).randrange(len(found))
    return int(found[state[RANDOM_KEY] % len(found)])


def query_label(gallery: Gallery, ranking: Ranking, index: int) -> str:
    """'AP 0.12 · jaguar_03 · 0004.png'."""
    path = str(gallery.saved.paths[index])
    return f"AP {ranking.aps[index]:.2f} · {gallery.saved.names[index]} · {path.rsplit('/', 1)[-1]}"


def index_of(gallery: Gallery, path: str) -> int | None:
    """The position of an image in another run's gallery (runs side by side), or None when it is not there."""
    found = np.flatnonzero(gallery.saved.paths == path)
    return int(found[0]) if len(found) else None


# -- what a query retrieves ----------------------------------------------------------------------------
def ranked_embeddings(gallery: Gallery, flip: bool) -> np.ndarray:
    """The embeddings similarities are shown for: with flip TTA, the normalised mean with the mirror image's."""
    emb = gallery.saved.embeddings
    if flip and gallery.saved.flipped is not None:
        emb = emb + gallery.saved.flipped
        emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    return emb


def matches(gallery: Gallery, top: np.ndarray, distance: np.ndarray, k: int, *, flip: bool, query: int | None = None,
            query_embedding: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """The top ``k`` gallery images of a query (an image of the split, or an upload's embedding): rank, image,
    identity, similarity (cosine), distance (as ranked) and, for a query of the split, whether it is correct."""
    emb = ranked_embeddings(gallery, flip)
    target = emb[query] if query is not None else query_embedding
    chosen = top[:k]
    frame = pd.DataFrame({
        "rank": np.arange(1, len(chosen) + 1), "image": gallery.saved.paths[chosen],
        "identity": gallery.saved.names[chosen], "similarity": emb[chosen] @ target, "distance": distance[:k],
    })  # fmt: skip
    if query is not None:
        frame["correct"] = gallery.saved.labels[chosen] == gallery.saved.labels[query]
    return frame


def first_match(frame: pd.DataFrame) -> int | None:
    """The rank of the first correct match among the shown ones, or None."""
    hits = frame.index[frame["correct"]] if "correct" in frame else []
    return int(frame.loc[hits[0], "rank"]) if len(hits) else None


# -- the embedding map ---------------------------------------------------------------------------------
def embedding_map(saved: SavedEmbeddings) -> pd.DataFrame:
    """A 2-D projection of the embeddings (their first two principal components), one row per image with its
    identity and file, for a scatter coloured by identity."""
    x = saved.embeddings - saved.embeddings.mean(axis=0, keepdims=True)
    if len(x) < 2:
        raise GalleryError("a map needs at least two embeddings")
    _, _, vt = np.linalg.svd(x, full_matrices=False)  # (D, D): principal directions
    xy = x @ vt[:2].T if vt.shape[0] >= 2 else np.hstack([x @ vt[:1].T, np.zeros((len(x), 1))])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "identity": saved.names, "image": saved.paths})


def load_map(run_dir: Path) -> pd.DataFrame:
    """The embedding map of the run's val embeddings (the gallery split's when val was not saved)."""
    split = "val" if split_file(run_dir, "val").is_file() else gallery_split(run_dir)
    return embedding_map(load_gallery(run_dir, split).saved)
