"""The index: exact round trips, concurrent writers, killed writers, damaged logs and broken databases."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import tracking
from core.runfolder import metricslog
from core.store import Store, queries
from tests.conftest import REPO, run_cli


def _log_sample_run(group: str = "g") -> tuple[str, dict[str, list[list[float]]]]:
    """A run whose metrics include awkward floats; returns its id and what was logged (as show prints it)."""
    expected: dict[str, list[list[float]]] = {}
    with tracking.start(name="sample", group=group, config={"lr": 3e-4, "heads": "multi"}) as run:
        for step in range(1, 6):
            values = {"train/loss": 1 / 3 / step, "val/top1": 0.1 * step, "val/tiny": 5e-324 * step,
                      "val/big": 1.7976931348623157e308 / step, "val/nan": math.nan if step == 3 else step}
            run.log(values, step=step)
            for k, v in values.items():
                expected.setdefault(k, []).append([step, None if v != v else float(v)])
        run.log_table("test/per_make", [{"make": "BMW", "correct": 3, "total": 4, "accuracy": 0.75}])
    return run.id, expected


def test_show_returns_exactly_what_was_logged_incrementally_and_after_reindex(runs_root: Path) -> None:
    run_id, expected = _log_sample_run()
    with Store(runs_root) as store:
        record = queries.run_record(store, run_id)
        assert record["metrics"] == expected
        assert record["tables"] == {"test/per_make": [{"make": "BMW", "correct": 3, "total": 4, "accuracy": 0.75}]}
        assert record["config"] == {"lr": 3e-4, "heads": "multi"} and record["status"] == "succeeded"
        assert store.sync().records == 0  # nothing new: nothing counted twice
        store.reindex()
        assert queries.run_record(store, run_id)["metrics"] == expected
    shown = json.loads(run_cli("show", run_id, "--json").stdout)
    assert shown["metrics"] == expected and shown["tables"] == record["tables"]
    assert {"id", "status", "config", "metrics", "tables", "artifacts"} <= shown.keys()


def test_incremental_ingestion_takes_only_new_records(runs_root: Path) -> None:
    run = tracking.start(name="live")
    with Store(runs_root) as store:
        for step in range(1, 4):
            run.log({"val/x": float(step)}, step=step)
            store.sync()
        run.finish()
        store.sync()
        points = queries.curves(store, [run.id], "val/x")
        assert points["step"].tolist() == [1, 2, 3] and points["value"].tolist() == [1.0, 2.0, 3.0]
        assert store.rows("SELECT status FROM runs")[0][0] == "succeeded"
        assert store.rows("SELECT last_value, n, max_value FROM metric_summary")[0] == (3.0, 3, 3.0)


def test_four_processes_logging_while_the_index_ingests(runs_root: Path) -> None:
    steps = 300
    procs = [_start_logger(runs_root, f"p{i}", steps, pause=0.0005) for i in range(4)]
    with Store(runs_root) as store:
        while any(p.poll() is None for p in procs):
            store.sync()
            time.sleep(0.02)
        assert all(p.returncode == 0 for p in procs), [p.stderr.read() for p in procs]
        store.sync()
        rows = store.rows("SELECT r.name, m.name, count(*), count(DISTINCT step), min(step), max(step) "
                          "FROM metrics m JOIN runs r ON r.key = m.run_key GROUP BY ALL ORDER BY ALL")
    assert rows == [(f"p{i}", metric, steps, steps, 1, steps) for i in range(4) for metric in ("val/x", "val/y")]


def test_a_writer_killed_mid_stream_loses_nothing_it_completed(runs_root: Path) -> None:
    proc = _start_logger(runs_root, "killed", 0, pause=0.0)
    run_id = proc.stdout.readline().strip()
    acknowledged = 0
    while acknowledged < 2000:
        acknowledged = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(runs_root) as store:
        points = {m: queries.curves(store, [run_id], m) for m in ("val/x", "val/y")}
    x, y = points["val/x"], points["val/y"]
    last = int(x["step"].max())
    assert last >= acknowledged
    assert x["step"].tolist() == list(range(1, last + 1))  # none missing, none doubled
    assert x["value"].tolist() == [s * 0.5 for s in range(1, last + 1)]  # none invented
    assert y["step"].tolist()[: last - 1] == list(range(1, last))  # y of the last step may not be written
    assert y["value"].tolist() == [-float(s) for s in y["step"]]


def _start_logger(root: Path, name: str, steps: int, pause: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers_logging", str(root), name, str(steps), str(pause)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _logged_lines(n: int) -> list[bytes]:
    return [metricslog.encode_records({f"m/{i % 3}": i * 0.25 - 1}, i, 100.0 + i, set()) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 25),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_damaged_logs_yield_exactly_the_intact_records(n: int, cut: float, flips: list) -> None:
    lines = _logged_lines(n)
    data = bytearray(b"".join(lines))
    end = int(cut * len(data))
    hit = sorted({min(int(pos * len(data)), len(data) - 1) for pos, _ in flips})
    for (_, mask), at in zip(flips, hit):
        data[at] ^= mask
    root = Path(tempfile.mkdtemp())
    run = tracking.start(name="damaged", runs_dir=root)
    run.finish()
    (run.dir / "metrics.log").write_bytes(bytes(data[:end]))
    expected, start = [], 0
    for i, line in enumerate(lines):  # the oracle: a line survives when none of its bytes, nor the newline
        stop = start + len(line)      # before it, was flipped, and the cut left its newline
        if stop <= end and not any(start - 1 <= at < stop for at in hit):
            expected.append([i, i * 0.25 - 1])
        start = stop
    with Store(root, in_memory=True) as store:
        got = [p for points in queries.run_record(store, run.id)["metrics"].values() for p in points]
    shutil.rmtree(root)
    assert sorted(got) == sorted(expected)


def test_many_runs_across_batches_written_while_the_next_is_read(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 3 runs: the writer thread commits one while the next is read; every record lands once,
    and a line whose checksum holds but whose fields do not parse is skipped and reported, not counted."""
    from core.store import ingest

    monkeypatch.setattr(ingest, "BATCH_RUNS", 3)
    store = Store(runs_root)  # opened empty: the sync below reads all ten runs
    ids = []
    for r in range(10):
        with tracking.start(name=f"r{r}", runs_dir=runs_root) as run:
            run.log({"val/x": float(r)}, step=1)
            run.log({"val/x": float(r) + 0.5}, step=2)
        ids.append(run.id)
    body = b"3\tval/x\tnot-a-number\t0.0\t"
    with open(runs_root / ids[4] / "metrics.log", "ab") as f:
        f.write(body + b"%08x\n" % zlib.adler32(body))
    with store:
        report = store.sync()
        assert (report.records, report.skipped) == (20, {ids[4]: 1})
        assert store.rows("SELECT count(*), count(DISTINCT run_key) FROM metrics")[0] == (20, 10)
        assert store.rows("SELECT sum(records), sum(skipped) FROM ingest_state")[0] == (20, 1)
        assert queries.curves(store, [ids[7]], "val/x")["value"].tolist() == [7.0, 7.5]
        assert store.sync().records == 0


