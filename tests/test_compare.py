"""Compare's numbers: the summary's last and best values with deltas, and the axes of a sweep's parallel
coordinates (varied keys only, log axes for wide ranges, categories in sorted order, runs without the metric
left out by name)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from core import tracking
from core.store import Store
from core.views import compare


def _run(root: Path, config: dict, top1: float | None) -> str:
    with tracking.start(name="trial", group="sweep", config=config, runs_dir=root) as run:
        if top1 is not None:
            run.log({"val/top1": top1}, step=1)
    return run.id


def test_axes_of_a_sweep(runs_root: Path) -> None:
    ids = [
        _run(runs_root, {"lr": 1e-4, "optimizer": "sgd", "batch_size": 32, "epochs": 5}, 0.5),
        _run(runs_root, {"lr": 1e-3, "optimizer": "adamw", "batch_size": 64, "epochs": 5}, 0.7),
        _run(runs_root, {"lr": 1e-2, "optimizer": "sgd", "batch_size": 64, "epochs": 5}, 0.6),
        _run(runs_root, {"lr": 1e-1, "optimizer": "adamw", "batch_size": 32, "epochs": 5}, None),
    ]
    with Store(runs_root, in_memory=True) as store:
        axes, left_out = compare.sweep_axes(store, ids, "val/top1")
    assert left_out == [ids[3]]
    lr, optimizer, batch, metric = axes  # epochs is the same everywhere: no axis
    assert lr.label == "lr (log)" and lr.values == pytest.approx([-4, -3, -2])
    assert lr.ticktext == ["0.0001", "0.001", "0.01"] and lr.tickvals == pytest.approx([-4, -3, -2])
    assert (optimizer.values, optimizer.ticktext, optimizer.tickvals) == ([1, 0, 1], ["adamw", "sgd"], [0, 1])
    assert (batch.label, batch.values, batch.tickvals) == ("batch_size", [32, 64, 64], None)
    assert (metric.label, metric.values) == ("val/top1", [0.5, 0.7, 0.6])


def test_many_distinct_values_on_a_log_axis_get_decade_ticks(runs_root: Path) -> None:
    lrs = [10 ** (-5 + i * 0.4) for i in range(10)]
    ids = [_run(runs_root, {"lr": lr, "heads": [True, False][i % 2]}, 0.1 * i) for i, lr in enumerate(lrs)]
    with Store(runs_root, in_memory=True) as store:
        (lr, heads, _), _ = compare.sweep_axes(store, ids, "val/top1")
    assert lr.ticktext == ["1e-05", "0.0001", "0.001", "0.01", "0.1"]
    assert lr.values == pytest.approx([math.log10(v) for v in lrs])
    assert heads.ticktext == ["False", "True"]


def test_no_axes_when_nothing_differs_or_one_run_has_the_metric(runs_root: Path) -> None:
    same = [_run(runs_root, {"lr": 0.1}, 0.5), _run(runs_root, {"lr": 0.1}, 0.6)]
    one = [_run(runs_root, {"lr": 0.2}, 0.5), _run(runs_root, {"lr": 0.3}, None)]
    with Store(runs_root, in_memory=True) as store:
        assert compare.sweep_axes(store, same, "val/top1") == ([], [])
        assert compare.sweep_axes(store, one, "val/top1") == ([], [one[1]])


def test_summary_has_last_and_best_values_with_deltas_against_the_baseline(runs_root: Path) -> None:
    ids = []
    for losses, accs in (([2.0, 1.0, 1.5], [0.2, 0.6, 0.5]), ([3.0, 2.0, 1.2], [0.1, 0.3, 0.7])):
        with tracking.start(name=f"run{len(ids)}", runs_dir=runs_root) as run:
            for step, (loss, acc) in enumerate(zip(losses, accs), start=1):
                run.log({"val/loss": loss, "val/top1": acc}, step=step)
        ids.append(run.id)
    with Store(runs_root, in_memory=True) as store:
        table = compare.summary(store, ids, ["val/loss", "val/top1"], baseline=ids[0]).set_index("name")
    assert table["val/loss"].tolist() == [1.5, 1.2] and table["val/loss (best)"].tolist() == [1.0, 1.2]
    assert table["val/top1 (best)"].tolist() == [0.6, 0.7]
    assert table.loc["run1", "Δ val/top1"] == pytest.approx(0.2)
    assert table.loc["run1", "Δ% val/loss"] == pytest.approx(-20.0)
    assert table["best:val/loss"].tolist() == [False, True] and table["best:val/top1"].tolist() == [False, True]
