"""Where runs run and what is free, for the Launch page and the queue: a run's placement (local or Ray, the
machine, its GPUs, its slots or its Ray job) and the resources of this machine's slots or of a Ray cluster.
Only status records, launch specs and (for a cluster) its REST API are read: no torch, no ray.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from core import runfolder
from core.launcher import options, queue, ray_backend, ray_cluster, slots
from core.runfolder import status as runstatus
from core.runfolder.paths import runs_dir as default_runs_dir


@dataclass(frozen=True)
class Placement:
    """Where a run runs (or will).

    Attributes:
        on: ``local`` or ``ray``.
        gpus_asked: the run's ``gpus`` option (None: the default, one slot or GPU).
        node: the machine it runs on (its host name), once started.
        gpus: the GPU ids it was given (CUDA_VISIBLE_DEVICES), once started.
        slot: its slot(s) on this machine (a local run).
        ray_job: its Ray job (a Ray run), once submitted.
        waiting: why a queued run waits (the cluster is full or cannot be reached), if it does.
        text: all of that in one line for people.
    """

    on: str
    gpus_asked: int | None
    node: str | None
    gpus: tuple[str, ...]
    slot: str | None
    ray_job: str | None
    waiting: str | None
    text: str


def placement(run: str, runs_dir: str | os.PathLike[str] | None = None) -> Placement:
    """Where ``run`` (an id or a unique part of one) runs."""
    run_dir = runfolder.resolve_run_dir(default_runs_dir(runs_dir), run)
    return placement_of(runfolder.read_json(run_dir / queue.LAUNCH_FILE, {}) or {}, runstatus.read(run_dir))


def placement_of(spec: dict[str, Any], record: dict[str, Any]) -> Placement:
    """The placement a launch spec and a status record describe (what the queue listing shows)."""
    on, asked = options.backend_of(spec), options.gpus_of(spec)
    gpus = tuple(str(g) for g in record.get("gpus") or ())
    node, slot, waiting = record.get("node"), record.get("slot"), record.get("waiting")
    job = record.get(ray_backend.JOB_FIELD)
    parts = [on if on == "local" else f"ray ({spec.get('ray_address')})"]
    if node:
        parts.append(str(node))
    if slot:
        parts.append(f"slot {slot}")
    if gpus:
        parts.append(f"GPU {','.join(gpus)}" if len(gpus) == 1 else f"GPUs {','.join(gpus)}")
    elif asked is not None and not node:
        parts.append(f"{asked} GPU{'s' if asked != 1 else ''} asked")
    if options.processes_of(spec) > 1:
        parts.append(f"{options.processes_of(spec)} processes (torchrun)")
    if job:
        parts.append(f"job {job}")
    if waiting:
        parts.append(str(waiting))
    return Placement(on, asked, node, gpus, slot, job, waiting, " · ".join(parts))


@dataclass(frozen=True)
class NodeResources:
    """One machine: its GPUs (local: slots) and CPUs, in total and free, and the runs of this runs folder on it."""

    name: str
    gpus: float
    gpus_free: float
    cpus: float
    cpus_free: float
    runs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterResources:
    """What the runs can use: this machine's slots (``on="local"``) or a Ray cluster's nodes.

    ``unplaced`` holds what this runs folder's submitted Ray runs that Ray has not placed on a node yet asked
    for (it is not free either); ``error`` says why a cluster could not be asked (its nodes are then empty);
    ``text`` is one line for people.
    """

    on: str
    address: str | None
    nodes: tuple[NodeResources, ...] = field(default_factory=tuple)
    unplaced: NodeResources | None = None
    error: str | None = None

    @property
    def gpus_free(self) -> float:
        return sum(n.gpus_free for n in self.nodes) - (self.unplaced.gpus if self.unplaced else 0)

    @property
    def cpus_free(self) -> float:
        return sum(n.cpus_free for n in self.nodes) - (self.unplaced.cpus if self.unplaced else 0)

    @property
    def text(self) -> str:
        if self.error:
            return self.error
        gpus, cpus = sum(n.gpus for n in self.nodes), sum(n.cpus for n in self.nodes)
        if self.on == "local":
            return f"this machine: {self.gpus_free:g} of {gpus:g} slots free"
        return (f"Ray cluster {self.address} ({len(self.nodes)} nodes): {self.gpus_free:g} of {gpus:g} GPUs and "
                f"{self.cpus_free:g} of {cpus:g} CPUs free")  # fmt: skip


def cluster_resources(
    on: str | None = None, runs_dir: str | os.PathLike[str] | None = None, address: str | None = None
) -> ClusterResources:
    """What is free where runs launched with ``on`` go (default: where a launch goes now, see options):
    this machine's slots minus the active local runs', or the Ray cluster's GPUs and CPUs minus what this runs
    folder's active Ray runs asked for. One request to the cluster plus one per active Ray run; never raises
    for an unreachable cluster (``error`` says so)."""
    root = default_runs_dir(runs_dir)
    records = {run_id: runstatus.read(root / run_id) for run_id in queue.active(root)}
    if (on or options.default_backend()) == "local":
        return _local(records)
    try:
        chosen = options.ray_address(address)
    except options.LaunchError as exc:
        return ClusterResources("ray", None, error=str(exc))
    try:
        return _ray(chosen, records)
    except ray_cluster.ClusterError as exc:
        return ClusterResources("ray", chosen, error=str(exc))


def _local(records: dict[str, dict[str, Any]]) -> ClusterResources:
    local = {run_id: r for run_id, r in records.items() if r.get("slot") and not ray_backend.is_ray_run(r)}
    used = {s for r in local.values() for s in slots.split(r.get("slot"))}
    names = slots.all_slots()
    cores = len(slots.machine_cores())
    node = NodeResources(socket.gethostname(), len(names), len([s for s in names if s not in used]), cores, cores,
                         tuple(sorted(local)))  # fmt: skip
    return ClusterResources("local", None, (node,))


def _ray(address: str, records: dict[str, dict[str, Any]]) -> ClusterResources:
    nodes = ray_cluster.nodes(address)
    ours = {run_id: r for run_id, r in records.items()
            if ray_backend.is_ray_run(r) and r.get(ray_backend.ADDRESS_FIELD) == address}  # fmt: skip
    jobs = ray_backend.JobStates()
    on_node: dict[str, list[str]] = {}
    for run_id, record in ours.items():
        job = jobs(record)
        on_node.setdefault(job.node_id if job is not None and job.active else "", []).append(run_id)
    def asked(runs: list[str], field_name: str) -> float:
        return sum(float(ours[r].get(field_name) or 0) for r in runs)

    out = []
    for node in nodes:
        runs = on_node.get(node.node_id, [])
        gpus, cpus = asked(runs, ray_backend.GPUS_FIELD), asked(runs, ray_backend.CPUS_FIELD)
        out.append(NodeResources(node.ip + (" (head)" if node.head else ""), node.gpus, node.gpus - gpus, node.cpus,
                                 node.cpus - cpus, tuple(sorted(runs))))  # fmt: skip
    waiting = on_node.get("", [])
    unplaced = NodeResources("not placed yet", asked(waiting, ray_backend.GPUS_FIELD), 0,
                             asked(waiting, ray_backend.CPUS_FIELD), 0, tuple(sorted(waiting)))  # fmt: skip
    return ClusterResources("ray", address, tuple(out), unplaced if waiting else None)
