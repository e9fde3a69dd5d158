"""What the queue holds, for the Launch page and ``python -m core queue``: queued runs with their position,
active runs with their slot and liveness, each with where it runs (or why it waits). ``queue_listing`` only
reads; ``reconcile_start_scheduler_then_queue_listing`` first settles runs whose processes died (it writes their
status) and starts a scheduler when runs wait and none serves them: what a reader of the queue calls, so
nothing it shows as queued stays queued for good."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core import runfolder
from core.launcher import queue
from core.launcher.placement import placement_of
from core.launcher.recovery import reconcile_and_start_scheduler
from core.runfolder import status as runstatus
from core.runfolder.paths import runs_dir as default_runs_dir


def queue_listing(runs_dir: str | os.PathLike[str] | None = None, stale_after_s: float | None = None) -> list[dict]:
    """Queued runs with their position, then active runs with their slot and liveness (``stale`` when alive
    but silent for longer than the heartbeat timeout); ``where`` says where each runs (local or Ray, machine,
    GPUs, slots, Ray job) or why it waits. Names come from the run folders, not the index, which may not have
    synced a run queued a moment ago."""
    root = default_runs_dir(runs_dir)
    timeout = stale_after_s if stale_after_s is not None else heartbeat_timeout_s()
    rows: list[dict[str, Any]] = []
    for position, entry in enumerate(queue.queued(root), start=1):
        rows.append({"id": entry.run_id, "name": _name(root / entry.run_id), "state": "queued",
                     "position": position, "priority": entry.priority, "slot": None,
                     "where": _where(root / entry.run_id)})  # fmt: skip
    for run_id in queue.active(root):
        record = runstatus.read(root / run_id)
        silent = runstatus.seconds_since_beat(root / run_id)
        state = runstatus.current(record)
        if state == "running" and silent is not None and silent > timeout:
            state = "stale"
        rows.append({"id": run_id, "name": _name(root / run_id), "state": state, "position": None,
                     "priority": None, "slot": record.get("slot"), "silent_s": silent, "where": _where(root / run_id)})
    return rows


def reconcile_start_scheduler_then_queue_listing(runs_dir: str | os.PathLike[str] | None = None,
                                                 stale_after_s: float | None = None) -> list[dict]:
    """Mark runs whose processes died as crashed (or queue them again), start a scheduler if runs are queued
    or active and none serves them, then list the queue."""
    reconcile_and_start_scheduler(default_runs_dir(runs_dir))
    return queue_listing(runs_dir, stale_after_s)


def _where(run_dir: Path) -> str:
    return placement_of(runfolder.read_json(run_dir / queue.LAUNCH_FILE, {}) or {}, runstatus.read(run_dir)).text


def _name(run_dir: Path) -> str:
    """The run's label from its meta.json ("" when it has none)."""
    meta = runfolder.read_json(run_dir / runfolder.META_FILE, {})
    return str(meta.get("name") or "") if isinstance(meta, dict) else ""


def heartbeat_timeout_s() -> float:
    """Seconds without a heartbeat after which a live run shows as stale (EXPLORER_HEARTBEAT_TIMEOUT)."""
    try:
        return float(os.environ.get("EXPLORER_HEARTBEAT_TIMEOUT", "60"))
    except ValueError:
        return 60.0
