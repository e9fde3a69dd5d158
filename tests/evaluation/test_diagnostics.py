"""Tests for core.evaluation.diagnostics on curves that reproduce the patterns of the example logs.

The car baseline's numbers are copied from examples/car-classification-log.md (percent there, shares here);
the 34.84% top-1 of nine runs comes from examples/results-summary.md; the seed groups echo the re-ID log's
LBE08 (divergence rate) and LBE11 (mAP 0.9379 ± 0.0063). Each check is also run on healthy curves, so a
detector that fired on everything would fail.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.diagnostics import (
    KINDS,
    SEVERITIES,
    Finding,
    Thresholds,
    diagnose_run,
    diagnose_runs,
    find_degenerate_predictions,
    find_divergence,
    find_identical_results,
    find_seed_instability,
)

# examples/car-classification-log.md, Baseline_single_head_classification: the log's "Epoch N:" lines.
CAR_LOG = [  # epoch, train_loss, train_top1 (%), val_loss, val_top1 (%)
    (1, 4.756690376425192, 8.749040675218161, 4.186660209852468, 16.942909751222352),
    (2, 3.318053653143226, 45.80199539055755, 3.6642330931036513, 26.826273779403657),
    (3, 2.490202739763882, 67.53645432912104, 3.3278836059453227, 31.614487395687583),
    (4, 1.9122096590326094, 78.4036837960607, 3.1242336076487054, 33.88581952469125),
    (5, 1.4882188129681215, 86.7996930079193, 2.979874514157674, 36.218538984482535),
    (6, 1.157973064849309, 91.972371454012, 2.863996946423825, 37.38489869213163),
    (7, 0.9280253464866398, 94.7966231772832, 2.781894972457558, 37.75322283960838),
    (8, 0.7499706934345565, 96.62317728904789, 2.712803054397424, 39.472068758520194),
    (9, 0.6008788244228407, 98.25019187078234, 2.6990522366495058, 40.27010433976822),
    (10, 0.49735733464600396, 98.98695318495778, 2.6380398860367036, 40.085942277153116),
    (11, 0.41091016428066235, 99.38603223330774, 2.6165183726229353, 41.74340084068903),
    (12, 0.3419807001982665, 99.5088257866462, 2.583307102313431, 41.436464080201695),
    (13, 0.2891655498162106, 99.78511128165772, 2.577523599598875, 40.76120318394632),
    (14, 0.24772838785478177, 99.80046047582502, 2.542328888247392, 40.945365236023584),
    (15, 0.20891222185294445, 99.84650805832693, 2.552252348103064, 41.19091465284372),
]


def _curve(values: list[float]) -> list[tuple[int, float]]:
    """[(epoch, value)] from epoch 1."""
    return list(enumerate(values, start=1))


def _healthy(epochs: int = 20) -> dict[str, list[tuple[int, float]]]:
    """A run that learns steadily and generalises: every check should stay silent."""
    e = range(1, epochs + 1)
    return {
        "train/loss": [(i, 2.3 * 0.85**i) for i in e],
        "val/loss": [(i, 2.3 * 0.87**i + 0.1) for i in e],
        "train/top1": [(i, 0.9 - 0.8 * 0.8**i) for i in e],
        "val/top1": [(i, 0.85 - 0.8 * 0.8**i) for i in e],
        "val/head_agreement": [(i, 0.97) for i in e],
        "lr": [(i, 1e-3) for i in e],
    }


def _kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def _car_baseline() -> dict[str, list[tuple[int, float]]]:
    """The car log's curves, accuracies as shares."""
    return {
        "train/loss": [(row[0], row[1]) for row in CAR_LOG],
        "train/top1": [(row[0], row[2] / 100) for row in CAR_LOG],
        "val/loss": [(row[0], row[3]) for row in CAR_LOG],
        "val/top1": [(row[0], row[4] / 100) for row in CAR_LOG],
    }


