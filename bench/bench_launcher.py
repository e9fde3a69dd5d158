"""The launcher: its overhead (launch -> first logged record, slot free -> next queued run started) against the
same training command started by hand (subprocess.Popen); two CPU-bound runs on 2 CPU slots against the same
two one after another on 1 slot (and against both started by hand at once, each with a thread per core); and
the time to drain 100 queued tiny runs, against the same 100 started by hand one after another. With ``--ray``, on a
Ray head node started here (127.0.0.1, 4 logical GPUs): launch -> first record through the Ray backend against a
bare ``ray job submit`` of the same script and against the local backend, and 100 queued tiny runs drained through
the 4 GPUs (none lost, doubled or stuck).

    .venv/bin/python bench/bench_launcher.py [--repeats 5] [--only overhead|slots|drain] [--ray]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import launcher, runfolder  # noqa: E402
from core.launcher import ray_cluster, service  # noqa: E402
from core.runfolder import metricslog  # noqa: E402
from core.runfolder import status as runstatus  # noqa: E402

RAY = Path(sys.executable).with_name("ray")
# A tiny CPU-bound run: matrix products (numpy's BLAS starts a thread per core unless told otherwise).
CPU_BOUND = """
import numpy as np
from core import tracking
run = tracking.start(name="cpu-bound")
a = np.random.default_rng(0).random((384, 384))
for step in range(1, {steps} + 1):
    for _ in range(20):
        a = a @ a
        a /= np.abs(a).max()
    run.log({{"train/loss": float(a.mean())}}, step=step)
run.finish()
"""
TINY = "from core import tracking\nwith tracking.start() as run:\n    run.log({'val/top1': 0.5}, step=1)\n"


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


def cpu_bound(steps: int) -> list[str]:
    return [sys.executable, "-c", CPU_BOUND.format(steps=steps)]


def through_slots(root: Path, argv: list[str], n_runs: int, n_slots: int) -> float:
    """Seconds from queueing ``n_runs`` runs of ``argv`` to the last one ending, with ``n_slots`` CPU slots."""
    os.environ["EXPLORER_CPU_SLOTS"] = str(n_slots)  # the scheduler started below reads it
    t0 = time.monotonic()
    ids = [launcher.launch_command(argv, runs_dir=root, start=False) for _ in range(n_runs)]
    service.ensure_scheduler(root)
    for run_id in ids:
        _wait_status(root / run_id, "succeeded", "failed", "crashed", timeout=600)
    elapsed = time.monotonic() - t0
    bad = [r for r in ids if runstatus.current(runstatus.read(root / r)) != "succeeded"]
    if bad:
        raise RuntimeError(f"{len(bad)} run(s) did not succeed, e.g. {root / bad[0] / 'console.log'}")
    _wait_idle(root)
    return elapsed


def by_hand_at_once(root: Path, argv: list[str], n_runs: int) -> float:
    """Seconds for ``n_runs`` copies of ``argv`` started together by hand (no slots: threads per core each)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    t0 = time.monotonic()
    procs = [subprocess.Popen(argv, cwd=REPO, env={**env, "EXPLORER_RUNS_DIR": str(root)}) for _ in range(n_runs)]
    if any(p.wait() for p in procs):
        raise RuntimeError("a run started by hand failed")
    return time.monotonic() - t0


def by_hand_in_turn(root: Path, argv: list[str], n_runs: int) -> float:
    t0 = time.monotonic()
    for _ in range(n_runs):
        subprocess.run(argv, cwd=REPO, env={**os.environ, "EXPLORER_RUNS_DIR": str(root)}, check=True)
    return time.monotonic() - t0


