"""Markdown tables in a log: a results table (one row per experiment, as ``results-summary.md`` writes them)
becomes one imported run per row, and a per-make table (make, correct, total, accuracy) the test/per_make
table of its experiment."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from core.imports.logformat import SPLIT_WORDS, label_metric, parse_number
from core.imports.model import ImportedRun, Problem

Lines = list[tuple[int, str]]
ROW_HEADERS = ("experiment", "run", "name", "model")  # the first column of a results table
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def find_tables(lines: Lines) -> list[tuple[int, list[str], list[tuple[int, list[str]]]]]:
    """Each table in ``lines``: (line of its header, header cells, [(line, cells)...])."""
    tables = []
    i = 0
    while i < len(lines) - 1:
        number, text = lines[i]
        if _is_row(text) and _RULE.match(lines[i + 1][1]):
            header, rows = _cells(text), []
            i += 2
            while i < len(lines) and _is_row(lines[i][1]):
                rows.append((lines[i][0], _cells(lines[i][1])))
                i += 1
            tables.append((number, header, rows))
            continue
        i += 1
    return tables


def table_lines(lines: Lines) -> set[int]:
    """The line numbers that belong to tables (their header, rule and rows)."""
    found = set()
    for number, _, rows in find_tables(lines):
        found |= {number, number + 1, *(n for n, _ in rows)}
    return found


def is_results_table(header: list[str]) -> bool:
    return bool(header) and header[0].strip().lower() in ROW_HEADERS and len(header) > 1


def is_per_make_table(header: list[str]) -> bool:
    return [h.strip().lower() for h in header[:1]] == ["make"] and "accuracy" in [h.lower() for h in header]


def per_make_rows(header: list[str], rows: list[tuple[int, list[str]]]) -> list[dict]:
    """Rows {make, correct, total, accuracy} of a per-make table (numbers as written, missing ones None)."""
    keys = [h.strip().lower() for h in header]
    out = []
    for _, cells in rows:
        row = dict(zip(keys, cells))
        number = {k: parse_number(row.get(k, "")) for k in ("correct", "total", "accuracy")}
        out.append({"make": row.get("make", "").strip(),
                    "correct": int(number["correct"][0]) if number["correct"] else None,
                    "total": int(number["total"][0]) if number["total"] else None,
                    "accuracy": number["accuracy"][0] if number["accuracy"] else None})  # fmt: skip
    return out


def header_metric(header: str) -> str:
    """'Test Top-1' -> 'test/top1'; 'Test KL' -> 'test/KL'; 'Best Val Loss' -> 'val/best_loss'."""
    words = re.findall(r"[A-Za-z]+\d*|\d+", header)
    best = bool(words) and words[0].lower() == "best"
    words = words[1:] if best else words
    split = SPLIT_WORDS.get(words[0].lower(), "") if words else ""
    rest = words[1:] if split else words
    known = label_metric(" ".join(rest), [], (split or "test",))
    short = known.split("/", 1)[1] if known else _join(rest)
    return f"{split or 'test'}/{'best_' if best else ''}{short}"


def _join(words: list[str]) -> str:
    merged: list[str] = []
    for word in words:
        if word.isdigit() and merged:
            merged[-1] += word
        else:
            merged.append(word if word.isupper() and len(word) > 1 else word.lower())
    return "_".join(merged)


def results_table_runs(table: tuple, group: str, path: Path) -> tuple[list[ImportedRun], list[Problem]]:
    """One run per row of a results table, named by its first cell, in ``group``; an 'Epochs' column gives
    the step its values are logged at."""
    _, header, rows = table
    names = [header_metric(h) if h.strip().lower() != "epochs" else "epochs" for h in header]
    runs, problems = [], []
    for line, cells in rows:
        key = hashlib.sha256(f"markdown-table\n{group}\n{'|'.join(header)}\n{'|'.join(cells)}".encode()).hexdigest()
        run = ImportedRun(name=cells[0].strip(), format="markdown", source=f"{path.name}#{group}", key=key[:20],
                          group=group)  # fmt: skip
        values = {}
        for name, title, cell in zip(names[1:], header[1:], cells[1:]):
            parsed = parse_number(cell.replace("*", "").strip())
            if parsed is None:
                if cell.strip() not in ("", "-", "—"):
                    problems.append(Problem(path.name, line, cell.strip(), f"{title}: not a number: skipped"))
                continue
            values[name] = parsed
        epochs = values.pop("epochs", None)
        step = int(epochs[0]) if epochs and epochs[0] >= 1 else 1
        for name, (value, percent) in values.items():
            run.log(step, name, value)
            if percent:
                run.percent.add(name)
        runs.append(run)
    return runs, problems


def _is_row(text: str) -> bool:
    return text.strip().startswith("|") and text.strip().count("|") >= 2


def _cells(text: str) -> list[str]:
    return [c.strip() for c in text.strip().strip("|").split("|")]
