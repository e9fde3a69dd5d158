"""Checks on a run's curves and on a comparison's final metrics, returned as findings that a page shows next
to the numbers (SPEC.md, "Diagnostics").

Pure functions of plain data. ``curves`` maps a metric name (``split/name``) to ``[(step, value)]`` in step
order, as ``python -m core show RUN --json`` gives them; steps are epochs. Accuracies, mAP and agreement are
shares in [0, 1]. Every threshold is a field of :class:`Thresholds`, where its default is explained.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Curves = Mapping[str, Sequence[tuple[int, float]]]
Series = list[tuple[int, float]]

KINDS = (
    "overfitting", "val_loss_rising", "divergence", "stall", "degenerate_predictions",
    "heads_disagree", "seed_instability", "identical_results",
)  # fmt: skip
SEVERITIES = ("error", "warning", "info")  # most severe first; findings are returned in this order

# Display names of the last part of a metric name; every one of these is a share in [0, 1].
_NAMES = {
    "top1": "top-1", "top5": "top-5", "make_acc": "make accuracy", "make_head_acc": "make-head accuracy",
    "head_agreement": "head agreement", "rank1": "rank-1", "rank5": "rank-5", "mAP": "mAP",
    "mAP_identity": "identity-balanced mAP",
}  # fmt: skip
_NOT_PERCENT = {"mAP", "mAP_identity"}  # shown as 0.871, as the re-ID logs write them; the others as 87.1%
OVERFIT_METRICS = ("top1", "mAP", "rank1")  # train/X vs val/X, the first pair a run has
STALL_METRICS = ("val/top1", "val/mAP", "val/mAP_identity", "val/rank1")  # the first one a run has
MAIN_METRICS = ("test/top1", "val/top1", "test/mAP", "val/mAP")  # identical results: each; seeds: the first


@dataclass(frozen=True)
class Finding:
    """One thing a check found, said in one quotable sentence with the numbers.

    Attributes:
        kind: one of :data:`KINDS`.
        severity: "error" (the run is broken), "warning" (the numbers mislead) or "info".
        message: one sentence with the numbers and what to do.
        epoch: the epoch the finding dates from (e.g. where overfitting began), if any.
        runs: the run ids involved, for findings over several runs.
    """

    kind: str
    severity: str
    message: str
    epoch: int | None = None
    runs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")


@dataclass(frozen=True)
class Thresholds:
    """Where each check fires. Pass ``Thresholds(stall_epochs=10)`` and the like to tune one.

    Attributes:
        overfit_gap: train minus val accuracy (share) at the last epoch above which a run overfits. 0.20 = 20
            points: augmentation and dropout explain a few points; the car baseline's 59 is overfitting.
        val_loss_patience: epochs since the val-loss minimum before a rise counts (one noisy epoch is not).
        val_loss_rise: how far above its minimum, relative, the last val loss must be (2%: beyond noise).
        explode_factor: a loss above this multiple of its minimum so far, and above its first value, diverged.
            The second condition keeps a loss of 0.001 that bounces to 0.02 from counting.
        explode_abs: a loss above this diverged whatever its history (1e4: no mean-reduced loss gets there).
        stall_epochs: N; the val metric stalled when its last N epochs beat the best before them by at most
            stall_epsilon; also the fewest epochs over which a flat train loss is reported.
        stall_epsilon: 0.005 = half a point of top-1 (or 0.005 mAP), below the sampling noise of a val set
            of a few thousand images, so a noisy plateau still counts as a plateau.
        flat_loss_drop: train loss that never fell more than this share (2%) below its first value is flat.
        degenerate_share: a share of predictions in one class above this (0.9) is degenerate.
        degenerate_min_predictions: fewer predictions than this (20) cannot show the pattern.
        head_agreement_min: val head agreement below this (0.8) at the last epoch means the heads disagree.
        identical_decimals: final values equal when rounded to this many decimals (4: 34.84%) are identical.
        identical_min_runs: this many runs (3) with different configs at one value is the warning sign.
        seed_std_ratio: a group's seed std at or above this multiple (0.5) of the gap to the nearest other
            group's mean is unstable: the two means then lie within two stds, so single runs cannot rank them.
        seed_std_max: with a single group (no gap to compare with), a seed std at or above this (0.02 =
            2 points) is unstable; the re-ID log calls 0.006 mAP "remarkably low".
    """

    overfit_gap: float = 0.20
    val_loss_patience: int = 3
    val_loss_rise: float = 0.02
    explode_factor: float = 10.0
    explode_abs: float = 1e4
    stall_epochs: int = 5
    stall_epsilon: float = 0.005
    flat_loss_drop: float = 0.02
    degenerate_share: float = 0.9
    degenerate_min_predictions: int = 20
    head_agreement_min: float = 0.8
    identical_decimals: int = 4
    identical_min_runs: int = 3
    seed_std_ratio: float = 0.5
    seed_std_max: float = 0.02


DEFAULT_THRESHOLDS = Thresholds()


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _display(name: str) -> str:
    """'val/top1' -> 'val top-1'."""
    split, _, short = name.rpartition("/")
    return f"{split} {_NAMES.get(short, short)}".strip()


def _fmt(name: str, value: float, digits: int = 1) -> str:
    """A share as '41.2%' (accuracies) or '0.871' (mAP); other values with three significant figures."""
    short = _short(name)
    if short in _NOT_PERCENT:
        return f"{value:.{digits + 2}f}"
    return f"{value * 100:.{digits}f}%" if short in _NAMES else f"{value:.3g}"


def _fmt_delta(name: str, delta: float) -> str:
    """A difference of shares: '0.5 points' (accuracies) or '0.005' (mAP)."""
    return f"{delta:.3f}" if _short(name) in _NOT_PERCENT else f"{delta * 100:.1f} points"


def _series(curves: Curves, name: str) -> Series:
    """The finite points of one curve as (int step, float value); shares are checked to lie in [0, 1]."""
    points = [(int(step), float(value)) for step, value in curves.get(name, ())]
    finite = [(s, v) for s, v in points if math.isfinite(v)]
    if _short(name) in _NAMES:
        for step, value in finite:
            if not -1e-9 <= value <= 1 + 1e-9:
                raise ValueError(
                    f"{name} holds {value:g} at epoch {step}, but diagnostics expect shares in [0, 1]; "
                    "divide percentages by 100 before logging or importing them"
                )
    return finite


def _value_at(series: Series, step: int) -> float | None:
    """The last value logged at or before step (train curves may be logged more often than val curves)."""
    i = bisect_right([s for s, _ in series], step)
    return series[i - 1][1] if i else None


def _by_severity(findings: list[Finding | None]) -> list[Finding]:
    return sorted((f for f in findings if f is not None), key=lambda f: SEVERITIES.index(f.severity))


def _divergence_in(name: str, points: Sequence[tuple[int, float]], t: Thresholds) -> Finding | None:
    """The first non-finite or exploding value of one loss curve."""
    first, lowest, previous = None, math.inf, None
    advice = "training diverged; lower the learning rate or clip gradients"
    for step, value in points:
        value = float(value)
        if not math.isfinite(value):
            where = f" after {previous[1]:.3g} at epoch {previous[0]}" if previous else ""
            word = "NaN" if math.isnan(value) else "infinite"
            return Finding("divergence", "error", f"{name} became {word} at epoch {step}{where}: {advice}", step)
        first = value if first is None else first
        relative = lowest > 0 and value > t.explode_factor * lowest and value > first
        if value > t.explode_abs or relative:
            message = f"{name} exploded to {value:.3g} at epoch {step} (lowest so far {lowest:.3g}): {advice}"
            return Finding("divergence", "error", message, step)
        lowest, previous = min(lowest, value), (step, value)
    return None


def find_divergence(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """NaN / inf or exploding loss in any loss curve; the earliest one (train before val on a tie)."""
    names = sorted((n for n in curves if "loss" in _short(n)), key=lambda n: (not n.startswith("train/"), n))
    hits = [f for f in (_divergence_in(n, curves[n], thresholds) for n in names) if f is not None]
    return min(hits, key=lambda f: f.epoch) if hits else None


def find_overfitting(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Train accuracy far above val at the last epoch; dated from when the gap passed the threshold for good."""
    metric = next((m for m in OVERFIT_METRICS if f"train/{m}" in curves and f"val/{m}" in curves), None)
    if metric is None:
        return None
    val_at = dict(_series(curves, f"val/{metric}"))
    pairs = [(s, tr, val_at[s]) for s, tr in _series(curves, f"train/{metric}") if s in val_at]
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
        f"train {_NAMES[metric]} {_fmt(name, train)} vs val {_fmt(name, val)} at epoch {step}: overfitting from "
        f"epoch {onset}, since when the gap has stayed above {_fmt_delta(name, thresholds.overfit_gap)} "
        f"(now {_fmt_delta(name, train - val)}); add augmentation or regularisation, or stop earlier"
    )
    return Finding("overfitting", "warning", message, onset)


