"""Runs on a Ray cluster, seen from the launcher: submit a queued run as a Ray job while the cluster has room,
look up its job when settling it, stop it on cancel, and what the cluster has free.

A Ray run's job starts ``python -m core.launcher ray-job RUN_DIR TOKEN`` (``ray_job``) wherever Ray places it; it
writes into the run folder, which the app's machine and every worker share (the token file proves it). The
status record holds the job's id and the cluster's address, so any process can find the job again.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import runfolder
from core.launcher import options, ray_cluster
from core.launcher.ray_cluster import ClusterError, JobState
from core.launcher.slots import THREAD_VARIABLES
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT
from core.tracking import THREADS_ENV

JOB_FIELD, ADDRESS_FIELD = "ray_job", "ray_address"  # in the status record of a run submitted to Ray
GPUS_FIELD, CPUS_FIELD = "ray_gpus", "ray_cpus"  # what the job asked the cluster for
CLEARED = {JOB_FIELD: None, ADDRESS_FIELD: None, GPUS_FIELD: None, CPUS_FIELD: None}  # a run queued again
TOKEN_FILE = "ray.token"
PYTHON_ENV = "EXPLORER_RAY_PYTHON"  # the interpreter on the workers (default: this one, at the same path)
LOG_TAIL_CHARS = 4000


def is_ray_run(record: dict[str, Any]) -> bool:
    """True for a run that was submitted to a Ray cluster (its status record names the job)."""
    return bool(record.get(JOB_FIELD)) and bool(record.get(ADDRESS_FIELD))


class JobStates:
    """Ray job states, each looked up once per scheduler pass; None where the cluster could not be reached
    (an unreachable cluster is asked once per pass, not once per run)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], JobState | None] = {}
        self._unreachable: set[str] = set()

    def __call__(self, record: dict[str, Any]) -> JobState | None:
        address, job_id = str(record[ADDRESS_FIELD]), str(record[JOB_FIELD])
        if address in self._unreachable:
            return None
        if (address, job_id) not in self._seen:
            try:
                self._seen[address, job_id] = ray_cluster.job_state(address, job_id)
            except ClusterError:
                self._unreachable.add(address)
                return None
        return self._seen[address, job_id]


# -- submitting ----------------------------------------------------------------------------------------------
@dataclass
class Room:
    """What a Ray cluster can still take in this scheduler pass: its live nodes' GPUs and CPUs minus what this
    runs folder's active Ray runs asked for (the jobs of other users are not counted: theirs wait in Ray)."""

    address: str
    nodes: list[ray_cluster.Node]
    free_gpus: float
    free_cpus: float
    taken: list[str] = field(default_factory=list)

    def ask(self, spec: dict[str, Any]) -> tuple[float, float]:
        """(GPUs, CPUs) a run asks for: its ``gpus`` (default one when the cluster has GPUs) and the CPUs per run."""
        gpus = options.gpus_of(spec)
        if gpus is None:
            gpus = 1 if any(n.gpus for n in self.nodes) else 0
        return float(gpus), options.ray_cpus()

    def never_fits(self, spec: dict[str, Any]) -> str | None:
        """Why no node of the cluster could ever take the run (None when one could)."""
        gpus, cpus = self.ask(spec)
        if any(n.gpus >= gpus and n.cpus >= cpus for n in self.nodes):
            return None
        most = max((n.gpus for n in self.nodes), default=0)
        return (
            f"asks for {gpus:g} GPU(s) and {cpus:g} CPU(s) on one node, but the largest node of the Ray cluster "
            f"at {self.address} has {most:g} GPU(s); launch with fewer gpus"
        )

    def take(self, spec: dict[str, Any]) -> bool:
        """Reserve the run's resources if the cluster has them free now."""
        gpus, cpus = self.ask(spec)
        if gpus > self.free_gpus or cpus > self.free_cpus:
            return False
        self.free_gpus -= gpus
        self.free_cpus -= cpus
        return True


