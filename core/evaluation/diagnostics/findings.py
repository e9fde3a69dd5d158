"""What every diagnostic shares: the finding it returns, the thresholds where checks fire, and how metric
values are written in a finding's sentence.

Pure functions of plain data. ``curves`` maps a metric name (``split/name``) to ``[(step, value)]`` in step
order, as ``python -m core show RUN --json`` gives them; steps are epochs. Accuracies, mAP and agreement may be
logged as fractions or in percent (core.evaluation.semantics tells which); the checks read them as shares in
[0, 1] and write them in their sentences as percentages, so both give the same findings. Every threshold is a
field of :class:`Thresholds`, where its default is explained (as a share: 0.02 is 2 points on either scale).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.evaluation.semantics import infer_scale, resolve

Curves = Mapping[str, Sequence[tuple[int, float]]]
Series = list[tuple[int, float]]

KINDS = (
    "overfitting", "val_loss_rising", "divergence", "stall", "degenerate_predictions",
    "heads_disagree", "seed_instability", "identical_results",
)  # fmt: skip
SEVERITIES = ("error", "warning", "info")  # most severe first; findings are returned in this order

# Display names of the last part of a metric name; every one of these is a share in [0, 1].
METRIC_NAMES = {
    "top1": "top-1", "top5": "top-5", "make_acc": "make accuracy", "make_head_acc": "make-head accuracy",
    "head_agreement": "head agreement", "rank1": "rank-1", "rank5": "rank-5", "mAP": "mAP",
    "mAP_identity": "identity-balanced mAP",
}  # fmt: skip
OVERFIT_METRICS = ("top1", "mAP", "rank1")  # train/X vs val/X, the first pair a run has
STALL_METRICS = ("val/top1", "val/mAP", "val/mAP_identity", "val/rank1")  # the first one a run has
CURVE_METRICS = frozenset({
    *(f"{split}/{m}" for split in ("train", "val") for m in OVERFIT_METRICS), *STALL_METRICS, "val/head_agreement",
})  # fmt: skip
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
        metric: the metric the finding is about (None for predictions).
    """

    kind: str
    severity: str
    message: str
    epoch: int | None = None
    runs: tuple[str, ...] = ()
    metric: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: kind, severity, metric, runs, epoch, message."""
        return {"kind": self.kind, "severity": self.severity, "metric": self.metric, "runs": list(self.runs),
                "epoch": self.epoch, "message": self.message}  # fmt: skip

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


def short_name(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def display_name(name: str) -> str:
    """'val/top1' -> 'val top-1'."""
    split, _, short = name.rpartition("/")
    return f"{split} {METRIC_NAMES.get(short, short)}".strip()


def format_value(name: str, value: float, digits: int = 1) -> str:
    """A share as '41.2%' (accuracies, mAP, agreement); other values with three significant figures."""
    return f"{value * 100:.{digits}f}%" if infer_scale(name) != "unbounded" else f"{value:.3g}"


def format_delta(name: str, delta: float) -> str:
    """A difference of shares: '0.5 points'; of other values: '0.005'."""
    return f"{delta * 100:.1f} points" if infer_scale(name) != "unbounded" else f"{delta:.3g}"


def share_units(
    values: Mapping[str, Sequence[float]], declared: Mapping[str, Mapping[str, object]] | None = None
) -> dict[str, float]:
    """Name -> 100 for a share logged in percent, 1 otherwise. The scale is read over every split of a metric
    (train/top1, val/top1 and test/top1 together), so a poor val top-1 of 0.8% is not taken for a fraction."""
    family: dict[str, list[float]] = {}
    for name, vals in values.items():
        family.setdefault(short_name(name), []).extend(v for v in vals if math.isfinite(v))
    declared = declared or {}
    return {name: resolve(name, family[short_name(name)], declared.get(name)).unit for name in values}


def as_shares(curves: Curves, declared: Mapping[str, Mapping[str, object]] | None = None) -> dict[str, Series]:
    """The curves with every share metric as a fraction, whatever scale it was logged in (idempotent)."""
    units = share_units({n: [float(v) for _, v in pts] for n, pts in curves.items()}, declared)
    return {n: [(int(s), float(v) / units[n]) for s, v in pts] for n, pts in curves.items()}


def finite_series(curves: Curves, name: str) -> Series:
    """The finite points of one curve as (int step, float value) (of curves already put through as_shares)."""
    return [(int(s), float(v)) for s, v in curves.get(name, ()) if math.isfinite(v)]


def is_diagnosed(name: str) -> bool:
    """True for the curves the checks of one run read: every loss, and the accuracies of CURVE_METRICS."""
    return "loss" in short_name(name) or name in CURVE_METRICS


def value_at(series: Series, step: int) -> float | None:
    """The last value logged at or before step (train curves may be logged more often than val curves)."""
    i = bisect_right([s for s, _ in series], step)
    return series[i - 1][1] if i else None


def by_severity(findings: list[Finding | None]) -> list[Finding]:
    return sorted((f for f in findings if f is not None), key=lambda f: SEVERITIES.index(f.severity))
