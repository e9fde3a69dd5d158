"""Settling active runs whose processes are gone: crashed (queued again when the run asked for retries),
cancelled when a cancel was asked, back in the queue when it never started, or failed when starting it keeps
failing. The scheduler does it on every poll; a reader that must not show dead runs as running calls
``reconcile`` itself, by that name, so the write is visible where it happens; ``reconcile_and_start_scheduler``
also starts a scheduler when runs wait and none serves them (after a kill or a reboot).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from core import runfolder
from core.launcher import queue, ray_backend, ray_cluster, service
from core.launcher.procs import group_members
from core.runfolder import status as runstatus

STARTING_GRACE_S = 10.0
MAX_START_ATTEMPTS = 3
DIED = "its processes died without recording an end (killed, out of memory, or the machine went down?)"


def reconcile(root: Path, jobs: ray_backend.JobStates | None = None) -> list[str]:
    """Settle active runs whose processes are gone; return the runs that ended since the last call (a run
    queued again for a retry has not ended). A Ray run still running or starting is settled only with ``jobs``:
    the scheduler asks the cluster; the app and the CLI leave it to the scheduler."""
    ended = []
    for run_id in queue.active(root):
        run_dir = root / run_id
        record = runstatus.read(run_dir)
        state = runstatus.current(record)
        if state not in runfolder.FINAL_STATUSES and _still_running(run_dir, record, jobs):
            continue
        if state == "starting":
            if not _settle_not_started(root, run_dir, record, jobs):
                continue
            if runstatus.current(runstatus.read(run_dir)) in runfolder.FINAL_STATUSES:
                _ended(root, run_id, ended)  # it could not be started (e.g. the runs folder is not shared)
        elif state == "queued":  # marked active by a scheduler that died before starting it: still queued
            if not queue.is_queued(root, run_id):
                queue.enqueue(root, run_id)
            continue
        elif state not in runfolder.FINAL_STATUSES and not _settle_dead(run_dir, record, jobs):
            continue
        elif retry_if_asked(root, run_dir):
            pass  # queued again from its last checkpoint
        else:
            _ended(root, run_id, ended)
        queue.unmark_active(root, run_id)
    return ended


def _ended(root: Path, run_id: str, ended: list[str]) -> None:
    """Count a run as ended; a sweep's trial also gets a marker, so the scheduler tells its sweep even when
    another process (a page, the CLI) saw the end first."""
    ended.append(run_id)
    if (runfolder.read_json(root / run_id / queue.LAUNCH_FILE, {}) or {}).get("sweep"):
        queue.mark_ended(root, run_id)


def _still_running(run_dir: Path, record: dict[str, Any], jobs: ray_backend.JobStates | None) -> bool:
    """A local run lives while some process holds its liveness lock; a Ray run while its job is pending or
    running (or when nobody asked the cluster, or it could not be reached: it cannot be told dead then)."""
    if not ray_backend.is_ray_run(record):
        return runstatus.is_alive(run_dir)
    job = jobs(record) if jobs is not None else None
    return job is None or job.active


def _settle_not_started(root: Path, run_dir: Path, record: dict[str, Any],
                        jobs: ray_backend.JobStates | None) -> bool:
    """A run that never got past ``starting``: queued again (or failed after repeated attempts) when it was
    never started; a Ray job that ended before its run started fails the run with Ray's reason. False while
    it may still be booting."""
    job = jobs(record) if jobs is not None and ray_backend.is_ray_run(record) else None
    if job is not None and job.status != ray_cluster.MISSING:
        if record.get("cancel_requested"):
            return runstatus.transition(run_dir, "cancelled", expect={"starting"})
        reason = ray_backend.why_job_ended(record, job)
        ray_backend.copy_job_log(run_dir, record)
        runstatus.transition(run_dir, "failed", expect={"starting"}, error=reason)
        return True
    if _still_starting(record):
        return False
    _requeue_or_fail(root, run_dir, record)
    return True


def reconcile_and_start_scheduler(root: Path) -> bool:
    """Settle dead runs, then start a scheduler when runs are queued or active and none serves them: what the
    app does when it opens and every reader of the queue does, so nothing stays queued after a scheduler was
    killed or the machine rebooted. True when a scheduler was started."""
    reconcile(root)
    return service.start_scheduler_if_needed(root)


def _settle_dead(run_dir: Path, record: dict[str, Any], jobs: ray_backend.JobStates | None = None) -> bool:
    """A running run whose processes all died (or whose Ray job ended without the run recording its end):
    cancelled if a cancel was asked (the kill was ours), else crashed."""
    if record.get("cancel_requested"):
        return runstatus.transition(run_dir, "cancelled", expect={"running", "new"})
    job = jobs(record) if jobs is not None and ray_backend.is_ray_run(record) else None
    error = ray_backend.why_job_ended(record, job) if job is not None else DIED
    if job is not None:
        ray_backend.copy_job_log(run_dir, record)
    return runstatus.transition(run_dir, "crashed", expect={"running", "new"}, error=error)


def retries_left(run_dir: Path, record: dict[str, Any] | None = None) -> int:
    """How many more times a crashed run will be queued again (its launch option ``retries``)."""
    record = runstatus.read(run_dir) if record is None else record
    spec = runfolder.read_json(run_dir / queue.LAUNCH_FILE, {}) or {}
    return max(0, int(spec.get("retries", 0) or 0) - int(record.get("retries_used", 0) or 0))


def retry_if_asked(root: Path, run_dir: Path) -> bool:
    """Queue a crashed run again if it asked for retries and has some left (a recipe run continues from its last
    checkpoint, a script is started again and its ``tracking.start()`` joins the same run); True if queued."""
    record = runstatus.read(run_dir)
    if runstatus.current(record) != "crashed" or record.get("cancel_requested") or not retries_left(run_dir, record):
        return False
    spec = queue.read_launch_spec(run_dir)
    if spec.get("recipe") and not spec.get("resume"):
        queue.write_launch_spec(run_dir, {**spec, "resume": True})
    used = int(record.get("retries_used", 0) or 0) + 1
    return queue_again(root, run_dir, {"crashed"}, retries_used=used, retried_after=record.get("error") or "crashed")


def queue_again(root: Path, run_dir: Path, expect: set[str] | frozenset[str], **fields: Any) -> bool:
    """Put a run that ended (or never started) back in the queue; False when it was not in ``expect``.

    The queue marker comes first, so a process killed in between leaves a queued run that has one; a caller
    that lost the race to another (both saw the run crashed) removes its marker only if the run is not queued.
    """
    queue.enqueue(root, run_dir.name)
    cleared = {"exit_code": None, "error": None, "cancel_requested": None, "start_attempts": None, "slot": None,
               "pgid": None, "child_pid": None, "cores": None, "node": None, "gpus": None, "waiting": None,
               **ray_backend.CLEARED}  # fmt: skip
    if runstatus.transition(run_dir, "queued", expect=expect, **{**cleared, **fields}):
        return True
    if runstatus.current(runstatus.read(run_dir)) != "queued":
        queue.dequeue(root, run_dir.name)
    return False


def _still_starting(record: dict[str, Any]) -> bool:
    """A starting run without its liveness lock may be a supervisor still booting: it is, while its process
    group has members (unless the machine rebooted since, when the number may be another's); with no group
    recorded (the scheduler died around the start), allow a grace period."""
    pgid = record.get("pgid")
    if isinstance(pgid, int):
        return _age_s(record) < _uptime_s() and bool(group_members(pgid))
    return _age_s(record) < STARTING_GRACE_S


def _requeue_or_fail(root: Path, run_dir: Path, record: dict[str, Any]) -> None:
    """A run left in ``starting`` by a scheduler that died before starting it: it never ran, so queue it
    again (not failed), unless starting it keeps failing."""
    attempts = int(record.get("start_attempts", 0) or 0)
    if attempts >= MAX_START_ATTEMPTS:
        runstatus.transition(run_dir, "failed", error=f"could not be started after {attempts} attempts; "
                             f"see {root / service.LOG_FILE}")  # fmt: skip
    else:
        queue_again(root, run_dir, {"starting"}, start_attempts=attempts)


def _age_s(record: dict[str, Any]) -> float:
    try:
        updated = datetime.fromisoformat(str(record.get("updated")))
    except ValueError:
        return float("inf")
    return time.time() - updated.timestamp()


def _uptime_s() -> float:
    """Seconds since the machine booted (infinite where /proc/uptime cannot be read)."""
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return float("inf")
