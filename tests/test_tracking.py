"""The logging API: what a run folder holds after start, log, log_table, log_file and finish."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core import runfolder, tracking
from core.runfolder import metricslog


def test_start_creates_a_run_folder_named_by_a_sortable_id(runs_root: Path) -> None:
    first = tracking.start(name="../../etc/passwd", group="g", config={"lr": 0.1}, tags=["a"])
    second = tracking.start(name="b")
    assert first.dir.parent == runs_root and runfolder.is_run_id(first.id)
    assert first.id < second.id  # creation order
    meta = json.loads((first.dir / "meta.json").read_text())
    assert meta["name"] == "../../etc/passwd" and meta["group"] == "g" and meta["tags"] == ["a"]
    assert json.loads((first.dir / "config.json").read_text()) == {"lr": 0.1}
    assert json.loads((first.dir / "status.json").read_text())["status"] == "running"
    assert sorted(p.name for p in runs_root.iterdir()) == sorted([first.id, second.id])  # the name made no path


def test_a_failing_log_call_writes_nothing(runs_root: Path) -> None:
    run = tracking.start()
    with pytest.raises(metricslog.MetricError, match="val/bad"):
        run.log({"val/good": 1.0, "val/bad": "x"}, step=1)
    assert (run.dir / "metrics.log").read_bytes() == b""
    with pytest.raises(metricslog.MetricError, match="whole number"):
        run.log({"a": 1.0}, step=1.5)
    run.finish()


def test_default_steps_count_up_from_the_last_step(runs_root: Path) -> None:
    run = tracking.start()
    run.log({"a": 1.0}, step=5)
    run.log({"a": 2.0})
    run.finish()
    lines = (run.dir / "metrics.log").read_bytes().splitlines()
    assert [metricslog.parse_line(line)[0] for line in lines] == [5, 6]


def test_context_manager_marks_the_run_failed_with_the_error(runs_root: Path) -> None:
    with pytest.raises(ZeroDivisionError), tracking.start() as run:
        run.log({"a": 1.0})
        _ = 1 / 0
    status = json.loads((run.dir / "status.json").read_text())
    assert status["status"] == "failed" and "ZeroDivisionError" in status["error"]
    with pytest.raises(RuntimeError, match="finished"):
        run.log({"a": 2.0})


def test_tables_and_files_land_in_the_run_folder(runs_root: Path, tmp_path: Path) -> None:
    source = tmp_path / "plot.png"
    source.write_bytes(b"png")
    with tracking.start() as run:
        run.log_table("test/per_make", [{"make": "BMW", "accuracy": 0.5}])
        run.log_table("test/per_make", [{"make": "Audi", "accuracy": 0.7}])  # replaces
        run.log_file(source)
        run.artifact_path("sub/notes.txt").write_text("hi")
        with pytest.raises(ValueError, match=r"\.\."):
            run.artifact_path("../escape.txt")
        with pytest.raises(TypeError, match="list of dicts"):
            run.log_table("t", [1, 2])  # type: ignore[list-item]
    record = json.loads(runfolder.table_file(run.dir, "test/per_make").read_text())
    assert record["rows"] == [{"make": "Audi", "accuracy": 0.7}]
    assert runfolder.list_artifacts(run.dir) == ["artifacts/plot.png", "artifacts/sub/notes.txt"]


def test_attach_ends_a_partial_line_left_by_a_killed_writer(runs_root: Path) -> None:
    run = tracking.start()
    run.log({"a": 1.0}, step=1)
    run.finish("crashed")
    with open(run.dir / "metrics.log", "ab") as f:
        f.write(b"2\ta\t2.0\t17")  # what a kill mid-write could leave
    again = tracking.attach(run.id)
    again.log({"a": 3.0})  # continues after step 1, on a new line
    again.finish()
    chunk = metricslog.validate_chunk((run.dir / "metrics.log").read_bytes())
    assert (chunk.n_valid, chunk.n_invalid) == (2, 1)
    assert [metricslog.parse_line(x)[:3] for x in chunk.valid.splitlines()] == [(1, "a", 1.0), (2, "a", 3.0)]


def test_sync_puts_records_on_disk_and_finish_closes(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    run = tracking.start()
    run.log({"a": 1.0})
    run.sync()
    assert synced, "sync() must fsync the metrics log"
    run.finish()
    run.finish()  # a second finish is harmless
    assert json.loads((run.dir / "status.json").read_text())["status"] == "succeeded"


def test_the_keyword_api_and_the_labels_write_the_same_meta(runs_root: Path) -> None:
    from core.runfolder.labels import RunLabels

    words = tracking.start(name="n", group="g", tags=("a", "b"), changes="c", reason="r", notes="x", recipe="classify")
    labels = RunLabels(name="n", group="g", changes="c", reason="r", tags=("a", "b"))
    value = tracking.start_labelled(labels, notes="x", recipe="classify")
    for run in (words, value):
        run.finish()
    metas = [json.loads((run.dir / "meta.json").read_text()) for run in (words, value)]
    assert [{k: v for k, v in m.items() if k not in ("id", "created")} for m in metas] == [
        {"name": "n", "group": "g", "recipe": "classify", "tags": ["a", "b"], "notes": "x", "changes": "c",
         "reason": "r"}] * 2


def test_define_metric_stores_goal_and_scale_merged_with_earlier_definitions(runs_root: Path) -> None:
    from core.evaluation import semantics

    with tracking.start() as run:
        run.define_metric("test/KL", goal="min")
        run.define_metric("test/top1", scale="percent")
        run.define_metric("test/KL", scale="unbounded")  # adds the scale, keeps the goal
        with pytest.raises(ValueError, match=r"'max'.*'min'"):
            run.define_metric("test/KL", goal="down")
        with pytest.raises(ValueError, match="fraction, percent, unbounded"):
            run.define_metric("test/top1", scale="ratio")
        with pytest.raises(metricslog.MetricError):
            run.define_metric("")
        run.log({"test/KL": 0.3, "test/top1": 0.5})  # 0.5 alone would read as a fraction
    defs = json.loads((run.dir / semantics.DEFS_FILE).read_text())
    assert defs == {"test/KL": {"goal": "min", "scale": "unbounded"}, "test/top1": {"scale": "percent"}}
    assert semantics.resolve("test/top1", [0.5], defs["test/top1"]).format(0.5) == "0.50%"
    assert semantics.resolve("test/KL", [0.3], defs["test/KL"]).goal == "min"


def test_define_metric_survives_a_reattach(runs_root: Path) -> None:
    from core.evaluation import semantics

    run = tracking.start()
    run.define_metric("val/err", goal="min")
    run.finish("crashed")
    again = tracking.attach(run.id)
    again.define_metric("val/acc", goal="max", scale="fraction")
    again.finish()
    defs = json.loads((run.dir / semantics.DEFS_FILE).read_text())
    assert defs == {"val/err": {"goal": "min"}, "val/acc": {"goal": "max", "scale": "fraction"}}


def test_importing_tracking_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    heavy = ["numpy", "pandas", "torch", "duckdb"]
    code = f"import sys; from core import tracking; print(sorted(set({heavy!r}) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_full_disk_mid_record_loses_only_that_record(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    real_write = os.write
    run = tracking.start()
    run.log({"a": 1.0}, step=1)

    def full_after_ten_bytes(fd: int, data: bytes) -> int:
        if len(data) > 10:
            return real_write(fd, data[:10])  # the disk took part of the write...
        raise OSError(errno.ENOSPC, "No space left on device")  # ...and then had no room for the rest

    monkeypatch.setattr(os, "write", full_after_ten_bytes)
    with pytest.raises(OSError, match="No space"):
        run.log({"a": 2.0}, step=2)
    monkeypatch.setattr(os, "write", real_write)  # space again
    run.log({"a": 3.0}, step=3)
    run.finish()
    chunk = metricslog.validate_chunk((run.dir / "metrics.log").read_bytes())
    assert (chunk.n_valid, chunk.n_invalid) == (2, 1)  # the fragment is one bad line, not glued to step 3
    assert [r.step for r in metricslog.read_records(run.dir)] == [1, 3]


@pytest.mark.parametrize(("value", "threads"), [("3", 3), ("", None), ("0", None), ("many", None)])
def test_slot_threads_come_from_the_launcher(monkeypatch: pytest.MonkeyPatch, value: str, threads: int | None) -> None:
    monkeypatch.setenv(tracking.THREADS_ENV, value)
    assert tracking.slot_threads() == threads
