"""What the Run page shows of a run's test predictions: the confusion matrix (counts, or shares of each true
class), the most confused pairs as the run logged them, a cell's or pair's images, and the predictions as
cards (thumbnail, truth, top-5 with probabilities) filtered by mistakes, make and confidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from core.store import Store, queries

# The most confused pairs the classify recipe logs, by confusion level.
TOP_CONFUSED = {"model": "test/top_confused", "make": "test/top_confused_make"}
# The predictions table's columns of truth and prediction, by confusion level.
_PREDICTION_COLUMNS = {"model": ("truth", "pred"), "make": ("truth_make", "pred_make")}
PAIR_COLUMNS = ["truth", "predicted", "count", "share_of_truth"]


def levels(store: Store, run_id: str) -> list[str]:
    """The confusion levels the run logged a matrix for ("make", "model")."""
    tables = set(queries.table_names(store, run_id))
    return [level for level in ("make", "model") if f"test/confusion_{level}" in tables]


def confusion(store: Store, run_id: str, level: str) -> pd.DataFrame:
    """Non-zero cells of the confusion matrix at ``level`` ("model" or "make"): truth, predicted, count (and
    the class indices when the run logged them)."""
    return pd.DataFrame(queries.run_table(store, run_id, f"test/confusion_{level}"))


def class_names(cells: pd.DataFrame) -> list[str]:
    """The classes of confusion cells in the run's class order (by index when logged, else by name)."""
    if {"truth_index", "predicted_index"} <= set(cells.columns):
        order = {**dict(zip(cells["truth"], cells["truth_index"])), **dict(zip(cells["predicted"],
                                                                               cells["predicted_index"]))}
        return sorted(order, key=lambda name: order[name])
    return sorted(set(cells["truth"]) | set(cells["predicted"]))


@dataclass(frozen=True)
class Matrix:
    """A confusion matrix ready to draw: rows truth, columns predicted, in ``names`` order."""

    names: list[str]
    counts: np.ndarray  # images per cell
    shade: np.ndarray  # what the colour shows: the counts, or each row's shares (per-row normalisation)


def matrix(cells: pd.DataFrame, per_row: bool = True) -> Matrix:
    """The full matrix of ``cells``; with ``per_row`` the colour is each cell's share of its true class, so a
    dominant diagonal does not wash out the mistakes."""
    names = class_names(cells)
    pos = {name: i for i, name in enumerate(names)}
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    for t, p, c in zip(cells["truth"], cells["predicted"], cells["count"]):
        counts[pos[t], pos[p]] += int(c)
    totals = counts.sum(axis=1, keepdims=True)
    shade = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0) if per_row else counts
    return Matrix(names, counts, shade.astype(float))


def confused_pairs(store: Store, run_id: str, level: str, limit: int = 15) -> pd.DataFrame:
    """The most confused pairs at ``level`` as the run logged them (truth, predicted, count, share_of_truth),
    most frequent first."""
    rows = queries.run_table(store, run_id, TOP_CONFUSED[level])
    return pd.DataFrame(rows, columns=PAIR_COLUMNS).head(limit)


def predictions(store: Store, run_id: str) -> pd.DataFrame:
    """The test predictions table (image, truth, pred, correct, top5, truth_make, pred_make)."""
    return pd.DataFrame(queries.run_table(store, run_id, "test/predictions"))


def pair_images(preds: pd.DataFrame, level: str, truth: str, predicted: str,
                limit: int = 12) -> tuple[list[str], list[str], int]:
    """The test images whose truth is ``truth`` and prediction ``predicted`` at ``level``: the first ``limit``
    paths, their captions, and how many there are in all."""
    truth_column, pred_column = _PREDICTION_COLUMNS[level]
    if truth_column not in preds or pred_column not in preds:
        return [], [], 0
    hits = preds[(preds[truth_column] == truth) & (preds[pred_column] == predicted)]
    shown = hits.head(limit)
    return shown["image"].tolist(), [f"{t} → {p}" for t, p in zip(shown[truth_column], shown[pred_column])], len(hits)


def confidence(preds: pd.DataFrame) -> pd.Series:
    """The probability the run gave its prediction of each image (its top-1's), NaN when not logged."""
    top5 = preds["top5"] if "top5" in preds else pd.Series([None] * len(preds), index=preds.index)
    return top5.map(lambda ranked: float(ranked[0].get("prob", np.nan)) if _ranked(ranked) else np.nan)


def filtered(preds: pd.DataFrame, *, wrong_only: bool = False, make: str | None = None,
             confidence_range: tuple[float, float] = (0.0, 1.0)) -> pd.DataFrame:
    """The predictions that pass the filters: mistakes only, one true make, the top-1's probability within
    ``confidence_range`` (inclusive; rows without a probability pass only the full range)."""
    keep = pd.Series(True, index=preds.index)
    if wrong_only and "correct" in preds:
        keep &= ~preds["correct"].fillna(True).astype(bool)
    if make and "truth_make" in preds:
        keep &= preds["truth_make"] == make
    low, high = confidence_range
    if (low, high) != (0.0, 1.0):
        conf = confidence(preds)
        keep &= conf.between(low, high)
    return preds[keep]


def cards(preds: pd.DataFrame, limit: int = 24) -> list[dict[str, Any]]:
    """The first ``limit`` predictions as cards: the image path, its file name, a verdict, the truth and the
    top-5 classes with probabilities as readable lines (no paths or JSON)."""
    out = []
    for row in preds.head(limit).to_dict("records"):
        ranked = row.get("top5") if _ranked(row.get("top5")) else []
        lines = [f"{i}. {c.get('class')} · {float(c.get('prob', np.nan)):.1%}" for i, c in enumerate(ranked, 1)]
        correct = row.get("correct")
        mark = "right" if correct else "wrong" if correct is not None else "unknown"
        out.append({"image": row.get("image"), "file": PurePath(str(row.get("image", ""))).name,
                     "title": f"{mark} · truth: {row.get('truth') or 'unknown'}", "top5": lines or
                     [f"predicted: {row.get('pred')}"]})  # fmt: skip
    return out


def _ranked(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray)) and len(value) > 0 and isinstance(value[0], dict)
