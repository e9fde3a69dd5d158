"""Nothing stays queued without a scheduler, with real processes: a killed scheduler is replaced when a run
ends, a reboot (every launcher process gone) is resumed by any CLI verb, and each slot's runs own its cores."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core import launcher
from core.launcher import service, slots
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def two_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _script(epochs: int, pause: float) -> list[str]:
    return [sys.executable, "-m", "tests.helpers_train", "--epochs", str(epochs), "--pause", str(pause)]


def _state(root: Path, run_id: str) -> str:
    return runstatus.current(runstatus.read(root / run_id))


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _steps(root: Path, run_id: str) -> list[int]:
    return [r.step for r in metricslog.read_records(root / run_id, "val/top1")]


def _kill_scheduler(root: Path) -> None:
    os.kill(int((root / service.PID_FILE).read_text()), signal.SIGKILL)
    _wait(lambda: not service.is_running(root), 10, "the scheduler to die")


def test_a_killed_scheduler_is_replaced_when_a_run_ends(runs_root: Path) -> None:
    ids = [launcher.launch_command(_script(4, 0.15), labels=RunLabels(name=f"r{i}")) for i in range(4)]
    _wait(lambda: sum(_state(runs_root, r) == "running" for r in ids) == 2, 60, "two runs running")
    _kill_scheduler(runs_root)  # nobody launches or reads from here on
    _wait(lambda: all(_state(runs_root, r) == "succeeded" for r in ids), 60, "every run to succeed")
    assert [_steps(runs_root, r) for r in ids] == [[1, 2, 3, 4]] * 4


def test_after_a_reboot_any_verb_resumes_the_queue(runs_root: Path) -> None:
    retried, plain, waiting = (launcher.launch_command(_script(40, 0.1), retries=r, labels=RunLabels(name=n))
                               for r, n in ((1, "retried"), (0, "plain"), (0, "waiting")))  # fmt: skip
    _wait(lambda: len(_steps(runs_root, retried)) >= 2 and len(_steps(runs_root, plain)) >= 2, 60, "two epochs")
    _kill_scheduler(runs_root)
    for run_id in (retried, plain):  # the machine goes down: every process of the runs dies at once
        os.killpg(runstatus.read(runs_root / run_id)["pgid"], signal.SIGKILL)
    _wait(lambda: not any(runstatus.is_alive(runs_root / r) for r in (retried, plain)), 10, "the runs to die")
    assert {_state(runs_root, r) for r in (retried, plain)} == {"running"}
    assert _state(runs_root, waiting) == "queued" and not service.is_running(runs_root)

    done = run_cli("recipes")  # any verb, not only a reader
    assert done.returncode == 0, done.stderr
    assert _state(runs_root, plain) == "crashed"
    assert runstatus.read(runs_root / retried)["retries_used"] == 1
    _wait(lambda: all(_state(runs_root, r) == "succeeded" for r in (retried, waiting)), 90, "the queue to drain")
    assert _steps(runs_root, retried) == list(range(1, 41))  # continued where it stopped, no epoch twice
    assert _state(runs_root, plain) == "crashed"


CORES_SCRIPT = """
import os
from core import tracking
run = tracking.start()
run.log_table("slot", [{"cores": sorted(os.sched_getaffinity(0)), "omp": os.environ.get("OMP_NUM_THREADS"),
                        "threads": tracking.slot_threads()}])
run.finish()
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to give each slot its own")
def test_runs_side_by_side_each_own_their_cores(runs_root: Path) -> None:
    cores = sorted(os.sched_getaffinity(0))
    ids = [launcher.launch_command([sys.executable, "-c", CORES_SCRIPT], start=False) for _ in range(2)]
    service.ensure_scheduler(runs_root)
    _wait(lambda: all(_state(runs_root, r) == "succeeded" for r in ids), 60, "both runs")
    seen = [json.loads((runs_root / r / "tables" / "slot.json").read_text())["rows"][0] for r in ids]
    plan = {share.slot: list(share.cores) for share in slots.divide_cores(["cpu:0", "cpu:1"], cores)}
    for run_id, row in zip(ids, seen):
        record = runstatus.read(runs_root / run_id)
        assert row["cores"] == record["cores"] == plan[record["slot"]]  # pinned to its slot's share
        assert row["threads"] == len(row["cores"]) and row["omp"] == str(len(row["cores"]))