def test_the_car_baseline_overfits_from_epoch_3_and_nothing_else() -> None:
    findings = diagnose_run(_car_baseline())
    assert _kinds(findings) == ["overfitting"]  # val loss still falls, val top-1 still moved in the last 5
    (found,) = findings
    assert found.severity == "warning"
    assert found.epoch == 3  # gap 35.9 points at epoch 3 (19.0 at epoch 2), above 20 from then on
    for text in ("99.8%", "41.2%", "epoch 15", "from epoch 3", "20.0 points", "58.7 points"):
        assert text in found.message


def test_a_stricter_gap_dates_overfitting_later() -> None:
    (found,) = diagnose_run(_car_baseline(), thresholds=Thresholds(overfit_gap=0.5))
    assert found.epoch == 5  # gap 44.5 at epoch 4, 50.6 at epoch 5


def test_overfitting_dates_from_when_the_gap_stayed_above_the_threshold() -> None:
    train = [0.30, 0.60, 0.50, 0.70, 0.80, 0.90]
    val = [0.30, 0.35, 0.45, 0.48, 0.50, 0.52]  # gaps: 0, 25, 5, 22, 30, 38 points: a spike at epoch 2
    (found,) = diagnose_run({"train/top1": _curve(train), "val/top1": _curve(val)})
    assert found.epoch == 4


def test_a_gap_of_20_points_or_less_is_not_overfitting() -> None:
    assert diagnose_run({"train/top1": _curve([0.5, 0.8, 0.95]), "val/top1": _curve([0.5, 0.7, 0.76])}) == []


def test_a_shorter_stall_window_sees_the_car_baseline_plateau() -> None:
    findings = diagnose_run(_car_baseline(), thresholds=Thresholds(stall_epochs=4))
    (stall,) = [f for f in findings if f.kind == "stall"]
    assert (stall.severity, stall.epoch) == ("info", 11)
    assert "best 41.7% at epoch 11, 41.2% at epoch 15" in stall.message
    assert "last 4 epochs" in stall.message


def test_healthy_curves_produce_no_findings() -> None:
    assert diagnose_run(_healthy(), predictions=[i % 7 for i in range(500)], n_classes=7) == []


def test_an_empty_run_produces_no_findings() -> None:
    assert diagnose_run({}) == []


def test_nan_loss_at_epoch_7_is_a_divergence_error() -> None:
    loss = [2.3, 1.9, 1.6, 1.4, 1.3, 1.25, math.nan, math.nan, math.nan]
    curves = {"train/loss": _curve(loss), "val/top1": _curve([0.2, 0.3, 0.35, 0.4, 0.42, 0.43, 0.01, 0.01, 0.01])}
    findings = diagnose_run(curves)
    assert _kinds(findings) == ["divergence"]  # the flat val top-1 after it is not reported as a stall
    (found,) = findings
    assert (found.severity, found.epoch) == ("error", 7)
    assert "train/loss became NaN at epoch 7 after 1.25 at epoch 6" in found.message
    assert "lower the learning rate" in found.message


def test_an_exploding_loss_is_a_divergence_at_the_epoch_it_explodes() -> None:
    curves = {"train/loss": _curve([2.3, 1.8, 1.5, 1.2, 1.0, 30.0, 2e5])}
    found = find_divergence(curves)
    assert found is not None and found.epoch == 6
    assert "exploded to 30 at epoch 6 (lowest so far 1)" in found.message


def test_a_loss_above_the_absolute_limit_diverges_even_on_its_first_epoch() -> None:
    found = find_divergence({"val/loss": _curve([2e4, 1.0])})
    assert found is not None and found.epoch == 1


def test_small_losses_that_bounce_are_not_divergence() -> None:
    # 0.001 -> 0.02 is 20x the minimum but still far below where the loss started.
    assert find_divergence({"train/loss": _curve([2.0, 0.5, 0.01, 0.001, 0.02, 0.003])}) is None


