"""Benchmark of one logging call of 5 scalars: ours (core.tracking, and the W&B-style core.wandb_compat) against
trackio, wandb, MLflow, TensorBoard and Aim.

Every tracker runs in a child process of its own (its threads and services never slow another one), logs
to a fresh temporary folder, offline, N calls per repeat; the table shows the median of the repeats and the
ratio to ours. Run from the repository root with the bench venv (see bench/README.md)::

    bench/.venv/bin/python -m bench.bench_logging          # full
    bench/.venv/bin/python -m bench.bench_logging --quick  # small smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

NAMES = ("train/loss", "train/lr", "train/top1", "val/top1", "val/loss")
LogFn = Callable[..., Any]  # called as log(metrics, step=i)
Opened = tuple[LogFn, Callable[[], Any]]  # (log, finish)


# -- the trackers: each opener is imported lazily, in its own child process -----------------------------
def open_ours(tmp: Path) -> Opened:
    from core import tracking

    run = tracking.start(name="bench", runs_dir=tmp)
    return run.log, run.finish


def open_ours_wandb_style(tmp: Path) -> Opened:
    from core import wandb_compat as wandb

    wandb.init(name="bench", dir=str(tmp))
    return wandb.log, wandb.finish


def open_trackio(tmp: Path) -> Opened:
    os.environ["TRACKIO_DIR"] = str(tmp)  # its SQLite files go to the bench's temporary folder, not ~/.cache
    import trackio

    trackio.init(project="bench", name="bench")
    return trackio.log, trackio.finish


def open_wandb(tmp: Path) -> Opened:
    import wandb

    settings = wandb.Settings(
        silent=True, console="off", disable_git=True, disable_code=True, x_disable_stats=True, x_disable_meta=True
    )
    run = wandb.init(project="bench", dir=str(tmp), mode="offline", settings=settings)
    return run.log, run.finish


def open_mlflow(tmp: Path, synchronous: bool = True) -> Opened:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    mlflow.start_run()

    def finish() -> None:
        if not synchronous:
            mlflow.flush_async_logging()  # waits until the queue is written to the database
        mlflow.end_run()

    return functools.partial(mlflow.log_metrics, synchronous=synchronous), finish


def open_tensorboard(tmp: Path) -> Opened:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp))

    def log(metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            writer.add_scalar(name, value, step)

    return log, writer.close


def open_aim(tmp: Path) -> Opened:
    from aim import Run

    run = Run(repo=str(tmp), system_tracking_interval=None, log_system_params=False, capture_terminal_logs=False)
    return run.track, run.close


@dataclass(frozen=True)
class Tracker:
    """One row of the table: how to open the tracker, how many calls, what its finish guarantees."""

    name: str
    package: str
    opener: Callable[[Path], Opened]
    calls: int
    durability: str


TRACKERS = {
    t.name: t
    for t in (
        Tracker(
            "ours (core.tracking)",
            "",
            open_ours,
            300_000,
            "each call is one write() (in the OS, survives a crash of the script); fsync each second and in finish()",
        ),
        Tracker(
            "ours, W&B-style (core.wandb_compat)",
            "",
            open_ours_wandb_style,
            300_000,
            "the same as core.tracking: wandb.log(dict, step=) is one core.tracking log call",
        ),
        Tracker(
            "trackio",
            "trackio",
            open_trackio,
            20_000,
            "queued in the script's memory and written to SQLite by a background thread; finish() flushes it",
        ),
        Tracker(
            "wandb offline",
            "wandb",
            open_wandb,
            20_000,
            "sent to the wandb-core service process, which writes the .wandb file; finish() waits for it",
        ),
        Tracker("MLflow sqlite, sync", "mlflow", open_mlflow, 500, "each call is a committed SQLite transaction"),
        Tracker(
            "MLflow sqlite, async",
            "mlflow",
            functools.partial(open_mlflow, synchronous=False),
            2_000,
            "queued in the script's memory (lost on a crash); finish() = flush_async_logging + end_run",
        ),
        Tracker(
            "TensorBoard add_scalar x5",
            "tensorboard",
            open_tensorboard,
            10_000,
            "a queue of 10 events drained by a writer thread; the file is flushed every 120 s and by close()",
        ),
        Tracker(
            "Aim track(dict)",
            "aim",
            open_aim,
            3_000,
            "written to the local Aim repo (RocksDB) by the script; close() finalizes the run",
        ),
    )
}


# -- the child: time one tracker -------------------------------------------------------------------------
def make_calls(n: int) -> list[dict[str, float]]:
    """The metrics of n steps, made before timing (so building dicts is not counted for anyone)."""
    return [{name: (step * 7 + k) % 1000 / 1000.0 for k, name in enumerate(NAMES)} for step in range(n)]


def time_repeat(tracker: Tracker, calls: list[dict[str, float]]) -> tuple[float, float]:
    """One fresh run: seconds for all the log calls, and seconds for finish()."""
    with tempfile.TemporaryDirectory(prefix="bench-logging-") as tmp:
        log, finish = tracker.opener(Path(tmp))
        started = time.perf_counter()
        for step, metrics in enumerate(calls):
            log(metrics, step=step)
        logged = time.perf_counter()
        finish()
        return logged - started, time.perf_counter() - logged


def run_child(name: str, n: int, repeats: int) -> dict[str, Any]:
    tracker = TRACKERS[name]
    try:
        version = metadata.version(tracker.package) if tracker.package else "-"
    except metadata.PackageNotFoundError as exc:
        return {"unavailable": f"not installed: {exc} (pip install -r bench/requirements.txt)"}
    calls = make_calls(n)
    try:
        times = [time_repeat(tracker, calls) for _ in range(repeats)]
    except ImportError as exc:
        return {"unavailable": f"not importable here: {type(exc).__name__}: {exc}"}
    return {"version": version, "log_s": [t[0] for t in times], "finish_s": [t[1] for t in times]}


# -- the parent: one child per tracker, then the table ---------------------------------------------------
def measure(name: str, n: int, repeats: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    cmd = [sys.executable, "-m", "bench.bench_logging", "--child", name, "--calls", str(n), "--repeats", str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, start_new_session=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"unavailable": f"failed (exit {done.returncode}): {tail}"}
    return json.loads(lines[-1])


def table_rows(results: dict[str, dict[str, Any]], counts: dict[str, int]) -> tuple[list[list[str]], dict[str, float]]:
    per_call = {}
    for name, res in results.items():
        if "log_s" in res:
            per_call[name] = statistics.median(res["log_s"]) / counts[name] * 1e6
    ours_name = next(iter(TRACKERS))
    ours, ours_total = per_call[ours_name], _total_us(results[ours_name], counts[ours_name])
    rows = []
    for name, res in results.items():
        if name not in per_call:
            rows.append([name, "-", "-", "-", "-", "-", res["unavailable"]])
            continue
        total = _total_us(res, counts[name])
        rows.append(
            [
                name + (f" {res['version']}" if res["version"] != "-" else ""),
                f"{counts[name]:,}",
                f"{per_call[name]:.1f}",
                f"{statistics.median(res['finish_s']) * 1e3:.1f}",
                f"{total:.1f}",
                f"{per_call[name] / ours:.1f}",
                f"{total / ours_total:.1f}",
            ]
        )
    return rows, per_call


def _total_us(res: dict[str, Any], n: int) -> float:
    """Per-call cost with the time to make everything durable (finish) spread over the calls."""
    return statistics.median(a + b for a, b in zip(res["log_s"], res["finish_s"], strict=True)) / n * 1e6


def print_report(rows: list[list[str]], per_call: dict[str, float], repeats: int) -> None:
    header = [
        "tracker",
        "calls",
        f"µs/call (median of {repeats})",
        "finish() ms",
        "µs/call incl. finish",
        "peer/ours",
        "peer/ours incl. finish",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nWhat is durable when a call returns, and what finish() adds:")
    for name in per_call:
        print(f"- {name}: {TRACKERS[name].durability}")
    peers = {k: v for k, v in per_call.items() if not k.startswith("ours")}
    for mine in (k for k in per_call if k.startswith("ours")):
        ours = per_call[mine]
        print(f"\n{mine}: target <= 10 µs/call: {ours:.1f} µs -> {'met' if ours <= 10 else 'NOT met'}")
        if peers:
            fastest = min(peers, key=peers.get)
            ratio = peers[fastest] / ours
            print(
                f"{mine}: target >= 10x cheaper than the fastest peer ({fastest}, {peers[fastest]:.1f} µs): "
                f"{ratio:.1f}x -> {'met' if ratio >= 10 else 'NOT met'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/20 of the calls and one repeat (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=list(TRACKERS), help="trackers to run (ours always runs)")
    parser.add_argument("--child", choices=list(TRACKERS), help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.calls, args.repeats)))
        return
    repeats = 1 if args.quick else args.repeats
    chosen = [n for n in TRACKERS if n == next(iter(TRACKERS)) or not args.only or n in args.only]
    counts = {n: max(10, TRACKERS[n].calls // 20) if args.quick else TRACKERS[n].calls for n in chosen}
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    results = {}
    for name in chosen:
        print(f"timing {name}: {counts[name]:,} calls x {repeats}", file=sys.stderr, flush=True)
        results[name] = measure(name, counts[name], repeats)
    rows, per_call = table_rows(results, counts)
    print_report(rows, per_call, repeats)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
