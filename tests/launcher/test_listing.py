"""The queue listing reads and never writes; the variant named for it settles dead runs first and starts a
scheduler when runs wait and none serves them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core import launcher
from core.launcher import queue, service
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels


def _dead_running_run(root: Path) -> str:
    """A run the scheduler started whose processes are gone (no liveness lock is held): it looks running."""
    run_id = launcher.launch_command([sys.executable, "-c", "pass"], labels=RunLabels(name="ghost"), start=False)
    queue.mark_active(root, run_id)
    queue.dequeue(root, run_id)
    assert runstatus.transition(root / run_id, "starting", expect={"queued"}, slot="cpu:0")
    assert runstatus.transition(root / run_id, "running", expect={"starting"})
    return run_id


def test_listing_the_queue_changes_no_status(runs_root: Path) -> None:
    run_id = _dead_running_run(runs_root)
    before = runstatus.read(runs_root / run_id)
    (row,) = launcher.queue_listing()
    assert (row["id"], row["name"], row["state"], row["slot"]) == (run_id, "ghost", "running", "cpu:0")
    assert runstatus.read(runs_root / run_id) == before
    assert queue.active(runs_root) == [run_id]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Schedulers the code under test would start (recorded, not started)."""
    calls: list[Path] = []
    monkeypatch.setattr(service, "ensure_scheduler", calls.append)
    return calls


def test_the_reconciling_listing_marks_a_dead_run_crashed_first(runs_root: Path, started: list[Path]) -> None:
    run_id = _dead_running_run(runs_root)
    assert launcher.reconcile_start_scheduler_then_queue_listing() == []
    assert runstatus.current(runstatus.read(runs_root / run_id)) == "crashed"
    assert queue.active(runs_root) == []
    assert started == []  # nothing waits: no scheduler


def test_a_reader_starts_a_scheduler_for_runs_that_wait(runs_root: Path, started: list[Path]) -> None:
    run_id = launcher.launch_command([sys.executable, "-c", "pass"], start=False)
    rows = launcher.reconcile_start_scheduler_then_queue_listing()
    assert [(r["id"], r["state"]) for r in rows] == [(run_id, "queued")]
    assert started == [runs_root]
    assert launcher.queue_listing() == rows and started == [runs_root]  # the plain listing starts nothing


def test_queued_runs_are_listed_in_start_order_with_their_labels(runs_root: Path) -> None:
    low, high = (
        launcher.launch_command([sys.executable, "-c", "pass"], labels=RunLabels(name=n), priority=p, start=False)
        for n, p in (("low", 0), ("high", 3))
    )
    rows = launcher.queue_listing()
    assert [(r["id"], r["name"], r["position"], r["priority"]) for r in rows] == [
        (high, "high", 1, 3),
        (low, "low", 2, 0),
    ]