def test_the_earliest_divergence_wins_across_loss_curves() -> None:
    curves = {"val/loss": _curve([2.0, 1.5, math.inf]), "train/loss": _curve([2.0, 1.5, 1.2, math.nan])}
    found = find_divergence(curves)
    assert found is not None and found.epoch == 3 and "val/loss became infinite" in found.message


def test_val_loss_rising_while_train_loss_falls_is_dated_at_the_val_minimum() -> None:
    curves = {
        "train/loss": _curve([2.0, 1.5, 1.1, 0.8, 0.6, 0.4, 0.3, 0.2]),
        "val/loss": _curve([2.1, 1.7, 1.4, 1.3, 1.35, 1.45, 1.6, 1.8]),
    }
    findings = diagnose_run(curves)
    assert _kinds(findings) == ["val_loss_rising"]
    assert findings[0].epoch == 4
    assert "val loss rose from 1.3 at epoch 4 to 1.8 at epoch 8 while train loss fell from 0.8 to 0.2" in (
        findings[0].message
    )


def test_val_loss_that_rose_for_fewer_than_the_patience_epochs_is_not_reported() -> None:
    curves = {
        "train/loss": _curve([2.0, 1.5, 1.1, 0.8, 0.6, 0.4]),
        "val/loss": _curve([2.1, 1.7, 1.4, 1.3, 1.25, 1.35]),  # minimum 1 epoch ago
    }
    assert diagnose_run(curves) == []


def test_val_loss_rising_with_train_loss_rising_too_is_not_overfitting() -> None:
    curves = {
        "train/loss": _curve([2.0, 1.5, 1.2, 1.3, 1.4, 1.5, 1.6]),
        "val/loss": _curve([2.1, 1.7, 1.4, 1.5, 1.6, 1.7, 1.8]),
    }
    assert "val_loss_rising" not in _kinds(diagnose_run(curves))


def test_a_stalled_val_top1_is_reported_with_its_best_epoch() -> None:
    top1 = [0.30, 0.45, 0.55, 0.601, 0.598, 0.603, 0.600, 0.604, 0.599]
    curves = {"train/loss": _curve([2.0, 1.6, 1.3, 1.1, 1.0, 0.9, 0.8, 0.75, 0.7]), "val/top1": _curve(top1)}
    findings = diagnose_run(curves)
    assert _kinds(findings) == ["stall"]
    (found,) = findings
    assert (found.severity, found.epoch) == ("info", 4)
    assert "val top-1 has not improved by more than 0.5 points in the last 5 epochs" in found.message
    assert "best 60.1% at epoch 4, 59.9% at epoch 9" in found.message


def test_a_val_metric_still_climbing_slowly_is_not_a_stall() -> None:
    top1 = [0.30, 0.45, 0.55, 0.60, 0.602, 0.604, 0.606, 0.608, 0.612]  # +1.1 points over the last 5
    assert diagnose_run({"val/top1": _curve(top1)}) == []


def test_a_stalled_map_is_reported_in_map_units() -> None:
    found = diagnose_run({"val/mAP": _curve([0.5, 0.7, 0.86, 0.861, 0.859, 0.86, 0.858, 0.862])})
    assert (
        "has not improved by more than 0.5 points" in found[0].message
        and "best 86.0% at epoch 3, 86.2% at epoch 8" in found[0].message
    )


def test_a_train_loss_flat_from_the_start_is_a_stall_warning() -> None:
    curves = {"train/loss": _curve([2.303, 2.302, 2.304, 2.301, 2.303, 2.302])}
    (found,) = diagnose_run(curves)
    assert (found.kind, found.severity, found.epoch) == ("stall", "warning", 1)
    assert "within 2% of its first value 2.3 for all 6 epochs (lowest 2.3)" in found.message


def test_heads_that_disagree_in_the_last_epoch_are_reported() -> None:
    curves = {"val/head_agreement": _curve([0.9, 0.85, 0.7, 0.62])}
    (found,) = diagnose_run(curves)
    assert (found.kind, found.epoch) == ("heads_disagree", 4)
    assert "agree on only 62.0% of val images at epoch 4 (below 80%)" in found.message


