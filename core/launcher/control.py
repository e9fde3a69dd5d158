"""Queueing runs and acting on queued or running ones: launch, cancel, resume and reorder (``core.launcher``
re-exports these; the pages and the CLI call them).

Launching validates the config (and the dataset) first, creates the run folder with status ``queued`` and
makes sure the scheduler runs; it returns at once. A ``request_id`` makes it idempotent: the same request
(a double click, a page rerun) returns the runs of the first call instead of launching again. ``retries=N``
(stored in the run's launch.json, off by default) queues a crashed run again up to N times, from its last
checkpoint. ``on`` and ``gpus`` say where the run runs (``options``): this machine's slots or a Ray cluster, on
one GPU or several (under torchrun).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core import runfolder, tracking
from core.launcher import queue, ray_backend, slots
from core.launcher.options import LaunchError, launch_options
from core.launcher.procs import group_members
from core.launcher.recovery import queue_again, reconcile
from core.launcher.service import ensure_scheduler
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from core.runfolder.paths import runs_dir as default_runs_dir

CANCEL_GRACE_S = 10.0
RAY_STOP_S = 15.0  # Ray's own stop sends SIGKILL a few seconds after SIGTERM
MAX_RETRIES = 100
NO_LABELS = RunLabels()


def launch(
    recipe: str,
    overrides: Sequence[str] = (),
    *,
    labels: RunLabels = NO_LABELS,
    priority: int = 0,
    request_id: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    start: bool = True,
    retries: int = 0,
    on: str | None = None,
    gpus: int | None = None,
    ray_address: str | None = None,
) -> str:
    """Validate and queue one recipe run; returns its id (see launch_many for seeds, sweeps and the options)."""
    return launch_many(recipe, [list(overrides)], labels=labels, priority=priority, request_id=request_id,
                       runs_dir=runs_dir, start=start, retries=retries, on=on, gpus=gpus,
                       ray_address=ray_address)[0]  # fmt: skip


def launch_many(
    recipe: str,
    override_sets: Sequence[Sequence[str]],
    *,
    labels: RunLabels = NO_LABELS,
    priority: int = 0,
    request_id: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    start: bool = True,
    extra: dict[str, Any] | None = None,
    retries: int = 0,
    on: str | None = None,
    gpus: int | None = None,
    ray_address: str | None = None,
) -> list[str]:
    """Validate every config first, then queue one run per override set (seeds, a sweep) in one group.

    With several sets each run is named after its overrides (``"lr sweep lr=0.1"``); ``extra`` goes into
    each run's launch.json (a Bayesian sweep's trial); ``retries``: times a crashed run is queued again.
    ``on``: ``local`` (this machine's slots) or ``ray`` (the cluster at ``ray_address``, default
    EXPLORER_RAY_ADDRESS); default ``ray`` when EXPLORER_RAY_ADDRESS is set. ``gpus``: GPUs of one machine
    each run uses (local: slots; 2 or more run it under torchrun with DistributedDataParallel).
    """
    root = default_runs_dir(runs_dir)
    extra = {**where_to_run(on, gpus, ray_address), **(extra or {}), **_retries_option(retries)}

    def queue_all() -> list[str]:
        configs = [_checked_config(recipe, list(o)) for o in override_sets]  # all valid, or none queued
        ids = []
        for overrides, config in zip(override_sets, configs):
            name = labels.name if len(override_sets) == 1 else f"{labels.name or recipe} {' '.join(overrides)}".strip()
            spec = {"recipe": recipe, "overrides": list(overrides), **extra}
            ids.append(_queue_one(root, spec, config, labels.with_name(name), priority, recipe))
        return ids

    return once(root, request_id, queue_all, start)


def once(root: Path, request_id: str | None, make: Callable[[], list[str]], start: bool) -> list[str]:
    """Run ``make`` unless this request id was served before (then return its runs); start the scheduler."""
    if request_id is not None and (done := queue.claim_request(root, request_id)) is not None:
        return done
    try:
        ids = make()
    except BaseException:
        if request_id is not None:
            queue.release_request(root, request_id)  # nothing was queued: the user may fix and retry
        raise
    if request_id is not None:
        queue.record_request(root, request_id, ids)
    if start:
        ensure_scheduler(root)
    return ids


def launch_command(
    argv: Sequence[str],
    *,
    labels: RunLabels = NO_LABELS,
    config: dict[str, Any] | None = None,
    cwd: str | None = None,
    priority: int = 0,
    request_id: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    start: bool = True,
    retries: int = 0,
    on: str | None = None,
    gpus: int | None = None,
    ray_address: str | None = None,
) -> str:
    """Queue any training script (it logs with ``core.tracking.start()``, which joins the queued run).

    With ``retries``, a crashed script is started again with the same command; its ``tracking.start()``
    joins the same run, whose log continues after the last step (the script resumes from its own checkpoint).
    ``on`` and ``gpus`` as for launch_many; with ``gpus`` >= 2 the command runs under torchrun, once per GPU.
    """
    if not argv:
        raise LaunchError("the command is empty; give the program and its arguments, e.g. ['python', 'train.py']")
    root = default_runs_dir(runs_dir)
    option = {**where_to_run(on, gpus, ray_address), **_retries_option(retries)}

    def queue_it() -> list[str]:
        spec = {"argv": [str(a) for a in argv], "cwd": cwd, **option}
        return [_queue_one(root, spec, config or {}, labels, priority, "script")]

    return once(root, request_id, queue_it, start)[0]


def where_to_run(on: str | None, gpus: int | None, ray_address: str | None = None) -> dict[str, Any]:
    """The launch.json entries of ``on`` and ``gpus``, checked: a local run may not ask for more slots than
    this machine has."""
    chosen = launch_options(on, gpus, ray_address)
    have = len(slots.all_slots())
    if "on" not in chosen and (chosen.get("gpus") or 1) > have:
        raise LaunchError(f"gpus={chosen['gpus']} but this machine has {have} slot(s) "
                          f"({', '.join(slots.all_slots())}); ask for fewer, or launch on a Ray cluster (on=ray)")
    return chosen


def _retries_option(retries: int) -> dict[str, int]:
    """The launch.json entry of ``retries`` (none when 0, the default)."""
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise LaunchError(f"retries must be a whole number from 0 to {MAX_RETRIES}, not {retries!r}")
    return {"retries": retries} if retries else {}


def _checked_config(recipe: str, overrides: list[str]) -> dict[str, Any]:
    from core.recipes import get_recipe, parse_overrides, to_dict

    entry = get_recipe(recipe)
    cfg = parse_overrides(entry.config_cls, overrides)
    entry.prepare(cfg, False)  # the dataset and weights are checked before anything is queued
    return to_dict(cfg)


def _queue_one(root: Path, spec: dict[str, Any], config: dict[str, Any], labels: RunLabels, priority: int,
               recipe: str) -> str:
    run = tracking.create_run_folder(root, labels, config=config, recipe=recipe)
    queue.write_launch_spec(run, spec)
    runstatus.transition(run, "queued", expect={"new"})
    queue.enqueue(root, run.name, priority)
    return run.name


def cancel(run: str, *, runs_dir: str | os.PathLike[str] | None = None, grace_s: float = CANCEL_GRACE_S) -> str:
    """Cancel a queued or running run: SIGTERM to its process group, then SIGKILL after ``grace_s`` (a Ray run:
    Ray stops its job, SIGTERM then SIGKILL a few seconds later).

    Returns:
        The run's status afterwards.
    """
    root = default_runs_dir(runs_dir)
    run_dir = runfolder.resolve_run_dir(root, run)
    if runstatus.transition(run_dir, "cancelled", expect={"queued"}):
        queue.dequeue(root, run_dir.name)
        return "cancelled"
    record = runstatus.read(run_dir)
    if runstatus.current(record) not in runfolder.ACTIVE_STATUSES:
        return runstatus.current(record)
    runstatus.update(run_dir, cancel_requested=True)
    pgid = record.get("pgid")
    if ray_backend.is_ray_run(record):
        _stop_job(record, grace_s + RAY_STOP_S)
    elif isinstance(pgid, int) and runstatus.is_alive(run_dir):
        _stop_group(pgid, grace_s)
    runstatus.transition(run_dir, "cancelled", expect=runfolder.ACTIVE_STATUSES, error=None)
    reconcile(root)
    return runstatus.current(runstatus.read(run_dir))


def _stop_group(pgid: int, grace_s: float) -> None:
    """SIGTERM the group, wait up to ``grace_s`` for every member to exit, then SIGKILL what is left."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not group_members(pgid):
                return
            time.sleep(0.05)


