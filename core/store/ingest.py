"""Incremental, idempotent ingestion of run folders into the index.

Each sync reads only what is new: the metrics log from the byte offset reached last time (complete,
checksummed lines only), and the JSON records and tables whose files changed. Rows and the new offset are
written in one transaction, so a record is never counted twice. ``reindex`` is this same code on an empty
index.
"""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from core import runfolder
from core.runfolder import metricslog

BATCH_BYTES = 32 << 20
BATCH_RUNS = 2000
_RECORD_FILES = (runfolder.META_FILE, runfolder.CONFIG_FILE, runfolder.STATUS_FILE)
_COLUMNS = ["step", "name", "value", "time", "checksum"]
_TYPES = {"step": pa.int64(), "name": pa.string(), "value": pa.float64(), "time": pa.float64()}


@dataclass
class IngestReport:
    """What one sync did: records taken, lines skipped as corrupt (per run), runs whose records changed."""

    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    runs_updated: int = 0


@dataclass
class _RunState:
    key: int
    offset: int = 0
    records: int = 0
    skipped: int = 0
    record_sig: str = ""
    tables_sig: str = ""
    dir_mtime: int = 0
    settled: bool = False
    tail_sig: str = ""  # the bytes of the metrics log just before ``offset``: a log cut or rewritten shows


def parse_records(valid: bytes) -> pa.Table:
    """Parse validated metric lines (see metricfile) into a table of step, name, value, time."""
    return pa_csv.read_csv(
        io.BytesIO(valid),
        read_options=pa_csv.ReadOptions(column_names=_COLUMNS),
        parse_options=pa_csv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False, double_quote=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=_TYPES,
            include_columns=_COLUMNS[:4],
            null_values=[],
            strings_can_be_null=False,
        ),
    )


