"""The logic behind the Reports page: which runs to report on (chosen, or a whole group), the experiment log
(markdown, or a zip with its images), the results summary in each format, imports from an upload or a path
with the lines that were not read, and the CSV / Parquet exports."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from core import imports
from core.reports import GROUPINGS, exports
from core.reports.experiment_log import experiment_log
from core.reports.render import FORMATS, render, results_summary
from core.reports.summary import AGGREGATES, Choices, Column, default_columns
from core.store import Store, queries

MIME = {"md": "text/markdown", "csv": "text/csv", "latex": "application/x-latex", "zip": "application/zip",
        "parquet": "application/vnd.apache.parquet"}  # fmt: skip
SUFFIX = {"md": "md", "csv": "csv", "latex": "tex", "zip": "zip", "parquet": "parquet"}
__all__ = ["FORMATS", "GROUPINGS", "MIME", "SUFFIX"]


RECENT_RUNS = 500  # runs the picker offers besides those already chosen: a group picks any number at once


def run_choices(store: Store, keep: Sequence[str] = (), limit: int = RECENT_RUNS) -> tuple[list[str], dict[str, str]]:
    """The newest ``limit`` run ids and those of ``keep`` (chosen already), and how the picker shows each:
    'name · group · id tail'. A folder of thousands of runs is not sent to the browser whole."""
    frame = queries.newest_runs(store, keep, limit)
    labels = {r: f"{n} · {g or 'no group'} · {r[-6:]}" for r, n, g in zip(frame["id"], frame["name"], frame["group"])}
    return list(labels), labels


def group_runs(store: Store, group: str) -> list[str]:
    """The runs of one group, oldest first (the order their tables and logs list them)."""
    frame, _ = queries.find_runs(store, metrics=[], group=[group], limit=None, descending=False)
    return frame["id"].tolist()


def column_choices(store: Store, run_ids: list[str]) -> tuple[list[str], list[str]]:
    """Columns the summary can show (every metric's last and best value, the epochs) and the default ones."""
    names = queries.metric_names(store, run_ids) if run_ids else []
    offered = [Column(n, agg).token for n in names for agg in AGGREGATES[:2]] + [Column("epochs", "epochs").token]
    return offered, [c.token for c in default_columns(names)]


def default_sort(columns: list[str]) -> int:
    """The position of the column to sort by at first: the first one that is a metric (not the epochs)."""
    return next((i for i, c in enumerate(columns) if Column.parse(c).aggregate != "epochs"), 0)


@dataclass
class LogFiles:
    """The experiment log of some runs, ready to download."""

    run_ids: list[str]
    markdown: str
    zip: bytes


def log_files(store: Store, run_ids: list[str]) -> LogFiles:
    doc = experiment_log(store, run_ids)
    return LogFiles(list(run_ids), doc.markdown, doc.zip_bytes())


@dataclass
class SummaryFiles:
    """The results summary in every format (format -> text), the markdown also shown on the page."""

    texts: dict[str, str] = field(default_factory=dict)


def summary_files(store: Store, run_ids: list[str], columns: list[str], sort: str, group_by: str) -> SummaryFiles:
    """The results summary of ``run_ids``: columns and sort as tokens ('test/top1', 'best:val/loss', 'epochs').

    Raises:
        ValueError: no runs, no columns, or a column that is not one (the message says which).
    """
    if not columns:
        raise ValueError("choose at least one column for the results summary")
    built = results_summary(store, run_ids, Choices.parse(columns, sort, group_by))
    return SummaryFiles({fmt: render(built, fmt) for fmt in FORMATS})


@dataclass
class ImportOutcome:
    """What an import from the page did: its summary line, the runs, and the lines not read as a table."""

    summary: str
    ok: bool
    runs: list[str]
    problems: pd.DataFrame


def import_upload(name: str, data: bytes, root: str | os.PathLike[str]) -> ImportOutcome:
    return _outcome(imports.import_upload(name, data, root))


def import_path(path: str, root: str | os.PathLike[str]) -> ImportOutcome:
    """Import a file or folder on this machine (a TensorBoard or mlruns folder cannot be uploaded)."""
    if not path.strip():
        raise ValueError("give the path of a log file or folder on this machine")
    return _outcome(imports.import_path(path.strip(), root))


def _outcome(report: imports.ImportReport) -> ImportOutcome:
    problems = pd.DataFrame([{"where": p.source, "line": p.line, "text": p.text, "why": p.reason}
                             for p in report.problems], columns=["where", "line", "text", "why"])  # fmt: skip
    runs = [f"{name} ({run_id})" for run_id, name in report.imported]
    runs += [f"{name} ({run_id}, imported before)" for run_id, name in report.existing]
    return ImportOutcome(report.summary(), bool(report.imported or report.existing), runs, problems)


def runs_export(store: Store, fmt: str) -> bytes:
    """The runs table (every run, each metric's last value) as CSV or Parquet."""
    return exports.to_bytes(exports.runs_frame(store), fmt)


def metrics_export(store: Store, run_ids: list[str], fmt: str) -> bytes:
    """Every point the chosen runs logged, as CSV or Parquet."""
    return exports.to_bytes(exports.metrics_frame(store, run_ids), fmt)
