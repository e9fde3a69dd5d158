"""The scheduler: ``python -m core.launcher scheduler RUNS_DIR``, one per runs folder, started on demand.

It starts queued runs as slots free, notices runs whose processes all died (crashed), puts back in the queue
a run that never got past ``starting``, tells Bayesian sweeps about finished trials, and exits when nothing
is queued or running. The app and the CLI start it whenever they queue something (``ensure_scheduler``), so
queued runs start whether or not a browser tab is open, and whether or not the app runs.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from core import runfolder
from core.launcher import queue, slots
from core.launcher.procs import group_members, process_env
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT

LOCK_FILE = "scheduler.lock"
LOG_FILE = "scheduler.log"
PID_FILE = "scheduler.pid"
POLL_S = 0.2
IDLE_EXIT_S = 2.0
STARTING_GRACE_S = 10.0
MAX_START_ATTEMPTS = 3

_spawned: list[subprocess.Popen[bytes]] = []  # schedulers this process started, reaped on the next call


def ensure_scheduler(root: Path) -> None:
    """Start the scheduler of ``root`` unless one runs already (it is cheap to call often)."""
    global _spawned
    _spawned = [p for p in _spawned if p.poll() is None]
    if is_running(root):
        return
    with open(root / LOG_FILE, "ab") as log:
        _spawned.append(subprocess.Popen(
            [sys.executable, "-m", "core.launcher", "scheduler", str(root)], cwd=REPO_ROOT, env=process_env(root),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))


def is_running(root: Path) -> bool:
    """True while a scheduler serves ``root`` (it holds the scheduler lock for its whole life)."""
    return runstatus.lock_is_held(root / LOCK_FILE)


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


def start_ready(root: Path) -> list[subprocess.Popen[bytes]]:
    """Start queued runs on free slots, highest priority first; returns the supervisors started."""
    used = {runstatus.read(root / r).get("slot") for r in queue.active(root)}
    free = [s for s in slots.all_slots() if s not in used]
    started = []
    for entry in queue.queued(root):
        if not free:
            break
        run_dir = root / entry.run_id
        attempts = int(runstatus.read(run_dir).get("start_attempts", 0) or 0) + 1
        # Marked active before the status changes, so a scheduler killed between the two steps leaves a run
        # that reconcile() finds (and puts back in the queue), never a ``starting`` run nobody looks at.
        queue.mark_active(root, entry.run_id)
        if not runstatus.transition(run_dir, "starting", expect={"queued"}, slot=free[0], start_attempts=attempts):
            if runstatus.current(runstatus.read(run_dir)) not in runfolder.ACTIVE_STATUSES:
                queue.unmark_active(root, entry.run_id)
            queue.dequeue(root, entry.run_id)  # cancelled, removed or already started: the marker is stale
            continue
        queue.dequeue(root, entry.run_id)
        started.append(_spawn_supervisor(root, run_dir, free.pop(0)))
    return started


def _spawn_supervisor(root: Path, run_dir: Path, slot: str) -> subprocess.Popen[bytes]:
    with open(run_dir / runfolder.CONSOLE_FILE, "ab") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.launcher", "supervisor", str(run_dir), slot], cwd=REPO_ROOT,
            env=process_env(root),
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
        )
    runstatus.update(run_dir, pgid=proc.pid)  # it leads its own session and group
    return proc


def main(root: Path) -> int:
    lock_fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(lock_fd):
        return 0  # another scheduler serves this folder
    (root / PID_FILE).write_text(str(os.getpid()))
    supervisors: list[subprocess.Popen[bytes]] = []
    idle_since = time.monotonic()
    while True:
        supervisors = [p for p in supervisors if p.poll() is None]  # reap: no zombies
        ended = reconcile(root)
        if ended:
            _tell_sweeps(root, ended)
        supervisors += start_ready(root)
        if queue.queued(root) or queue.active(root):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_EXIT_S:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            if not queue.queued(root) or not _try_lock(lock_fd):  # re-check: a launch may have just queued
                return 0
        time.sleep(POLL_S)


def _tell_sweeps(root: Path, ended: list[str]) -> None:
    from core.launcher import sweeps  # optuna: imported only when a run ends

    try:
        sweeps.on_runs_ended(root, ended)
    except Exception as exc:
        print(f"{datetime.now().isoformat()} sweep update failed: {type(exc).__name__}: {exc}", flush=True)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _age_s(record: dict[str, object]) -> float:
    try:
        updated = datetime.fromisoformat(str(record.get("updated")))
    except ValueError:
        return float("inf")
    return time.time() - updated.timestamp()