class Ingestor:
    """Brings the index up to date with the run folders under ``root``; used with the store's connection.

    Every write is batched: run records, table rows, metric records and ingestion states of many runs go
    to DuckDB in a few bulk statements per batch (single-row statements cost milliseconds each).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path) -> None:
        self.con = con
        self.root = root

    def sync(self) -> IngestReport:
        """Ingest everything new in every run folder.

        A full batch goes to a writer thread while the next one is read: DuckDB and Arrow release the GIL,
        so reading and checking files overlaps with parsing and inserting. One batch is in flight at most.
        """
        report = IngestReport()
        states = self._load_states()
        next_key = max((s.key for s in states.values()), default=0) + 1
        batch = _Batch()
        with os.scandir(self.root) as found:  # plain scandir: one stat per settled run, no pathlib
            entries = sorted((e for e in found if runfolder.is_run_id(e.name) and e.is_dir()), key=lambda e: e.name)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer") as writer:
            writing: Future[dict[str, int]] | None = None
            for entry in entries:
                state = states.get(entry.name)
                if state is not None and state.settled and entry.stat().st_mtime_ns == state.dir_mtime:
                    continue  # finished and untouched since it was read to the end
                if state is None:
                    if not os.path.exists(os.path.join(entry.path, runfolder.META_FILE)):
                        continue  # a folder being created: its records come next time
                    state, next_key = _RunState(key=next_key), next_key + 1
                self._read_run(Path(entry.path), state, batch, report)
                if batch.nbytes >= BATCH_BYTES or len(batch.states) >= BATCH_RUNS:
                    writing = self._hand_over(writer, writing, batch, report)
                    batch = _Batch()
            _count_malformed(self._hand_over(writer, writing, batch, report), report)
        return report

    def _read_run(self, run_dir: Path, state: _RunState, batch: _Batch, report: IngestReport) -> None:
        self._read_records(run_dir, state, batch, report)
        self._read_tables(run_dir, state, batch)
        self._read_metrics(run_dir, state, batch, report)

    def _hand_over(self, writer: ThreadPoolExecutor, writing: Future[dict[str, int]] | None, batch: _Batch,
                   report: IngestReport) -> Future[dict[str, int]] | None:
        """Wait for the batch being written (its error, if any, is raised here), then start writing ``batch``."""
        _count_malformed(writing, report)
        return writer.submit(self._flush, batch) if batch.states else None

    def _load_states(self) -> dict[str, _RunState]:
        rows = self.con.execute(
            "SELECT r.id, s.run_key, s.metrics_offset, s.records, s.skipped, s.record_sig, s.tables_sig, "
            "s.dir_mtime, s.settled, s.tail_sig FROM ingest_state s JOIN runs r ON r.key = s.run_key"
        ).fetchall()
        return {row[0]: _RunState(*row[1:]) for row in rows}

    # -- reading a run folder -----------------------------------------------------------------------
    def _read_records(self, run_dir: Path, state: _RunState, batch: _Batch, report: IngestReport) -> None:
        """Queue the runs row when meta/config/status changed; note whether the run has ended."""
        state.dir_mtime = _dir_mtime(run_dir)  # read before the records: a later change shows next time
        folder = str(run_dir)
        sig = "|".join(_file_sig(os.path.join(folder, f)) for f in _RECORD_FILES)
        if sig == state.record_sig:
            return  # unchanged records: the run's status (and so whether it settled) is unchanged too
        status = runfolder.read_json(run_dir / runfolder.STATUS_FILE, {}) or {}
        batch.runs.append(_run_row(run_dir, state.key, status))
        state.record_sig = sig
        report.runs_updated += 1
        state.settled = status.get("status") in runfolder.FINAL_STATUSES  # metrics are read after this

    def _read_tables(self, run_dir: Path, state: _RunState, batch: _Batch) -> None:
        sig = _file_sig(os.path.join(str(run_dir), runfolder.TABLES_DIR))  # changes when a table is replaced
        if sig == state.tables_sig:
            return
        folder = run_dir / runfolder.TABLES_DIR
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            record = runfolder.read_json(path)
            if not isinstance(record, dict) or not isinstance(record.get("rows"), list):
                continue  # unreadable table file: skipped, the others still count
            name = runfolder.table_name(path)
            batch.table_rows += [(state.key, name, i, _dumps(r)) for i, r in enumerate(record["rows"])]
        batch.tables_changed.append(state.key)
        state.tables_sig = sig

    def _read_metrics(self, run_dir: Path, state: _RunState, batch: _Batch, report: IngestReport) -> None:
        path = run_dir / metricslog.METRICS_FILE
        size = path.stat().st_size if path.exists() else 0
        if state.offset and (size < state.offset or _tail_sig(path, state.offset) != state.tail_sig):
            batch.metrics_reset.append(state.key)  # cut (a torn tail after a power cut) or rewritten: read it anew
            state.offset = state.records = state.skipped = 0
        while state.offset < size:
            chunk, state.offset = metricslog.read_chunk(path, state.offset, size)
            if chunk.consumed == 0 and chunk.n_invalid == 0:
                break  # only an unfinished line is left
            batch.add(state, run_dir.name, chunk)
            state.records += chunk.n_valid
            state.skipped += chunk.n_invalid
            report.records += chunk.n_valid
            if chunk.n_invalid:
                report.skipped[run_dir.name] = report.skipped.get(run_dir.name, 0) + chunk.n_invalid
        state.tail_sig = _tail_sig(path, state.offset)
        batch.states.append(state)

    # -- writing a batch ------------------------------------------------------------------------------
    def _flush(self, batch: _Batch) -> dict[str, int]:
        """Write the batch (runs, tables, records, summaries, states) in one transaction; returns the runs'
        lines that had a good checksum but did not parse (they are counted as skipped, not as records)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            if batch.runs:
                self._insert("new_runs", pa.Table.from_pylist(batch.runs, schema=_RUNS_SCHEMA),
                             "INSERT OR REPLACE INTO runs SELECT * REPLACE (config::JSON AS config, "
                             "status_record::JSON AS status_record) FROM new_runs")
            if batch.tables_changed:
                self._insert("changed", pa.table({"key": pa.array(batch.tables_changed, pa.int32())}),
                             "DELETE FROM table_rows WHERE run_key IN (SELECT key FROM changed)")
            if batch.table_rows:
                rows = pa.table(list(zip(*batch.table_rows)), names=["run_key", "name", "idx", "row"])
                self._insert("new_rows", rows, "INSERT INTO table_rows SELECT run_key, name, idx, row::JSON "
                                               "FROM new_rows")
            if batch.metrics_reset:
                self._insert("reset", pa.table({"key": pa.array(batch.metrics_reset, pa.int32())}),
                             "DELETE FROM metrics WHERE run_key IN (SELECT key FROM reset)",
                             "DELETE FROM metric_summary WHERE run_key IN (SELECT key FROM reset)")
            if batch.n_valid:
                self._insert("new_metrics", batch.to_arrow(),
                             "INSERT INTO metrics SELECT run_key, name, step, value, time FROM new_metrics",
                             _UPSERT_SUMMARY)
            states = pa.Table.from_pylist([vars(s) for s in batch.states], schema=_STATE_SCHEMA)
            self._insert("new_states", states, "INSERT OR REPLACE INTO ingest_state SELECT * FROM new_states")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return batch.malformed

    def _insert(self, name: str, table: pa.Table, *statements: str) -> None:
        self.con.register(name, table)
        try:
            for sql in statements:
                self.con.execute(sql)
        finally:
            self.con.unregister(name)


