"""The results summary written out: markdown in the shape of ``results-summary.md`` (a table per group, then
the key takeaways), CSV (one row per run and group, values as logged) and LaTeX (booktabs tables, the best
value of each column in bold)."""

from __future__ import annotations

import csv
import io
import re

from core.reports import summary as summaries
from core.reports.summary import EPOCHS, Choices, Column, Summary, SummaryTable
from core.reports.takeaways import takeaways
from core.store import Store

FORMATS = ("md", "csv", "latex")
_LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                   "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}  # fmt: skip


def results_summary(store: Store, run_ids: list[str], choices: Choices = Choices()) -> Summary:  # noqa: B008
    """The summary of ``run_ids`` with its takeaways (see ``core.reports.summary.build``)."""
    built = summaries.build(store, run_ids, choices)
    built.takeaways = takeaways(store, built)
    return built


def render(summary: Summary, fmt: str) -> str:
    """The summary as ``md``, ``csv`` or ``latex`` text."""
    writers = {"md": to_markdown, "csv": to_csv, "latex": to_latex}
    if fmt not in writers:
        raise ValueError(f"results summary format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return writers[fmt](summary)


def to_markdown(summary: Summary) -> str:
    lines = ["# Results Summary", "", f"Generated: **{summary.generated}**", ""]
    for table in summary.tables:
        lines += [f"## {table.title}", ""]
        lines += [table.note, ""] if table.note else []
        lines += [f"Sorted by **{summary.sort_text()}**.", ""]
        header = ["Experiment", *(c.label for c in summary.columns)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_row(summary, table, r)) + " |" for r in table.run_ids]
        lines.append("")
    if summary.takeaways:
        lines += ["## Key results (computed from the tables)", "", *(f"- {t}" for t in summary.takeaways), ""]
    return "\n".join(lines)


def _row(summary: Summary, table: SummaryTable, run_id: str) -> list[str]:
    cells = [summary.format(c, table.cells[run_id].get(c.token)) for c in summary.columns]
    return [table.names.get(run_id, run_id).replace("|", "\\|"), *cells]


def to_csv(summary: Summary) -> str:
    """One row per run and group: group, id, name, then each column's value as logged."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "id", "name", *(c.label for c in summary.columns)])
    for table in summary.tables:
        for run_id in table.run_ids:
            values = [table.cells[run_id].get(c.token) for c in summary.columns]
            cells = ["" if v is None else _plain(c, v) for c, v in zip(summary.columns, values)]
            writer.writerow([table.title, run_id, table.names.get(run_id, run_id), *cells])
    return out.getvalue()


def _plain(column: Column, value: float) -> str:
    return str(int(value)) if column.aggregate == EPOCHS else repr(float(value))


def to_latex(summary: Summary) -> str:
    """booktabs tables (``\\usepackage{booktabs}``), one per group, the best of each column in bold."""
    parts = [f"% Results summary, generated {summary.generated}; needs \\usepackage{{booktabs}}", ""]
    for table in summary.tables:
        best = _best_cells(summary, table)
        header = " & ".join(latex_escape(t) for t in ["Experiment", *(c.label for c in summary.columns)])
        caption = f"{table.title} (sorted by {summary.sort_text()})"
        parts += [r"\begin{table}[ht]", r"\centering", rf"\caption{{{latex_escape(caption)}}}",
                  rf"\begin{{tabular}}{{l{'r' * len(summary.columns)}}}", r"\toprule", header + r" \\",
                  r"\midrule"]  # fmt: skip
        for run_id in table.run_ids:
            cells = [latex_escape(c) for c in _row(summary, table, run_id)]
            cells = [cells[0], *(rf"\textbf{{{v}}}" if (run_id, c.token) in best else v
                                 for v, c in zip(cells[1:], summary.columns))]  # fmt: skip
            parts.append(" & ".join(cells) + r" \\")
        parts += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    if summary.takeaways:
        items = [rf"  \item {latex_escape(re.sub(r'[*`]', '', t))}" for t in summary.takeaways]
        parts += [r"\begin{itemize}", *items, r"\end{itemize}", ""]
    return "\n".join(parts)


def _best_cells(summary: Summary, table: SummaryTable) -> set[tuple[str, str]]:
    best = set()
    for column in summary.columns:
        if column.aggregate == EPOCHS or summary.semantics[column.metric].goal is None:
            continue
        values = {r: v for r in table.run_ids if (v := table.cells[r].get(column.token)) is not None}
        top = summary.semantics[column.metric].best(values.values())
        if top is not None and len(set(values.values())) > 1:
            best |= {(r, column.token) for r, v in values.items() if v == top}
    return best


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)
