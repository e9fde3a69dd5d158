"""Benchmark of the index: ingestion of run folders into DuckDB, and the pages' queries at heavy-user scale.

Each timing is compared with a peer measured in the same run on the same files: a plain DuckDB ``read_csv``
and ``pandas.read_csv`` for ingestion (no checksum validation, no summaries), a GROUP BY over ``metrics``
and pandas scans for the queries. Run from the repository root::

    .venv/bin/python -m bench.bench_index          # full size (folders cached under bench/out/)
    .venv/bin/python -m bench.bench_index --quick  # small smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from core import runfolder, tracking
from core.runfolder import metricslog
from core.runfolder.paths import INDEX_FILE, REPO_ROOT
from core.store import Store, queries

OUT = REPO_ROOT / "bench" / "out"
NAMES = ("train/loss", "train/lr", "train/top1", "val/top1", "val/loss")  # one log call: 5 records
LAYOUT = 2  # bump when the generated folders change, so cached ones are rebuilt
CSV_COLUMNS = {"step": "BIGINT", "name": "VARCHAR", "value": "DOUBLE", "time": "DOUBLE", "checksum": "VARCHAR"}


@dataclass(frozen=True)
class Dataset:
    """A cached runs folder of ``runs`` runs with ``per_run`` metric records each."""

    runs: int
    per_run: int

    @property
    def records(self) -> int:
        return self.runs * self.per_run

    @property
    def root(self) -> Path:
        return OUT / f"runs-{self.runs}x{self.per_run}"

    @property
    def label(self) -> str:
        return f"{self.runs:,} runs x {self.per_run:,}"


# -- generation (not timed) -------------------------------------------------------------------------------
def _disable_fsync() -> None:
    """Generation only: the bytes written are the same, only their durability differs (and fsync is slow)."""
    os.fsync = lambda fd: None


def _write_run(root: Path, index: int, per_run: int) -> None:
    rng = np.random.default_rng(index)
    config = {"lr": float(rng.choice([1e-4, 3e-4, 1e-3])), "seed": index, "epochs": per_run // len(NAMES)}
    run = tracking.start(
        name=f"bench-{index}", group=f"sweep-{index % 50}", config=config, recipe="classify", runs_dir=root
    )
    for step, row in enumerate(rng.random((per_run // len(NAMES), len(NAMES))).tolist(), start=1):
        run.log(dict(zip(NAMES, row, strict=True)), step=step)
    run.finish("cancelled" if index % 10 == 0 else "succeeded")  # every 10th can be resumed: see bench_incremental


def _write_runs(args: tuple[Path, list[int], int]) -> None:
    root, indices, per_run = args
    for index in indices:
        _write_run(root, index, per_run)


def ensure_dataset(data: Dataset) -> Path:
    """Generate the runs folder with core.tracking (2 processes), unless a complete copy is cached."""
    marker, spec = data.root / ".complete", {"runs": data.runs, "per_run": data.per_run, "layout": LAYOUT}
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return data.root
    shutil.rmtree(data.root, ignore_errors=True)
    data.root.mkdir(parents=True)
    started = time.perf_counter()
    chunks = [(data.root, list(range(i, min(i + 25, data.runs))), data.per_run) for i in range(0, data.runs, 25)]
    with ProcessPoolExecutor(max_workers=2, initializer=_disable_fsync) as pool:
        list(pool.map(_write_runs, chunks))
    marker.write_text(json.dumps(spec))
    print(f"generated {data.label} in {time.perf_counter() - started:.0f} s -> {data.root}", flush=True)
    return data.root


# -- timing helpers ---------------------------------------------------------------------------------------
def time_once(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_time(fn: Callable[[], object], repeats: int, before: Callable[[], None] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls; ``before`` runs untimed ahead of each call."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        times.append(time_once(fn))
    return statistics.median(times)


def drop_index(root: Path) -> None:
    for suffix in ("", ".wal"):
        Path(f"{root / INDEX_FILE}{suffix}").unlink(missing_ok=True)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(flush=True)


# -- (a) ingestion ----------------------------------------------------------------------------------------
def open_and_sync(root: Path) -> int:
    """What the app does on start: open the index (a first open ingests everything), sync, close."""
    with Store(root) as store:
        store.sync()
        return store.rows("SELECT count(*) FROM metrics")[0][0]


def duckdb_read_csv(root: Path, db_path: Path) -> int:
    """Peer: DuckDB reads every metrics.log as tab-separated text into a table; no checksum, no summary."""
    db_path.unlink(missing_ok=True)
    con = duckdb.connect(str(db_path))
    glob = str(root / "*" / metricslog.METRICS_FILE)
    con.execute(
        "CREATE TABLE metrics AS SELECT * FROM read_csv(?, delim = '\t', header = false, quote = '', "
        "escape = '', columns = ?, filename = true)",
        [glob, CSV_COLUMNS],
    )
    n = con.execute("SELECT count(*) FROM metrics").fetchone()[0]
    con.close()
    db_path.unlink()
    return n


def pandas_read_csv(root: Path) -> int:
    """Peer: pandas reads every metrics.log (C parser) and concatenates them in memory; nothing persisted."""
    frames = [
        pd.read_csv(run_dir / metricslog.METRICS_FILE, sep="\t", header=None, names=list(CSV_COLUMNS))
        for run_dir in runfolder.iter_run_dirs(root)
    ]
    return len(pd.concat(frames, ignore_index=True))


def bench_first_open(data: Dataset, repeats: int, peer_repeats: int) -> list[list[str]]:
    print(f"first open of {data.label}", file=sys.stderr, flush=True)
    root = ensure_dataset(data)
    ours = median_time(lambda: open_and_sync(root), repeats, before=lambda: drop_index(root))
    assert open_and_sync(root) == data.records, "the index lost records"  # already built: a no-op sync
    peers = {
        "DuckDB read_csv -> table": lambda: duckdb_read_csv(root, OUT / "peer.duckdb"),
        "pandas.read_csv + concat": lambda: pandas_read_csv(root),
    }
    rows = [ingest_row(data.label, "ours: Store(root) first open + sync + close", ours, data.records, ours)]
    for name, fn in peers.items():
        rows.append(ingest_row(data.label, f"peer: {name}", median_time(fn, peer_repeats), data.records, ours))
    return rows


def ingest_row(label: str, what: str, seconds: float, records: int | None, ours: float | None) -> list[str]:
    rate = f"{records / seconds / 1e6:.2f}" if records else "-"
    return [label, what, f"{seconds:.3f}", rate, f"{seconds / ours:.2f}" if ours else "-"]


def append_to_runs(root: Path, run_ids: list[str], per_run: int) -> int:
    """Attach to finished runs and log ``per_run`` more records each, as a resumed training would."""
    for run_id in run_ids:
        run = tracking.attach(run_id, runs_dir=root)
        for row in np.random.default_rng(0).random((per_run // len(NAMES), len(NAMES))).tolist():
            run.log(dict(zip(NAMES, row, strict=True)))  # default step: one more than the last one logged
        run.finish("cancelled")  # stays resumable for the next repeat
    return len(run_ids) * (per_run // len(NAMES)) * len(NAMES)


def bench_incremental(data: Dataset, repeats: int) -> list[list[str]]:
    """On a copy of the folder: resume the cancelled 10% of the runs, append to them, then open + sync."""
    work = OUT / f"work-{data.root.name}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ensure_dataset(data), work, ignore=shutil.ignore_patterns(INDEX_FILE + "*", ".complete"))
    open_and_sync(work)
    with Store(work) as store:
        chosen = [row[0] for row in store.rows("SELECT id FROM runs WHERE status = 'cancelled'")]
    tenth, appended_per_run = len(chosen), max(len(NAMES), data.per_run // 10)
    times, appended = [], 0
    for _ in range(repeats):
        appended = append_to_runs(work, chosen, appended_per_run)
        times.append(time_once(lambda: open_and_sync(work)))
    ours = statistics.median(times)
    with Store(work) as store:
        noop = median_time(store.sync, 5)
    total = data.records + repeats * appended
    peer = median_time(lambda: duckdb_read_csv(work, OUT / "peer.duckdb"), 1)
    shutil.rmtree(work)
    label = f"{data.label}, +{appended:,} in {tenth:,} runs"
    return [
        ingest_row(label, "ours: open + incremental sync + close", ours, appended, ours),
        ingest_row(label, "ours: sync with nothing new (open store)", noop, None, None),
        ingest_row(label, f"peer: DuckDB read_csv of all {total:,} again", peer, total, ours),
    ]


# -- (b) queries ------------------------------------------------------------------------------------------
def naive_list_runs(store: Store) -> pd.DataFrame:
    """Peer: the runs list with the latest values computed by a GROUP BY over metrics (no metric_summary)."""
    present = {row[0] for row in store.rows("SELECT DISTINCT name FROM metrics")}
    metrics = [m for m in queries.KEY_METRICS if m in present][:4]
    pivots = "".join(f', max(s.last_value) FILTER (WHERE s.name = ${i + 1}) AS "{m}"' for i, m in enumerate(metrics))
    names_in = ", ".join(f"${i + 1}" for i in range(len(metrics))) or "NULL"
    sql = (
        f"WITH s AS (SELECT run_key, name, arg_max(value, step) AS last_value FROM metrics "
        f"WHERE name IN ({names_in}) GROUP BY ALL) "
        f"SELECT {queries._RUN_COLUMNS}{pivots} FROM runs r LEFT JOIN s ON s.run_key = r.key "
        f"GROUP BY ALL ORDER BY r.created DESC, r.id DESC"
    )
    return store.frame(sql, metrics)


def pandas_scan_curves(frame: pd.DataFrame, run_ids: list[str], metric: str) -> pd.DataFrame:
    """Peer: filter an in-memory frame of every record (loading it is not timed)."""
    hit = frame[frame["run_id"].isin(run_ids) & (frame["name"] == metric)]
    return hit.drop(columns="name").sort_values(["run_id", "step", "time"], ignore_index=True)


def files_curves(root: Path, run_ids: list[str], metric: str) -> pd.DataFrame:
    """Peer: no index at all; pandas reads the chosen runs' metrics.log files and filters them."""
    parts = []
    for run_id in run_ids:
        frame = pd.read_csv(root / run_id / metricslog.METRICS_FILE, sep="\t", header=None, names=list(CSV_COLUMNS))
        parts.append(frame[frame["name"] == metric].assign(run_id=run_id))
    out = pd.concat(parts, ignore_index=True)[["run_id", "step", "value", "time"]]
    return out.sort_values(["run_id", "step", "time"], ignore_index=True)