def _run_row(run_dir: Path, key: int, status: dict[str, Any]) -> dict[str, Any]:
    """The runs row of a run folder (column order of schema.runs)."""
    meta = runfolder.read_json(run_dir / runfolder.META_FILE, {}) or {}
    config = runfolder.read_json(run_dir / runfolder.CONFIG_FILE, {})
    progress = status.get("progress") or {}
    return {
        "key": key, "id": run_dir.name, "name": str(meta.get("name") or run_dir.name),
        "grp": str(meta.get("group") or ""), "recipe": str(meta.get("recipe") or ""),
        "status": str(status.get("status") or "queued"), "created": _timestamp(meta.get("created")),
        "updated": _timestamp(status.get("updated")), "ended": _timestamp(status.get("ended")),
        "tags": [str(t) for t in meta.get("tags") or []], "notes": str(meta.get("notes") or ""),
        "changes": str(meta.get("changes") or ""), "reason": str(meta.get("reason") or ""),
        "progress_done": _int_or_none(progress.get("done")), "progress_total": _int_or_none(progress.get("total")),
        "exit_code": _int_or_none(status.get("exit_code")),
        "error": str(status["error"]) if status.get("error") is not None else None,
        "config": _dumps(config), "status_record": _dumps(status),
    }


_RUNS_SCHEMA = pa.schema([
    ("key", pa.int32()), ("id", pa.string()), ("name", pa.string()), ("grp", pa.string()), ("recipe", pa.string()),
    ("status", pa.string()), ("created", pa.timestamp("us")), ("updated", pa.timestamp("us")),
    ("ended", pa.timestamp("us")), ("tags", pa.list_(pa.string())), ("notes", pa.string()),
    ("changes", pa.string()), ("reason", pa.string()), ("progress_done", pa.int32()),
    ("progress_total", pa.int32()), ("exit_code", pa.int32()), ("error", pa.string()), ("config", pa.string()),
    ("status_record", pa.string()),
])
_STATE_SCHEMA = pa.schema([
    ("key", pa.int32()), ("offset", pa.int64()), ("records", pa.int64()), ("skipped", pa.int64()),
    ("record_sig", pa.string()), ("tables_sig", pa.string()), ("dir_mtime", pa.int64()), ("settled", pa.bool_()),
    ("tail_sig", pa.string()),
])


