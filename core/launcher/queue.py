"""The run queue on disk: what to start (``launch.json`` in the run folder) and in what order.

A queued run is a run folder with status ``queued`` plus a marker ``<runs>/queue/<run id>`` holding its
priority; a started run gets a marker in ``<runs>/active/``, and a run that ended one in ``<runs>/ended/`` until
the scheduler has told its sweep. The scheduler lists these small folders instead of every run folder. Markers
are hints: the status record (a compare-and-set) decides.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import runfolder

LAUNCH_FILE = "launch.json"
QUEUE_DIR = "queue"
ACTIVE_DIR = "active"
ENDED_DIR = "ended"
REQUESTS_DIR = "requests"


@dataclass(frozen=True)
class QueueEntry:
    """A queued run: higher priority first, then first come first served."""

    run_id: str
    priority: int
    queued_at: float


def write_launch_spec(run_dir: Path, spec: dict[str, Any]) -> None:
    """Store what the supervisor must start: {"recipe", "overrides"} or {"argv"}, plus labels."""
    runfolder.write_json_atomic(run_dir / LAUNCH_FILE, spec)


def read_launch_spec(run_dir: Path) -> dict[str, Any]:
    spec = runfolder.read_json(run_dir / LAUNCH_FILE)
    if not isinstance(spec, dict):
        raise FileNotFoundError(f"{run_dir / LAUNCH_FILE} is missing or unreadable: this run was not launched "
                                "from the queue; start it with `python -m core run` instead")
    return spec


def enqueue(root: Path, run_id: str, priority: int = 0, queued_at: float | None = None) -> None:
    """Put (or move) a run in the queue."""
    folder = root / QUEUE_DIR
    folder.mkdir(exist_ok=True)
    record = {"priority": int(priority), "queued_at": time.time() if queued_at is None else queued_at}
    runfolder.write_json_atomic(folder / run_id, record)


def dequeue(root: Path, run_id: str) -> None:
    _remove(root / QUEUE_DIR / run_id)


def is_queued(root: Path, run_id: str) -> bool:
    return (root / QUEUE_DIR / run_id).exists()


def queued(root: Path) -> list[QueueEntry]:
    """The queue in start order."""
    entries = []
    for path in _markers(root / QUEUE_DIR):
        record = runfolder.read_json(path, {}) or {}
        entries.append(QueueEntry(path.name, int(record.get("priority", 0)), float(record.get("queued_at", 0.0))))
    return sorted(entries, key=lambda e: (-e.priority, e.queued_at, e.run_id))


def mark_active(root: Path, run_id: str) -> None:
    _mark(root / ACTIVE_DIR, run_id)


def unmark_active(root: Path, run_id: str) -> None:
    _remove(root / ACTIVE_DIR / run_id)


def active(root: Path) -> list[str]:
    return _listed(root / ACTIVE_DIR)


def mark_ended(root: Path, run_id: str) -> None:
    """Note that a run ended, for the scheduler to tell its sweep (whichever process saw the end first)."""
    _mark(root / ENDED_DIR, run_id)


def unmark_ended(root: Path, run_id: str) -> None:
    _remove(root / ENDED_DIR / run_id)


def ended(root: Path) -> list[str]:
    return _listed(root / ENDED_DIR)


def claim_request(root: Path, request_id: str) -> list[str] | None:
    """Make launching idempotent: the first caller with a request id gets None and must launch; later
    callers (a double click, a page rerun) get the run ids the first one recorded."""
    folder = root / REQUESTS_DIR
    folder.mkdir(exist_ok=True)
    path = folder / _safe_name(request_id)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        for _ in range(200):  # the first caller may still be writing its answer
            ids = runfolder.read_json(path)
            if isinstance(ids, list):
                return ids
            time.sleep(0.01)
        return []
    os.close(fd)
    return None


def record_request(root: Path, request_id: str, run_ids: list[str]) -> None:
    path = root / REQUESTS_DIR / _safe_name(request_id)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(run_ids))
    os.replace(tmp, path)


def release_request(root: Path, request_id: str) -> None:
    """Forget a claimed request whose launch failed before queueing anything."""
    _remove(root / REQUESTS_DIR / _safe_name(request_id))


def _safe_name(request_id: str) -> str:
    cleaned = "".join(ch for ch in request_id if ch.isalnum() or ch in "-_")[:100]
    if not cleaned:
        raise ValueError(f"request id {request_id!r} must contain letters or digits")
    return cleaned


def _mark(folder: Path, run_id: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / run_id).touch()


def _listed(folder: Path) -> list[str]:
    return sorted(p.name for p in _markers(folder))


def _markers(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [folder / name for name in os.listdir(folder) if runfolder.is_run_id(name)]


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
