"""What the explorer says about runs, on runs logged through core.tracking as other projects log them."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import tracking
from core.evaluation import stats
from core.store import Store
from core.views import verdicts

SWEEP = [
    "combo_4_aggressive", "combo_2_all_reductions", "reduced_temperature", "combo_5_no_entropy_reg",
    "combo_6_balanced", "combo_3_mild",
]  # fmt: skip


def _log(root: Path, name: str, group: str | None, config: dict, metrics: dict, rows: list | None = None) -> str:
    with tracking.start(name=name, group=group, config=config, runs_dir=root) as run:
        run.log(metrics, step=1)
        if rows is not None:
            run.log_table("test/predictions", rows)
    return run.id


def _sweep(root: Path, top1: float) -> list[str]:
    return [_log(root, n, "dm-sweep", {"variant": n, "seed": 0}, {"test/top1": top1, "test/KL": 0.3 + i / 100})
            for i, n in enumerate(SWEEP)]  # fmt: skip


@pytest.mark.parametrize("top1", [34.84, 0.3484], ids=["percent", "fraction"])
def test_an_identical_sweep_is_flagged_alike_in_percent_and_fraction(tmp_path: Path, top1: float) -> None:
    ids = _sweep(tmp_path, top1)
    with Store(tmp_path, in_memory=True) as store:
        judgement = verdicts.judge(store, ids, ["test/top1", "test/KL"])
    (finding,) = judgement.findings
    assert finding.kind == "identical_results" and finding.message.startswith("34.84% test top-1 in 6 runs")
    assert judgement.seed_groups == []  # six variants, not seeds
    assert judgement.semantics["test/KL"].goal == "min"
    assert all(v.test is None and "3 seeds" in v.sentence for v in judgement.verdicts)


def test_different_configs_in_one_group_are_not_seeds_but_seeds_are(tmp_path: Path) -> None:
    det = [_log(tmp_path, f"det{i}", "detector", {"lr": lr}, {"test/mAP": m})
           for i, (lr, m) in enumerate([(0.01, 40.1), (0.001, 52.3), (0.0001, 47.0)])]  # fmt: skip
    seeded = [_log(tmp_path, f"s{i}", "heads", {"lr": 0.1, "seed": i}, {"test/mAP": 50 + i}) for i in range(3)]
    with Store(tmp_path, in_memory=True) as store:
        judgement = verdicts.judge(store, det + seeded, ["test/mAP"])
    (group,) = judgement.seed_groups
    assert group["runs"] == seeded and group["n"] == 3 and group["mean"] == pytest.approx(51.0)
    assert not any(f.kind == "seed_instability" for f in judgement.findings)


def test_welch_between_seed_groups_calls_the_lower_loss_better(tmp_path: Path) -> None:
    high = [_log(tmp_path, f"a{i}", "a", {"lr": 0.1, "seed": i}, {"val/loss": 1.0 + i / 100}) for i in range(3)]
    low = [_log(tmp_path, f"b{i}", "b", {"lr": 0.01, "seed": i}, {"val/loss": 0.5 + i / 100}) for i in range(3)]
    with Store(tmp_path, in_memory=True) as store:
        judgement = verdicts.judge(store, high + low, ["val/loss"])
    (verdict,) = judgement.verdicts
    assert verdict.test == "Welch's t-test" and verdict.n == 6
    assert verdict.better == low[0] and verdict.significant


def test_every_run_gets_a_verdict_against_the_baseline_with_holm(tmp_path: Path) -> None:
    def rows(fixed: int) -> list[dict]:
        return [{"image": f"i{k}", "correct": k % 2 == 0 or k // 2 < fixed} for k in range(40)]

    ids = [_log(tmp_path, f"r{j}", None, {"lr": j}, {"test/top1": sum(r["correct"] for r in rows(f)) / 40}, rows(f))
           for j, f in enumerate([0, 2, 6, 12])]  # fmt: skip
    with Store(tmp_path, in_memory=True) as store:
        judgement = verdicts.judge(store, ids, ["test/top1"], baseline=ids[0])
        intervals = verdicts.accuracy_intervals(store, ids[3])
    assert [v.run for v in judgement.verdicts] == ids[1:]
    raw = [v.p for v in judgement.verdicts]
    assert [v.p_adjusted for v in judgement.verdicts] == pytest.approx(stats.holm_adjust(raw))
    assert all(v.test.startswith("McNemar") and v.n == 40 for v in judgement.verdicts)
    (top1,) = intervals.to_dict("records")
    assert (top1["correct"], top1["n"]) == (32, 40)
    assert (top1["low"], top1["high"]) == pytest.approx(stats.wilson_interval(32, 40))
    record = judgement.to_dict()
    assert {"run", "baseline", "metric", "test", "n", "p", "p_adjusted", "significant", "better", "sentence"} <= set(
        record["verdicts"][0])
    assert {"run", "metric", "value", "baseline_value", "delta", "delta_pct"} <= set(record["deltas"][0])


def test_run_findings_name_the_class(tmp_path: Path) -> None:
    rows = [{"image": f"i{k}", "correct": False, "pred": "Ford F-150"} for k in range(30)]
    run = _log(tmp_path, "deg", None, {"lr": 1}, {"val/top1": 0.1}, rows)
    with Store(tmp_path, in_memory=True) as store:
        (found,) = verdicts.run_findings(store, [run])[run]
    assert found.kind == "degenerate_predictions" and "'Ford F-150'" in found.message


def test_sentences_name_runs_by_name_with_the_id_only_for_repeated_names(tmp_path: Path) -> None:
    named = [("resnet", 0.40), ("vit", 0.45), ("vit", 0.47), ("convnext", 0.5)]
    ids = [_log(tmp_path, name, None, {"lr": i}, {"test/top1": top1}) for i, (name, top1) in enumerate(named)]
    with Store(tmp_path, in_memory=True) as store:
        judgement = verdicts.judge(store, ids, ["test/top1"], baseline=ids[0])
    assert judgement.names == {ids[0]: "resnet", ids[1]: f"vit ({ids[1][-6:]})", ids[2]: f"vit ({ids[2][-6:]})",
                               ids[3]: "convnext"}  # fmt: skip
    heads = [v.sentence.split(" vs baseline ")[0] for v in judgement.verdicts]
    assert heads == [f"test/top1: vit ({ids[1][-6:]}) 45.00%", f"test/top1: vit ({ids[2][-6:]}) 47.00%",
                     "test/top1: convnext 50.00%"]  # fmt: skip
    assert all(" vs baseline resnet 40.00%. " in v.sentence for v in judgement.verdicts)
    assert judgement.to_dict()["names"] == judgement.names


def test_seed_groups_whose_seeds_all_agree_are_not_called_different(tmp_path: Path) -> None:
    fixed = [_log(tmp_path, f"f{i}", "fixed", {"lr": 0.1, "seed": i}, {"val/top1": 0.5}) for i in range(3)]
    tuned = [_log(tmp_path, f"t{i}", "tuned", {"lr": 0.2, "seed": i}, {"val/top1": 0.6}) for i in range(3)]
    with Store(tmp_path, in_memory=True) as store:
        (verdict,) = verdicts.judge(store, fixed + tuned, ["val/top1"]).verdicts
    assert verdict.test is None and not verdict.significant and verdict.better is None
    assert verdict.sentence.startswith("val/top1: tuned (n=3) 60.00% vs baseline fixed (n=3) 50.00%. No test: every "
                                       "seed of both groups gave the same val/top1")  # fmt: skip
