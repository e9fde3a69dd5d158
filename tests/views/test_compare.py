"""Compare's page logic: the metrics it starts with, lines smoothed and timed per run, bands only for real seed
groups, the summary in each metric's units with the best cell by the metric's direction (none on ties), and
the verdicts and findings of core.views.verdicts for every run against the baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from core import tracking
from core.store import Store
from core.views import compare, verdicts
from tests.fixtures_runs import prepare


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _run(root: Path, values: dict[str, list[float]], group: str = "", name: str = "r",
         config: dict | None = None) -> str:  # fmt: skip
    with tracking.start(name=name, group=group, runs_dir=root, config=config) as run:
        for step in range(len(next(iter(values.values())))):
            run.log({k: v[step] for k, v in values.items()}, step=step + 1)
    return run.id


def test_the_metrics_compare_starts_with(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"train/loss": [1.0], "val/loss": [1.0], "val/mAP": [0.1], "val/top1": [0.2]})]
    store.sync()
    assert compare.default_metrics(store, ids) == ["val/top1", "val/loss", "val/mAP"]
    other = [_run(runs_root, {"a/b": [1.0], "c/d": [1.0], "e/f": [1.0], "g/h": [1.0]})]
    store.sync()
    assert compare.default_metrics(store, other) == ["a/b", "c/d", "e/f"]


def test_lines_are_smoothed_and_timed_per_run() -> None:
    points = pd.DataFrame({"run_id": ["a", "b", "a", "b"], "name": "val/loss", "step": [1, 1, 2, 2],
                           "value": [0.0, 100.0, 10.0, 100.0], "time": [1000.0, 2000.0, 1010.0, 2030.0]})
    lines = compare.run_lines(points, smoothing=0.5, x_axis="time")
    a, b = lines[lines["run_id"] == "a"], lines[lines["run_id"] == "b"]
    assert a["value"].tolist() == pytest.approx([0.0, 10 / 1.5])  # TensorBoard's debiased EMA, within run a
    assert a["raw"].tolist() == [0.0, 10.0]  # the raw line, drawn beneath
    assert b["value"].tolist() == pytest.approx([100.0, 100.0])  # untouched by run a's values
    assert a["time"].tolist() == [0.0, 10.0] and b["time"].tolist() == [0.0, 30.0]
    assert lines["series"].tolist() == ["a", "b", "a", "b"]
    assert points["value"].tolist() == [0.0, 100.0, 10.0, 100.0]  # the input is left alone
    raw = compare.run_lines(points, smoothing=0.0, x_axis="step")
    assert raw["value"].tolist() == [0.0, 100.0, 10.0, 100.0] and raw["time"].tolist() == [1000, 2000, 1010, 2030]


def test_a_log_scale_names_the_metrics_it_cannot_draw_whole() -> None:
    lines = {"val/loss": pd.DataFrame({"value": [2.0, 0.5]}), "train/margin": pd.DataFrame({"value": [0.3, -0.1]}),
             "val/zero": pd.DataFrame({"value": [0.0, 1.0]})}  # fmt: skip
    assert compare.hidden_on_log(lines) == ["train/margin", "val/zero"]


def test_bands_only_for_seeds_of_one_config(store: Store, runs_root: Path) -> None:
    seeds = [_run(runs_root, {"val/top1": [0.2 + s / 5, 0.4 + s / 5]}, group="g", config={"lr": 1, "seed": s})
             for s in range(2)]  # fmt: skip
    other = _run(runs_root, {"val/top1": [0.1, 0.1]}, group="g", config={"lr": 2, "seed": 0})
    loose = _run(runs_root, {"val/top1": [0.9, 0.9]})  # ungrouped: never pooled into a "(no group)" band
    ids = [*seeds, other, loose]
    store.sync()
    lines = compare.charts(store, ids, ["val/top1", "val/never"])
    assert list(lines) == ["val/top1"] and set(lines["val/top1"]["series"]) == set(ids)
    bands = compare.charts(store, ids, ["val/top1"], by_group=True)["val/top1"]
    (label,) = set(compare.seed_series(store, ids).values())
    band = bands[bands["group"] == label]
    assert band["step"].tolist() == [1, 2] and band["count"].tolist() == [2, 2]
    assert band["mean"].tolist() == pytest.approx([0.3, 0.5])
    assert set(bands["group"]) == {label, other, loose}  # the other runs stay lines of their own
    assert bands.loc[bands["group"] == loose, "count"].tolist() == [1, 1]


def _summary(store: Store, ids: list[str], metrics: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    sems = verdicts.semantics_of(store, ids, metrics)
    return compare.summary_cells(compare.summary(store, ids, metrics, ids[0], sems), sems)


def test_the_best_cell_is_the_lowest_loss_and_the_highest_accuracy(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/loss": [1.0], "val/top1": [0.7]}, name="one"),
           _run(runs_root, {"val/loss": [0.5], "val/top1": [0.6]}, name="two")]  # fmt: skip
    store.sync()
    shown, best = _summary(store, ids, ["val/loss", "val/top1"])
    assert list(shown.index) == ["one", "two"] and "run" not in shown.columns
    assert best.shape == shown.shape and list(best.columns) == list(shown.columns)
    assert best["val/loss"].tolist() == [False, True] and best["val/top1"].tolist() == [True, False]
    assert not best.drop(columns=["val/loss", "val/top1"]).to_numpy().any()


def test_the_machines_resource_use_is_never_best(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, {"val/top1": [0.7], "system/cpu_percent": [95.0]}, name="one"),
           _run(runs_root, {"val/top1": [0.6], "system/cpu_percent": [40.0]}, name="two")]  # fmt: skip
    store.sync()
    shown, best = _summary(store, ids, ["val/top1", "system/cpu_percent"])
    assert shown["system/cpu_percent"].tolist() == ["95", "40"]  # a measurement, not 95.00% of something
    assert not best["system/cpu_percent"].any() and best["val/top1"].tolist() == [True, False]


@pytest.mark.parametrize("scale", [100.0, 1.0], ids=["percent", "fraction"])
def test_shares_show_as_percent_deltas_in_points_and_ties_have_no_best(store: Store, runs_root: Path,
                                                                       scale: float) -> None:  # fmt: skip
    ids = [_run(runs_root, {"test/top1": [v * scale], "test/KL": [0.3]}, name=n)
           for n, v in (("a", 0.3484), ("b", 0.3604), ("c", 0.3484))]  # fmt: skip
    store.sync()
    shown, best = _summary(store, ids, ["test/top1", "test/KL"])
    assert shown["test/top1"].tolist() == ["34.84%", "36.04%", "34.84%"]
    assert shown["Δ test/top1"].tolist() == ["+0.00 pts", "+1.20 pts", "+0.00 pts"]
    assert shown["Δ% test/top1"].tolist() == ["+0.00%", "+3.44%", "+0.00%"]
    assert best["test/top1"].tolist() == [False, True, False]
    assert not best["test/KL"].any()  # all three tie: nothing is "best"


def test_seed_groups_and_verdicts_come_from_the_judgement(store: Store, runs_root: Path, tmp_path: Path) -> None:
    runs = prepare(runs_root, tmp_path / "images")
    store.sync()
    ids = list(runs.values())
    labels = compare.run_labels(store)
    judgement = verdicts.judge(store, ids, ["test/top1"], runs["single0"])
    table = compare.seed_group_table(judgement, labels)
    assert sorted(table["group"]) == ["multi", "single"] and table["n"].tolist() == [2, 2]
    assert all("±" in text and "%" in text for text in table["mean ± std"])
    intervals = compare.intervals(store, ids, labels)
    assert len(intervals) == 4 and intervals.loc[labels[runs["single0"]], "test/top1"].startswith("50.00% (95% CI")