def find_val_loss_rising(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Val loss above its minimum for at least ``val_loss_patience`` epochs while train loss kept falling."""
    val, train = _series(curves, "val/loss"), _series(curves, "train/loss")
    if len(val) <= thresholds.val_loss_patience or not train:
        return None
    i_min = min(range(len(val)), key=lambda i: val[i][1])
    (min_step, min_val), (last_step, last_val) = val[i_min], val[-1]
    waited = len(val) - 1 - i_min >= thresholds.val_loss_patience
    if not waited or last_val <= min_val + thresholds.val_loss_rise * abs(min_val):
        return None
    train_then, train_now = _value_at(train, min_step), train[-1][1]
    if train_then is None or train_now >= train_then:
        return None
    message = (
        f"val loss rose from {min_val:.3g} at epoch {min_step} to {last_val:.3g} at epoch {last_step} while "
        f"train loss fell from {train_then:.3g} to {train_now:.3g}: overfitting since epoch {min_step}, "
        "whose checkpoint is the one to keep"
    )
    return Finding("val_loss_rising", "warning", message, min_step)


def _val_stall(name: str, series: Series, t: Thresholds) -> Finding | None:
    n = t.stall_epochs
    if len(series) <= n:
        return None
    best_step, best = max(series[:-n], key=lambda p: p[1])
    if max(v for _, v in series[-n:]) > best + t.stall_epsilon:
        return None
    last_step, last = series[-1]
    message = (
        f"{_display(name)} has not improved by more than {_fmt_delta(name, t.stall_epsilon)} in the last {n} "
        f"epochs (best {_fmt(name, best)} at epoch {best_step}, {_fmt(name, last)} at epoch {last_step}): "
        f"stalled; the epoch-{best_step} checkpoint is as good, so stop earlier or change the learning rate"
    )
    return Finding("stall", "info", message, best_step)


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
    return Finding("stall", "warning", message, first_step)


def find_stall(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Finding]:
    """A val metric that stopped improving (info), and a train loss flat from the start (warning)."""
    name = next((n for n in STALL_METRICS if n in curves), None)
    stalled = _val_stall(name, _series(curves, name), thresholds) if name else None
    return [f for f in (stalled, _flat_loss(_series(curves, "train/loss"), thresholds)) if f is not None]


def find_heads_disagree(curves: Curves, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding | None:
    """Val head agreement (make of the predicted model vs the make head) below the threshold at the end."""
    series = _series(curves, "val/head_agreement")
    if not series or series[-1][1] >= thresholds.head_agreement_min:
        return None
    step, value = series[-1]
    name = "val/head_agreement"
    message = (
        f"the make head and the model head agree on only {_fmt(name, value)} of val images at epoch {step} "
        f"(below {_fmt(name, thresholds.head_agreement_min, 0)}): the heads disagree; add the consistency term "
        "or check the class-to-make mapping"
    )
    return Finding("heads_disagree", "warning", message, step)


def find_degenerate_predictions(
    predictions: Sequence[int] | npt.NDArray[np.integer],
    n_classes: int | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Finding | None:
    """One class predicted for almost every image.

    Args:
        predictions: predicted class index per image.
        n_classes: number of classes, if known: checks the indices and names how many classes went unused.
        thresholds: see :class:`Thresholds`.
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
        f"{share:.1%} of {preds.size} predictions are class {top} (only {used} classes ever predicted): the model "
        "predicts one class for almost everything; check the class balance, the loss and the learning rate"
    )
    return Finding("degenerate_predictions", "warning", message)


