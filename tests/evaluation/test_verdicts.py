"""Verdicts against a baseline: the right test, Holm's correction by hand, the direction of the metric."""

from __future__ import annotations

import pytest

from core.evaluation import stats
from core.evaluation.semantics import Semantics
from core.evaluation.verdicts import Side, compare_with_baseline


def test_wilson_interval_matches_textbook_values() -> None:
    assert stats.wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert stats.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)


def test_holm_matches_a_hand_computation() -> None:
    # sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04 -> running max 0.06
    assert stats.holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_mcnemar_exact_for_few_discordant_images() -> None:
    a = [True] * 2 + [False] * 8 + [True] * 10
    b = [False] * 2 + [True] * 8 + [True] * 10
    assert stats.mcnemar(a, b).p_value == pytest.approx(112 / 1024)  # 2 * P(X <= 2), X ~ Bin(10, 1/2)


def _side(run: str, seeds: list[float]) -> Side:
    return Side(run, run, sum(seeds) / len(seeds), tuple(seeds))


def test_for_a_loss_the_lower_group_is_better() -> None:
    loss = Semantics("val/loss", "min")
    base, low = _side("base", [1.00, 1.01, 0.99]), _side("low", [0.50, 0.51, 0.49])
    (verdict,) = compare_with_baseline(base, [low], loss)
    assert verdict.test == "Welch's t-test" and verdict.significant and verdict.better == "low"
    assert "low is better (lower is better)" in verdict.sentence
    (reverse,) = compare_with_baseline(low, [base], loss)
    assert reverse.better == "low"


def test_for_an_accuracy_the_higher_group_is_better() -> None:
    top1 = Semantics("val/top1", "max", "fraction")
    base, high = _side("base", [0.50, 0.51, 0.49]), _side("high", [0.80, 0.81, 0.79])
    (verdict,) = compare_with_baseline(base, [high], top1)
    assert verdict.better == "high" and verdict.difference == pytest.approx(0.30)


def test_each_run_gets_its_own_verdict_with_holm_adjusted_p() -> None:
    top1 = Semantics("test/top1", "max", "fraction")
    images = [f"img{i}" for i in range(40)]
    base = Side("r0", "r0", 0.5, correct={k: i % 2 == 0 for i, k in enumerate(images)})
    others = []
    for j, flips in enumerate([2, 6, 12], start=1):  # run j fixes `flips` of the baseline's mistakes
        correct = {k: (i % 2 == 0) or (i // 2 < flips) for i, k in enumerate(images)}
        others.append(Side(f"r{j}", f"r{j}", sum(correct.values()) / 40, correct=correct))
    verdicts = compare_with_baseline(base, others, top1)
    assert [v.run for v in verdicts] == ["r1", "r2", "r3"]
    raw = [stats.mcnemar(list(o.correct.values()), list(base.correct.values())).p_value for o in others]
    assert [v.p for v in verdicts] == pytest.approx(raw)
    assert [v.p_adjusted for v in verdicts] == pytest.approx(stats.holm_adjust(raw))
    assert all(v.n == 40 for v in verdicts)
    assert verdicts[2].significant and verdicts[2].better == "r3"


def test_no_test_possible_says_what_would_make_one() -> None:
    mAP = Semantics("test/mAP", "max", "fraction")
    (verdict,) = compare_with_baseline(Side("a", "a", 0.5), [Side("b", "b", 0.6)], mAP)
    assert verdict.test is None and verdict.p is None and verdict.better is None
    assert "per-sample predictions" in verdict.sentence and "3 seeds" in verdict.sentence
    assert verdict.untested == "one run each"
    (missing,) = compare_with_baseline(Side("a", "a", 0.5), [Side("b", "b", None)], mAP)
    assert missing.untested == "not logged" and "did not log" in missing.sentence


def test_deterministic_seeds_that_differ_are_not_testable() -> None:
    top1 = Semantics("val/top1", "max", "fraction")
    base, other = _side("fixed", [0.5, 0.5, 0.5]), _side("tuned", [0.6, 0.6, 0.6])
    tested = _side("varied", [0.80, 0.81, 0.79])
    untestable, varied = compare_with_baseline(base, [other, tested], top1)
    assert untestable.test is None and untestable.p is None and untestable.p_adjusted is None
    assert untestable.untested == "constant seeds" and varied.untested is None
    assert not untestable.significant and untestable.better is None
    assert untestable.difference == pytest.approx(0.1) and untestable.ci_low is None
    assert untestable.sentence.endswith(
        "No test: every seed of both groups gave the same val/top1, so chance cannot be told from the difference; "
        "run seeds that vary (data order, augmentation)."
    )
    assert "significant" not in untestable.sentence and "better" not in untestable.sentence
    raw = stats.welch(tested.seeds, base.seeds).p_value
    assert varied.p_adjusted == pytest.approx(raw)  # Holm over the one comparison that could be tested


def test_equal_deterministic_seeds_show_no_difference_without_a_certain_interval() -> None:
    top1 = Semantics("val/top1", "max", "fraction")
    (verdict,) = compare_with_baseline(_side("a", [0.5, 0.5]), [_side("b", [0.5, 0.5])], top1)
    assert verdict.test == "Welch's t-test" and verdict.p == 1.0 and not verdict.significant
    assert verdict.difference == 0.0 and verdict.ci_low is None and verdict.ci_high is None
    assert "(no 95% CI: every seed of both groups gave the same val/top1)" in verdict.sentence
    assert "95% CI +" not in verdict.sentence
    assert verdict.sentence.endswith("no significant difference at the 5% level.")
