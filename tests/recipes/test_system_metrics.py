"""System metrics: the sampler logs CPU and memory (and GPU use on a CUDA run) into a run at its own steps, never
beats for the training thread, stops however the run ends; a tiny classify run carries them; the Run page
draws them apart from the recipe's curves."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch

from core import tracking
from core.recipes import system_metrics
from core.recipes.runner import run_recipe
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from core.store import Store
from core.views import run as runview

from ..test_classify import quiet, tiny

CPU, RAM = "system/cpu_percent", "system/ram_gb"
GPU_MEMORY, GPU_UTIL = "system/gpu_memory_gb", "system/gpu_util_percent"
FAST = 0.05  # seconds between samples in these tests


def samplers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("system-")]


def steps(run_dir: Path, name: str) -> list[int]:
    return [r.step for r in metricslog.read_records(run_dir, name)]


def test_the_sampler_logs_cpu_and_memory_at_its_own_steps_and_stops(runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        run.log({"train/loss": 1.0}, step=1)
        with system_metrics.sampling(run, FAST) as sampler:
            time.sleep(0.5)
        assert sampler is not None and not sampler.alive and not samplers()
        logged = len(metricslog.read_records(run.dir))
        time.sleep(0.2)
        assert len(metricslog.read_records(run.dir)) == logged, "the sampler logged after it stopped"
    cpu, ram = metricslog.read_records(run.dir, CPU), metricslog.read_records(run.dir, RAM)
    assert len(cpu) >= 3 and [r.step for r in cpu] == list(range(1, len(cpu) + 1)) == [r.step for r in ram]
    assert all(r.value >= 0 for r in cpu) and all(0.01 < r.value < 1000 for r in ram)  # this process holds MBs
    assert steps(run.dir, "train/loss") == [1]


def test_a_resumed_run_continues_the_sample_count(runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        with system_metrics.sampling(run, FAST):
            time.sleep(0.3)
        first = steps(run.dir, RAM)
        with system_metrics.sampling(run, FAST):
            time.sleep(0.3)
    after = steps(run.dir, RAM)
    assert len(after) > len(first) >= 2 and after == list(range(1, len(after) + 1))


def test_the_sampler_never_beats_for_the_training_thread(runs_root: Path) -> None:
    """A hung training loop must show as stale: only the training thread's logging beats."""
    with tracking.start(name="r", runs_dir=runs_root) as run:
        time.sleep(1.1)  # past tracking's one beat a second
        with system_metrics.sampling(run, FAST):
            time.sleep(1.2)
        assert len(steps(run.dir, CPU)) >= 5
        assert runstatus.seconds_since_beat(run.dir) >= 2.0


@pytest.mark.parametrize("ending", [ValueError("boom"), KeyboardInterrupt()], ids=["failed", "cancelled"])
def test_the_sampler_stops_when_the_run_fails_or_is_cancelled(runs_root: Path, ending: BaseException) -> None:
    run = tracking.start(name="r", runs_dir=runs_root)
    with pytest.raises(type(ending)), run, system_metrics.sampling(run, FAST):
        time.sleep(0.2)
        raise ending
    assert not samplers()
    assert runstatus.current(runstatus.read(run.dir)) == ("failed" if isinstance(ending, ValueError) else "cancelled")
    assert steps(run.dir, CPU)


def test_a_finished_run_ends_the_sampler_quietly(runs_root: Path) -> None:
    run = tracking.start(name="r", runs_dir=runs_root)
    with system_metrics.sampling(run, FAST) as sampler:
        run.finish()  # the training code ended the run itself: the next sample has nowhere to go
        time.sleep(0.3)
        assert sampler is not None and not sampler.alive


def test_only_rank_0_samples(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        monkeypatch.setenv("RANK", "1")
        with system_metrics.sampling(run, FAST) as sampler:
            time.sleep(0.2)
    assert sampler is None and not steps(run.dir, CPU)


@pytest.mark.parametrize(("text", "seconds"), [("", 10.0), ("0.05", 0.05), ("0", 10.0), ("soon", 10.0), ("nan", 10.0)])
def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, text: str, seconds: float) -> None:
    monkeypatch.setattr(system_metrics, "INTERVAL_S", 10.0)
    monkeypatch.setenv(system_metrics.INTERVAL_ENV, text)
    assert system_metrics.interval_s() == seconds


@pytest.mark.skipif(torch.cuda.is_available() and torch.cuda.is_initialized(), reason="this process uses CUDA")
def test_no_gpu_metrics_on_a_process_without_cuda() -> None:
    assert system_metrics.gpu_sample() == {}


class FakeCuda:
    """torch.cuda of a process that holds 2 GB on GPU 1 of 2; NVML readable or not."""

    def __init__(self, utilization: float | None) -> None:
        self.util = utilization

    def is_initialized(self) -> bool:
        return True

    def device_count(self) -> int:
        return 2

    def memory_reserved(self, device: int) -> int:
        return [0, 2_000_000_000][device]

    def utilization(self, device: int) -> float:
        assert device == 1, "only the GPUs the process holds memory on are asked"
        if self.util is None:
            raise ModuleNotFoundError("pynvml does not seem to be installed")
        return self.util


@pytest.mark.parametrize("util", [37.0, None], ids=["nvml", "no-nvml"])
def test_gpu_memory_and_utilisation_of_a_cuda_process(monkeypatch: pytest.MonkeyPatch, util: float | None) -> None:
    monkeypatch.setattr(torch, "cuda", FakeCuda(util))
    expected = {GPU_MEMORY: 2.0} | ({GPU_UTIL: util} if util is not None else {})
    assert system_metrics.gpu_sample() == expected


def test_a_tiny_classify_run_logs_system_metrics(
    tiny_cars: Path, runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(system_metrics.INTERVAL_ENV, str(FAST))
    run_id = run_recipe("classify", tiny(tiny_cars, "epochs=2"), echo=quiet)
    run_dir = runs_root / run_id
    assert runstatus.current(runstatus.read(run_dir)) == "succeeded" and not samplers()
    assert len(steps(run_dir, CPU)) >= 2 and steps(run_dir, RAM) == steps(run_dir, CPU)
    assert steps(run_dir, "train/loss") == [1, 2]  # the recipe's epochs are untouched
    assert not steps(run_dir, GPU_MEMORY)  # a CPU run
    with Store(runs_root, in_memory=True) as store:
        store.sync()
        titles = [title for title, _ in runview.curve_charts(store, run_id, system=True)]
        assert set(titles) == {"cpu_percent", "ram_gb"}
        assert "System" in runview.sections(store, run_id)


def test_system_samples_do_not_switch_on_the_curves_smoothing(runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        for step in range(1, runview.SMOOTH_FROM + 1):
            run.log({CPU: 50.0}, step=step)
        run.log({"train/loss": 1.0}, step=1)
        run.log({"train/loss": 0.5}, step=2)
    with Store(runs_root, in_memory=True) as store:
        store.sync()
        assert runview.default_smoothing(store, run.id) == 0.0
