"""Compare's page logic: the metrics it starts with, lines smoothed and timed per run, seed-group bands, the
summary's highlighted cells, diagnostics over the runs' final metrics, and which significance test applies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import tracking
from core.store import Store
from core.views import compare
from tests.fixtures_runs import prepare


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _run(root: Path, values: dict[str, list[float]], group: str = "", name: str = "r") -> str:
    with tracking.start(name=name, group=group, runs_dir=root) as run:
        for step in range(len(next(iter(values.values())))):
            run.log({k: v[step] for k, v in values.items()}, step=step + 1)
    return run.id


def test_the_metrics_compare_starts_with() -> None:
    assert compare.default_metrics(["train/loss", "val/loss", "val/mAP", "val/make_acc", "val/top1"]) == [
        "val/top1", "val/loss", "val/make_acc"]
    assert compare.default_metrics(["val/mAP", "x/y"]) == ["val/mAP"]
    assert compare.default_metrics(["a/b", "c/d", "e/f"]) == ["a/b", "c/d"]


def test_lines_are_smoothed_and_timed_per_run() -> None:
    points = pd.DataFrame({"run_id": ["a", "b", "a", "b"], "name": "val/loss", "step": [1, 1, 2, 2],
                           "value": [0.0, 100.0, 10.0, 100.0], "time": [1000.0, 2000.0, 1010.0, 2030.0]})
    lines = compare.run_lines(points, smoothing=0.5, x_axis="time")
    a, b = lines[lines["run_id"] == "a"], lines[lines["run_id"] == "b"]
    assert a["value"].tolist() == pytest.approx([0.0, 10 / 1.5])  # TensorBoard's debiased EMA, within run a
    assert b["value"].tolist() == pytest.approx([100.0, 100.0])  # untouched by run a's values
    assert a["time"].tolist() == [0.0, 10.0] and b["time"].tolist() == [0.0, 30.0]
    assert lines["series"].tolist() == ["a", "b", "a", "b"]
    assert points["value"].tolist() == [0.0, 100.0, 10.0, 100.0]  # the input is left alone
    raw = compare.run_lines(points, smoothing=0.0, x_axis="step")
    assert raw["value"].tolist() == [0.0, 100.0, 10.0, 100.0] and raw["time"].tolist() == [1000, 2000, 1010, 2030]


def test_charts_per_metric_as_lines_or_group_bands(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/top1": [0.2, 0.4]}, group="g"), _run(runs_root, {"val/top1": [0.4, 0.6]}, group="g")]
    store.sync()
    lines = compare.charts(store, ids, ["val/top1", "val/never"])
    assert list(lines) == ["val/top1"] and set(lines["val/top1"]["series"]) == set(ids)
    bands = compare.charts(store, ids, ["val/top1"], by_group=True)["val/top1"]
    assert bands["group"].tolist() == ["g", "g"] and bands["step"].tolist() == [1, 2]
    assert bands["mean"].tolist() == pytest.approx([0.3, 0.5]) and bands["count"].tolist() == [2, 2]


def test_the_summary_marks_each_metrics_best_cell(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/loss": [1.0], "val/top1": [0.7]}, name="one"),
           _run(runs_root, {"val/loss": [0.5], "val/top1": [0.6]}, name="two")]
    store.sync()
    shown, best = compare.summary_cells(compare.summary(store, ids, ["val/loss", "val/top1"], ids[0]))
    assert list(shown.index) == ["one", "two"] and not any(c.startswith("best:") for c in shown.columns)
    assert best.shape == shown.shape and list(best.columns) == list(shown.columns)
    assert best["val/loss"].tolist() == [False, True] and best["val/top1"].tolist() == [True, False]
    assert not best.drop(columns=["val/loss", "val/top1"]).to_numpy().any()


def test_findings_read_each_runs_final_metrics(store: Store, runs_root: Path) -> None:
    same = [_run(runs_root, {"test/top1": [0.1, v]}) for v in (0.3484, 0.3484, 0.3484)]
    other = _run(runs_root, {"test/top1": [0.3484, 0.5]})  # the same value, but not its last one
    store.sync()
    (finding,) = compare.findings(store, [*same, other])
    assert finding.kind == "identical_results" and set(finding.runs) == set(same)


def test_seed_groups_get_welch_and_a_pair_with_predictions_gets_mcnemar(store: Store, runs_root: Path,
                                                                         tmp_path: Path) -> None:
    runs = prepare(runs_root, tmp_path / "images")
    store.sync()
    ids = [runs["single0"], runs["multi0"], runs["single1"], runs["multi1"]]
    tests = compare.significance(store, ids, ids[1], ["val/top1"])
    assert tests.welch and not tests.hint and tests.other == ids[0] and tests.mcnemar is not None
    assert tests.metric == "val/top1" and sorted(tests.seeds["group"]) == ["multi", "single"]
    assert compare.significance(store, ids, ids[0], []).metric == compare.MAIN_METRIC


def test_two_single_runs_without_predictions_get_the_hint(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/top1": [0.5]}, group="a"), _run(runs_root, {"val/top1": [0.6]}, group="b")]
    store.sync()
    tests = compare.significance(store, ids, ids[0], ["val/top1"])
    assert not tests.welch and tests.mcnemar is None and tests.hint
    assert tests.seeds["n"].tolist() == [1, 1]


def test_one_seed_group_next_to_single_runs_gets_neither_test_nor_the_hint(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/top1": [v]}, group=g) for v, g in ((0.5, "a"), (0.6, "a"), (0.7, "b"))]
    store.sync()
    tests = compare.significance(store, ids, ids[0], ["val/top1"])
    assert not tests.welch and tests.mcnemar is None and not tests.hint
    assert np.array_equal(tests.seeds["n"].to_numpy(), [2, 1])