def test_heads_that_came_to_agree_are_not_reported() -> None:
    assert diagnose_run({"val/head_agreement": _curve([0.4, 0.6, 0.85, 0.93])}) == []


def test_one_class_for_almost_everything_is_degenerate() -> None:
    predictions = [3] * 95 + [0, 1, 2, 4, 5]
    (found,) = diagnose_run({}, predictions=predictions, n_classes=196)
    assert found.kind == "degenerate_predictions"
    assert "95.0% of 100 predictions are one single class (only 6 of 196 classes ever predicted)" in found.message
    names = [f"model {i}" for i in range(196)]
    (named,) = diagnose_run({}, predictions=predictions, n_classes=196, class_names=names)
    assert "predictions are 'model 3'" in named.message and "class 3" not in named.message


@pytest.mark.parametrize(
    "predictions", [[3] * 89 + list(range(11)), [3] * 19, []], ids=["89% one class", "too few", "none"]
)
def test_varied_or_too_few_predictions_are_not_degenerate(predictions: list[int]) -> None:
    assert find_degenerate_predictions(predictions) is None


def test_out_of_range_predictions_are_an_error_that_names_n_classes() -> None:
    with pytest.raises(ValueError, match="below n_classes=5"):
        find_degenerate_predictions([0, 1, 7], n_classes=5)


def test_percent_and_fraction_curves_give_the_same_findings() -> None:
    fraction = _car_baseline()
    percent = {name: [(s, v * 100 if "top1" in name else v) for s, v in pts] for name, pts in fraction.items()}
    assert diagnose_run(percent) == diagnose_run(fraction) != []


def test_percent_and_fraction_sweeps_give_the_same_findings() -> None:
    configs = {run: {"variant": run} for run in SUMMARY_RUNS}
    fraction = {run: {"test/top1": 0.3484} for run in SUMMARY_RUNS}
    percent = {run: {"test/top1": 34.84} for run in SUMMARY_RUNS}
    (found,) = diagnose_runs(percent, configs=configs)
    assert diagnose_runs(fraction, configs=configs) == [found]
    assert found.message.startswith("34.84% test top-1 in 9 runs")


SUMMARY_RUNS = [
    "combo_4_aggressive", "combo_2_all_reductions", "reduced_temperature", "combo_5_no_entropy_reg",
    "combo_6_balanced", "combo_3_mild", "combo_1_entropy_maxsup", "no_maxsup", "baseline_reduced_entropy",
]  # fmt: skip


def test_nine_runs_at_34_84_percent_top1_are_identical_results() -> None:
    final = {run: {"test/top1": 0.3484, "test/kl": 0.33 + i / 100} for i, run in enumerate(SUMMARY_RUNS)}
    final |= {"run_1768745543": {"test/top1": 0.0435}, "run_1768749157": {"test/top1": 0.1087}}
    findings = diagnose_runs(final)
    assert _kinds(findings) == ["identical_results"]
    (found,) = findings
    assert found.runs == tuple(SUMMARY_RUNS)
    assert found.message.startswith("34.84% test top-1 in 9 runs: the predictions may not depend on the settings")


def test_two_identical_runs_are_not_a_warning_sign() -> None:
    final = {"a": {"val/top1": 0.5}, "b": {"val/top1": 0.5}, "c": {"val/top1": 0.51}, "d": {"val/top1": 0.52}}
    assert diagnose_runs(final) == []


def test_reruns_of_one_config_count_once() -> None:
    final = {run: {"val/top1": 0.71} for run in ("r1", "r2", "r3")}
    same = {run: {"lr": 0.001, "seed": 0} for run in final}
    assert find_identical_results(final, configs=same) == []
    seeds = {run: {"lr": 0.001, "seed": i} for i, run in enumerate(final)}
    assert find_identical_results(final, configs=seeds) == []  # seeds of one config are one experiment
    differ = {run: {"lr": 0.001 * (i + 1), "seed": 0} for i, run in enumerate(final)}
    assert len(find_identical_results(final, configs=differ)) == 1