def test_a_database_that_will_not_open_is_set_aside_and_rebuilt(runs_root: Path) -> None:
    run_id, expected = _log_sample_run()
    (runs_root / "index.duckdb").write_bytes(b"this is not a duckdb file" * 100)
    with Store(runs_root) as store:
        assert queries.run_record(store, run_id)["metrics"] == expected
    assert list(runs_root.glob("index.duckdb.broken-*"))


def test_an_index_of_another_layout_is_rebuilt(runs_root: Path) -> None:
    run_id, expected = _log_sample_run()
    con = duckdb.connect(str(runs_root / "index.duckdb"))
    con.execute("CREATE TABLE index_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO index_meta VALUES ('schema_version', 'ancient')")
    con.execute("CREATE TABLE runs (id VARCHAR)")
    con.close()
    with Store(runs_root) as store:
        assert queries.run_record(store, run_id)["metrics"] == expected


def test_the_cli_reads_the_folders_while_the_app_holds_the_index(runs_root: Path) -> None:
    run_id, _ = _log_sample_run()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from core.store import Store; s = Store(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(runs_root)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        listed = run_cli("ls", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]
        assert "holds the index" in listed.stderr
        refused = run_cli("reindex")
        assert refused.returncode == 1 and "held by another process" in refused.stderr
    finally:
        holder.kill()
        holder.wait()


def test_list_runs_shows_latest_metrics_newest_first(runs_root: Path) -> None:
    older, _ = _log_sample_run("a")
    newer, _ = _log_sample_run("b")
    with Store(runs_root) as store:
        frame = queries.list_runs(store, metrics=["val/top1", "train/loss"])
    assert frame["id"].tolist() == [newer, older]
    assert frame["val/top1"].tolist() == pytest.approx([0.5, 0.5])
    assert frame["group"].tolist() == ["b", "a"]


def test_a_log_cut_short_is_read_again(runs_root: Path) -> None:
    """A power cut can tear the tail off a metrics log the index had read: it must not keep the lost records."""
    with tracking.start(name="cut", runs_dir=runs_root) as run:
        for step in range(1, 4):
            run.log({"val/top1": step / 10}, step=step)
    log = run.dir / metricslog.METRICS_FILE
    with Store(runs_root, in_memory=True) as store:
        store.sync()
        first_line = log.read_bytes().split(b"\n")[0] + b"\n"
        log.write_bytes(first_line)  # the last two records are gone
        with open(log, "ab") as f:
            f.write(metricslog.encode_records({"val/top1": 0.9}, 5, 0.0, set()))
        os.utime(run.dir)
        store.sync()
        steps = queries.curves(store, [run.id], "val/top1")[["step", "value"]].values.tolist()
    assert steps == [[1, 0.1], [5, 0.9]]
