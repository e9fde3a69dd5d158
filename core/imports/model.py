"""What an importer reads out of a file before anything is written: runs in a neutral form, and the lines it
could not read, each with the reason, so an import is never silently wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMPORTED_TAG = "imported"  # every imported run carries this tag
SOURCE_TABLE = "import/source"  # one row: format, source, key, date, links, original run id
STATED_TABLE = "import/stated"  # values the log states in words (best values, evaluation blocks), checked


@dataclass(frozen=True)
class Problem:
    """A line (or a whole file) an importer could not read.

    Attributes:
        source: the file (or folder) it is in.
        line: 1-based line number in that file; None for a whole file or folder.
        text: the line as written (shortened).
        reason: why it was not read, and what was done instead.
    """

    source: str
    line: int | None
    text: str
    reason: str

    def describe(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}" + (f": {self.text}" if self.text else "")


@dataclass
class ImportedRun:
    """One run read from a file, ready to be written through ``core.tracking``.

    Attributes:
        name, group, changes, reason, notes, tags, config: the run's labels and settings.
        format: "markdown", "tensorboard" or "mlflow".
        source: where it was read from (a path, or a path and a section).
        key: a stable key of the source: importing the same thing twice finds the first import by it.
        date: the date the log gives, as written ("" when none).
        metrics: step -> metric name -> value, values as logged.
        percent: metrics written with a % sign (declared as percent).
        tables: table name -> rows (``test/per_make``...).
        stated: values the log states in words, each checked against the data.
        files: (file on disk, name under artifacts/) to copy into the run.
        links: addresses the log gives for the run (a W&B page...).
        status, error: how the run ended where it came from.
        origin_id: the run id the log was exported from, when it says.
    """

    name: str
    format: str
    source: str
    key: str
    group: str = ""
    changes: str = ""
    reason: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    percent: set[str] = field(default_factory=set)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stated: list[dict[str, Any]] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    status: str = "succeeded"
    error: str | None = None
    origin_id: str = ""

    def log(self, step: int, name: str, value: float) -> None:
        self.metrics.setdefault(int(step), {})[name] = float(value)

    def series(self, name: str) -> list[tuple[int, float]]:
        """The points of one metric in step order."""
        return [(s, m[name]) for s, m in sorted(self.metrics.items()) if name in m]

    def names(self) -> list[str]:
        return sorted({n for m in self.metrics.values() for n in m})

    def last_step(self) -> int:
        return max(self.metrics, default=0)

    def source_row(self) -> dict[str, Any]:
        return {"format": self.format, "source": self.source, "key": self.key, "date": self.date,
                "links": list(self.links), "origin_id": self.origin_id}  # fmt: skip


@dataclass
class ImportReport:
    """What an import did: the runs it wrote, those it found already imported, and what it could not read."""

    formats: list[str] = field(default_factory=list)
    imported: list[tuple[str, str]] = field(default_factory=list)  # (run id, name)
    existing: list[tuple[str, str]] = field(default_factory=list)  # already imported before: (run id, name)
    problems: list[Problem] = field(default_factory=list)

    def merge(self, other: ImportReport) -> None:
        self.formats += [f for f in other.formats if f not in self.formats]
        self.imported += other.imported
        self.existing += other.existing
        self.problems += other.problems

    def summary(self) -> str:
        kinds = ", ".join(self.formats) or "nothing recognised"
        text = f"imported {len(self.imported)} run(s) ({kinds})"
        if self.existing:
            text += f"; {len(self.existing)} already imported, not duplicated"
        if self.problems:
            text += f"; {len(self.problems)} line(s) not read (listed below)"
        return text

    def lines(self) -> list[str]:
        """The report as text lines: the summary, each run, then each line that was not read."""
        out = [self.summary()]
        out += [f"  new  {run_id}  {name}" for run_id, name in self.imported]
        out += [f"  kept {run_id}  {name} (imported before)" for run_id, name in self.existing]
        out += [f"  not read  {p.describe()}" for p in self.problems]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "formats": self.formats,
            "imported": [{"id": i, "name": n} for i, n in self.imported],
            "existing": [{"id": i, "name": n} for i, n in self.existing],
            "problems": [{"source": p.source, "line": p.line, "text": p.text, "reason": p.reason}
                         for p in self.problems],
        }  # fmt: skip
