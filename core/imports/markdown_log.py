"""Markdown experiment logs: the document split into experiments (``## Experiment: NAME`` sections, or every
``##`` section of a log that has no such heading, as the re-ID leaderboard log is written), each read into an
imported run by ``core.imports.experiment``."""

from __future__ import annotations

import re
from pathlib import Path

from core.imports import md_tables
from core.imports.experiment import FIELD_LINE, Block, Lines, Section, read_block
from core.imports.logformat import EXPERIMENT_PREFIX, section_key
from core.imports.markdown_lines import epoch_line, is_decoration
from core.imports.model import ImportedRun, Problem

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*```")


def looks_like_log(text: str) -> bool:
    """A markdown experiment log: a ``##`` heading, or epoch lines."""
    return bool(re.search(r"^##\s+\S|^\s*[-*]?\s*Epoch\s+\d+", text, re.MULTILINE | re.IGNORECASE))


def read_log(path: Path) -> tuple[list[ImportedRun], list[Problem]]:
    """The runs of one markdown log file and the lines that were not read."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(path.name, None, "", f"not UTF-8 text ({exc}); save the log as UTF-8")]
    blocks, problems = split_log(text, path.name)
    runs: list[ImportedRun] = []
    for block in blocks:
        tables = _results_tables(block)
        if tables:
            for table, group in tables:
                found_runs, found = md_tables.results_table_runs(table, group, path)
                runs += found_runs
                problems += found
            continue
        if not _holds_an_experiment(block):
            problems += [
                Problem(
                    path.name,
                    n,
                    t,
                    f"in '{block.name}', which has no experiment fields, metrics or results table: not read",
                )
                for n, t in block.lines()
                if re.search(r"\d", t)
            ]
            continue
        run, found = read_block(block, path)
        runs.append(run)
        problems += found
    if not blocks:
        problems.append(Problem(path.name, None, "", "no '## Experiment: NAME' (or '## NAME') section: nothing "
                                "imported"))  # fmt: skip
    return runs, problems


def split_log(text: str, source: str) -> tuple[list[Block], list[Problem]]:
    """The experiment blocks of a log, and the lines with numbers outside any experiment (not read)."""
    lines = text.splitlines()
    prefixed = any(_experiment_name(line) for line in lines)
    blocks: list[Block] = []
    current: Block | None = None
    target: Lines = []
    problems: list[Problem] = []
    in_fence = False
    for number, line in enumerate(lines, start=1):
        heading = None if in_fence else _HEADING.match(line)
        if _FENCE.match(line):
            in_fence = not in_fence
        if heading and len(heading.group(1)) == 2:
            name = _experiment_name(line) if prefixed else heading.group(2).strip()
            current = Block(name, number, prefixed) if name else None
            if current is not None:
                blocks.append(current)
                target = current.preamble
            else:
                target = []
                problems.append(Problem(source, number, line, "a section that is not an experiment: its lines are "
                                        "not read"))  # fmt: skip
            continue
        if heading and len(heading.group(1)) > 2 and current is not None:
            title = heading.group(2).strip()
            current.sections.append(Section(title, section_key(title), []))
            target = current.sections[-1].lines
            continue
        if current is None and not heading and not is_decoration(line) and re.search(r"\d", line):
            problems.append(Problem(source, number, line, "outside any experiment section: not read"))
        target.append((number, line))
    return blocks, problems


def _holds_an_experiment(block: Block) -> bool:
    """A ``## Experiment:`` section always does; a plain ``##`` section when it has ``**Field:**`` lines, a
    section we know (Changes, Metrics...) or epoch lines, so a section of commentary is not taken for a run."""
    if block.prefixed:
        return True
    lines = [t for _, t in block.lines()]
    return (
        any(s.key for s in block.sections)
        or any(FIELD_LINE.match(t) for t in lines)
        or any(epoch_line(t) for t in lines)
    )


def _results_tables(block: Block) -> list[tuple[tuple, str]]:
    """The results tables of a block (one row per experiment) with the group each belongs to: the heading of
    its section ('### sweep:sweep_1768899422' gives 'sweep_1768899422'), else the block's name."""
    found = []
    parts = [(block.name, block.preamble)] + [(s.heading, s.lines) for s in block.sections]
    for heading, lines in parts:
        for table in md_tables.find_tables(lines):
            if md_tables.is_results_table(table[1]):
                found.append((table, _group_name(heading)))
    return found


def _group_name(heading: str) -> str:
    name = re.sub(r"\(`[^`]*`\)|`[^`]*`", "", heading).strip()
    return re.sub(r"^sweep\s*:\s*", "", name, flags=re.IGNORECASE) or heading


def _experiment_name(line: str) -> str | None:
    heading = _HEADING.match(line)
    if not heading or len(heading.group(1)) != 2:
        return None
    title = heading.group(2).strip()
    if title.lower().startswith(EXPERIMENT_PREFIX.lower()):
        return title[len(EXPERIMENT_PREFIX) :].strip() or None
    return None