def same_curves(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if len(a) != len(b) or list(a["run_id"]) != list(b["run_id"]):
        return False
    return all(
        np.array_equal(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True) for c in ("step", "value", "time")
    )


def query_row(name: str, fn: Callable[[], object], ours: float | None) -> tuple[list[str], float]:
    first = time_once(fn)
    seconds = median_time(fn, 5)
    ratio = "1.00" if ours is None else f"{seconds / ours:.1f}"
    return [name, f"{first * 1e3:.1f}", f"{seconds * 1e3:.1f}", ratio], seconds


def bench_queries(data: Dataset) -> list[list[str]]:
    root = ensure_dataset(data)
    with Store(root) as store:
        store.sync()
        run_ids = random.Random(0).sample([row[0] for row in store.rows("SELECT id FROM runs")], 20)
        ours_runs, ours_curves = queries.list_runs(store), queries.curves(store, run_ids, "val/top1")
        pd.testing.assert_frame_equal(ours_runs, naive_list_runs(store), check_dtype=False)
        frame = store.frame(
            "SELECT r.id AS run_id, m.name, m.step, m.value, m.time FROM metrics m JOIN runs r ON r.key = m.run_key"
        )
        assert same_curves(ours_curves, pandas_scan_curves(frame, run_ids, "val/top1")), "pandas scan differs"
        assert same_curves(ours_curves, files_curves(root, run_ids, "val/top1")), "reading the files differs"
        row, t_runs = query_row(f"ours: list_runs ({len(ours_runs):,} rows)", lambda: queries.list_runs(store), None)
        rows = [row, query_row("peer: GROUP BY over metrics", lambda: naive_list_runs(store), t_runs)[0]]
        row, t_curves = query_row(
            f"ours: curves (20 runs, {len(ours_curves):,} points)",
            lambda: queries.curves(store, run_ids, "val/top1"),
            None,
        )
        rows += [
            row,
            query_row(
                f"peer: pandas scan of a {len(frame):,}-row frame",
                lambda: pandas_scan_curves(frame, run_ids, "val/top1"),
                t_curves,
            )[0],
            query_row(
                "peer: pandas.read_csv of the 20 runs' files", lambda: files_curves(root, run_ids, "val/top1"), t_curves
            )[0],
        ]
        noop, _ = query_row("ours: store.sync() with nothing new (pages sync every 2 s)", store.sync, None)
        rows.append([*noop[:3], "-"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small folders and one repeat (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each ingestion timing (median)")
    args = parser.parse_args()
    if args.quick:
        wide, deep, heavy, repeats = Dataset(20, 2_000), Dataset(2, 50_000), Dataset(200, 500), 1
    else:
        wide, deep, heavy, repeats = (
            Dataset(1_000, 10_000),
            Dataset(10, 1_000_000),
            Dataset(10_000, 1_000),
            args.repeats,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    for data in (wide, deep, heavy):
        ensure_dataset(data)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    header = ["runs folder", "what", "seconds (median)", "M records/s", "peer time / ours"]
    rows = [r for data in (wide, deep, heavy) for r in bench_first_open(data, repeats, max(1, repeats - 1))]
    print_table("Ingestion: first open (index built from the folders)", header, rows)
    print_table("Ingestion: incremental", header, bench_incremental(wide, repeats))
    print_table(
        f"Queries on {heavy.label} ({heavy.records:,} records), 20 random runs for curves",
        ["query", "first timed call ms", "median of 5 ms", "peer time / ours"],
        bench_queries(heavy),
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
