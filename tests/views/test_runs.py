"""The home and Runs pages' numbers: runs by status, the latest runs with their key metrics, and a page of the
runs list with progress and the warning of a run whose loss diverged."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import tracking
from core.store import Store, queries
from core.views import labels, verdicts
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
    assert list(frame.columns) == ["link", "name", "status", "progress", "group", "recipe", "val/top1", "warnings",
                                   "tags", "created", "duration_s", "id"]
    assert frame.loc[frame["id"] == healthy, "link"].item() == f"Run?run={healthy}&name=healthy"
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
    assert list(latest.columns) == ["name", "group", "status", "recipe", "created", *metrics, "id", "link"]
    assert latest["val/top1"].tolist() == pytest.approx([0.2, 0.2])


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)])
def test_page_count(total: int, pages: int) -> None:
    assert runsview.page_count(total) == pages == max(1, math.ceil(total / runsview.PAGE_SIZE))


def test_any_config_key_is_a_column_and_sorts_numbers_as_numbers(store: Store, runs_root: Path) -> None:
    for name, lr in (("a", 0.01), ("b", 0.2), ("c", 0.03)):
        with tracking.start(name=name, config={"lr": lr, "heads": "multi"}, runs_dir=runs_root) as run:
            run.log({"val/top1": lr}, step=1)
    store.sync()
    assert runsview.column_choices(store) == ["val/top1", "config.heads", "config.lr"]
    frame, _ = runsview.runs_page(store, metrics=["config.lr", "val/top1"], page=1, sort="config.lr", descending=True)
    assert frame["name"].tolist() == ["b", "c", "a"] and frame["config.lr"].tolist() == ["0.2", "0.03", "0.01"]
    formats = runsview.column_formats(store, frame["id"].tolist(), ["config.lr", "val/top1"])
    assert list(formats) == ["val/top1"] and formats["val/top1"](0.2) == "20.00%"


def test_the_chosen_columns_are_remembered(runs_root: Path) -> None:
    offered = ["val/top1", "val/loss", "config.lr"]
    assert runsview.chosen_columns(runs_root, offered, ["val/top1"]) == ["val/top1"]
    runsview.remember_columns(runs_root, ["config.lr", "val/gone"])
    assert runsview.chosen_columns(runs_root, offered, ["val/top1"]) == ["config.lr"]


def test_tags_of_several_runs_are_edited_together(store: Store, runs_root: Path) -> None:
    ids = []
    for tags in (["paper", "a"], ["paper", "b"]):
        with tracking.start(name="r", tags=tags, runs_dir=runs_root) as run:
            pass
        ids.append(run.id)
    store.sync()
    frame, _ = runsview.runs_page(store, metrics=[], page=1)
    assert runsview.common_tags(frame, ids) == ["paper"]
    runsview.retag(store, frame, ids, ["final"])
    frame, _ = runsview.runs_page(store, metrics=[], page=1, tag=["final"])
    tags = {r: sorted(t) for r, t in zip(frame["id"], frame["tags"])}
    assert tags == {ids[0]: ["a", "final"], ids[1]: ["b", "final"]}


def test_sort_options_and_labels() -> None:
    assert runsview.sort_options(["val/top1"]) == ["created", "val/top1", "name", "group", "status", "duration_s"]
    assert labels.run_label("baseline", "20250101-abcdef123456") == "baseline (123456)"


def test_a_finished_runs_warning_is_diagnosed_once(store: Store, runs_root: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    broken = _run(runs_root, "broken", [2.0, float("nan")], status="failed").id
    live = _run(runs_root, "live", [2.0, 1.0], status="running")
    store.sync()
    cache: dict = {}
    frame, _ = runsview.runs_page(store, metrics=[], page=1, cache=cache)
    assert dict(zip(frame["id"], frame["warnings"])) == {broken: "divergence", live.id: ""}
    asked: list[list[str]] = []
    real = verdicts.run_findings
    monkeypatch.setattr(verdicts, "run_findings", lambda s, ids: asked.append(ids) or real(s, ids))
    frame, _ = runsview.runs_page(store, metrics=[], page=1, cache=cache)
    assert asked == [[live.id]] and frame.loc[frame["id"] == broken, "warnings"].item() == "divergence"
    live.finish()