def bench_overhead(repeats: int) -> None:
    os.environ["EXPLORER_CPU_SLOTS"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hand = [by_hand(root) for _ in range(repeats)]
        cold = [through_launcher(root) for _ in range(repeats)]
        handover = [slot_handover(root) for _ in range(repeats)]
        n_runs = len([p for p in root.iterdir() if runfolder.is_run_id(p.name)])
    hand_s, cold_s, hand_over_s = (statistics.median(x) for x in (hand, cold, handover))
    print(f"overhead: median of {repeats}; {n_runs} runs; 1 CPU slot; stand-in script logs 1 epoch")
    print(f"{'measure':<52} {'seconds':>8} {'overhead vs by hand':>20}")
    print(f"{'by hand: Popen -> first record':<52} {hand_s:>8.3f} {'(peer)':>20}")
    print(f"{'launcher: launch() -> first record (cold scheduler)':<52} {cold_s:>8.3f} {cold_s - hand_s:>+19.3f}s")
    print(f"{'launcher: slot frees -> next run first record':<52} {hand_over_s:>8.3f} {hand_over_s - hand_s:>+19.3f}s")


def bench_slots(repeats: int, steps: int) -> None:
    """Two CPU-bound runs: 2 slots at once against 1 slot in turn (same runs), and by hand at once."""
    argv = cpu_bound(steps)
    measures: dict[str, Callable[[Path], float]] = {
        "1 CPU slot: one after the other": lambda root: through_slots(root, argv, 2, 1),
        "2 CPU slots: side by side (own cores)": lambda root: through_slots(root, argv, 2, 2),
        "by hand: both at once, a thread per core each": lambda root: by_hand_at_once(root, argv, 2),
    }
    times: dict[str, list[float]] = {label: [] for label in measures}
    for _ in range(repeats):
        for label, measure in measures.items():
            with tempfile.TemporaryDirectory() as tmp:
                times[label].append(measure(Path(tmp)))
    medians = {label: statistics.median(t) for label, t in times.items()}
    sequential = medians["1 CPU slot: one after the other"]
    print(f"slots: two CPU-bound runs ({steps} steps of 20 matrix products), {os.cpu_count()} cores, "
          f"median of {repeats}")
    print(f"{'how':<48} {'wall s':>8} {'vs 1 slot in turn':>18}")
    for label, median in medians.items():
        print(f"{label:<48} {median:>8.2f} {median / sequential:>17.2f}x")


def bench_drain(n_runs: int, n_slots: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hand = by_hand_in_turn(Path(tmp), [sys.executable, "-c", TINY], n_runs)
    with tempfile.TemporaryDirectory() as tmp:
        drained = through_slots(Path(tmp), [sys.executable, "-c", TINY], n_runs, n_slots)
    print(f"drain: {n_runs} queued tiny runs (start, log one record, finish)")
    print(f"{'how':<48} {'wall s':>8} {'per run s':>10}")
    print(f"{'by hand: one after the other (peer)':<48} {hand:>8.2f} {hand / n_runs:>10.3f}")
    print(f"{f'launcher: {n_slots} CPU slots':<48} {drained:>8.2f} {drained / n_runs:>10.3f}")


# -- on a Ray cluster -------------------------------------------------------------------------------------------
def bare_ray_submit(root: Path, address: str, cli: bool) -> float:
    """Seconds from submitting the training script (on 1 GPU) as a Ray job to its first record (its own run
    folder): with the `ray job submit` command line, or one POST to the job API (what the launcher sends)."""
    before = set(os.listdir(root))
    job_vars = {"EXPLORER_RUNS_DIR": str(root), "PYTHONPATH": str(REPO), "EXPLORER_PROVENANCE": "0"}
    t0 = time.monotonic()
    if cli:
        options = [f"--address={address}", "--no-wait", "--entrypoint-num-gpus=1",
                   f"--runtime-env-json={json.dumps({'env_vars': job_vars})}"]  # fmt: skip
        subprocess.run([str(RAY), "job", "submit", *options, "--", *map(shlex.quote, script(1, 0.0))], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    else:
        ray_cluster.submit(address, f"bare-{time.time_ns()}", shlex.join(script(1, 0.0)), gpus=1, cpus=1, env=job_vars)
    while not (new := set(os.listdir(root)) - before - {"index.duckdb"}):
        time.sleep(0.002)
    t1 = first_record_time(root / new.pop())
    _wait_jobs_idle(address)
    return t1 - t0


def through_ray(root: Path, address: str) -> float:
    """Seconds from launch_command(on="ray") to the run's first record (scheduler cold: started on demand)."""
    _wait_idle(root)
    t0 = time.monotonic()
    run_id = launcher.launch_command(script(1, 0.0), runs_dir=root, on="ray", ray_address=address)
    t1 = first_record_time(root / run_id)
    _wait_status(root / run_id, "succeeded")
    return t1 - t0


def _wait_jobs_idle(address: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{address}/api/jobs/", timeout=10) as response:
            if not any(job["status"] in ("PENDING", "RUNNING") for job in json.loads(response.read())):
                return
        time.sleep(0.05)


def bench_ray_overhead(address: str, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare = [bare_ray_submit(root, address, cli=True) for _ in range(repeats)]
        post = [bare_ray_submit(root, address, cli=False) for _ in range(repeats)]
        ours = [through_ray(root, address) for _ in range(repeats)]
        local = [through_launcher(root) for _ in range(repeats)]
    bare_s, post_s, ours_s, local_s = (statistics.median(x) for x in (bare, post, ours, local))
    print(f"ray overhead: median of {repeats}; local head node (127.0.0.1, 4 logical GPUs); stand-in script, 1 epoch")
    print(f"{'measure':<62} {'seconds':>8} {'vs ray job submit':>18} {'vs job API POST':>16}")
    rows = [("bare `ray job submit --no-wait` -> first record", bare_s),
            ("bare POST /api/jobs/ (Ray's job API) -> first record", post_s),
            ("launcher on=ray: launch() -> first record (cold scheduler)", ours_s),
            ("launcher on=local: launch() -> first record (cold scheduler)", local_s)]  # fmt: skip
    for label, seconds in rows:
        print(f"{label:<62} {seconds:>8.3f} {seconds - bare_s:>+17.3f}s {seconds - post_s:>+15.3f}s")


def bench_ray_drain(address: str, n_runs: int) -> None:
    """Queue ``n_runs`` tiny runs for the cluster at once; time until every one ended; check each ran exactly once."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.monotonic()
        ids = [launcher.launch_command([sys.executable, "-c", TINY], runs_dir=root, on="ray", ray_address=address,
                                       start=False) for _ in range(n_runs)]  # fmt: skip
        service.ensure_scheduler(root)
        for run_id in ids:
            _wait_status(root / run_id, "succeeded", "failed", "crashed", "cancelled", timeout=1800)
        elapsed = time.monotonic() - t0
        states = [runstatus.current(runstatus.read(root / r)) for r in ids]
        records = [len(metricslog.read_records(root / r)) for r in ids]
        _wait_idle(root)
        stuck = [d for d in ("queue", "active") if (root / d).is_dir() and os.listdir(root / d)]
        with urllib.request.urlopen(f"{address}/api/jobs/", timeout=30) as response:
            jobs = [j["submission_id"] for j in json.loads(response.read())]
    submitted = {r: sum(j.startswith(f"explorer-{r}-") for j in jobs) for r in ids}
    print(f"ray drain: {n_runs} tiny runs queued at once for a local head node with 4 logical GPUs (1 GPU each)")
    print(f"  wall {elapsed:.1f} s, {elapsed / n_runs:.3f} s per run, {n_runs / elapsed * 60:.1f} runs per minute")
    once = sum(v == 1 for v in submitted.values())
    print(f"  succeeded {states.count('succeeded')}/{n_runs}; with exactly one record {records.count(1)}/{n_runs}; "
          f"submitted exactly once {once}/{n_runs}; markers left {stuck or 'none'}")


def bench_ray(repeats: int, n_runs: int) -> None:
    from tests.launcher.ray_head import local_head

    with local_head(gpus=4, cpus=4) as address:
        bench_ray_overhead(address, repeats)
        bench_ray_drain(address, n_runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("overhead", "slots", "drain"), default=None)
    parser.add_argument("--steps", type=int, default=8, help="steps of the CPU-bound run (slots bench)")
    parser.add_argument("--drain-runs", type=int, default=100)
    parser.add_argument("--ray", action="store_true", help="only the Ray backend's overhead and drain")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(REPO)
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU slots, even on a GPU machine
    os.environ["EXPLORER_PROVENANCE"] = "0"
    if args.ray:
        bench_ray(args.repeats, args.drain_runs)
        return
    if args.only in (None, "overhead"):
        bench_overhead(args.repeats)
    if args.only in (None, "slots"):
        bench_slots(max(1, args.repeats // 2), args.steps)
    if args.only in (None, "drain"):
        bench_drain(args.drain_runs, 2)


if __name__ == "__main__":
    main()
