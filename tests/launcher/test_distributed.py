"""One run on several GPUs (``gpus=N``): the classify recipe under torchrun with DistributedDataParallel, here two
processes with gloo on the CPU (2 CPU slots): it logs one run, once, with as many metrics as a one-process run,
its checkpoints land once in its folder, a cancel leaves no process, and it resumes on another number of GPUs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import launcher, runfolder
from core.recipes.classify.checkpoint import read_checkpoint
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from tests.conftest import REPO
from tests.launcher.helpers import processes_of
from tests.test_launcher import _wait as wait

pytestmark = pytest.mark.slow

ENDED = ("succeeded", "failed", "crashed", "cancelled")


@pytest.fixture(autouse=True)
def three_cpu_slots(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "3")  # a two-process run and a one-process run side by side
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("EXPLORER_RAY_ADDRESS", raising=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # where rank 1's scratch run folder goes (and must leave)
    return scratch


def _tiny(data: Path, epochs: int) -> list[str]:
    sizes = ["image_size=32", "batch_size=4", "max_train_batches=2", "max_eval_batches=1"]
    return ["dataset=imagefolder", f"data_root={data}", f"epochs={epochs}", "backbone=resnet10t", "num_workers=0",
            "augment=none", *sizes]  # fmt: skip


def _ended(root: Path, run_id: str, timeout: float = 180) -> str:
    state = lambda: runstatus.current(runstatus.read(root / run_id))  # noqa: E731
    try:
        wait(lambda: state() in ENDED, timeout, f"{run_id} to end")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {(root / run_id / 'console.log').read_text()[-3000:]}") from None
    return state()


def test_a_two_process_run_logs_one_run_with_the_metrics_of_one_process(
    runs_root: Path, tiny_cars: Path, three_cpu_slots: Path
) -> None:
    one = launcher.launch("classify", _tiny(tiny_cars, 2), gpus=1)
    two = launcher.launch("classify", _tiny(tiny_cars, 2), gpus=2)
    assert (_ended(runs_root, one), _ended(runs_root, two)) == ("succeeded", "succeeded")
    records = {run: metricslog.read_records(runs_root / run) for run in (one, two)}
    assert len(records[two]) == len(records[one]) > 0  # logged once, by rank 0
    assert sorted({r.name for r in records[two]}) == sorted({r.name for r in records[one]})
    assert sorted(p.name for p in runs_root.iterdir() if runfolder.is_run_id(p.name)) == sorted([one, two])
    assert sorted(os.listdir(runs_root / two / "checkpoints")) == ["best.pt", "last.pt"]
    # rank 1's scratch run folder is removed when rank 1 finishes, which may be a moment after rank 0 ended the run
    wait(lambda: list(three_cpu_slots.glob("explorer-rank-*")) == [], 60, "rank 1's scratch folder to be removed")
    assert launcher.placement(two, runs_dir=runs_root).slot.count(",") == 1  # two slots
    assert (runs_root / two / "console.log").read_text().count("epoch 1/2") == 1  # rank 0 reports progress


def test_a_two_process_run_is_cancelled_without_strays_and_resumes_on_one(runs_root: Path, tiny_cars: Path) -> None:
    run_id = launcher.launch("classify", _tiny(tiny_cars, 6), gpus=2)
    last = runs_root / run_id / "checkpoints" / "last.pt"
    wait(last.exists, 180, "the first checkpoint")
    assert launcher.cancel(run_id, grace_s=5) == "cancelled"
    wait(lambda: not processes_of(runs_root / run_id), 20, "the run's processes (torchrun's workers too) to end")
    assert read_checkpoint(last)["epoch"] >= 1
    launcher.resume(run_id, gpus=1)  # a checkpoint does not depend on the number of processes
    assert _ended(runs_root, run_id) == "succeeded"
    steps = [r.step for r in metricslog.read_records(runs_root / run_id, "val/top1")]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert len(metricslog.read_records(runs_root / run_id, "test/top1")) == 1