def test_values_that_differ_in_the_fourth_decimal_are_not_identical() -> None:
    final = {"a": {"val/top1": 0.3484}, "b": {"val/top1": 0.3485}, "c": {"val/top1": 0.3486}}
    assert find_identical_results(final) == []


def _optimizer_seeds() -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """LBE08-like: AdamW stable; SGD with 4 of 5 seeds diverged (one NaN loss, three below 0.75 mAP)."""
    adamw = [0.881, 0.876, 0.884, 0.879, 0.880]
    sgd = [0.80, 0.61, 0.55, 0.70, math.nan]
    final: dict[str, dict[str, float]] = {}
    for i, v in enumerate(adamw):
        final[f"adamw-s{i}"] = {"val/mAP": v, "train/loss": 1.2}
    for i, v in enumerate(sgd):
        final[f"sgd-s{i}"] = {"val/mAP": v, "train/loss": math.nan if math.isnan(v) else 3.0}
    return final, {run: run.split("-")[0] for run in final}


def test_diverged_seeds_give_the_divergence_rate() -> None:
    final, groups = _optimizer_seeds()
    findings = find_seed_instability(final, groups, diverged_below=0.75)
    (found,) = [f for f in findings if "diverged" in f.message]
    assert found.kind == "seed_instability"
    assert found.runs == ("sgd-s1", "sgd-s2", "sgd-s3", "sgd-s4")
    assert "4 of 5 seeds of group sgd diverged" in found.message and "divergence rate of 80%" in found.message
    assert not any("group adamw" in f.message for f in findings)  # 0.003 std, 0.08 from sgd's one healthy seed


def test_a_nan_seed_counts_as_diverged_without_a_threshold() -> None:
    final, groups = _optimizer_seeds()
    (diverged,) = [f for f in diagnose_runs(final, groups) if "diverged" in f.message]
    assert diverged.runs == ("sgd-s4",) and "1 of 5 seeds" in diverged.message


def test_a_seed_spread_larger_than_the_gap_between_groups_is_unstable() -> None:
    onecycle = [0.8879 + d for d in (-0.015, 0.012, 0.002, -0.008, 0.009)]  # mean 0.8879, std 0.0113
    plateau = [0.8800 + d for d in (-0.002, 0.001, 0.0, 0.002, -0.001)]
    final = {f"onecycle-s{i}": {"val/mAP": v} for i, v in enumerate(onecycle)}
    final |= {f"plateau-s{i}": {"val/mAP": v} for i, v in enumerate(plateau)}
    groups = {run: run.split("-")[0] for run in final}
    (found,) = diagnose_runs(final, groups)
    assert found.kind == "seed_instability"
    assert found.runs == tuple(f"onecycle-s{i}" for i in range(5))
    assert (
        "val mAP varies by ± 1.1 points across 5 seeds of group onecycle, 1.4x the 0.8 points gap to group plateau"
        in (found.message)
    )


def test_stable_seeds_far_apart_are_not_flagged() -> None:
    final = {f"final-s{i}": {"val/mAP": 0.9379 + d} for i, d in enumerate((-0.006, 0.007, 0.0, -0.005, 0.004))}
    final |= {f"baseline-s{i}": {"val/mAP": 0.80 + d} for i, d in enumerate((-0.004, 0.005, 0.0))}
    assert diagnose_runs(final, {run: run.split("-")[0] for run in final}) == []


def test_a_single_group_is_judged_by_its_absolute_spread() -> None:
    wide = {f"s{i}": {"val/top1": v} for i, v in enumerate((0.60, 0.66, 0.63, 0.58))}
    (found,) = diagnose_runs(wide, {run: "g" for run in wide})
    assert "val top-1 varies by ± 3.5 points across 4 seeds of group g, above 2.0 points (mean 61.8%)" in (
        found.message
    )
    narrow = {f"s{i}": {"val/top1": v} for i, v in enumerate((0.60, 0.61, 0.605))}
    assert diagnose_runs(narrow, {run: "g" for run in narrow}) == []


