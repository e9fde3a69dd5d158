"""Significance tests for comparing runs, each answered with a sentence a reviewer can quote.

McNemar's test compares two runs on the same test images (paired per-image correctness); Welch's t-test
compares two groups of seeds on a final metric. Pure functions of arrays; scipy supplies the distributions.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Below this many discordant images McNemar uses the exact binomial test: the chi-square approximation is
# poor for small counts (the usual rule of thumb asks for b + c >= 25).
EXACT_BELOW = 25


@dataclass(frozen=True)
class TestResult:
    """The outcome of one significance test.

    Attributes:
        test: "McNemar (exact)", "McNemar (chi-square, continuity corrected)" or "Welch's t-test".
        statistic: min(b, c) for exact McNemar, the corrected chi-square for the other, t for Welch.
        p_value: two-sided p-value in [0, 1]; NaN when the data cannot be tested (see ``testable``).
        effect: A minus B: accuracy difference in points for McNemar, difference of means for Welch.
        significant: p_value < alpha (False when not testable).
        sentence: the result in words, with the numbers.
        df: Welch's degrees of freedom (Welch-Satterthwaite); None for McNemar or when both groups are constant.
    """

    __test__ = False  # the name starts with "Test"; this tells pytest it is not a test class

    test: str
    statistic: float
    p_value: float
    effect: float
    significant: bool
    sentence: str
    df: float | None = None

    @property
    def testable(self) -> bool:
        """False when the data cannot tell chance from a difference: Welch on two groups whose seeds all gave
        the same value (no estimate of noise), with different means."""
        return not math.isnan(self.p_value)


def _to_numpy(x: Any) -> np.ndarray:
    """Array for x; a torch tensor is detached and copied to the CPU (duck-typed: no torch import)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _correctness(x: Any, name: str) -> np.ndarray:
    """Validated (N,) bool vector of per-image correctness."""
    arr = _to_numpy(x)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence with one True/False per test image, got shape {arr.shape}; "
            "pass e.g. predictions == labels"
        )
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold True/False or 1/0 per test image, got dtype {arr.dtype}")
    bad = np.flatnonzero((arr != 0) & (arr != 1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} must hold True/False or 1/0 per test image, got {arr[i].item()!r} at index {i}; "
            "pass per-image correctness (predictions == labels), not predictions or scores"
        )
    return arr == 1


def _values(x: Any, name: str) -> np.ndarray:
    """Validated non-empty (N,) float vector of finite numbers."""
    try:
        arr = _to_numpy(x).astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold numbers (one final metric per seed): {err}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} holds {arr[i]} at index {i}; drop diverged seeds first and report them separately "
            "(core.evaluation.diagnostics.diagnose_runs counts them)"
        )
    return arr


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (e.g. 0.05), got {alpha!r}")


def _format_p(p: float, alpha: float) -> str:
    """'p = 0.014' or 'p < 0.001', with enough digits that the rounded value sits on the same side of alpha."""
    if p < 0.001 and alpha > 0.001:
        return "p < 0.001"
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p = {p!r}"


def _verdict(significant: bool, alpha: float) -> str:
    level = f"{alpha * 100:g}%"
    return f"significant at the {level} level" if significant else f"not significant at the {level} level"


def _amount(x: float) -> str:
    """A magnitude in points: one decimal from 1 up (2.3, 12.5), two significant figures below (0.013)."""
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2g}"


def _mcnemar_test(only_a: int, only_b: int) -> tuple[str, str, float, float]:
    """(test name, short name for the sentence, statistic, p) from the two discordant counts."""
    from scipy import stats as sps  # here, not at the top: it takes a second, and pages import this module

    discordant = only_a + only_b
    if discordant < EXACT_BELOW:
        p = 1.0 if discordant == 0 else float(sps.binomtest(only_a, discordant, 0.5).pvalue)
        return "McNemar (exact)", "McNemar exact", float(min(only_a, only_b)), p
    statistic = max(abs(only_a - only_b) - 1, 0) ** 2 / discordant  # correction clipped: b == c gives p = 1
    return (
        "McNemar (chi-square, continuity corrected)",
        "McNemar chi-square",
        statistic,
        float(sps.chi2.sf(statistic, 1)),
    )


