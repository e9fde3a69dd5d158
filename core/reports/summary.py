"""The results summary of a set of runs, as reviewers get it (``shared/examples/results-summary.md``): the runs
grouped (by group, sweep, seed group or tag), each group a table of the chosen columns sorted by a chosen metric,
best first by that metric's own direction, and the key takeaways computed from the same numbers."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from core.evaluation import seeds
from core.evaluation.diagnostics.findings import METRIC_NAMES
from core.evaluation.semantics import Semantics, resolve
from core.reports import GROUPINGS
from core.store import Store, queries
from core.views import verdicts

AGGREGATES = ("last", "best", "epochs")
EPOCHS = "epochs"
PREFERRED = ("test/KL", "test/top1", "test/top3", "test/top5", "test/make_acc", "test/mAP", "val/top1", "val/mAP")


@dataclass(frozen=True)
class Column:
    """One column of a summary table: a metric's last or best value, or the number of epochs.

    Written as text: 'test/top1' (last value), 'best:val/loss' (best by the metric's direction), 'epochs'.
    """

    metric: str
    aggregate: str = "last"

    @classmethod
    def parse(cls, text: str) -> Column:
        text = text.strip()
        if text == EPOCHS:
            return cls(EPOCHS, EPOCHS)
        aggregate, sep, metric = text.partition(":")
        if sep and aggregate in AGGREGATES[:2] and metric:
            return cls(metric, aggregate)
        if sep and aggregate not in AGGREGATES[:2]:
            raise ValueError(f"column {text!r}: write 'best:METRIC', 'last:METRIC', 'METRIC' or 'epochs'")
        return cls(text)

    @property
    def token(self) -> str:
        if self.aggregate == EPOCHS:
            return EPOCHS
        return f"best:{self.metric}" if self.aggregate == "best" else self.metric

    @property
    def label(self) -> str:
        """'best:val/loss' -> 'Best Val Loss'; 'test/top1' -> 'Test Top-1'; 'test/KL' -> 'Test KL'."""
        if self.aggregate == EPOCHS:
            return "Epochs"
        split, _, short = self.metric.rpartition("/")
        best = self.aggregate == "best" or short.startswith("best_")
        short = short.removeprefix("best_")
        words = METRIC_NAMES.get(short) or re.sub(r"^top(\d+)$", r"top-\1", short).replace("_", " ")
        text = " ".join(w.capitalize() if w.islower() else w for w in f"{split} {words}".split())
        return f"Best {text}" if best else text


@dataclass
class SummaryTable:
    """One group's table: its title, what kind of group it is, and its runs in order with their cells."""

    title: str
    kind: str
    note: str
    run_ids: list[str]
    names: dict[str, str]
    cells: dict[str, dict[str, float | None]]  # run id -> column token -> value as logged


@dataclass
class Summary:
    """A results summary: the columns, the sort column, how each metric reads, the tables and the takeaways."""

    columns: list[Column]
    sort: Column
    semantics: dict[str, Semantics]
    tables: list[SummaryTable] = field(default_factory=list)
    takeaways: list[str] = field(default_factory=list)
    generated: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))

    def sort_text(self) -> str:
        sem = self.semantics.get(self.sort.metric)
        return f"{self.sort.label} ({sem.direction_text})" if sem else self.sort.label

    def format(self, column: Column, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        if column.aggregate == EPOCHS:
            return str(int(value))
        return self.semantics[column.metric].format(value)


def default_columns(names: list[str]) -> list[Column]:
    """Best val loss, then the test and key metrics the runs logged (at most five), then the epochs."""
    columns = [Column("val/loss", "best")] if "val/loss" in names else []
    picked = [n for n in PREFERRED if n in names] or [n for n in queries.KEY_METRICS if n in names]
    return [*columns, *(Column(n) for n in picked[:5]), Column(EPOCHS, EPOCHS)]


@dataclass(frozen=True)
class Choices:
    """What the person asks of a summary: the columns (default: ``default_columns``), the sort column (default:
    the first metric column) and how to group the runs (one of GROUPINGS)."""

    columns: tuple[Column, ...] = ()
    sort: Column | None = None
    group_by: str = "group"

    @classmethod
    def parse(cls, columns: list[str] | None = None, sort: str | None = None, group_by: str = "group") -> Choices:
        """From text, as the CLI and the page take them: 'test/top1', 'best:val/loss', 'epochs'."""
        return cls(tuple(Column.parse(c) for c in columns or ()), Column.parse(sort) if sort else None, group_by)


def build(store: Store, run_ids: list[str], choices: Choices = Choices()) -> Summary:
    """The summary of ``run_ids``: tables per group (first-seen order), each sorted best first by the sort column."""
    columns, sort, group_by = list(choices.columns), choices.sort, choices.group_by
    if group_by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {group_by!r}")
    if not run_ids:
        raise ValueError("choose at least one run for the results summary")
    names = queries.metric_names(store, run_ids)
    columns = columns or default_columns(names)
    sort = sort or next((c for c in columns if c.aggregate != EPOCHS), columns[0])
    finals = queries.final_metrics(store, run_ids)
    semantics = _semantics(store, run_ids, finals, [*columns, sort])
    cells = _cells(finals, run_ids, [*columns, sort], semantics)
    meta = queries.runs_meta(store, run_ids)
    summary = Summary(columns, sort, semantics)
    for title, kind, note, members in _groups(meta, run_ids, group_by):
        ordered = sort_runs(members, cells, sort, semantics)
        summary.tables.append(SummaryTable(title, kind, note, ordered, dict(zip(meta["id"], meta["name"])),
                                           {r: cells[r] for r in ordered}))  # fmt: skip
    return summary


def sort_runs(run_ids: list[str], cells: dict, sort: Column, semantics: dict[str, Semantics]) -> list[str]:
    """Best first by the sort column's direction (most epochs first for 'epochs'); missing values last; ties
    keep the order given."""
    goal = "max" if sort.aggregate == EPOCHS else semantics[sort.metric].goal
    sign = 1.0 if goal == "min" else -1.0

    def key(run_id: str) -> tuple[int, float]:
        value = cells[run_id].get(sort.token)
        missing = value is None or not math.isfinite(value)
        return (1, 0.0) if missing else (0, sign * value)

    return sorted(run_ids, key=key)


def _semantics(store: Store, run_ids: list[str], finals: pd.DataFrame, columns: list[Column]) -> dict[str, Semantics]:
    declared = verdicts.declared_metrics(store.root, run_ids)
    out = {}
    for column in columns:
        if column.aggregate != EPOCHS and column.metric not in out:
            values = finals.loc[finals["name"] == column.metric, "last_value"].dropna().tolist()
            out[column.metric] = resolve(column.metric, values, declared.get(column.metric))
    return out


def _cells(finals: pd.DataFrame, run_ids: list[str], columns: list[Column], semantics: dict) -> dict:
    """run id -> column token -> value: the last value, the best (min or max by direction) or the epochs."""
    by_run: dict[str, dict[str, tuple]] = {r: {} for r in run_ids}
    for row in finals.itertuples(index=False):
        by_run[row.run_id][row.name] = (row.last_value, row.min_value, row.max_value, row.last_step)
    cells: dict[str, dict[str, float | None]] = {}
    for run_id, metrics in by_run.items():
        row: dict[str, float | None] = {}
        for column in columns:
            if column.aggregate == EPOCHS:
                row[column.token] = float(max((m[3] for m in metrics.values()), default=0)) or None
                continue
            found = metrics.get(column.metric)
            if found is None:
                row[column.token] = None
            elif column.aggregate == "best" and semantics[column.metric].goal is not None:
                row[column.token] = _num(found[1] if semantics[column.metric].goal == "min" else found[2])
            else:
                row[column.token] = _num(found[0])
        cells[run_id] = row
    return cells


def _groups(meta: pd.DataFrame, run_ids: list[str], group_by: str) -> list[tuple[str, str, str, list[str]]]:
    """(title, kind, note, run ids) per group, in the order the runs were given."""
    order = {r: i for i, r in enumerate(run_ids)}
    rows = sorted(meta.to_dict(orient="records"), key=lambda r: order[r["id"]])
    labels = {r["id"]: r["group"] or None for r in rows}
    configs = {r["id"]: json.loads(r["config"] or "{}") for r in rows}
    if group_by == "none":
        return [("All runs", "all", "", [r["id"] for r in rows])]
    if group_by == "tag":
        tags: dict[str, list[str]] = {}
        for r in rows:
            for tag in list(r["tags"]) or ["(untagged)"]:
                tags.setdefault(str(tag), []).append(r["id"])
        return [(f"Tag {t}" if t != "(untagged)" else "Untagged runs", "tag", "", ids) for t, ids in tags.items()]
    experiments = seeds.group_runs(labels, configs)
    if group_by == "seed group":
        found = [(g.label, "seeds" if g.seeds else "run", _note(g), list(g.runs)) for g in experiments]
    else:
        found = _label_groups(labels, experiments, sweeps_only=group_by == "sweep")
    placed = {r for *_, ids in found for r in ids}
    rest = [r["id"] for r in rows if r["id"] not in placed]
    return found + ([("Other runs", "other", "", rest)] if rest else [])


def _label_groups(labels: dict, experiments: list[seeds.RunGroup], *, sweeps_only: bool) -> list:
    """One table per group label; a label whose runs differ in their config is a sweep (noted with the keys)."""
    out = []
    for label in dict.fromkeys(v for v in labels.values() if v):
        ids = [r for r, v in labels.items() if v == label]
        varied = sorted({k for g in experiments if set(g.runs) <= set(ids) for k in g.varied})
        if sweeps_only and not varied:
            continue
        note = f"A sweep over {', '.join(varied)}." if varied else ""
        out.append((f"sweep: {label}" if varied else label, "sweep" if varied else "group", note, ids))
    return out


def _note(group: seeds.RunGroup) -> str:
    return f"{len(group.runs)} seeds of one config." if group.seeds else ""


def _num(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
