"""What the Predict page offers: the finished classify runs that have a checkpoint, and the test image to explain
(by make and model, at random, or among the misclassified). No torch here: the page loads the models."""

from __future__ import annotations

import random
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import pandas as pd

from core.store import Store, queries
from core.views.labels import run_label

FINISHED = ("succeeded", "cancelled", "crashed", "failed")  # a run in one of these wrote its last checkpoint
SOURCES = ("test images", "random", "misclassified", "upload")
TARGETS = {"prediction": "pred", "truth": "truth"}  # what a CAM explains, besides a class the user picks
A_CLASS = "a class"
RANDOM_KEY = "predict_random"  # the session's random test image, kept across reruns


def finished_runs(store: Store, has_checkpoint: Callable[[str], bool], limit: int = 300) -> dict[str, str]:
    """The finished classify runs whose checkpoint exists, newest first: id -> label with the test top-1.

    Args:
        store: the index.
        has_checkpoint: whether a run (by id) has its checkpoint file (the page knows where checkpoints live).
        limit: at most this many of the newest runs are looked at.
    """
    runs, _ = queries.find_runs(store, metrics=["test/top1"], recipe=["classify"], status=list(FINISHED),
                                limit=limit)
    return {run_id: run_label(name, run_id) + (f" · top-1 {top1:.1%}" if top1 == top1 else "")
            for run_id, name, top1 in zip(runs["id"], runs["name"], runs["test/top1"]) if has_checkpoint(run_id)}


def makes(preds: pd.DataFrame) -> list[str]:
    """The makes of the test images, sorted ([] when the table has none)."""
    return sorted(preds["truth_make"].dropna().unique()) if "truth_make" in preds else []


def models_of(preds: pd.DataFrame, make: str) -> list[str]:
    """The models of ``make`` among the test images, sorted."""
    return sorted(preds.loc[preds["truth_make"] == make, "truth"].unique())


def images_of(preds: pd.DataFrame, model: str) -> list[str]:
    """The test images of ``model``, in table order."""
    return preds.loc[preds["truth"] == model, "image"].tolist()


def row_of(preds: pd.DataFrame, image: str) -> pd.Series:
    """The prediction row of one test image."""
    return preds[preds["image"] == image].iloc[0]


def random_row(preds: pd.DataFrame, state: MutableMapping[str, Any], shuffle: bool,
               rng: random.Random | None = None) -> pd.Series:
    """A random test image that stays the same across reruns until ``shuffle`` (another one is asked for).

    Args:
        preds: the test predictions.
        state: the session's state, where the choice is kept under RANDOM_KEY.
        shuffle: choose again.
        rng: the random source (tests pass a seeded one).
    """
    if shuffle or RANDOM_KEY not in state:
        state[RANDOM_KEY] = (rng or random).randrange(len(preds))
    return preds.iloc[state[RANDOM_KEY] % len(preds)]  # the table may have shrunk since the choice


def misclassified(preds: pd.DataFrame) -> pd.DataFrame:
    """The test images the run got wrong."""
    return preds[~preds["correct"].astype(bool)]


def mistake_label(row: pd.Series) -> str:
    return f"{row['truth']} → {row['pred']}"


def file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def class_index(classes: Sequence[str], name: str | None) -> int | None:
    """The index of a class name among a model's classes; None when unknown (an upload, another dataset)."""
    return classes.index(name) if name in classes else None


def probability_table(ranked: Sequence[tuple[str, float]], what: str) -> dict[str, list[Any]]:
    """Ranked (name, probability) pairs as two columns: ``what`` and probability."""
    return {what: [name for name, _ in ranked], "probability": [p for _, p in ranked]}


def best_run(store: Store, run_ids: list[str]) -> str | None:
    """The run the page opens with: the best test top-1 among ``run_ids`` (the first when none logged it)."""
    if not run_ids:
        return None
    finals = queries.final_metrics(store, run_ids)
    top1 = finals[finals["name"] == "test/top1"].dropna(subset=["last_value"])
    return str(top1.loc[top1["last_value"].idxmax(), "run_id"]) if len(top1) else run_ids[0]


def targets(has_truth: bool) -> list[str]:
    """What a CAM can explain for this image: the prediction, the truth when it is known, or a chosen class."""
    return [t for t in TARGETS if has_truth or TARGETS[t] != "truth"] + [A_CLASS]