def diagnose_run(
    curves: Curves,
    predictions: Sequence[int] | npt.NDArray[np.integer] | None = None,
    n_classes: int | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """Every check on one run, most severe first; an empty list when nothing is wrong.

    A stall is not reported for a run that diverged: the divergence explains it.

    Args:
        curves: metric name -> [(epoch, value)] in epoch order.
        predictions: predicted class per test (or val) image, for the degenerate-predictions check.
        n_classes: number of classes, if known.
        thresholds: see :class:`Thresholds`.
    """
    divergence = find_divergence(curves, thresholds)
    findings = [
        divergence,
        find_overfitting(curves, thresholds),
        find_val_loss_rising(curves, thresholds),
        find_heads_disagree(curves, thresholds),
        *(find_stall(curves, thresholds) if divergence is None else []),
    ]
    if predictions is not None:
        findings.append(find_degenerate_predictions(predictions, n_classes, thresholds))
    return _by_severity(findings)


def _config_key(run: str, configs: Mapping[str, Mapping[str, object]] | None) -> str:
    """Runs with equal configs share a key; without configs every run is its own."""
    if configs is None or run not in configs:
        return f"run:{run}"
    return json.dumps(configs[run], sort_keys=True, default=str)


def find_identical_results(
    final: Mapping[str, Mapping[str, float]],
    configs: Mapping[str, Mapping[str, object]] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """The same final top-1 (or mAP) in many runs with different configs: predictions ignoring the settings."""
    findings: list[Finding] = []
    reported: set[frozenset[str]] = set()
    for name in MAIN_METRICS:
        by_value: dict[float, list[str]] = {}
        for run, metrics in final.items():
            value = _value(metrics, name)
            if value is not None and math.isfinite(value):
                by_value.setdefault(round(value, thresholds.identical_decimals), []).append(run)
        for value, runs in sorted(by_value.items()):
            distinct = len({_config_key(r, configs) for r in runs})
            if distinct < thresholds.identical_min_runs or frozenset(runs) in reported:
                continue
            reported.add(frozenset(runs))
            message = (
                f"{_fmt(name, value, 2)} {_display(name)} in {len(runs)} runs: the predictions may not depend on "
                "the settings; check whether one class is predicted for everything"
            )
            findings.append(Finding("identical_results", "warning", message, runs=tuple(runs)))
    return findings


def _value(metrics: Mapping[str, float], name: str) -> float | None:
    """The metric as a float (NaN stays NaN); None when it is missing or not a number."""
    try:
        return float(metrics[name])
    except (KeyError, TypeError, ValueError):
        return None


def _diverged(metrics: Mapping[str, float], name: str, diverged_below: float | None) -> bool:
    """A seed diverged when its main metric or any loss is NaN / inf, or the metric is below diverged_below."""
    value = _value(metrics, name)
    if value is not None and (not math.isfinite(value) or (diverged_below is not None and value < diverged_below)):
        return True
    losses = (_value(metrics, k) for k in metrics if "loss" in _short(k))
    return any(v is not None and not math.isfinite(v) for v in losses)


def _spread(
    group: str, name: str, runs: list[str], values: list[float], means: dict[str, float], t: Thresholds
) -> Finding | None:
    """seed_instability when a group's seed std is large next to the gap to the nearest other group."""
    if len(values) < 2 or len(set(values)) == 1:
        return None
    mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
    others = {g: abs(mean - m) for g, m in means.items() if g != group}
    varies = f"{_display(name)} varies by ± {_fmt_delta(name, std)} across {len(values)} seeds of group {group}"
    if others:
        nearest = min(others, key=others.get)
        gap = others[nearest]
        if std < t.seed_std_ratio * gap:
            return None
        ratio = f"{std / gap:.1f}x" if gap > 0 else "larger than"
        detail = f"{ratio} the {_fmt_delta(name, gap)} gap to group {nearest}: single runs cannot rank these groups"
    else:
        if std < t.seed_std_max:
            return None
        detail = f"above {_fmt_delta(name, t.seed_std_max)} (mean {_fmt(name, mean)}): single runs are not reliable"
    message = f"{varies}, {detail}; compare seed means with a significance test (core.evaluation.stats.welch)"
    return Finding("seed_instability", "warning", message, runs=tuple(runs))


def find_seed_instability(
    final: Mapping[str, Mapping[str, float]],
    groups: Mapping[str, str | None],
    *,
    metric: str | None = None,
    diverged_below: float | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """Seed groups whose spread is large next to the differences between groups, or with diverged seeds.

    Args:
        final: run id -> final metrics.
        groups: run id -> group name; a run not listed, or listed with an empty group, is a group of its own.
        metric: the main metric; default the first of :data:`MAIN_METRICS` that any run has.
        diverged_below: a seed whose main metric is below this also counts as diverged (the re-ID log's
            "divergence rate below 0.75 mAP").
        thresholds: see :class:`Thresholds`.
    """
    name = metric or next((m for m in MAIN_METRICS if any(m in f for f in final.values())), None)
    if name is None:
        return []
    members: dict[str, list[str]] = {}
    for run in final:
        members.setdefault(groups.get(run) or run, []).append(run)
    diverged = {r for r in final if _diverged(final[r], name, diverged_below)}
    healthy = {
        g: [r for r in rs if r not in diverged and _value(final[r], name) is not None] for g, rs in members.items()
    }
    means = {g: float(np.mean([float(final[r][name]) for r in rs])) for g, rs in healthy.items() if rs}
    findings: list[Finding | None] = []
    for group, runs in members.items():
        if len(runs) < 2:
            continue
        bad = [r for r in runs if r in diverged]
        if bad:
            criterion = "NaN loss or metric" + ("" if diverged_below is None else f", or {name} < {diverged_below:g}")
            message = (
                f"{len(bad)} of {len(runs)} seeds of group {group} diverged ({', '.join(bad)}; {criterion}): a "
                f"divergence rate of {len(bad) / len(runs):.0%} that the group's mean hides; report it alongside"
            )
            findings.append(Finding("seed_instability", "warning", message, runs=tuple(bad)))
        values = [float(final[r][name]) for r in healthy[group]]  # all numbers: _value checked them
        findings.append(_spread(group, name, healthy[group], values, means, thresholds))
    return _by_severity(findings)


def diagnose_runs(
    final: Mapping[str, Mapping[str, float]],
    groups: Mapping[str, str | None] | None = None,
    *,
    configs: Mapping[str, Mapping[str, object]] | None = None,
    metric: str | None = None,
    diverged_below: float | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """Every check over several runs' final metrics, most severe first.

    Args:
        final: run id -> {metric name: final value}, e.g. {"r1": {"test/top1": 0.3484}}.
        groups: run id -> seed-group name ("" or None: no group); without it seed stability is not checked.
        configs: run id -> config; runs with equal configs count once towards identical results (without
            it every run is taken to have its own config).
        metric: main metric for seed stability (see :func:`find_seed_instability`).
        diverged_below: see :func:`find_seed_instability`.
        thresholds: see :class:`Thresholds`.
    """
    findings: list[Finding | None] = [*find_identical_results(final, configs, thresholds)]
    if groups:
        findings += find_seed_instability(
            final, groups, metric=metric, diverged_below=diverged_below, thresholds=thresholds
        )
    return _by_severity(findings)