def test_runs_without_a_group_are_not_pooled_into_one() -> None:
    final = {"a": {"val/top1": 0.40}, "b": {"val/top1": 0.70}, "c": {"val/top1": 0.55}}  # three unrelated runs
    assert diagnose_runs(final, {"a": "", "b": None, "c": ""}) == []


def test_missing_and_non_numeric_final_values_are_skipped() -> None:
    final = {f"s{i}": {"val/top1": v, "train/loss": None} for i, v in enumerate((0.60, 0.61, None, 0.605))}
    assert diagnose_runs(final, {run: "g" for run in final}) == []


def test_finding_rejects_unknown_kinds_and_severities() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        Finding("slow", "warning", "x")
    with pytest.raises(ValueError, match="severity must be one of"):
        Finding("stall", "fatal", "x")


def test_findings_come_most_severe_first() -> None:
    curves = _car_baseline()
    curves["val/loss"] = [*curves["val/loss"], (16, math.nan)]
    assert _kinds(diagnose_run(curves)) == ["divergence", "overfitting"]


shares = st.floats(0, 1, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(shares, shares, st.floats(0, 10), st.floats(0, 10)), max_size=25),
    st.lists(st.integers(0, 9), max_size=60),
)
def test_any_finite_run_gives_well_formed_findings(rows: list[tuple[float, ...]], predictions: list[int]) -> None:
    curves = {
        name: [(epoch, row[k]) for epoch, row in enumerate(rows, start=1)]
        for k, name in enumerate(("train/top1", "val/top1", "train/loss", "val/loss"))
    }
    findings = diagnose_run(curves, predictions=predictions, n_classes=10)
    assert len({f.kind for f in findings}) >= len(findings) - 1  # at most the two kinds of stall share a kind
    for found in findings:
        assert found.kind in KINDS and found.severity in SEVERITIES and found.message
        assert found.epoch is None or 1 <= found.epoch <= len(rows)


def test_different_configs_in_one_group_are_not_judged_as_seeds() -> None:
    final = {"a": {"test/mAP": 40.1}, "b": {"test/mAP": 52.3}, "c": {"test/mAP": 47.0}}  # detection, in percent
    configs = {"a": {"lr": 0.01}, "b": {"lr": 0.001}, "c": {"lr": 0.0001}}
    assert diagnose_runs(final, {r: "detector" for r in final}, configs=configs) == []


def test_seed_spread_thresholds_hold_in_percent() -> None:
    narrow = {f"s{i}": {"val/top1": v} for i, v in enumerate((60.0, 61.0, 60.5))}  # 0.5 points std, in percent
    configs = {run: {"lr": 0.1, "seed": i} for i, run in enumerate(narrow)}
    assert diagnose_runs(narrow, {run: "g" for run in narrow}, configs=configs) == []
    wide = {f"s{i}": {"val/top1": v} for i, v in enumerate((60.0, 66.0, 63.0, 58.0))}
    configs = {run: {"lr": 0.1, "seed": i} for i, run in enumerate(wide)}
    (found,) = diagnose_runs(wide, {run: "g" for run in wide}, configs=configs)
    assert "± 3.5 points across 4 seeds of group g" in found.message


def test_the_divergence_threshold_is_read_in_the_metrics_own_scale() -> None:
    final, groups = _optimizer_seeds()
    percent = {run: {k: v * 100 if k == "val/mAP" else v for k, v in m.items()} for run, m in final.items()}
    (in_fraction,) = [f for f in find_seed_instability(final, groups, diverged_below=0.75) if "diverged" in f.message]
    (in_percent,) = [f for f in find_seed_instability(percent, groups, diverged_below=75) if "diverged" in f.message]
    assert in_percent.runs == in_fraction.runs == ("sgd-s1", "sgd-s2", "sgd-s3", "sgd-s4")
    assert "val/mAP below 75.0%" in in_percent.message
