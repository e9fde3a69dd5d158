"""Oracle and property tests for core.evaluation.stats.

The oracles recompute each test from its textbook formula with the standard library (math.comb for the exact
binomial, math.erfc for chi-square with one degree of freedom, the Welch-Satterthwaite df, and the regularised
incomplete beta for Student's t), so they do not share code with scipy's test functions.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betainc

from core.evaluation.stats import EXACT_BELOW, holm_adjust, mcnemar, mean_std, welch, welch_interval

FAST = settings(max_examples=80, deadline=None)


def _paired(only_a: int, only_b: int, both: int = 0, neither: int = 0) -> tuple[list[bool], list[bool]]:
    """Per-image correctness of runs A and B with the given 2x2 table."""
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    return a, b


def _exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p: twice the smaller binomial tail at 1/2, capped at 1."""
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _welch_oracle(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """(t, df, two-sided p) by the textbook formulas."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    p = float(betainc(df / 2, 0.5, df / (df + t * t)))  # P(|T| > |t|) for Student's t with df
    return t, df, p


def test_mcnemar_exact_matches_the_binomial_formula() -> None:
    a, b = _paired(only_a=10, only_b=2, both=20, neither=8)
    res = mcnemar(a, b)
    assert res.test == "McNemar (exact)"
    assert res.p_value == pytest.approx(_exact_p(10, 2), rel=1e-12)
    assert res.p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert res.statistic == 2
    assert res.effect == pytest.approx(100 * (10 - 2) / 40)  # points of accuracy, A - B
    assert res.significant
    assert res.sentence == (
        "Run A is better than run B by 20.0 points of top-1 "
        "(McNemar exact, 10 vs 2 discordant images, p = 0.039): significant at the 5% level."
    )


def test_mcnemar_chi_square_matches_the_textbook_statistic() -> None:
    a, b = _paired(only_a=12, only_b=30, both=100, neither=58)
    res = mcnemar(a, b, label_a="baseline", label_b="multi-head", metric="make accuracy")
    stat = (abs(12 - 30) - 1) ** 2 / 42
    assert res.test == "McNemar (chi-square, continuity corrected)"
    assert res.statistic == pytest.approx(stat)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(stat / 2)))  # chi-square sf, 1 df
    assert res.effect == pytest.approx(-9.0)
    assert res.sentence.startswith("Run multi-head is better than run baseline by 9.0 points of make accuracy")
    assert "30 vs 12 discordant images" in res.sentence
    assert f"p = {res.p_value:.2g}" in res.sentence


def test_mcnemar_switches_to_chi_square_at_the_documented_count() -> None:
    assert mcnemar(*_paired(EXACT_BELOW - 1, 0)).test == "McNemar (exact)"
    assert mcnemar(*_paired(EXACT_BELOW, 0)).test.startswith("McNemar (chi-square")


def test_mcnemar_says_not_significant_when_it_is_not() -> None:
    res = mcnemar(*_paired(6, 4, both=50))
    assert res.p_value == pytest.approx(_exact_p(6, 4))
    assert not res.significant
    assert res.sentence.endswith("not significant at the 5% level.")
    assert "p = 0.75" in res.sentence


def test_mcnemar_alpha_sets_the_level_and_the_verdict() -> None:
    a, b = _paired(10, 2)  # p = 0.039
    assert not mcnemar(a, b, alpha=0.01).significant
    assert "not significant at the 1% level" in mcnemar(a, b, alpha=0.01).sentence


def test_mcnemar_accepts_numpy_ints_and_bools() -> None:
    a, b = _paired(9, 3, both=5)
    from_ints = mcnemar(np.array(a, dtype=int), np.array(b, dtype=float))
    assert from_ints == mcnemar(np.array(a), b)


@pytest.mark.parametrize(
    ("a", "b", "words"),
    [
        ([True, False], [True], "same test images"),
        ([], [], "non-empty"),
        ([0, 1, 2], [0, 1, 1], "got 2 at index 2"),
        ([[True]], [[True]], "1-D"),
        (["yes", "no"], [True, False], "True/False"),
        ([0.0, math.nan], [0.0, 1.0], "index 1"),
    ],
)
def test_mcnemar_rejects_bad_input_with_a_message_that_names_it(a: list, b: list, words: str) -> None:
    with pytest.raises(ValueError, match="correct_a") as err:
        mcnemar(a, b)
    assert words in str(err.value)


def test_mcnemar_rejects_a_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha"):
        mcnemar([True], [False], alpha=5)


@FAST
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=200))
def test_mcnemar_properties(pairs: list[tuple[bool, bool]]) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ab, ba = mcnemar(a, b), mcnemar(b, a)
    assert 0 <= ab.p_value <= 1
    assert ab.p_value == pytest.approx(ba.p_value, abs=1e-12)
    assert ab.effect == -ba.effect
    assert ab.effect == pytest.approx(100 * (sum(a) - sum(b)) / len(a))
    assert ab.significant == (ab.p_value < 0.05)
    same = mcnemar(a, a)
    assert (same.p_value, same.effect, same.significant) == (1.0, 0.0, False)


def test_welch_matches_the_textbook_formula() -> None:
    a, b = [0.81, 0.83, 0.80, 0.84, 0.82], [0.78, 0.79, 0.80]
    t, df, p = _welch_oracle(a, b)
    res = welch(a, b, label_a="AdamW", label_b="SGD", metric="val/mAP")
    assert res.test == "Welch's t-test"
    assert res.statistic == pytest.approx(t, rel=1e-9)
    assert res.df == pytest.approx(df, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-6)
    assert res.effect == pytest.approx(0.82 - 0.79)
    assert res.significant == (p < 0.05)
    assert res.sentence.startswith("Group AdamW is better than group SGD by 0.03 val/mAP (mean 0.82 ± 0.016 vs 0.79")
    assert f"Welch's t = {t:.2f}, df = {df:.1f}" in res.sentence


def test_welch_lower_is_better_for_losses() -> None:
    res = welch([0.50, 0.52, 0.51], [0.40, 0.41, 0.42], metric="val/loss", higher_is_better=False)
    assert res.effect > 0
    assert res.sentence.startswith("Group B is better than group A")


def test_two_constant_groups_that_differ_are_not_testable() -> None:
    differ = welch([0.5, 0.5, 0.5], [0.6, 0.6, 0.6], label_a="fixed", label_b="tuned", metric="val/top1")
    assert math.isnan(differ.p_value) and not differ.testable and not differ.significant
    assert differ.effect == pytest.approx(-0.1)
    assert differ.sentence == (
        "Group tuned is better than group fixed by 0.1 val/top1 (mean 0.5 ± 0 vs 0.6 ± 0, 3 vs 3 seeds): not "
        "testable: every seed of both groups gave the same val/top1, so chance cannot be told from the difference; "
        "run seeds that vary (data order, augmentation)."
    )
    assert "significant" not in differ.sentence
    diff, low, high = welch_interval([0.5, 0.5, 0.5], [0.6, 0.6, 0.6])
    assert diff == pytest.approx(-0.1) and math.isnan(low) and math.isnan(high)  # no interval, not [-0.1, -0.1]


@pytest.mark.parametrize(("a", "b"), [([0.5, 0.5], [0.5, 0.5]), ([0.1, 0.1, 0.1], [0.1, 0.1])])
def test_two_equal_constant_groups_show_no_difference(a: list[float], b: list[float]) -> None:
    same = welch(a, b)  # np.mean of three 0.1 is 0.10000000000000002: compared exactly, not by their means
    assert (same.p_value, same.significant, same.statistic, same.effect) == (1.0, False, 0.0, 0.0)
    assert same.testable and same.sentence.startswith("Group A and group B have the same mean val/top1")
    assert same.sentence.endswith("not significant at the 5% level.")


def test_one_constant_group_is_tested_against_the_other_groups_spread() -> None:
    res = welch([0.5, 0.5, 0.5], [0.6, 0.7, 0.8])
    # t = -0.2 / (0.1 / sqrt 3) = -sqrt 12 with df = 2, where P(|T| > |t|) = 1 - |t| / sqrt(t^2 + 2)
    assert res.statistic == pytest.approx(-math.sqrt(12)) and res.df == pytest.approx(2.0)
    assert res.p_value == pytest.approx(1 - math.sqrt(12 / 14))
    assert res.testable and not res.significant
    diff, low, high = welch_interval([0.5, 0.5, 0.5], [0.6, 0.7, 0.8])
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # Student's t 97.5% quantile at df = 2
    assert (diff, low, high) == pytest.approx((-0.2, -0.2 - half, -0.2 + half))


def test_holm_skips_untestable_comparisons() -> None:
    # the three tested: sorted 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 -> running max 0.06
    adjusted = holm_adjust([0.01, math.nan, 0.04, 0.03])
    assert adjusted[0] == pytest.approx(0.03) and math.isnan(adjusted[1])
    assert adjusted[2:] == pytest.approx([0.06, 0.06])
    assert all(math.isnan(p) for p in holm_adjust([math.nan, math.nan]))


@pytest.mark.parametrize(("a", "b", "bad"), [([0.9], [0.8, 0.7], "a"), ([0.9, 0.8], [0.7], "b")])
def test_welch_needs_two_seeds_per_group(a: list[float], b: list[float], bad: str) -> None:
    with pytest.raises(ValueError, match=f"^{bad} has 1 value; run at least 2 seeds per group"):
        welch(a, b)


def test_welch_rejects_a_diverged_seed_with_advice() -> None:
    with pytest.raises(ValueError, match=r"b holds nan at index 1; drop diverged seeds"):
        welch([0.8, 0.9], [0.7, math.nan])


finite = st.integers(0, 1000).map(lambda k: k / 1000)  # metric values on a grid: no 1e-300 oddities


@FAST
@given(st.lists(finite, min_size=2, max_size=12), st.lists(finite, min_size=2, max_size=12))
def test_welch_properties(a: list[float], b: list[float]) -> None:
    ab, ba = welch(a, b), welch(b, a)
    constant_and_apart = len(set(a)) == 1 and len(set(b)) == 1 and a[0] != b[0]
    assert ab.testable == ba.testable == (not constant_and_apart)
    if constant_and_apart:
        assert math.isnan(ab.p_value) and not ab.significant and "not testable" in ab.sentence
        return
    assert 0 <= ab.p_value <= 1
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-9, abs=1e-12)
    assert ab.effect == pytest.approx(-ba.effect)
    assert ab.significant == (ab.p_value < 0.05)
    same = welch(a, a)
    assert (same.p_value, same.effect, same.significant) == (1.0, 0.0, False)


def test_mean_std_matches_the_statistics_module() -> None:
    values = [0.9379, 0.9312, 0.9441, 0.9350, 0.9400]
    mean, std, n = mean_std(values)
    assert mean == pytest.approx(statistics.fmean(values))
    assert std == pytest.approx(statistics.stdev(values))
    assert n == 5
    assert mean_std([0.7]) == (0.7, 0.0, 1)
    assert mean_std([0.1, 0.1, 0.1])[1] == 0.0  # exactly, not 1e-17


def test_mean_std_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="values must be a non-empty"):
        mean_std([])
