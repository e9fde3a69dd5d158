"""The key takeaways of a results summary, computed from its numbers rather than written by hand: the best run
on each metric, trade-offs (best on one metric, worst on another), metrics that do not separate the runs (the
identical top-1 of ``results-summary.md``), outliers, which differences are significant (``judge``) and what the
diagnostics found."""

from __future__ import annotations

import statistics
from collections import Counter

from core.evaluation.verdicts import CONSTANT_SEEDS
from core.reports.summary import EPOCHS, Column, Summary, SummaryTable
from core.store import Store
from core.views import verdicts

OUTLIER_MADS = 10.0  # how many median absolute deviations from the median make a run an outlier
MAX_LINES = 6  # of each kind, so the takeaways stay a list a reviewer reads


def takeaways(store: Store, summary: Summary) -> list[str]:
    """Every takeaway of the summary, as markdown bullet texts (without the leading '- ')."""
    return [
        *best_per_metric(summary), *trade_offs(summary), *not_separating(summary), *outliers(summary),
        *significance(store, summary), *run_findings(store, summary),
    ]  # fmt: skip


def _directed(summary: Summary) -> list[Column]:
    return [c for c in summary.columns if c.aggregate != EPOCHS and summary.semantics[c.metric].goal is not None]


def _values(summary: Summary, table: SummaryTable, column: Column) -> dict[str, float]:
    return {r: v for r in table.run_ids if (v := table.cells[r].get(column.token)) is not None}


def _name(table: SummaryTable, run_id: str) -> str:
    return f"`{table.names.get(run_id, run_id)}`"


def best_per_metric(summary: Summary) -> list[str]:
    """The best run over all tables on each directed column."""
    lines = []
    for column in _directed(summary):
        sem = summary.semantics[column.metric]
        found = [(t, r, v) for t in summary.tables for r, v in _values(summary, t, column).items()]
        best = sem.best(v for *_, v in found)
        if best is None or len(found) < 2:
            continue
        winners = [(t, r) for t, r, v in found if v == best]
        where = f" in {winners[0][0].title}" if len(summary.tables) > 1 else ""
        who = (_name(winners[0][0], winners[0][1]) + where if len(winners) == 1 else
               f"shared by {len(winners)} runs ({', '.join(_name(t, r) for t, r in winners[:3])})")  # fmt: skip
        lines.append(f"**Best {column.label}** ({sem.direction_text}): {who} (**{sem.format(best)}**)")
    return lines


def trade_offs(summary: Summary) -> list[str]:
    """In each table of three or more runs: the one best run on a metric that is the one worst on another."""
    lines = []
    directed = _directed(summary)
    for table in summary.tables:
        for a in directed:
            top = _unique_extreme(summary, table, a, best=True)
            for b in directed:
                if b == a or top is None or _unique_extreme(summary, table, b, best=False) != top:
                    continue
                va = summary.format(a, table.cells[top][a.token])
                vb = summary.format(b, table.cells[top][b.token])
                lines.append(f"**Trade-off in {table.title}**: {_name(table, top)} has the best {a.label} ({va}) "
                             f"but the worst {b.label} ({vb})")  # fmt: skip
    return lines[:MAX_LINES]


def _unique_extreme(summary: Summary, table: SummaryTable, column: Column, *, best: bool) -> str | None:
    values = _values(summary, table, column)
    if len(values) < 3 or len(set(values.values())) < 2:
        return None
    sem = summary.semantics[column.metric]
    worst_goal = "min" if sem.goal == "max" else "max"
    target = sem.best(values.values()) if best else (min if worst_goal == "min" else max)(values.values())
    winners = [r for r, v in values.items() if v == target]
    return winners[0] if len(winners) == 1 else None


