"""A scheduler may be killed between any two steps of starting a run. Whatever it left on disk, the next
scheduler's pass (reconcile, then start) must start the run exactly once: never lose it, never start it twice.
These tests rebuild the state each cut point leaves and run one pass, without spawning processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from core import launcher
from core.launcher import queue, recovery, scheduler
from core.runfolder import status as runstatus


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "1")
    monkeypatch.setattr(recovery, "STARTING_GRACE_S", 0.0)

    def spawn(root: Path, run_dir: Path, slot: str) -> None:  # a supervisor that stays alive: this test's group
        started.append(run_dir.name)
        runstatus.update(run_dir, pgid=os.getpgrp())

    monkeypatch.setattr(scheduler, "_spawn_supervisor", spawn)
    return started


def _queued_run(root: Path) -> str:
    return launcher.launch_command([sys.executable, "-c", "pass"], start=False)


def _one_pass(root: Path) -> None:
    recovery.reconcile(root)
    scheduler.start_ready(root)


def _markers(root: Path, run_id: str) -> tuple[bool, bool]:
    return queue.is_queued(root, run_id), run_id in queue.active(root)


def test_a_plain_pass_starts_a_queued_run_once(runs_root: Path, spawned: list[str]) -> None:
    run_id = _queued_run(runs_root)
    _one_pass(runs_root)
    _one_pass(runs_root)
    assert spawned == [run_id]
    assert runstatus.current(runstatus.read(runs_root / run_id)) == "starting"
    assert _markers(runs_root, run_id) == (False, True)


def test_killed_after_marking_active_before_the_status_changed(runs_root: Path, spawned: list[str]) -> None:
    run_id = _queued_run(runs_root)
    queue.mark_active(runs_root, run_id)
    _one_pass(runs_root)
    assert spawned == [run_id]


@pytest.mark.parametrize("queue_marker_left", [True, False], ids=["before dequeue", "before spawn"])
def test_killed_after_the_status_became_starting(runs_root: Path, spawned: list[str], queue_marker_left: bool) -> None:
    run_id = _queued_run(runs_root)
    queue.mark_active(runs_root, run_id)
    assert runstatus.transition(runs_root / run_id, "starting", expect={"queued"}, slot="cpu:0", start_attempts=1)
    if not queue_marker_left:
        queue.dequeue(runs_root, run_id)
    for _ in range(3):  # the first pass puts it back in the queue (no supervisor ever ran), a later one starts it
        _one_pass(runs_root)
    assert spawned == [run_id]
    assert runstatus.read(runs_root / run_id)["start_attempts"] == 2


def test_killed_while_putting_a_run_back_in_the_queue(runs_root: Path, spawned: list[str]) -> None:
    run_id = _queued_run(runs_root)
    queue.mark_active(runs_root, run_id)
    runstatus.transition(runs_root / run_id, "queued", expect={"queued"})
    queue.dequeue(runs_root, run_id)  # status queued, marked active, but its queue marker is gone
    _one_pass(runs_root)
    assert spawned == [run_id]


def test_a_run_cancelled_while_marked_active_is_not_started(runs_root: Path, spawned: list[str]) -> None:
    run_id = _queued_run(runs_root)
    queue.mark_active(runs_root, run_id)
    assert launcher.cancel(run_id) == "cancelled"
    _one_pass(runs_root)
    _one_pass(runs_root)
    assert spawned == []
    assert _markers(runs_root, run_id) == (False, False)


def test_a_supervisor_that_boots_after_its_run_was_requeued_does_nothing(runs_root: Path) -> None:
    from core.launcher import supervisor

    run_id = _queued_run(runs_root)
    assert supervisor.supervise(runs_root / run_id, "cpu:0") == 0
    assert runstatus.current(runstatus.read(runs_root / run_id)) == "queued"
    assert not (runs_root / run_id / "console.log").exists()


def test_a_pass_that_hits_a_full_disk_fails_alone(runs_root: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    import errno

    def full(root: Path, jobs: object = None) -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scheduler, "reconcile", full)
    assert scheduler._one_pass(runs_root) == []  # the scheduler lives on; the next pass tries again
    assert "No space left on device" in capsys.readouterr().out


def test_the_scheduler_wakes_when_a_supervisor_exits() -> None:
    import subprocess
    import time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    started = time.monotonic()
    scheduler._wait_for_a_change([proc], timeout=5.0)
    assert time.monotonic() - started < 2.0  # woke at the exit, not after the whole timeout
    proc.wait()