def mcnemar(
    correct_a: Sequence[bool] | np.ndarray,
    correct_b: Sequence[bool] | np.ndarray,
    *,
    alpha: float = 0.05,
    label_a: str = "A",
    label_b: str = "B",
    metric: str = "top-1",
) -> TestResult:
    """McNemar's test: do two runs differ in accuracy on the same test images?

    Only discordant images count: b = A right and B wrong, c = A wrong and B right. With b + c below
    :data:`EXACT_BELOW` the exact two-sided binomial test (b out of b + c at 1/2) is used, otherwise the
    chi-square statistic (|b - c| - 1)^2 / (b + c) with one degree of freedom (the continuity correction
    is clipped at zero, so b == c gives p = 1).

    Args:
        correct_a: per-image correctness of run A, True/False or 1/0, in test-image order.
        correct_b: the same for run B, on the same images in the same order.
        alpha: significance level.
        label_a: name of run A in the sentence (e.g. its run id).
        label_b: name of run B.
        metric: what correctness measures, for the sentence.

    Returns:
        A :class:`TestResult`; effect is accuracy(A) - accuracy(B) in percentage points.
    """
    a = _correctness(correct_a, "correct_a")
    b = _correctness(correct_b, "correct_b")
    if a.size != b.size:
        raise ValueError(
            f"correct_a and correct_b must cover the same test images, got {a.size} and {b.size} images; "
            "evaluate both runs on the same test split, in the same order"
        )
    _check_alpha(alpha)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    test, short, statistic, p = _mcnemar_test(only_a, only_b)
    p = min(max(p, 0.0), 1.0)
    effect = 100.0 * (only_a - only_b) / a.size
    significant = p < alpha
    if only_a == only_b:
        head = f"Run {label_a} and run {label_b} have the same {metric} on these {a.size} images"
        counts = f"{only_a} vs {only_b}"
    else:
        (better, n_better), (worse, n_worse) = sorted([(label_a, only_a), (label_b, only_b)], key=lambda pair: -pair[1])
        head = f"Run {better} is better than run {worse} by {_amount(abs(effect))} points of {metric}"
        counts = f"{n_better} vs {n_worse}"
    sentence = f"{head} ({short}, {counts} discordant images, {_format_p(p, alpha)}): {_verdict(significant, alpha)}."
    return TestResult(test, statistic, p, effect, significant, sentence)


