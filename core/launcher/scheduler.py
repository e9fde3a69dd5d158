"""The scheduler process: ``python -m core.launcher scheduler RUNS_DIR``, one per runs folder, started on demand.

It starts queued runs as slots free, notices runs whose processes all died (crashed, or queued again when
they asked for retries), puts back in the queue a run that never got past ``starting`` (all in ``recovery``),
tells Bayesian sweeps about finished trials, and exits when nothing is queued or running. Launches start it
(``service.ensure_scheduler``); readers of the queue, the app and supervisors start it again when runs wait and
none serves them (``service.start_scheduler_if_needed``), so a killed scheduler or a reboot leaves nothing queued.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from core import runfolder
from core.launcher import queue, slots
from core.launcher.procs import process_env
from core.launcher.recovery import reconcile
from core.launcher.service import LOCK_FILE, PID_FILE
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT

POLL_S = 0.2
IDLE_EXIT_S = 2.0


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
    slots.unpin()  # started from a pinned run (a script that launches runs), it still divides the whole machine
    (root / PID_FILE).write_text(str(os.getpid()))
    supervisors: list[subprocess.Popen[bytes]] = []
    idle_since = time.monotonic()
    while True:
        supervisors = [p for p in supervisors if p.poll() is None]  # reap: no zombies
        supervisors += _one_pass(root)
        if queue.queued(root) or queue.active(root):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_EXIT_S:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            if not queue.queued(root) or not _try_lock(lock_fd):  # re-check: a launch may have just queued
                return 0
        _wait_for_a_change(supervisors, POLL_S)


def _one_pass(root: Path) -> list[subprocess.Popen[bytes]]:
    """Settle ended runs, then start what fits. A full disk or a vanished file fails one pass, not the
    scheduler: the next pass tries again."""
    try:
        ended = reconcile(root)
        if ended:
            _tell_sweeps(root, ended)
        return start_ready(root)
    except OSError as exc:
        _say(f"a pass failed ({type(exc).__name__}: {exc}); trying again")
        return []


def _wait_for_a_change(supervisors: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Sleep up to ``timeout``, waking as soon as a supervisor exits (its run ended: a slot is free)."""
    fds = []
    for proc in supervisors:
        try:
            fds.append(os.pidfd_open(proc.pid))
        except OSError:  # it exited already (reaped next pass), or no pidfd on this system
            pass
    try:
        if fds:
            select.select(fds, [], [], timeout)
        else:
            time.sleep(timeout)
    finally:
        for fd in fds:
            os.close(fd)


def _say(message: str) -> None:
    try:
        print(f"{datetime.now().isoformat()} {message}", flush=True)
    except OSError:
        pass  # the log is on the full disk too: nothing more can be said


def _tell_sweeps(root: Path, ended: list[str]) -> None:
    from core.launcher import sweeps  # sweeps, launching and optuna: loaded only once a run ends

    try:
        sweeps.on_runs_ended(root, ended)
    except Exception as exc:
        _say(f"sweep update failed: {type(exc).__name__}: {exc}")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
