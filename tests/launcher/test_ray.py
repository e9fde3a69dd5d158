"""The launcher on a Ray cluster: a head node started here (127.0.0.1, 4 logical GPUs: no GPU needed) runs 4 tiny
runs at once, each on its own CUDA_VISIBLE_DEVICES; a cancelled run leaves no process; a run whose processes are
killed shows crashed and resumes to succeeded; a Bayesian sweep of real classify runs goes two trials at a time; a
run whose folder the worker cannot see fails with a message saying how to share it. The head node is stopped at
the end, whatever happens (by ending the processes it started)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import launcher, runfolder
from core.launcher import options, ray_backend, ray_cluster, service, sweeps
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from core.store import Store, queries
from tests.conftest import REPO
from tests.launcher.helpers import processes_of
from tests.launcher.ray_head import local_head
from tests.test_launcher import _wait as wait

pytestmark = pytest.mark.slow

GPUS = 4
ENDED = ("succeeded", "failed", "crashed", "cancelled")
# A tiny training run: waits until all 4 runs have started (so they ran at once), then fits a line with numpy.
TOGETHER = """
import os, sys, time
import numpy as np
from core import tracking
barrier, gpu = sys.argv[1], os.environ.get("CUDA_VISIBLE_DEVICES", "")
open(os.path.join(barrier, "gpu-" + gpu), "w").close()
deadline = time.time() + 90
while len(os.listdir(barrier)) < 4:
    if time.time() > deadline:
        sys.exit("the 4 runs never ran at once")
    time.sleep(0.05)
rng = np.random.default_rng(len(gpu))
x = rng.normal(size=(128, 4))
y = x @ rng.normal(size=4)
w = np.zeros(4)
with tracking.start(config={"gpu": gpu}) as run:
    for step in range(1, 6):
        w -= 0.1 * x.T @ (x @ w - y) / len(y)
        run.log({"train/loss": float(np.mean((x @ w - y) ** 2))}, step=step)
