"""Confusion matrices at model and make level, and the most confused pairs, as pure functions of arrays
(conventions as in :mod:`core.evaluation.classification`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.evaluation.arrays import Row, check_count, check_indices, make_pairs, to_numpy


def confusion_matrix(pred: npt.ArrayLike, labels: npt.ArrayLike, n: int) -> np.ndarray:
    """Counts of (truth, prediction) pairs.

    Args:
        pred: (N,) predicted class indices in [0, n).
        labels: (N,) true class indices in [0, n).
        n: number of classes.

    Returns:
        (n, n) int64 array; rows are the truth, columns the prediction.
    """
    n = check_count(n, "n")
    truth = check_indices(labels, "labels", upper=n)
    guess = check_indices(pred, "pred", length=len(truth), upper=n)
    return np.bincount(truth * n + guess, minlength=n * n).reshape(n, n).astype(np.int64)


def make_confusion(
    pred_classes: npt.ArrayLike, labels: npt.ArrayLike, class_to_make: npt.ArrayLike, n_makes: int
) -> np.ndarray:
    """Confusion matrix at make level: true make against the make of the predicted model.

    Args:
        pred_classes: (N,) predicted model class indices.
        labels: (N,) true model class indices.
        class_to_make: (C,) make index of each model class.
        n_makes: number of makes.

    Returns:
        (n_makes, n_makes) int64 array; rows are the true make. Its trace / N is the make accuracy.
    """
    n_makes = check_count(n_makes, "n_makes")
    pred_make, true_make = make_pairs(pred_classes, labels, class_to_make, n_makes=n_makes)
    return confusion_matrix(pred_make, true_make, n_makes)


def top_confused_pairs(cm: npt.ArrayLike, names: Sequence[str], k: int = 10) -> list[Row]:
    """The most frequent mistakes in a confusion matrix.

    Args:
        cm: (n, n) integer counts, rows = truth, columns = prediction (as :func:`confusion_matrix`).
        names: display name of each class index.
        k: at most this many pairs (0 gives none).

    Returns:
        Rows ``{truth, predicted, count, share_of_truth}`` for off-diagonal cells with a count, by
        descending count (ties: truth index, then prediction index). ``share_of_truth`` is the count
        over all images of that true class.
    """
    counts = to_numpy(cm)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.dtype.kind not in "iu":
        raise ValueError(f"cm must be a square (n, n) integer matrix, got shape {counts.shape}, dtype {counts.dtype}")
    n = counts.shape[0]
    if len(names) != n:
        raise ValueError(f"names must have one entry per row of cm ({n}), got {len(names)}")
    k = check_count(k, "k", minimum=0)
    off = counts.astype(np.int64)
    np.fill_diagonal(off, 0)
    row_totals = counts.sum(axis=1)
    rows = []
    for flat in np.argsort(-off, axis=None, kind="stable")[:k]:
        truth, guess = divmod(int(flat), n)
        if off[truth, guess] <= 0:
            break
        count = int(off[truth, guess])
        rows.append(
            {
                "truth": names[truth],
                "predicted": names[guess],
                "count": count,
                "share_of_truth": count / int(row_totals[truth]),
            }
        )
    return rows


