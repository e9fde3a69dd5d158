"""Launching runs: queue, cancel, resume, reorder and list them. The pages and the CLI call this API.

    run_id = launcher.launch("classify", ["lr=0.001"], labels=RunLabels(name="lr 1e-3", group="lr"))
    run_id = launcher.launch("classify", ["lr=0.001"], on="ray", gpus=2)  # on the Ray cluster, DDP on 2 GPUs
    launcher.cancel(run_id)
    launcher.placement(run_id).text, launcher.cluster_resources().text  # where it runs, what is free

The modules by concern: ``control`` (launch, cancel, resume, move), ``listing`` (what the queue holds),
``queue`` (the queue on disk), ``service`` (starting the scheduler on demand), ``scheduler`` (its loop),
``recovery`` (settling runs whose processes died, retries, resuming the queue after a kill or a reboot),
``supervisor`` and ``child`` (a run's processes), ``slots`` (where runs may run and the cores each slot owns),
``sweeps`` (seeds, grids, Bayesian search), ``options`` (local or Ray, how many GPUs), ``placement`` (where a run
runs, what is free), ``ray_backend``, ``ray_cluster`` and ``ray_job`` (runs on a Ray cluster).
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
from core.launcher.options import BACKENDS, default_backend
from core.launcher.placement import ClusterResources, Placement, cluster_resources, placement
from core.launcher.procs import group_members
from core.launcher.recovery import reconcile_and_start_scheduler
from core.runfolder.labels import RunLabels

__all__ = [
    "BACKENDS",
    "CANCEL_GRACE_S",
    "ClusterResources",
    "LaunchError",
    "Placement",
    "RunLabels",
    "cancel",
    "cluster_resources",
    "default_backend",
    "group_members",
    "heartbeat_timeout_s",
    "launch",
    "launch_command",
    "launch_many",
    "move",
    "once",
    "placement",
    "queue_listing",
    "reconcile_and_start_scheduler",
    "reconcile_start_scheduler_then_queue_listing",
    "resume",
]