def _stop_job(record: dict[str, Any], wait_s: float) -> None:
    """Stop a Ray run's job and wait up to ``wait_s`` for it to end (its processes are gone then)."""
    try:
        ray_backend.stop_run(record)
    except OSError as exc:
        raise LaunchError(f"cannot stop the run's Ray job: {exc}; it is marked to be cancelled when it ends") from None
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        job = ray_backend.job_state(record)
        if job is not None and not job.active:
            return
        time.sleep(0.1)


def resume(run: str, *, runs_dir: str | os.PathLike[str] | None = None, start: bool = True,
           gpus: int | None = None) -> str:
    """Queue a cancelled, crashed or failed run again, where it ran before (this machine or its Ray cluster): a
    recipe run continues from its last checkpoint; a script is started again with the same command and its
    ``tracking.start()`` joins the run, whose log continues after the last step. ``gpus``: continue on another
    number of GPUs (a checkpoint does not depend on it); default: as before."""
    root = default_runs_dir(runs_dir)
    run_dir = runfolder.resolve_run_dir(root, run)
    spec = queue.read_launch_spec(run_dir) if (run_dir / queue.LAUNCH_FILE).exists() else None
    if spec is None:
        meta = runfolder.read_json(run_dir / runfolder.META_FILE, {}) or {}
        spec = {"recipe": meta.get("recipe"), "overrides": []}
    if not spec.get("recipe") and not spec.get("argv"):
        raise LaunchError(f"run {run_dir.name} was neither launched nor started from a recipe; nothing can restart it")
    if gpus is not None:
        spec = {**spec, **where_to_run(spec.get("on") or "local", gpus, spec.get("ray_address"))}
    if spec.get("recipe"):
        spec = {**spec, "resume": True}
    queue.write_launch_spec(run_dir, spec)
    if not queue_again(root, run_dir, runstatus.RESUMABLE, retries_used=None, retried_after=None):
        state = runstatus.current(runstatus.read(run_dir))
        raise LaunchError(f"run {run_dir.name} is {state}; only cancelled, crashed or failed runs can be resumed")
    if start:
        ensure_scheduler(root)
    return run_dir.name


def move(run: str, priority: int, *, runs_dir: str | os.PathLike[str] | None = None) -> None:
    """Change the priority of a queued run (higher starts first)."""
    root = default_runs_dir(runs_dir)
    run_dir = runfolder.resolve_run_dir(root, run)
    entry = next((e for e in queue.queued(root) if e.run_id == run_dir.name), None)
    if entry is None:
        raise LaunchError(f"run {run_dir.name} is not queued; only queued runs can be moved")
    queue.enqueue(root, run_dir.name, priority, entry.queued_at)
