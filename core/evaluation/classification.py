"""Classification metrics for the ``classify`` recipe: top-k, make-level (hierarchical) accuracy, per-class
tables (confusion matrices are in :mod:`core.evaluation.confusion`).

Pure functions: arrays in, floats / arrays / JSON-ready rows out. Torch tensors are accepted (detached and
moved to the CPU on entry) but torch is never imported here, so pages that show numbers stay fast.

Conventions, shared by every function (definitions as in SPEC.md, "Recipes: classify"):
    scores / logits: (N, C) logits or probabilities; C is the number of model classes.
    labels: (N,) true model class indices in [0, C).
    pred_classes: (N,) predicted model class indices (model head); make_pred: (N,) make-head predictions.
    class_to_make: (C,) make index of each model class, e.g. ``[0, 0, 1]`` for Ford, Ford, BMW.
    classes / makes: display name of each model / make index.
    Shares are in [0, 1], not percent; only :func:`gap_points` speaks in percentage points.
    Empty input (N = 0) gives ``nan`` for a share: "no images" is not "0 % correct".
    Ranking ties are broken towards the lower class index (stable sort), so ranks are deterministic;
    NaN scores rank last. A prediction is the top-1 of that ranking, everywhere in this module.
    Bad shapes, non-integer labels and out-of-range indices raise ValueError naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from core.evaluation.arrays import (
    Row,
    check_count,
    check_indices,
    check_scores,
    make_pairs,
    name_key,
    share_of,
    to_numpy,
)


def topk_indices(scores: npt.ArrayLike, k: int) -> np.ndarray:
    """Indices of the k highest scores per row, best first.

    Args:
        scores: (N, C) logits or probabilities.
        k: how many classes to return, 1 <= k <= C.

    Returns:
        (N, k) int64 array. Ties go to the lower class index; NaN scores rank last.
    """
    s = check_scores(scores, "scores")
    k = check_count(k, "k")
    if k > s.shape[1]:
        raise ValueError(f"k must be <= the number of classes ({s.shape[1]}), got {k}")
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def topk_accuracy(logits_or_probs: npt.ArrayLike, labels: npt.ArrayLike, k: int) -> float:
    """Share of images whose true class is among the k best-scored classes (exact model accuracy).

    Args:
        logits_or_probs: (N, C) scores; softmax does not change the ranking, so either works.
        labels: (N,) true class indices.
        k: 1 <= k <= C. Ties are ranked as in :func:`topk_indices`, so a tie is not a free hit.

    Returns:
        Share in [0, 1]; nan when N = 0.
    """
    s = check_scores(logits_or_probs, "logits_or_probs")
    truth = check_indices(labels, "labels", length=s.shape[0], upper=s.shape[1])
    return share_of((topk_indices(s, k) == truth[:, None]).any(axis=1))


def make_accuracy(pred_classes: npt.ArrayLike, labels: npt.ArrayLike, class_to_make: npt.ArrayLike) -> float:
    """Share of images where the make of the predicted model is the true make.

    The logs call this "hierarchical consistency". It is never below top-1 accuracy. Arguments follow
    the module conventions.

    Returns:
        Share in [0, 1]; nan when N = 0.
    """
    pred_make, true_make = make_pairs(pred_classes, labels, class_to_make)
    return share_of(pred_make == true_make)


def make_head_accuracy(make_pred: npt.ArrayLike, labels: npt.ArrayLike, class_to_make: npt.ArrayLike) -> float:
    """Accuracy of a make head (multi-head models): its predicted make against the true make.

    The true make is looked up through class_to_make. Arguments follow the module conventions.

    Returns:
        Share in [0, 1]; nan when N = 0.
    """
    c2m = check_indices(class_to_make, "class_to_make")
    truth = check_indices(labels, "labels", upper=len(c2m))
    heads = check_indices(make_pred, "make_pred", length=len(truth))
    return share_of(heads == c2m[truth])


def head_agreement(pred_classes: npt.ArrayLike, make_pred: npt.ArrayLike, class_to_make: npt.ArrayLike) -> float:
    """Share of images where the make of the predicted model equals the make head's prediction.

    The logs call this "internal consistency"; it needs no labels. Arguments follow the module
    conventions.

    Returns:
        Share in [0, 1]; nan when N = 0.
    """
    c2m = check_indices(class_to_make, "class_to_make")
    pred = check_indices(pred_classes, "pred_classes", upper=len(c2m))
    heads = check_indices(make_pred, "make_pred", length=len(pred))
    return share_of(c2m[pred] == heads)


def gap_points(make_acc: float, model_acc: float) -> float:
    """Make accuracy minus model accuracy, in percentage points (0.53 and 0.42 give 11.0).

    Args:
        make_acc: make accuracy as a share in [0, 1].
        model_acc: model (top-1) accuracy as a share in [0, 1].

    Returns:
        The gap in points; nan if either input is nan.

    Raises:
        ValueError: an input is outside [0, 1], which usually means it was already in percent.
    """
    for name, value in (("make_acc", make_acc), ("model_acc", model_acc)):
        if not math.isnan(value) and not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a share in [0, 1], not percent; got {value}")
    return 100.0 * (float(make_acc) - float(model_acc))


def make_probabilities(class_probs: npt.ArrayLike, class_to_make: npt.ArrayLike, n_makes: int) -> np.ndarray:
    """Probability of each make, summed over its models (make prediction for single-head models).

    Args:
        class_probs: (N, C) probabilities (softmax outputs; summing logits would be meaningless).
        class_to_make: as in the module conventions.
        n_makes: number of makes; makes without a model get probability 0.

    Returns:
        (N, n_makes) float64 array. A NaN probability only spoils its own make.
    """
    probs = check_scores(class_probs, "class_probs")
    n_makes = check_count(n_makes, "n_makes")
    c2m = check_indices(class_to_make, "class_to_make", length=probs.shape[1], upper=n_makes)
    out = np.zeros((probs.shape[0], n_makes))
    np.add.at(out, (slice(None), c2m), probs)
    return out


def _hit_rows(pred: np.ndarray, truth: np.ndarray, n: int) -> list[tuple[int, Row]]:
    """(class index, {correct, total, accuracy}) for each of n true classes that has images."""
    correct, total = np.bincount(truth[pred == truth], minlength=n), np.bincount(truth, minlength=n)
    return [
        (int(i), {"correct": int(correct[i]), "total": int(total[i]), "accuracy": int(correct[i]) / int(total[i])})
        for i in np.flatnonzero(total)
    ]


def per_class_accuracy(pred: npt.ArrayLike, labels: npt.ArrayLike, names: Sequence[str]) -> list[Row]:
    """Accuracy per true class.

    Args:
        pred: (N,) predicted class indices.
        labels: (N,) true class indices.
        names: display name of each class index.

    Returns:
        Rows ``{name, correct, total, accuracy}`` sorted by name (case-insensitive); classes with no
        images are omitted.
    """
    names = [str(n) for n in names]
    truth = check_indices(labels, "labels", upper=len(names))
    guess = check_indices(pred, "pred", length=len(truth), upper=len(names))
    rows = [{"name": names[i], **hits} for i, hits in _hit_rows(guess, truth, len(names))]
    return sorted(rows, key=lambda r: name_key(r["name"]))


def per_make_table(
    pred_classes: npt.ArrayLike, labels: npt.ArrayLike, class_to_make: npt.ArrayLike, makes: Sequence[str]
) -> list[Row]:
    """Make accuracy per true make: the rows of the ``test/per_make`` table.

    An image counts as correct when the make of its predicted model is its true make. Arguments follow
    the module conventions.

    Returns:
        Rows ``{make, correct, total, accuracy}`` sorted by make name (case-insensitive); makes with no
        images are omitted.
    """
    pred_make, true_make = make_pairs(pred_classes, labels, class_to_make, n_makes=len(makes))
    rows = per_class_accuracy(pred_make, true_make, makes)
    return [{"make": r.pop("name"), **r} for r in rows]


def per_model_table(
    pred_classes: npt.ArrayLike,
    labels: npt.ArrayLike,
    classes: Sequence[str],
    class_to_make: npt.ArrayLike,
    makes: Sequence[str],
) -> list[Row]:
    """Exact model accuracy per true model, with its make. Arguments follow the module conventions.

    Returns:
        Rows ``{model, make, correct, total, accuracy}`` sorted by make, then model (case-insensitive);
        models with no images are omitted.
    """
    classes = [str(c) for c in classes]
    c2m = check_indices(class_to_make, "class_to_make", length=len(classes), upper=len(makes))
    truth = check_indices(labels, "labels", upper=len(classes))
    pred = check_indices(pred_classes, "pred_classes", length=len(truth), upper=len(classes))
    hit_rows = _hit_rows(pred, truth, len(classes))
    rows = [{"model": classes[i], "make": str(makes[c2m[i]]), **hits} for i, hits in hit_rows]
    return sorted(rows, key=lambda r: (name_key(r["make"]), name_key(r["model"])))


def summarize_predictions(
    logits: npt.ArrayLike,
    labels: npt.ArrayLike,
    class_to_make: npt.ArrayLike,
    make_logits: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """All per-split classification metrics, under SPEC's names without the ``split/`` prefix.

    Args:
        logits, labels, class_to_make: as in the module conventions (logits may be probabilities).
        make_logits: (N, M) make-head scores of a multi-head model, or None for a single head.

    Returns:
        ``top1``, ``top5`` (k clipped to C, so it is 1.0 when C <= 5), ``make_acc``, ``gap`` (points)
        and, with make_logits, ``make_head_acc`` and ``head_agreement``. Values are nan when N = 0.
    """
    scores = check_scores(logits, "logits")
    n, n_classes = scores.shape
    truth = check_indices(labels, "labels", length=n, upper=n_classes)
    c2m = check_indices(class_to_make, "class_to_make", length=n_classes)
    top = topk_indices(scores, min(5, n_classes))
    pred = top[:, 0]
    out = {
        "top1": share_of(pred == truth),
        "top5": share_of((top == truth[:, None]).any(axis=1)),
        "make_acc": make_accuracy(pred, truth, c2m),
    }
    out["gap"] = gap_points(out["make_acc"], out["top1"])
    if make_logits is not None:
        make_pred = _make_head_predictions(make_logits, n, c2m)
        out["make_head_acc"] = make_head_accuracy(make_pred, truth, c2m)
        out["head_agreement"] = head_agreement(pred, make_pred, c2m)
    return out


def _make_head_predictions(make_logits: Any, n: int, c2m: np.ndarray) -> np.ndarray:
    """(N,) top-1 make of validated (N, M) make-head scores, where M covers every make in class_to_make."""
    scores = check_scores(make_logits, "make_logits")
    if scores.shape[0] != n or (c2m.size and c2m.max() >= scores.shape[1]):
        raise ValueError(
            f"make_logits must have shape ({n}, M) with M > {c2m.max() if c2m.size else -1} "
            f"(the largest make index in class_to_make), got {scores.shape}"
        )
    return topk_indices(scores, 1)[:, 0]


def _optional_labels(labels: Any, n: int, n_classes: int) -> np.ndarray:
    """(N,) labels where -1 means unknown; None entries (or labels=None) and negatives become -1."""
    if labels is None:
        return np.full(n, -1, dtype=np.int64)
    arr = to_numpy(labels)
    if arr.dtype == object and arr.ndim == 1:
        arr = np.array([-1 if v is None else v for v in arr.tolist()])
    truth = check_indices(arr, "labels", length=n, upper=n_classes, lower=None)
    return np.where(truth < 0, -1, truth)


def predictions_rows(
    probs: npt.ArrayLike,
    labels: npt.ArrayLike | Sequence[int | None] | None,
    paths: Sequence[Any],
    classes: Sequence[str],
    k: int = 5,
) -> list[Row]:
    """Rows of the predictions table that the UI drills into.

    Args:
        probs: (N, C) class probabilities (softmax outputs).
        labels: (N,) true class indices; -1 (any negative) or None for an unknown truth; or None for all.
        paths: (N,) image paths, written as strings.
        classes: display name of each class index.
        k: how many ranked classes to list, clipped to C.

    Returns:
        Rows ``{image, truth, pred, correct, top5}``; ``top5`` holds ``{"class", "prob"}`` for the best
        min(k, C) classes whatever k is. ``truth`` and ``correct`` are None when the truth is unknown.
    """
    p = check_scores(probs, "probs")
    n, n_classes = p.shape
    if len(classes) != n_classes:
        raise ValueError(f"classes must have one name per column of probs ({n_classes}), got {len(classes)}")
    if len(paths) != n:
        raise ValueError(f"paths must have one entry per row of probs ({n}), got {len(paths)}")
    truth = _optional_labels(labels, n, n_classes)
    top = topk_indices(p, min(check_count(k, "k"), n_classes))
    rows = []
    for i in range(n):
        known, best = truth[i] >= 0, int(top[i, 0])
        rows.append(
            {
                "image": str(paths[i]),
                "truth": classes[truth[i]] if known else None,
                "pred": classes[best],
                "correct": bool(best == truth[i]) if known else None,
                "top5": [{"class": classes[j], "prob": float(p[i, j])} for j in top[i]],
            }
        )
    return rows
