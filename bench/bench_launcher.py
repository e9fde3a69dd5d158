"""Launcher overhead: launch -> first logged record, and slot free -> next queued run started, against the
same training command started by hand (subprocess.Popen), measured in one run.

    .venv/bin/python bench/bench_launcher.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import launcher, runfolder  # noqa: E402
from core.launcher import service  # noqa: E402
from core.runfolder import metricslog
from core.runfolder import status as runstatus


def script(epochs: int, pause: float) -> list[str]:
    return [sys.executable, "-m", "tests.helpers_train", "--epochs", str(epochs), "--pause", str(pause)]


def first_record_time(run_dir: Path, timeout: float = 60) -> float:
    """Wall time at which the run's metrics log first holds a complete record."""
    path = run_dir / metricslog.METRICS_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and metricslog.validate_chunk(path.read_bytes()).n_valid:
            return time.monotonic()
        time.sleep(0.002)
    raise TimeoutError(f"no record in {path}")


def by_hand(root: Path) -> float:
    """Seconds from Popen of the training script to its first record (it makes its own run folder)."""
    before = set(os.listdir(root))
    t0 = time.monotonic()
    proc = subprocess.Popen(script(1, 0.0), cwd=REPO, env={**os.environ, "EXPLORER_RUNS_DIR": str(root)})
    while not (new := set(os.listdir(root)) - before - {"index.duckdb"}):
        time.sleep(0.002)
    t1 = first_record_time(root / new.pop())
    proc.wait()
    return t1 - t0


def through_launcher(root: Path) -> float:
    """Seconds from launch_command() to the run's first record (scheduler cold: started on demand)."""
    _wait_idle(root)
    t0 = time.monotonic()
    run_id = launcher.launch_command(script(1, 0.0), runs_dir=root)
    t1 = first_record_time(root / run_id)
    _wait_status(root / run_id, "succeeded")
    return t1 - t0


def slot_handover(root: Path) -> float:
    """Seconds from the end of a run holding the only slot to the first record of the run queued behind it."""
    first = launcher.launch_command(script(1, 0.3), runs_dir=root)
    second = launcher.launch_command(script(1, 0.0), runs_dir=root)
    _wait_status(root / first, "succeeded", "failed")  # recorded by the supervisor as the process exits
    ended = time.monotonic()
    return first_record_time(root / second) - ended


def _wait_status(run_dir: Path, *states: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while runstatus.current(runstatus.read(run_dir)) not in states:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run_dir.name} never reached {states}")
        time.sleep(0.002)


def _wait_idle(root: Path) -> None:
    deadline = time.monotonic() + 30
    while service.is_running(root) and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ["EXPLORER_CPU_SLOTS"] = "1"
    os.environ["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hand = [by_hand(root) for _ in range(args.repeats)]
        cold = [through_launcher(root) for _ in range(args.repeats)]
        handover = [slot_handover(root) for _ in range(args.repeats)]
        n_runs = len([p for p in root.iterdir() if runfolder.is_run_id(p.name)])
    hand_s, cold_s, hand_over_s = (statistics.median(x) for x in (hand, cold, handover))
    print(f"median of {args.repeats}; {n_runs} runs; 1 CPU slot; stand-in script logs 1 epoch")
    print(f"{'measure':<52} {'seconds':>8} {'overhead vs by hand':>20}")
    print(f"{'by hand: Popen -> first record':<52} {hand_s:>8.3f} {'(peer)':>20}")
    print(f"{'launcher: launch() -> first record (cold scheduler)':<52} {cold_s:>8.3f} {cold_s - hand_s:>+19.3f}s")
    print(f"{'launcher: slot frees -> next run first record':<52} {hand_over_s:>8.3f} {hand_over_s - hand_s:>+19.3f}s")


if __name__ == "__main__":
    main()
