"""Settling runs whose processes died: crashed, cancelled when the kill was a cancel, queued again when the
run asked for retries (and only as often as it asked), and never lost when two processes settle at once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core import launcher
from core.launcher import queue, recovery
from core.runfolder import status as runstatus


def _launched(root: Path, retries: int = 0, recipe: bool = False) -> str:
    if recipe:  # a recipe run as launch_many would queue it, without checking a config
        run_id = launcher.launch_command([sys.executable, "-c", "pass"], start=False)
        queue.write_launch_spec(root / run_id, {"recipe": "classify", "overrides": [], "retries": retries})
        return run_id
    return launcher.launch_command([sys.executable, "-c", "pass"], start=False, retries=retries)


def _started(root: Path, run_id: str) -> None:
    """What a scheduler and a supervisor leave for a running run, minus the live processes."""
    queue.mark_active(root, run_id)
    queue.dequeue(root, run_id)
    assert runstatus.transition(root / run_id, "starting", expect={"queued"}, slot="cpu:0", start_attempts=1)
    assert runstatus.transition(root / run_id, "running", expect={"starting"})


def _state(root: Path, run_id: str) -> str:
    return runstatus.current(runstatus.read(root / run_id))


def test_a_dead_run_without_retries_is_crashed_and_ended(runs_root: Path) -> None:
    run_id = _launched(runs_root)
    _started(runs_root, run_id)
    assert recovery.reconcile(runs_root) == [run_id]
    assert _state(runs_root, run_id) == "crashed"
    assert "died" in runstatus.read(runs_root / run_id)["error"]
    assert (queue.is_queued(runs_root, run_id), queue.active(runs_root)) == (False, [])


def test_a_crashed_run_is_queued_again_as_often_as_it_asked(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=2)
    for used in (1, 2):
        _started(runs_root, run_id)
        assert recovery.reconcile(runs_root) == []  # queued again: not ended (a sweep is not told)
        record = runstatus.read(runs_root / run_id)
        assert (record["status"], record["retries_used"]) == ("queued", used)
        assert "died" in record["retried_after"] and "error" not in record and "slot" not in record
        assert queue.is_queued(runs_root, run_id) and queue.active(runs_root) == []
    _started(runs_root, run_id)
    assert recovery.reconcile(runs_root) == [run_id]
    assert _state(runs_root, run_id) == "crashed" and not queue.is_queued(runs_root, run_id)


def test_a_crash_the_supervisor_recorded_is_retried_too(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=1)
    _started(runs_root, run_id)
    runstatus.transition(runs_root / run_id, "crashed", exit_code=137, error="exited with code 137")
    assert recovery.reconcile(runs_root) == []
    assert _state(runs_root, run_id) == "queued"
    assert runstatus.read(runs_root / run_id)["retried_after"] == "exited with code 137"


@pytest.mark.parametrize("end", ["failed", "succeeded", "cancelled"])
def test_only_crashes_are_retried(runs_root: Path, end: str) -> None:
    run_id = _launched(runs_root, retries=3)
    _started(runs_root, run_id)
    runstatus.transition(runs_root / run_id, end)
    assert recovery.reconcile(runs_root) == [run_id]
    assert _state(runs_root, run_id) == end


def test_a_run_killed_by_a_cancel_is_cancelled_not_retried(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=3)
    _started(runs_root, run_id)
    runstatus.update(runs_root / run_id, cancel_requested=True)  # cancel() asked, then SIGKILL took everything
    assert recovery.reconcile(runs_root) == [run_id]
    assert _state(runs_root, run_id) == "cancelled"


def test_a_recipe_run_is_retried_from_its_last_checkpoint(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=1, recipe=True)
    _started(runs_root, run_id)
    recovery.reconcile(runs_root)
    assert queue.read_launch_spec(runs_root / run_id)["resume"] is True


def test_a_resume_by_hand_gives_the_retries_back(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=1, recipe=True)
    for _ in range(2):
        _started(runs_root, run_id)
        recovery.reconcile(runs_root)
    assert recovery.retries_left(runs_root / run_id) == 0
    launcher.resume(run_id, start=False)
    assert recovery.retries_left(runs_root / run_id) == 1
    assert queue.is_queued(runs_root, run_id)


def test_the_loser_of_two_settlers_leaves_the_queue_marker(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=1)
    _started(runs_root, run_id)
    runstatus.transition(runs_root / run_id, "crashed")
    assert recovery.queue_again(runs_root, runs_root / run_id, {"crashed"})  # the winner
    assert not recovery.queue_again(runs_root, runs_root / run_id, {"crashed"})  # saw it crashed a moment ago
    assert queue.is_queued(runs_root, run_id) and _state(runs_root, run_id) == "queued"


def test_a_run_starting_before_a_reboot_is_queued_again(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    run_id = _launched(runs_root)
    queue.mark_active(runs_root, run_id)
    queue.dequeue(runs_root, run_id)
    runstatus.transition(runs_root / run_id, "starting", expect={"queued"}, slot="cpu:0", start_attempts=1,
                         pgid=os.getpgrp())  # fmt: skip  (after the reboot, this number is another live group)
    assert recovery.reconcile(runs_root) == [] and _state(runs_root, run_id) == "starting"  # still booting
    monkeypatch.setattr(recovery, "_uptime_s", lambda: 0.0)  # the record predates the boot
    recovery.reconcile(runs_root)
    assert _state(runs_root, run_id) == "queued" and queue.is_queued(runs_root, run_id)


@pytest.mark.parametrize("retries", [-1, 101, 1.5, True])
def test_retries_must_be_a_whole_number_in_range(runs_root: Path, retries: object) -> None:
    with pytest.raises(launcher.LaunchError, match="retries must be a whole number from 0 to 100"):
        launcher.launch_command([sys.executable, "-c", "pass"], start=False, retries=retries)  # type: ignore[arg-type]
    assert [p for p in runs_root.iterdir() if p.is_dir() and p.name[0].isdigit()] == []


def test_retries_are_stored_with_the_launch_not_the_config(runs_root: Path) -> None:
    run_id = _launched(runs_root, retries=2)
    assert queue.read_launch_spec(runs_root / run_id)["retries"] == 2
    assert "retries" not in queue.read_launch_spec(runs_root / _launched(runs_root))
