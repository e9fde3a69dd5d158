"""The scheduler seen from outside: its files in the runs folder, whether one serves it, and starting one on
demand (``ensure_scheduler``), which every launch calls. The scheduler's own loop is in ``scheduler``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
