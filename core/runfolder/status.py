"""A run's status record and its changes: each change is a compare-and-set under a file lock.

Lifecycle: ``queued -> starting -> running -> succeeded | failed | cancelled | crashed``. Final states stay
final, except that ``resume`` puts a cancelled, crashed or failed run back in the queue. Both the training
process (through core.tracking) and the launcher change statuses, so every change goes through
:func:`transition`, which reads, checks and replaces ``status.json`` while holding ``status.lock``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core import runfolder

LOCK_FILE = "status.lock"
ALIVE_LOCK_FILE = "alive.lock"
HEARTBEAT_FILE = "heartbeat"
RESUMABLE = frozenset({"cancelled", "crashed", "failed"})

# What each status may become (a status may also be re-written with new details: running -> running).
NEXT: dict[str, frozenset[str]] = {
    "new": frozenset({"queued", "running"}),
    "queued": frozenset({"queued", "starting", "cancelled"}),
    "starting": frozenset({"running", "succeeded", "failed", "cancelled", "crashed"}),
    "running": frozenset({"running", "succeeded", "failed", "cancelled", "crashed"}),
}


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read(run_dir: Path) -> dict[str, Any]:
    """The status record ({} for a run folder that has none yet)."""
    return runfolder.read_json(run_dir / runfolder.STATUS_FILE, {}) or {}


def current(record: dict[str, Any]) -> str:
    return str(record.get("status") or "new")


def transition(run_dir: Path, to: str, *, expect: frozenset[str] | set[str] | None = None, **fields: Any) -> bool:
    """Change the status to ``to`` if the lifecycle allows it (and it is one of ``expect``, when given).

    Args:
        run_dir: the run folder.
        to: the new status.
        expect: the statuses the change is allowed from; default: what NEXT allows.
        fields: details stored with it (pid, slot, exit_code, error, progress...); None removes a field.

    Returns:
        True when the change was made; False when the run was in another state (nothing written).
    """
    if to not in runfolder.STATUSES:
        raise ValueError(f"unknown status {to!r}; one of {runfolder.STATUSES}")
    with _locked(run_dir):
        record = read(run_dir)
        allowed_from = expect if expect is not None else {s for s, after in NEXT.items() if to in after}
        if current(record) not in allowed_from:
            return False
        _write(run_dir, record, status=to, **fields)
        return True


def update(run_dir: Path, *, only_if: frozenset[str] | set[str] | None = None, **fields: Any) -> bool:
    """Store details without changing the status (only while it is one of ``only_if``, when given)."""
    with _locked(run_dir):
        record = read(run_dir)
        if only_if is not None and current(record) not in only_if:
            return False
        _write(run_dir, record, **fields)
        return True


def _write(run_dir: Path, record: dict[str, Any], **fields: Any) -> None:
    for key, value in fields.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    record["updated"] = runfolder.utc_now()
    if record.get("status") in runfolder.FINAL_STATUSES:
        record.setdefault("ended", record["updated"])
        record.pop("progress", None)
    else:
        record.pop("ended", None)
    runfolder.write_json_atomic(run_dir / runfolder.STATUS_FILE, record)


# -- liveness ------------------------------------------------------------------------------------------
def hold_alive_lock(run_dir: Path) -> int:
    """Take the run's liveness lock for this process (and children that inherit the fd); returns the fd.

    The kernel releases it when every process holding it has died, so liveness never rests on a PID that
    the system may have reused.
    """
    fd = os.open(run_dir / ALIVE_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)  # shared: the supervisor and the training process both hold it
    return fd


def is_alive(run_dir: Path) -> bool:
    """True while some process holds the run's liveness lock."""
    return lock_is_held(run_dir / ALIVE_LOCK_FILE)


def lock_is_held(path: Path) -> bool:
    """True while some process holds a lock (shared or exclusive) on the file; False if it does not exist."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def beat(run_dir: Path) -> None:
    """Record that the training process is making progress (the file's modification time is the beat)."""
    path = run_dir / HEARTBEAT_FILE
    try:
        os.utime(path)
    except FileNotFoundError:
        path.touch()


def seconds_since_beat(run_dir: Path) -> float | None:
    """Seconds since the last heartbeat; None when the run never beat."""
    try:
        return max(0.0, time.time() - (run_dir / HEARTBEAT_FILE).stat().st_mtime)
    except FileNotFoundError:
        return None
