"""Ray runs settled from their job's state, without a cluster: a job that ended while its run says running is
crashed, one that ended before its run started fails it with Ray's reason, readers of the queue leave Ray runs to
the scheduler, and an unreachable cluster is reported, not raised. (The real cluster: tests/launcher/test_ray.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core import launcher
from core.launcher import queue, ray_backend, recovery
from core.launcher.ray_cluster import MISSING, JobState, Node
from core.runfolder import status as runstatus

NOWHERE = "http://127.0.0.1:9"  # nothing listens there: connection refused at once


def _ray_run(root: Path, state: str) -> str:
    """A Ray run submitted as job ``job-<id>`` (no process of it on this machine), in ``state``."""
    run_id = launcher.launch_command([sys.executable, "-c", "pass"], on="ray", ray_address=NOWHERE, start=False)
    queue.mark_active(root, run_id)
    queue.dequeue(root, run_id)
    fields = {ray_backend.JOB_FIELD: f"job-{run_id}", ray_backend.ADDRESS_FIELD: NOWHERE, ray_backend.GPUS_FIELD: 1.0}
    runstatus.transition(root / run_id, "starting", expect={"queued"}, **fields)
    if state == "running":
        runstatus.transition(root / run_id, "running", expect={"starting"})
    return run_id


def _jobs(status: str, message: str = "") -> ray_backend.JobStates:
    return lambda record: JobState(status, message)  # type: ignore[return-value]


@pytest.mark.parametrize("status", ["FAILED", "STOPPED", MISSING])
def test_a_job_that_ended_under_a_running_run_makes_it_crashed(runs_root: Path, status: str) -> None:
    run_id = _ray_run(runs_root, "running")
    assert recovery.reconcile(runs_root, _jobs(status, "Job entrypoint command failed with exit code -9")) == [run_id]
    record = runstatus.read(runs_root / run_id)
    assert record["status"] == "crashed" and f"job-{run_id}" in record["error"]
    assert queue.active(runs_root) == []


def test_a_crashed_ray_run_with_retries_is_submitted_again_as_a_new_job(runs_root: Path) -> None:
    run_id = _ray_run(runs_root, "running")
    spec = queue.read_launch_spec(runs_root / run_id)
    queue.write_launch_spec(runs_root / run_id, {**spec, "retries": 1})
    assert recovery.reconcile(runs_root, _jobs("FAILED")) == []
    record = runstatus.read(runs_root / run_id)
    assert record["status"] == "queued" and ray_backend.JOB_FIELD not in record  # the old job is forgotten


def test_a_job_that_failed_before_its_run_started_fails_it_with_rays_reason(runs_root: Path) -> None:
    run_id = _ray_run(runs_root, "starting")
    ended = recovery.reconcile(runs_root, _jobs("FAILED", "INFO setting up\nerror: the run folder is not visible"))
    assert ended == [run_id]
    record = runstatus.read(runs_root / run_id)
    assert record["status"] == "failed" and record["error"].endswith(
        "ended FAILED: error: the run folder is not visible (the job's log is in console.log)"
    )


def test_live_jobs_and_readers_leave_ray_runs_alone(runs_root: Path) -> None:
    running, starting = _ray_run(runs_root, "running"), _ray_run(runs_root, "starting")
    assert recovery.reconcile(runs_root) == []  # a reader: no process here holds their locks, yet they run on Ray
    assert recovery.reconcile(runs_root, _jobs("RUNNING")) == []
    assert recovery.reconcile(runs_root, lambda record: None) == []  # the cluster cannot be reached: cannot tell
    assert [runstatus.current(runstatus.read(runs_root / r)) for r in (running, starting)] == ["running", "starting"]


def test_an_unreachable_cluster_is_asked_once_and_reported(runs_root: Path) -> None:
    run_id = _ray_run(runs_root, "running")
    jobs = ray_backend.JobStates()
    record = runstatus.read(runs_root / run_id)
    assert jobs(record) is None and jobs(record) is None
    resources = launcher.cluster_resources(on="ray", runs_dir=runs_root, address=NOWHERE)
    assert resources.nodes == () and "cannot reach the Ray cluster at http://127.0.0.1:9" in resources.text
    with pytest.raises(launcher.LaunchError, match="cannot stop the run's Ray job"):
        launcher.cancel(run_id)
    assert runstatus.read(runs_root / run_id)["cancel_requested"] is True  # cancelled once its job ends


def test_the_room_counts_what_active_runs_asked_for() -> None:
    nodes = [Node("a", "10.0.0.1", gpus=2, cpus=8, head=True), Node("b", "10.0.0.2", gpus=1, cpus=8, head=False)]
    room = ray_backend.Room(NOWHERE, nodes, free_gpus=3 - 1, free_cpus=16 - 1)  # one active run holds 1 GPU, 1 CPU
    assert room.never_fits({"gpus": 3}) is not None and room.never_fits({"gpus": 2}) is None
    assert room.take({}) and room.take({}) and not room.take({})  # one GPU each by default: 2 were free
    assert room.take({"gpus": 0})  # a CPU-only run still fits