def room(address: str, active_records: list[dict[str, Any]]) -> Room:
    """The room left on the cluster at ``address``, given the status records of the runs folder's active runs.

    Raises:
        ClusterError: the cluster could not be reached.
    """
    nodes = ray_cluster.nodes(address)
    ours = [r for r in active_records if is_ray_run(r) and r.get(ADDRESS_FIELD) == address]
    used_gpus = sum(float(r.get(GPUS_FIELD) or 0) for r in ours)
    used_cpus = sum(float(r.get(CPUS_FIELD) or 0) for r in ours)
    return Room(address, nodes, sum(n.gpus for n in nodes) - used_gpus, sum(n.cpus for n in nodes) - used_cpus)


def submit_run(run_dir: Path, spec: dict[str, Any], asked: tuple[float, float]) -> str:
    """Submit a ``starting`` run as a Ray job: write the token, record the job's id first (a scheduler killed
    mid-submission leaves a run whose job reconcile can look up), then submit. Returns the job id.

    Raises:
        ClusterError: the cluster could not be reached or refused the job.
    """
    address = str(spec["ray_address"])
    token = secrets.token_hex(8)
    job_id = f"explorer-{run_dir.name}-{secrets.token_hex(3)}"
    (run_dir / TOKEN_FILE).write_text(token)
    gpus, cpus = asked
    runstatus.update(run_dir, **{JOB_FIELD: job_id, ADDRESS_FIELD: address, GPUS_FIELD: gpus, CPUS_FIELD: cpus})
    argv = [os.environ.get(PYTHON_ENV) or sys.executable, "-u", "-m", "core.launcher", "ray-job", str(run_dir), token]
    env = job_env(run_dir.parent, threads=max(1, int(cpus) // options.processes_of(spec)))
    ray_cluster.submit(address, job_id, shlex.join(argv), gpus=gpus, cpus=cpus, env=env)
    return job_id


def job_env(root: Path, threads: int) -> dict[str, str]:
    """What a job adds to the worker's environment: the runs folder, the project on the import path, the
    launcher's own settings (EXPLORER_*), and the CPU threads each training process may use."""
    ours = {k: v for k, v in os.environ.items() if k.startswith("EXPLORER_")}
    thread_vars = {name: str(threads) for name in (*THREAD_VARIABLES, THREADS_ENV)}
    return {**ours, "EXPLORER_RUNS_DIR": str(root), "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
            **thread_vars}  # fmt: skip


# -- ending ----------------------------------------------------------------------------------------------------
def stop_run(record: dict[str, Any]) -> None:
    """Ask Ray to stop the run's job (its processes get SIGTERM, then SIGKILL a few seconds later).

    Raises:
        ClusterError: the cluster could not be reached.
    """
    ray_cluster.stop(str(record[ADDRESS_FIELD]), str(record[JOB_FIELD]))


def job_state(record: dict[str, Any]) -> JobState | None:
    """The state of the run's job; None where the cluster cannot be reached."""
    return JobStates()(record)


def why_job_ended(record: dict[str, Any], job: JobState) -> str:
    """The error recorded for a run whose Ray job ended without the run recording its end."""
    if job.status == ray_cluster.MISSING:
        return (
            f"its Ray job {record.get(JOB_FIELD)} is gone from the Ray cluster at {record.get(ADDRESS_FIELD)} "
            "(was the cluster restarted?)"
        )
    lines = [ln for ln in (job.message or "").strip().splitlines() if ln.strip() and "INFO" not in ln]
    said = f": {lines[-1].strip()}" if lines else ""
    return f"its Ray job {record.get(JOB_FIELD)} ended {job.status}{said} (the job's log is in console.log)"


def copy_job_log(run_dir: Path, record: dict[str, Any]) -> None:
    """Append the tail of the job's own log (what the job process printed, e.g. why it refused to start) to
    console.log, so the Run page shows it; nothing when the cluster cannot be reached."""
    try:
        text = ray_cluster.logs(str(record[ADDRESS_FIELD]), str(record[JOB_FIELD]))
    except ClusterError:
        return
    if text.strip():
        with open(run_dir / runfolder.CONSOLE_FILE, "a", encoding="utf-8") as console:
            console.write(f"\n--- Ray job {record[JOB_FIELD]} log ---\n{text[-LOG_TAIL_CHARS:]}\n")
