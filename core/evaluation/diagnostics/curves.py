"""Checks on one run: its curves (divergence, overfitting, a rising val loss, stalls, heads that disagree) and
its predictions (one class for almost everything)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from core.evaluation.diagnostics.findings import (
    DEFAULT_THRESHOLDS,
    METRIC_NAMES,
    OVERFIT_METRICS,
    STALL_METRICS,
    Curves,
    Finding,
    Series,
    Thresholds,
    as_shares,
    by_severity,
    display_name,
    finite_series,
    format_delta,
    format_value,
    short_name,
    value_at,
)


def _divergence_in(name: str, points: Sequence[tuple[int, float]], t: Thresholds) -> Finding | None:
    """The first non-finite or exploding value of one loss curve."""
    first, lowest, previous = None, math.inf, None
    advice = "training diverged; lower the learning rate or clip gradients"
    for step, value in points:
        value = float(value)
        if not math.isfinite(value):
            where = f" after {previous[1]:.3g} at epoch {previous[0]}" if previous else ""
            word = "NaN" if math.isnan(value) else "infinite"
            return Finding(
                "divergence", "error", f"{name} became {word} at epoch {step}{where}: {advice}", step, metric=name
            )
        first = value if first is None else first
        relative = lowest > 0 and value > t.explode_factor * lowest and value > first
        if value > t.explode_abs or relative:
            message = f"{name} exploded to {value:.3g} at epoch {step} (lowest so far {lowest:.3g}): {advice}"
            return Finding("divergence", "error", message, step, metric=name)
        lowest, previous = min(lowest, value), (step, value)
    return None


def find_divergence(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """NaN / inf or exploding loss in any loss curve; the earliest one (train before val on a tie)."""
    names = sorted((n for n in curves if "loss" in short_name(n)), key=lambda n: (not n.startswith("train/"), n))
    hits = [f for f in (_divergence_in(n, curves[n], thresholds) for n in names) if f is not None]
    return min(hits, key=lambda f: f.epoch) if hits else None


def find_overfitting(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Train accuracy far above val at the last epoch; dated from when the gap passed the threshold for good."""
    curves = as_shares(curves)
    metric = next((m for m in OVERFIT_METRICS if f"train/{m}" in curves and f"val/{m}" in curves), None)
    if metric is None:
        return None
    val_at = dict(finite_series(curves, f"val/{metric}"))
    pairs = [(s, tr, val_at[s]) for s, tr in finite_series(curves, f"train/{metric}") if s in val_at]
    if not pairs or pairs[-1][1] - pairs[-1][2] <= thresholds.overfit_gap:
        return None
    onset = pairs[-1][0]
    for step, train, val in reversed(pairs):
        if train - val <= thresholds.overfit_gap:
            break
        onset = step
    step, train, val = pairs[-1]
    name = f"val/{metric}"
    message = (
        f"train {METRIC_NAMES[metric]} {format_value(name, train)} vs val {format_value(name, val)} at epoch {step}: "
        f"overfitting from epoch {onset}, since when the gap has stayed above "
        f"{format_delta(name, thresholds.overfit_gap)} "
        f"(now {format_delta(name, train - val)}); add augmentation or regularisation, or stop earlier"
    )
    return Finding("overfitting", "warning", message, onset, metric=name)


