"""Settling active runs whose processes are gone: crashed, back in the queue, or failed when starting them
keeps failing. The scheduler does it on every poll; a reader that must not show dead runs as running (the CLI)
calls ``reconcile`` itself, by that name, so the write is visible where it happens."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from core import runfolder
from core.launcher import queue
from core.launcher.procs import group_members
from core.launcher.service import LOG_FILE
from core.runfolder import status as runstatus

STARTING_GRACE_S = 10.0
MAX_START_ATTEMPTS = 3


def reconcile(root: Path) -> list[str]:
    """Settle active runs whose processes are gone; return the runs that ended since the last call."""
    ended = []
    for run_id in queue.active(root):
        run_dir = root / run_id
        record = runstatus.read(run_dir)
        state = runstatus.current(record)
        if state in runfolder.FINAL_STATUSES:
            ended.append(run_id)
        elif runstatus.is_alive(run_dir):
            continue
        elif state == "starting":
            if _still_starting(record):
                continue
            _requeue_or_fail(root, run_dir, record)
        elif state == "queued":  # marked active by a scheduler that died before starting it: still queued
            if not queue.is_queued(root, run_id):
                queue.enqueue(root, run_id)
            continue
        elif runstatus.transition(run_dir, "crashed", expect={"running", "new"},
                                  error="its processes died without recording an end (killed, or out of memory?)"):
            ended.append(run_id)
        else:
            continue
        queue.unmark_active(root, run_id)
    return ended


def _still_starting(record: dict[str, object]) -> bool:
    """A starting run without its liveness lock may be a supervisor still booting: it is, while its process
    group has members; with no group recorded (the scheduler died around the start), allow a grace period."""
    pgid = record.get("pgid")
    if isinstance(pgid, int):
        return bool(group_members(pgid))
    return _age_s(record) < STARTING_GRACE_S


def _requeue_or_fail(root: Path, run_dir: Path, record: dict[str, object]) -> None:
    """A run left in ``starting`` by a scheduler that died before starting it: it never ran, so queue it
    again (not failed), unless starting it keeps failing."""
    attempts = int(record.get("start_attempts", 0) or 0)  # type: ignore[call-overload]
    if attempts >= MAX_START_ATTEMPTS:
        runstatus.transition(run_dir, "failed", error=f"could not be started after {attempts} attempts; "
                             f"see {root / LOG_FILE}")
    else:  # the marker first: a scheduler killed in between leaves a queued run that still has one
        queue.enqueue(root, run_dir.name)
        if not runstatus.transition(run_dir, "queued", expect={"starting"}, slot=None, pgid=None):
            queue.dequeue(root, run_dir.name)


def _age_s(record: dict[str, object]) -> float:
    try:
        updated = datetime.fromisoformat(str(record.get("updated")))
    except ValueError:
        return float("inf")
    return time.time() - updated.timestamp()