def mean_std(values: Sequence[float] | np.ndarray) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof = 1; 0 for a single value) and count. Equal values give their value
    and 0 exactly (np.mean of three 0.1 is 0.10000000000000002, np.std of equal floats can be 1e-17).

    Raises:
        ValueError: values is empty or holds NaN / inf (drop diverged seeds first).
    """
    arr = _values(values, "values")
    if arr.size == 1 or np.all(arr == arr[0]):
        return float(arr[0]), 0.0, int(arr.size)
    return float(arr.mean()), float(arr.std(ddof=1)), int(arr.size)


def constant_seeds_text(metric: str) -> str:
    """Why two groups of seeds that each gave one value throughout cannot be tested, and what to do."""
    return (
        f"every seed of both groups gave the same {metric}, so chance cannot be told from the difference; "
        "run seeds that vary (data order, augmentation)"
    )


def _welch_t(a: np.ndarray, b: np.ndarray, sd_a: float, sd_b: float) -> tuple[float, float, float | None]:
    """(t, two-sided p, df). A constant group has variance exactly 0: scipy would see 1e-17 and warn. Two
    constant groups with different means are not testable (t and p NaN): nothing estimates the noise, so
    the difference is not "significant" however small it is (deterministic seeds)."""
    from scipy import stats as sps  # here, not at the top: it takes a second, and pages import this module

    diff = float(a.mean() - b.mean())
    if sd_a == 0 and sd_b == 0:  # compared exactly: the means of equal values can differ in the last bit
        return (0.0, 1.0, None) if a[0] == b[0] else (math.nan, math.nan, None)
    if sd_a == 0 or sd_b == 0:  # Welch-Satterthwaite then reduces to the other group's n - 1
        sd, n = (sd_b, b.size) if sd_a == 0 else (sd_a, a.size)
        t = diff / (sd / math.sqrt(n))
        return t, float(2 * sps.t.sf(abs(t), n - 1)), float(n - 1)
    res = sps.ttest_ind(a, b, equal_var=False)
    return float(res.statistic), min(max(float(res.pvalue), 0.0), 1.0), float(res.df)


def welch(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    label_a: str = "A",
    label_b: str = "B",
    metric: str = "val/top1",
    higher_is_better: bool = True,
) -> TestResult:
    """Welch's t-test: do two groups of seeds differ in the mean of a final metric?

    Args:
        a: the metric's final value for each seed of group A (at least 2).
        b: the same for group B (at least 2).
        alpha: significance level.
        label_a: name of group A in the sentence.
        label_b: name of group B.
        metric: the metric's name, for the sentence.
        higher_is_better: False for losses, so that "better" in the sentence means lower.

    Returns:
        A :class:`TestResult`; effect is mean(A) - mean(B) in the metric's units, df the Welch df; not testable
        (p NaN, the sentence says why) when every seed of each group gave one value and the means differ.
    """
    xa, xb = _values(a, "a"), _values(b, "b")
    for name, x in (("a", xa), ("b", xb)):
        if x.size < 2:
            raise ValueError(
                f"{name} has {x.size} value; run at least 2 seeds per group to test a difference between groups"
            )
    _check_alpha(alpha)
    mean_a, sd_a, n_a = mean_std(xa)
    mean_b, sd_b, n_b = mean_std(xb)
    t, p, df = _welch_t(xa, xb, sd_a, sd_b)
    effect = mean_a - mean_b
    significant = p < alpha
    numbers = f"mean {mean_a:.4g} ± {sd_a:.2g} vs {mean_b:.4g} ± {sd_b:.2g}, {n_a} vs {n_b} seeds"
    if effect == 0:
        head = f"Group {label_a} and group {label_b} have the same mean {metric}"
    else:
        a_wins = (effect > 0) == higher_is_better
        better, worse = (label_a, label_b) if a_wins else (label_b, label_a)
        head = f"Group {better} is better than group {worse} by {abs(effect):.3g} {metric}"
    if math.isnan(p):
        sentence = f"{head} ({numbers}): not testable: {constant_seeds_text(metric)}."
    else:
        test = f"Welch's t = {t:.2f}{'' if df is None else f', df = {df:.1f}'}, {_format_p(p, alpha)}"
        sentence = f"{head} ({numbers}, {test}): {_verdict(significant, alpha)}."
    return TestResult("Welch's t-test", t, p, effect, significant, sentence, df)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (as a share in [0, 1]).

    Unlike the normal (Wald) interval it stays inside [0, 1] and is not degenerate at 0 or n successes, which
    matters for small test sets and near-perfect accuracies.

    Raises:
        ValueError: n < 1, successes outside [0, n], or a confidence outside (0, 1).
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    _check_alpha(1 - confidence)
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)  # the standard library's: no scipy import
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of several p-values (family-wise error control), in the input order.

    The i-th smallest of m p-values is multiplied by (m - i + 1), running maxima keep the order, capped at 1.
    NaN p-values (comparisons that could not be tested) are skipped: they stay NaN and do not count in m.
    """
    tested = [i for i, p in enumerate(p_values) if not math.isnan(p)]
    m = len(tested)
    order = sorted(tested, key=lambda i: p_values[i])
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted


def paired_difference_interval(
    only_a: int, only_b: int, n: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two paired proportions, accuracy(A) - accuracy(B), with its Wald interval (as shares).

    Args:
        only_a: images A got right and B wrong; only_b: the reverse; n: images compared.

    Returns:
        (difference, low, high), the difference being (only_a - only_b) / n.
    """
    if n < 1:
        raise ValueError(f"need at least one paired image, got n = {n}")
    diff = (only_a - only_b) / n
    se = math.sqrt(max(only_a + only_b - (only_a - only_b) ** 2 / n, 0.0)) / n
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)  # the standard library's: no scipy import
    return diff, diff - z * se, diff + z * se


def welch_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """mean(a) - mean(b) with its Welch (unequal variances) confidence interval; both need 2 values or more.

    When every value of each group is the same there is no estimate of noise: the bounds are NaN (no interval),
    not (diff, diff), which would read as a difference known for certain.
    """
    from scipy.stats import t as student

    xa, xb = _values(a, "a"), _values(b, "b")
    (mean_a, sd_a, _), (mean_b, sd_b, _) = mean_std(xa), mean_std(xb)
    diff = mean_a - mean_b
    if sd_a == 0 and sd_b == 0:
        return diff, math.nan, math.nan
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(student.ppf(0.5 + confidence / 2, df)) * math.sqrt(va + vb)
    return diff, diff - half, diff + half