def find_val_loss_rising(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Val loss above its minimum for at least ``val_loss_patience`` epochs while train loss kept falling."""
    val, train = finite_series(curves, "val/loss"), finite_series(curves, "train/loss")
    if len(val) <= thresholds.val_loss_patience or not train:
        return None
    i_min = min(range(len(val)), key=lambda i: val[i][1])
    (min_step, min_val), (last_step, last_val) = val[i_min], val[-1]
    waited = len(val) - 1 - i_min >= thresholds.val_loss_patience
    if not waited or last_val <= min_val + thresholds.val_loss_rise * abs(min_val):
        return None
    train_then, train_now = value_at(train, min_step), train[-1][1]
    if train_then is None or train_now >= train_then:
        return None
    message = (
        f"val loss rose from {min_val:.3g} at epoch {min_step} to {last_val:.3g} at epoch {last_step} while "
        f"train loss fell from {train_then:.3g} to {train_now:.3g}: overfitting since epoch {min_step}, "
        "whose checkpoint is the one to keep"
    )
    return Finding("val_loss_rising", "warning", message, min_step, metric="val/loss")


def _val_stall(name: str, series: Series, t: Thresholds) -> Finding | None:
    n = t.stall_epochs
    if len(series) <= n:
        return None
    best_step, best = max(series[:-n], key=lambda p: p[1])
    if max(v for _, v in series[-n:]) > best + t.stall_epsilon:
        return None
    last_step, last = series[-1]
    message = (
        f"{display_name(name)} has not improved by more than {format_delta(name, t.stall_epsilon)} in the last {n} "
        f"epochs (best {format_value(name, best)} at epoch {best_step}, "
        f"{format_value(name, last)} at epoch {last_step}): "
        f"stalled; the epoch-{best_step} checkpoint is as good, so stop earlier or change the learning rate"
    )
    return Finding("stall", "info", message, best_step, metric=name)


def _flat_loss(series: Series, t: Thresholds) -> Finding | None:
    if len(series) < t.stall_epochs:
        return None
    (first_step, first), lowest = series[0], min(v for _, v in series)
    if first - lowest > t.flat_loss_drop * abs(first):
        return None
    message = (
        f"train loss stayed within {t.flat_loss_drop:.0%} of its first value {first:.3g} for all {len(series)} "
        f"epochs (lowest {lowest:.3g}): the model is not learning; check the learning rate, which layers are "
        "frozen, and the labels"
    )
    return Finding("stall", "warning", message, first_step, metric="train/loss")


def find_stall(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Finding]:
    """A val metric that stopped improving (info), and a train loss flat from the start (warning)."""
    curves = as_shares(curves)
    name = next((n for n in STALL_METRICS if n in curves), None)
    stalled = _val_stall(name, finite_series(curves, name), thresholds) if name else None
    return [f for f in (stalled, _flat_loss(finite_series(curves, "train/loss"), thresholds)) if f is not None]


def find_heads_disagree(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Val head agreement (make of the predicted model vs the make head) below the threshold at the end."""
    curves = as_shares(curves)
    series = finite_series(curves, "val/head_agreement")
    if not series or series[-1][1] >= thresholds.head_agreement_min:
        return None
    step, value = series[-1]
    name = "val/head_agreement"
    message = (
        f"the make head and the model head agree on only {format_value(name, value)} of val images at epoch {step} "
        f"(below {format_value(name, thresholds.head_agreement_min, 0)}): the heads disagree; add the consistency term "
        "or check the class-to-make mapping"
    )
    return Finding("heads_disagree", "warning", message, step, metric="val/head_agreement")


def find_degenerate_predictions(
    predictions: Sequence[int] | npt.NDArray[np.integer],
    n_classes: int | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    class_names: Sequence[str] | None = None,
) -> Finding | None:
    """One class predicted for almost every image.

    Args:
        predictions: predicted class index per image.
        n_classes: number of classes, if known: checks the indices and names how many classes went unused.
        thresholds: see :class:`Thresholds`.
        class_names: display name of each class index, for the message (never an index).
    """
    preds = np.asarray(predictions)
    if preds.ndim != 1 or (preds.size and preds.dtype.kind not in "iu"):
        raise ValueError(f"predictions must be a 1-D sequence of class indices, got {preds.dtype} {preds.shape}")
    if preds.size and (preds.min() < 0 or (n_classes is not None and preds.max() >= n_classes)):
        upper = "" if n_classes is None else f", below n_classes={n_classes}"
        raise ValueError(f"predictions must be class indices >= 0{upper}; got {preds.min()}..{preds.max()}")
    if preds.size < thresholds.degenerate_min_predictions or n_classes == 1:
        return None
    counts = np.bincount(preds)
    top = int(counts.argmax())
    share = counts[top] / preds.size
    if share <= thresholds.degenerate_share:
        return None
    used = f"{np.count_nonzero(counts)}" + ("" if n_classes is None else f" of {n_classes}")
    message = (
        f"{share:.1%} of {preds.size} predictions are {_class_label(top, class_names)} (only {used} classes ever "
        "predicted): the model "
        "predicts one class for almost everything; check the class balance, the loss and the learning rate"
    )
    return Finding("degenerate_predictions", "warning", message)


def _class_label(index: int, names: Sequence[str] | None) -> str:
    return repr(str(names[index])) if names is not None and index < len(names) else "one single class"


def diagnose_run(
    curves: Curves,
    predictions: Sequence[int] | npt.NDArray[np.integer] | None = None,
    n_classes: int | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    class_names: Sequence[str] | None = None,
    declared: Mapping[str, Mapping[str, object]] | None = None,
) -> list[Finding]:
    """Every check on one run, most severe first; an empty list when nothing is wrong.

    A stall is not reported for a run that diverged: the divergence explains it.

    Args:
        curves: metric name -> [(epoch, value)] in epoch order.
        predictions: predicted class per test (or val) image, for the degenerate-predictions check.
        n_classes: number of classes, if known.
        thresholds: see :class:`Thresholds`.
        class_names: display name of each class, for the degenerate-predictions message.
        declared: metric definitions the run declared (name -> {"goal", "scale"}), see core.evaluation.semantics.
    """
    curves = as_shares(curves, declared)
    divergence = find_divergence(curves, thresholds)
    findings = [
        divergence,
        find_overfitting(curves, thresholds),
        find_val_loss_rising(curves, thresholds),
        find_heads_disagree(curves, thresholds),
        *(find_stall(curves, thresholds) if divergence is None else []),
    ]
    if predictions is not None:
        findings.append(find_degenerate_predictions(predictions, n_classes, thresholds, class_names=class_names))
    return by_severity(findings)
