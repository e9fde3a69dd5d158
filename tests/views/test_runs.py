"""The home and Runs pages' numbers: runs by status, the latest runs with their key metrics, and a page of the
runs list with progress and the warning of a run whose loss diverged."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import tracking
from core.store import Store, queries
from core.views import runs as runsview


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _run(root: Path, name: str, losses: list[float], status: str = "succeeded") -> tracking.Run:
    run = tracking.start(name=name, group="g", runs_dir=root)
    for step, loss in enumerate(losses, start=1):
        run.log({"train/loss": loss, "val/loss": loss, "val/top1": 0.1 * step}, step=step)
    run.set_progress(len(losses), 4)
    if status != "running":
        run.finish(status)
    return run


def test_runs_by_status(store: Store, runs_root: Path) -> None:
    for name, status in (("a", "succeeded"), ("b", "failed"), ("c", "succeeded")):
        _run(runs_root, name, [1.0], status)
    store.sync()
    assert queries.status_counts(store) == [("failed", 1), ("succeeded", 2)]


def test_a_page_of_runs_with_progress_and_warnings(store: Store, runs_root: Path) -> None:
    running = _run(runs_root, "healthy", [2.0, 1.5, 1.0], status="running")
    healthy, broken = running.id, _run(runs_root, "broken", [2.0, float("nan")], status="failed").id
    store.sync()
    frame, total = runsview.runs_page(store, metrics=["val/top1"], page=1)
    running.finish()
    assert total == 2 and frame["id"].tolist() == [broken, healthy]
    assert list(frame.columns) == ["name", "status", "progress", "group", "recipe", "val/top1", "warnings",
                                   "created", "duration_s", "tags", "id"]
    assert frame.loc[frame["id"] == healthy, "progress"].item() == 0.75  # a finished run shows no progress
    assert "divergence" in frame.loc[frame["id"] == broken, "warnings"].item()
    assert frame.loc[frame["id"] == healthy, "warnings"].item() == ""
    second, total = runsview.runs_page(store, metrics=[], page=2, size=1)
    assert total == 2 and second["id"].tolist() == [healthy]
    only, total = runsview.runs_page(store, metrics=[], page=1, search="heal", status=["running"])
    assert total == 1 and only["name"].tolist() == ["healthy"]


def test_an_empty_page(store: Store) -> None:
    frame, total = runsview.runs_page(store, metrics=[], page=1)
    assert total == 0 and frame.empty and "warnings" in frame.columns


def test_latest_runs_with_their_key_metrics(store: Store, runs_root: Path) -> None:
    ids = [_run(runs_root, name, [1.0, 0.5]).id for name in ("one", "two", "three")]
    store.sync()
    latest, metrics = runsview.latest_runs(store, limit=2)
    assert latest["id"].tolist() == ids[:0:-1] and metrics == ["val/top1", "val/loss", "train/loss"]
    assert list(latest.columns) == ["name", "group", "status", "recipe", "created", *metrics, "id"]
    assert latest["val/top1"].tolist() == pytest.approx([0.2, 0.2])


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)])
def test_page_count(total: int, pages: int) -> None:
    assert runsview.page_count(total) == pages == max(1, math.ceil(total / runsview.PAGE_SIZE))


def test_sort_options_and_labels() -> None:
    assert runsview.sort_options(["val/top1"]) == ["created", "val/top1", "name", "group", "status", "duration_s"]
    assert runsview.run_label("baseline", "20250101-abcdef123456") == "baseline (123456)"
