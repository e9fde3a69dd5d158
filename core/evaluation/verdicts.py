"""Verdicts: every run (or seed group) compared with the chosen baseline on one metric, each answered with a
sentence a reviewer can quote: the metric and split, n, the difference with its 95% interval, the test, the
Holm-corrected p over the comparisons of one view, and which side is better by the metric's own direction.

McNemar's test where both sides have per-sample predictions; Welch's t-test between seed groups (unless every
seed of both gave the same value: nothing then estimates the noise); otherwise no test, and the sentence says
what would make one possible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from core.evaluation import stats
from core.evaluation.semantics import Semantics

ALPHA = 0.05


@dataclass(frozen=True)
class Side:
    """One side of a comparison.

    Attributes:
        id: the run id (for a seed group, the id of its first run).
        label: how the sentence names it.
        value: the final value of the metric (a seed group's mean); None when not logged.
        seeds: the final values of a seed group's runs (two or more), else empty.
        correct: per-sample correctness keyed by sample (image) id, when the run saved its predictions.
    """

    id: str
    label: str
    value: float | None
    seeds: tuple[float, ...] = ()
    correct: Mapping[str, bool] | None = field(default=None, compare=False)


# Why a comparison has no test: a side did not log the metric; both are seed groups whose seeds all gave one value
# (nothing measures the noise); one run on each side without per-sample predictions.
NOT_LOGGED, CONSTANT_SEEDS, ONE_RUN_EACH = "not logged", "constant seeds", "one run each"
UNTESTED = (NOT_LOGGED, CONSTANT_SEEDS, ONE_RUN_EACH)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one comparison with the baseline; ``better`` is the id of the better side, or None;
    ``untested`` is why no test was run (one of UNTESTED), None when one was."""

    run: str
    baseline: str
    metric: str
    split: str
    test: str | None
    n: int | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    p_adjusted: float | None
    significant: bool
    better: str | None
    sentence: str
    untested: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Tested:
    test: str
    n: int
    difference: float
    low: float | None  # None: no interval (every seed of both groups gave the same value)
    high: float | None
    p: float


def compare_with_baseline(baseline: Side, others: Sequence[Side], semantics: Semantics) -> list[Verdict]:
    """One verdict per side in ``others`` against ``baseline`` on ``semantics.name``, Holm-corrected together."""
    return judge_pairs([(side, baseline, semantics) for side in others])


def judge_pairs(pairs: Sequence[tuple[Side, Side, Semantics]]) -> list[Verdict]:
    """A verdict per (side, baseline, metric) comparison of one view, Holm-corrected over all that have a test."""
    tested = [_test(side, baseline, sem) for side, baseline, sem in pairs]
    adjusted = iter(stats.holm_adjust([t.p for t in tested if t is not None]))
    return [
        _verdict(side, baseline, sem, t, next(adjusted) if t is not None else None)
        for (side, baseline, sem), t in zip(pairs, tested)
    ]


def _test(side: Side, baseline: Side, sem: Semantics) -> _Tested | None:
    if side.correct is not None and baseline.correct is not None:
        shared = sorted(set(side.correct) & set(baseline.correct))
        if shared:
            a = [bool(side.correct[k]) for k in shared]
            b = [bool(baseline.correct[k]) for k in shared]
            result = stats.mcnemar(a, b)
            only_a = sum(x and not y for x, y in zip(a, b))
            only_b = sum(y and not x for x, y in zip(a, b))
            d, lo, hi = stats.paired_difference_interval(only_a, only_b, len(shared))
            return _Tested(result.test, len(shared), d * sem.unit, lo * sem.unit, hi * sem.unit, result.p_value)
    if len(side.seeds) >= 2 and len(baseline.seeds) >= 2:
        result = stats.welch(side.seeds, baseline.seeds, higher_is_better=sem.goal != "min")
        if not result.testable:
            return None  # the sentence says why (_why_no_test)
        d, lo, hi = stats.welch_interval(side.seeds, baseline.seeds)
        bounds = (None, None) if math.isnan(lo) else (lo, hi)
        return _Tested(result.test, len(side.seeds) + len(baseline.seeds), d, *bounds, result.p_value)
    return None


def _verdict(side: Side, baseline: Side, sem: Semantics, t: _Tested | None, p_adj: float | None) -> Verdict:
    split = sem.name.split("/", 1)[0] if "/" in sem.name else "—"
    head = f"{sem.name}: {side.label} {sem.format(side.value)} vs baseline {baseline.label} "
    head += sem.format(baseline.value)
    if t is None:
        why, text = _why_no_test(side, baseline, sem)
        return Verdict(side.id, baseline.id, sem.name, split, None, None, _delta(side, baseline), None, None, None,
                       None, False, None, f"{head}. {text}", why)  # fmt: skip
    significant = p_adj is not None and p_adj < ALPHA
    direction = sem.better(t.difference, 0.0)  # the difference is side minus baseline
    better = (side.id if direction > 0 else baseline.id) if significant and direction else None
    unit = "images" if t.test.startswith("McNemar") else "seeds"
    outcome = (
        f"{side.label if better == side.id else baseline.label} is better ({sem.direction_text})"
        if better
        else f"no significant difference at the {ALPHA:.0%} level"
    )
    interval = (
        f"95% CI {sem.format_delta(t.low)} to {sem.format_delta(t.high)}"
        if t.low is not None and t.high is not None
        else f"no 95% CI: every seed of both groups gave the same {sem.name}"
    )
    sentence = (
        f"{head}: difference {sem.format_delta(t.difference)} ({interval}), {t.test}, n = {t.n} {unit}, "
        f"p = {t.p:.3g}, Holm-adjusted p = {p_adj:.3g}: {outcome}."
    )
    return Verdict(side.id, baseline.id, sem.name, split, t.test, t.n, t.difference, t.low, t.high, t.p, p_adj,
                   significant, better, sentence)  # fmt: skip


def _delta(side: Side, baseline: Side) -> float | None:
    if side.value is None or baseline.value is None:
        return None
    return side.value - baseline.value


def _why_no_test(side: Side, baseline: Side, sem: Semantics) -> tuple[str, str]:
    """Why no test could be run (one of UNTESTED) and the sentence that says what to do."""
    if side.value is None or baseline.value is None or math.isnan(side.value) or math.isnan(baseline.value):
        return NOT_LOGGED, "No test: one side did not log this metric."
    if len(side.seeds) >= 2 and len(baseline.seeds) >= 2:  # seed groups, but Welch found no noise to test against
        return CONSTANT_SEEDS, f"No test: {stats.constant_seeds_text(sem.name)}."
    return ONE_RUN_EACH, (
        "No significance test is possible with one run on each side and no per-sample predictions: save "
        "per-sample predictions (a test/predictions table with a correct column), or run at least 3 seeds per "
        "config."
    )
