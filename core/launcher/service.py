"""The scheduler seen from outside: its files in the runs folder, whether one serves it, and starting one on
demand: ``ensure_scheduler`` (every launch calls it) and ``start_scheduler_if_needed`` (readers of the queue and
supervisors call it, so queued runs never wait for a scheduler that died). The scheduler's loop is in
``scheduler``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.launcher import queue
from core.launcher.procs import process_env
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT

LOCK_FILE = "scheduler.lock"
LOG_FILE = "scheduler.log"
PID_FILE = "scheduler.pid"

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


def start_scheduler_if_needed(root: Path) -> bool:
    """Start the scheduler of ``root`` when runs are queued or active, or ended runs wait to be told to their
    sweeps, and none serves them (killed, or the machine rebooted); True when one was started. Cheap: three
    small folders listed and a lock probed."""
    if not (queue.queued(root) or queue.active(root) or queue.ended(root)) or is_running(root):
        return False
    ensure_scheduler(root)
    return True