_UPSERT_SUMMARY = """
INSERT INTO metric_summary
SELECT run_key, name, max(step), arg_max(value, step),
       min(value) FILTER (WHERE NOT isnan(value)), max(value) FILTER (WHERE NOT isnan(value)),
       count(*), max(time)
FROM new_metrics GROUP BY run_key, name
ON CONFLICT (run_key, name) DO UPDATE SET
    last_value = CASE WHEN excluded.last_step >= metric_summary.last_step
                      THEN excluded.last_value ELSE metric_summary.last_value END,
    last_step = greatest(excluded.last_step, metric_summary.last_step),
    min_value = least(excluded.min_value, metric_summary.min_value),
    max_value = greatest(excluded.max_value, metric_summary.max_value),
    n = excluded.n + metric_summary.n,
    last_time = greatest(excluded.last_time, metric_summary.last_time)
"""


class _Batch:
    """Validated metric lines of several runs, parsed together (one parser call for many small runs)."""

    def __init__(self) -> None:
        self.parts: list[tuple[_RunState, str, bytes, int]] = []
        self.states: list[_RunState] = []
        self.runs: list[dict[str, Any]] = []
        self.table_rows: list[tuple[int, str, int, str]] = []
        self.tables_changed: list[int] = []
        self.metrics_reset: list[int] = []
        self.malformed: dict[str, int] = {}
        self.nbytes = 0
        self.n_valid = 0

    def add(self, state: _RunState, run_id: str, chunk: metricslog.Chunk) -> None:
        if chunk.n_valid:
            self.parts.append((state, run_id, chunk.valid, chunk.n_valid))
            self.nbytes += len(chunk.valid)
            self.n_valid += chunk.n_valid

    def to_arrow(self) -> pa.Table:
        """Parse all parts at once; if a line with a good checksum is malformed, go line by line."""
        try:
            table = parse_records(b"".join(valid for _, _, valid, _ in self.parts))
        except pa.ArrowInvalid:
            return self._to_arrow_line_by_line()
        counts = [n for _, _, _, n in self.parts]
        run_key = np.repeat(np.asarray([s.key for s, _, _, _ in self.parts], dtype=np.int32), counts)
        return table.append_column("run_key", pa.array(run_key))

    def _to_arrow_line_by_line(self) -> pa.Table:
        rows = []
        for state, run_id, valid, _ in self.parts:
            for line in valid.splitlines():
                parsed = metricslog.parse_line(line)
                if parsed is None:  # counted as skipped, not as a record
                    state.records -= 1
                    state.skipped += 1
                    self.malformed[run_id] = self.malformed.get(run_id, 0) + 1
                else:
                    rows.append((*parsed, state.key))
        names = ["step", "name", "value", "time", "run_key"]
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        types = [pa.int64(), pa.string(), pa.float64(), pa.float64(), pa.int32()]
        return pa.table([pa.array(c, type=t) for c, t in zip(columns, types)], names=names)


def _count_malformed(writing: Future[dict[str, int]] | None, report: IngestReport) -> None:
    """Wait for a batch being written and move its malformed lines from the report's records to its skips."""
    if writing is None:
        return
    for run_id, n in writing.result().items():
        report.records -= n
        report.skipped[run_id] = report.skipped.get(run_id, 0) + n


def _tail_sig(path: Path, offset: int, size: int = 64) -> str:
    """The last ``size`` bytes of the log before ``offset``, as hex ('' at offset 0 or when unreadable)."""
    if offset <= 0:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, offset - size))
            return f.read(min(size, offset)).hex()
    except OSError:
        return ""


def _file_sig(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


def _dir_mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _dumps(value: Any) -> str:
    return json.dumps(runfolder.sanitize_json(value), default=str, allow_nan=False)