def not_separating(summary: Summary) -> list[str]:
    """Columns whose shown value is the same for every run of a table, or for most runs overall."""
    lines = []
    columns = [c for c in summary.columns if c.aggregate != EPOCHS]
    for column in columns:
        shown_all = []
        for table in summary.tables:
            shown = [summary.format(column, v) for v in _values(summary, table, column).values()]
            shown_all += shown
            if len(shown) >= 2 and len(set(shown)) == 1:
                lines.append(f"**{column.label} does not separate the runs of {table.title}**: {shown[0]} in all "
                             f"{len(shown)}")  # fmt: skip
        if len(summary.tables) > 1 and shown_all:
            value, count = Counter(shown_all).most_common(1)[0]
            if count >= max(3, len(shown_all) / 2):
                lines.append(f"**{column.label} stays at {value} in {count} of {len(shown_all)} runs** across the "
                             "groups: the settings changed other metrics more than this one; check whether one "
                             "class is predicted for everything")  # fmt: skip
    return lines


def outliers(summary: Summary) -> list[str]:
    """Runs far worse on the sort column than the rest of their table (beyond OUTLIER_MADS deviations)."""
    if summary.sort.aggregate == EPOCHS or summary.semantics[summary.sort.metric].goal is None:
        return []
    sem = summary.semantics[summary.sort.metric]
    lines = []
    for table in summary.tables:
        values = _values(summary, table, summary.sort)
        if len(values) < 4:
            continue
        median = statistics.median(values.values())
        mad = statistics.median(abs(v - median) for v in values.values())
        far = [r for r, v in values.items() if sem.better(v, median) < 0 and abs(v - median) > OUTLIER_MADS * mad
               and abs(v - median) > abs(median) / 2]  # fmt: skip
        if far:
            listed = ", ".join(f"{_name(table, r)} ({summary.format(summary.sort, values[r])})" for r in far[:5])
            lines.append(f"**Outliers in {table.title}**: {listed} are far worse on {summary.sort.label} than the "
                         f"median ({summary.format(summary.sort, median)}): check for an earlier pipeline or "
                         "instability before using them for model selection")  # fmt: skip
    return lines


def significance(store: Store, summary: Summary) -> list[str]:
    """Each table's runs against its first (best) run with ``judge``: the significant differences, or why none."""
    metrics = list(dict.fromkeys(c.metric for c in _directed(summary) if c.aggregate == "last"))
    if not metrics:
        return []
    lines, tested, untestable = [], 0, []
    for table in summary.tables:
        if len(table.run_ids) < 2:
            continue
        judgement = verdicts.judge(store, table.run_ids, metrics, baseline=table.run_ids[0])
        tests = [v for v in judgement.verdicts if v.test]
        tested += len(tests)
        untestable += [f"**Not tested in {table.title}**: {v.sentence}" for v in judgement.verdicts
                       if v.untested == CONSTANT_SEEDS]  # fmt: skip
        lines += [f"**Significant in {table.title}**: {v.sentence}" for v in tests if v.significant][:MAX_LINES]
        if tests and not any(v.significant for v in tests):
            lines.append(f"**No significant difference in {table.title}**: none of its {len(tests)} tested "
                         "comparisons with the best run holds at the 5% level (Holm-adjusted)")  # fmt: skip
        lines += [f"**{_kind(f.kind)}** ({table.title}): {f.message}" for f in judgement.findings]
    if not tested and untestable:  # seed groups there were, but their seeds never varied
        lines += untestable[:MAX_LINES]
    elif not tested:
        lines.append(
            "**No difference could be tested**: each config has one run and no per-sample predictions; "
            "save a test/predictions table or run 3 seeds per config to know which differences are real"
        )
    return list(dict.fromkeys(lines))


def run_findings(store: Store, summary: Summary) -> list[str]:
    """What the diagnostics found in the runs' curves, one line per kind with the runs it concerns."""
    run_ids = list(dict.fromkeys(r for t in summary.tables for r in t.run_ids))
    names = {r: n for t in summary.tables for r, n in t.names.items()}
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for run_id, found in verdicts.run_findings(store, run_ids).items():
        for finding in found:
            by_kind.setdefault(finding.kind, []).append((names.get(run_id, run_id), finding.message))
    lines = []
    for kind, hits in by_kind.items():
        runs = ", ".join(f"`{n}`" for n, _ in hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
        lines.append(f"**{_kind(kind)} in {len(hits)} run(s)** ({runs}): e.g. {hits[0][1]}")
    return lines


def _kind(kind: str) -> str:
    """'identical_results' -> 'Identical results'."""
    return kind.replace("_", " ").capitalize()