"""


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    with local_head(gpus=GPUS, cpus=GPUS) as address:
        yield address


@pytest.fixture(autouse=True)
def on_ray(ray_address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(options.RAY_ADDRESS_ENV, ray_address)  # launches go to the cluster by default
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _script(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.helpers_train", *args]


def _state(root: Path, run_id: str) -> str:
    return runstatus.current(runstatus.read(root / run_id))


def _wait_ended(root: Path, run_id: str, timeout: float = 90) -> str:
    try:
        wait(lambda: _state(root, run_id) in ENDED, timeout, f"{run_id} to end")
    except AssertionError as exc:
        console = (root / run_id / runfolder.CONSOLE_FILE).read_text(errors="replace")[-2000:]
        log_file = root / service.LOG_FILE
        log = log_file.read_text(errors="replace")[-1000:] if log_file.exists() else ""
        record = runstatus.read(root / run_id)
        raise AssertionError(f"{exc}; status {record}; console {console}; scheduler {log}") from None
    return _state(root, run_id)


def _steps(root: Path, run_id: str, metric: str) -> list[int]:
    return [r.step for r in metricslog.read_records(root / run_id, metric)]


def test_four_runs_run_at_once_each_on_its_own_gpu(runs_root: Path, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    ids = [launcher.launch_command([sys.executable, "-c", TOGETHER, str(barrier)]) for _ in range(GPUS)]
    assert [_wait_ended(runs_root, run_id) for run_id in ids] == ["succeeded"] * GPUS
    assert sorted(p.name for p in barrier.iterdir()) == [f"gpu-{i}" for i in range(GPUS)]  # one GPU each
    placements = [launcher.placement(run_id, runs_dir=runs_root) for run_id in ids]
    assert sorted(g for p in placements for g in p.gpus) == [str(i) for i in range(GPUS)]
    assert all(p.on == "ray" and p.node and p.ray_job for p in placements)
    with Store(runs_root, in_memory=True) as store:  # the metrics are ingested from the shared run folders
        curves = queries.curves(store, ids, "train/loss")
    assert curves.groupby("run_id")["step"].apply(list).to_dict() == {run_id: [1, 2, 3, 4, 5] for run_id in ids}


def test_a_cancelled_run_leaves_no_process_on_the_node(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "500", "--pause", "0.1"))
    wait(lambda: bool(_steps(runs_root, run_id, "val/top1")), 60, "the first epoch")
    assert launcher.cancel(run_id, grace_s=2) == "cancelled"
    wait(lambda: not processes_of(runs_root / run_id), 20, "the run's processes to end")
    record = runstatus.read(runs_root / run_id)
    assert ray_cluster.job_state(record[ray_backend.ADDRESS_FIELD], record[ray_backend.JOB_FIELD]).status == "STOPPED"
    time.sleep(1.0)  # a scheduler pass later, it stays cancelled
    assert _state(runs_root, run_id) == "cancelled"


def test_a_run_whose_processes_are_killed_is_crashed_then_resumes_to_succeeded(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "6", "--pause", "0.3"))
    wait(lambda: len(_steps(runs_root, run_id, "val/top1")) >= 2, 60, "two epochs")
    child = runstatus.read(runs_root / run_id)["child_pid"]
    job_process = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])  # its parent
    for pid in (job_process, child):  # the worker's processes die without recording anything
        os.kill(pid, signal.SIGKILL)
    assert _wait_ended(runs_root, run_id, 30) == "crashed"
    assert "Ray job" in runstatus.read(runs_root / run_id)["error"]  # settled from Ray's job state
    launcher.resume(run_id)
    assert _wait_ended(runs_root, run_id) == "succeeded"
    assert _steps(runs_root, run_id, "val/top1") == [1, 2, 3, 4, 5, 6]  # continued, nothing twice


def test_a_bayesian_sweep_runs_two_trials_at_a_time_and_finishes(runs_root: Path, tiny_cars: Path) -> None:
    base = [
        "dataset=imagefolder",
        f"data_root={tiny_cars}",
        "epochs=1",
        "image_size=32",
        "batch_size=8",
        "backbone=resnet10t",
        "num_workers=0",
        "max_train_batches=1",
        "max_eval_batches=1",
        "augment=none",
    ]
    sweep = sweeps.start_bayes(runs_root, "classify", base, {"lr": ["0.001", "0.003"], "seed": ["0", "1", "2"]},
                               n_trials=6, objective="val/top1", parallel=2)  # fmt: skip
    service.ensure_scheduler(runs_root)
    most, deadline = 0, time.monotonic() + 240
    while time.monotonic() < deadline:
        trials = [p for p in runs_root.iterdir() if runfolder.is_run_id(p.name) and _group(p) == sweep]
        states = [_state(runs_root, p.name) for p in trials]
        most = max(most, sum(s in ("starting", "running") for s in states))
        if len(trials) == 6 and all(s in ENDED for s in states):
            break
        time.sleep(0.2)
    assert len(trials) == 6 and states == ["succeeded"] * 6, [runstatus.read(p) for p in trials]
    assert most == 2  # two trials at once, never more
    assert all(launcher.placement(p.name, runs_dir=runs_root).on == "ray" for p in trials)


def test_a_run_the_worker_cannot_see_fails_saying_how_to_share_the_folder(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.launcher import scheduler

    run_id = launcher.launch_command(_script("--epochs", "1"), start=False)
    monkeypatch.setattr(ray_backend, "TOKEN_FILE", "elsewhere.token")  # the worker finds no token of ours
    scheduler.start_ready(runs_root)  # submits it from this process
    monkeypatch.undo()
    service.ensure_scheduler(runs_root)  # settles it from the job's state
    assert _wait_ended(runs_root, run_id, 60) == "failed"
    error = runstatus.read(runs_root / run_id)["error"]
    assert "is not visible from Ray node" in error and "EXPLORER_RUNS_DIR" in error, error
    console = (runs_root / run_id / runfolder.CONSOLE_FILE).read_text()
    assert "storage that the app's machine and every Ray worker share" in console  # the job's own log, copied


def _group(run_dir: Path) -> str:
    return str((runfolder.read_json(run_dir / runfolder.META_FILE, {}) or {}).get("group"))
