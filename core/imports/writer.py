"""Imported runs written through ``core.tracking`` (the one write path), so they appear and compare like any
other run: tagged ``imported``, with their source in the ``import/source`` table, whose key makes a second
import of the same thing find the first instead of writing it again."""

from __future__ import annotations

from pathlib import Path

from core import runfolder, tracking
from core.imports.model import IMPORTED_TAG, SOURCE_TABLE, ImportedRun, ImportReport, Problem
from core.runfolder.labels import RunLabels
from core.runfolder.metricslog import MetricError


def imported_keys(root: Path) -> dict[str, str]:
    """Source key -> run id of every run imported into ``root`` (read from the run folders)."""
    keys = {}
    for run_dir in runfolder.iter_run_dirs(root):
        path = runfolder.table_file(run_dir, SOURCE_TABLE)
        if path.exists():
            for row in (runfolder.read_json(path, {}) or {}).get("rows", []):
                if row.get("key"):
                    keys[str(row["key"])] = run_dir.name
    return keys


def write_runs(runs: list[ImportedRun], root: Path, report: ImportReport) -> None:
    """Write each run not imported before; runs found by their key are listed as existing."""
    known = imported_keys(root)
    for parsed in runs:
        if parsed.key in known:
            report.existing.append((known[parsed.key], parsed.name))
            continue
        try:
            run_id = write_run(parsed, root)
        except (MetricError, ValueError, OSError) as exc:
            report.problems.append(Problem(parsed.source, None, "", f"run {parsed.name!r} not imported: {exc}"))
            continue
        known[parsed.key] = run_id
        report.imported.append((run_id, parsed.name))


def write_run(parsed: ImportedRun, root: Path) -> str:
    """One imported run as a run folder; returns its id. The source table is written last, so a run that
    failed half-way is imported again next time (it stays, marked failed)."""
    tags = [*parsed.tags, *([] if IMPORTED_TAG in parsed.tags else [IMPORTED_TAG])]
    labels = RunLabels(parsed.name, parsed.group or None, parsed.changes, parsed.reason, tuple(tags))
    run = tracking.Run(tracking.create_run_folder(root, labels, config=parsed.config, notes=parsed.notes))
    try:
        for name in sorted(parsed.percent):
            run.define_metric(name, scale="percent")
        for step, values in sorted(parsed.metrics.items()):
            if values:
                run.log(values, step=step)
        if parsed.metrics:
            run.set_progress(parsed.last_step(), parsed.last_step())
        for name, rows in parsed.tables.items():
            run.log_table(name, rows)
        for source, name in parsed.files:
            run.log_file(source, name)
        run.log_table(SOURCE_TABLE, [parsed.source_row()])
    except BaseException as exc:
        run.finish("failed", error=f"import stopped: {exc}")
        raise
    run.finish(parsed.status, error=parsed.error)
    return run.id
