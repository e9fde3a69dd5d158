"""The training process's CPU, memory and GPU use, sampled in a background thread while a recipe run trains and
logged into the run as ``system/*`` metrics (the Run page's System section draws them).

Each sample is one step of the system metrics' own axis (1, 2, 3... a resumed run continues after its last
sample); the recipes log their epochs with explicit steps, so the two axes never mix. A sample that cannot be
taken is skipped: watching the process never fails the run.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from core import tracking
from core.evaluation.semantics import RESOURCE_PREFIX
from core.runfolder import metricslog

PREFIX = RESOURCE_PREFIX  # "system/": the metrics of the training process, apart from what the recipe logs
INTERVAL_S = 10.0  # seconds between samples
INTERVAL_ENV = "EXPLORER_SYSTEM_INTERVAL_S"  # overrides INTERVAL_S (tests sample every 0.05 s)
FIRST_SAMPLE_S = 1.0  # the first sample comes this soon (or after one interval, if shorter)
STOP_WAIT_S = 5.0  # how long the end of a run waits for a sample in progress
GB = 1e9


def interval_s() -> float:
    """The seconds between samples: EXPLORER_SYSTEM_INTERVAL_S when it is a positive number, else INTERVAL_S."""
    text = os.environ.get(INTERVAL_ENV, "").strip()
    if not text:
        return INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        print(f"note: {INTERVAL_ENV}={text!r} is not a positive number of seconds; system metrics are sampled "
              f"every {INTERVAL_S:g} s (set it to e.g. 30, or unset it)", file=sys.stderr)  # fmt: skip
        return INTERVAL_S
    return value


class ProcessTree:
    """CPU use and resident memory of this process and its children (data-loader workers, say)."""

    def __init__(self, root: psutil.Process | None = None) -> None:
        self.root = root or psutil.Process()
        self._known: dict[int, psutil.Process] = {}
        self.sample()  # a process's first CPU reading is 0.0: it only starts the clock for the next one

    def sample(self) -> dict[str, float]:
        """``system/cpu_percent`` (100 = one core busy) and ``system/ram_gb`` (the processes' summed RSS)."""
        cpu = rss = 0.0
        known = {}
        for found in [self.root, *self.root.children(recursive=True)]:
            kept = self._known.get(found.pid)
            process = kept if kept == found else found  # the same object each time: it measures since its last call
            try:
                with process.oneshot():
                    cpu += process.cpu_percent(None)
                    rss += process.memory_info().rss
            except psutil.Error:  # it ended between the listing and the reading
                continue
            known[found.pid] = process
        self._known = known
        return {f"{PREFIX}cpu_percent": cpu, f"{PREFIX}ram_gb": rss / GB}


def gpu_sample() -> dict[str, float]:
    """``system/gpu_memory_gb`` (what this process's CUDA allocator holds, on every GPU) and
    ``system/gpu_util_percent`` (the mean utilisation of the GPUs it holds memory on, when NVML can be read);
    nothing when the process has not started CUDA, i.e. the run trains on the CPU."""
    torch = sys.modules.get("torch")  # a run on CUDA imported torch already; one that did not uses no GPU
    if torch is None or not torch.cuda.is_initialized():
        return {}
    reserved = [torch.cuda.memory_reserved(d) for d in range(torch.cuda.device_count())]
    found = {f"{PREFIX}gpu_memory_gb": sum(reserved) / GB}
    used = [_utilization(torch, d) for d, held in enumerate(reserved) if held > 0]
    readable = [u for u in used if u is not None]
    if readable:
        found[f"{PREFIX}gpu_util_percent"] = sum(readable) / len(readable)
    return found


def _utilization(torch: object, device: int) -> float | None:
    try:
        return float(torch.cuda.utilization(device))  # type: ignore[attr-defined]
    except Exception:  # pynvml missing (ModuleNotFoundError) or NVML's own errors: utilisation is left out
        return None


def last_sample(run_dir: Path) -> int:
    """The step of the run's last system sample (0 when none): where a resumed run's samples continue."""
    return max((r.step for r in metricslog.read_records(run_dir) if r.name.startswith(PREFIX)), default=0)


class SystemSampler:
    """A daemon thread that logs a sample of the system metrics into ``run`` every ``interval`` seconds, the
    first one soon after ``start``, until ``stop``."""

    def __init__(self, run: tracking.Run, interval: float) -> None:
        self.run = run
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name=f"system-{run.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_WAIT_S)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _sample_until_stopped(self) -> None:
        try:
            tree, step = ProcessTree(), last_sample(self.run.dir)
        except (psutil.Error, OSError):
            return
        wait = min(self.interval, FIRST_SAMPLE_S)
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                metrics = {**tree.sample(), **gpu_sample()}
            except (psutil.Error, OSError, RuntimeError):  # RuntimeError: CUDA's; the next sample may work
                continue
            try:
                self.run.log(metrics, step=step + 1, beat=False)  # beats come from the training thread only
            except RuntimeError:  # the run was finished under us: nothing more to log into
                return
            except OSError:  # a full disk: the training loop's own logging will say so
                continue
            step += 1


@contextmanager
def sampling(run: tracking.Run, interval: float | None = None) -> Iterator[SystemSampler | None]:
    """Sample the system metrics into ``run`` while the block runs (every ``interval`` s, default
    :func:`interval_s`), in rank 0 only; the sampler stops when the block ends, however it ends."""
    if tracking.process_rank() != 0 or not isinstance(run, tracking.Run):
        yield None
        return
    sampler = SystemSampler(run, interval_s() if interval is None else interval)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()
