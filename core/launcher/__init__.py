"""Launching runs: queue, cancel, resume, reorder and list them. The pages and the CLI call this API.

    run_id = launcher.launch("classify", ["lr=0.001"], labels=RunLabels(name="lr 1e-3", group="lr"))
    launcher.cancel(run_id)

The modules by concern: ``control`` (launch, cancel, resume, move), ``listing`` (what the queue holds),
``queue`` (the queue on disk), ``service`` (starting the scheduler on demand), ``scheduler`` (its loop),
``recovery`` (settling runs whose processes died, retries, resuming the queue after a kill or a reboot),
``supervisor`` and ``child`` (a run's processes), ``slots`` (where runs may run and the cores each slot owns),
``sweeps`` (seeds, grids, Bayesian search).
"""

from __future__ import annotations

from core.launcher.control import (
    CANCEL_GRACE_S,
    LaunchError,
    cancel,
    launch,
    launch_command,
    launch_many,
    move,
    once,
    resume,
)
from core.launcher.listing import heartbeat_timeout_s, queue_listing, reconcile_start_scheduler_then_queue_listing
from core.launcher.procs import group_members
from core.launcher.recovery import reconcile_and_start_scheduler
from core.runfolder.labels import RunLabels

__all__ = [
    "CANCEL_GRACE_S",
    "LaunchError",
    "RunLabels",
    "cancel",
    "group_members",
    "heartbeat_timeout_s",
    "launch",
    "launch_command",
    "launch_many",
    "move",
    "once",
    "queue_listing",
    "reconcile_and_start_scheduler",
    "reconcile_start_scheduler_then_queue_listing",
    "resume",
]
