"""One ``## Experiment`` section of a markdown log read into an imported run: its fields and sections, then the
values placed by epoch, end-of-run values at the last epoch, and every stated value checked against the data.
Whatever holds a number and cannot be read is a problem with its line; free text is kept in the notes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from core.evaluation.semantics import resolve
from core.imports import markdown_lines as ml
from core.imports import md_tables
from core.imports.logformat import (
    NO_EPOCHS,
    NOTHING_RECORDED,
    PER_MAKE_TABLE,
    end_of_run_name,
    field_key,
    label_metric,
    metric_name,
    rounding,
)
from core.imports.model import STATED_TABLE, ImportedRun, Problem
from core.runfolder import safe_relative

Lines = list[tuple[int, str]]  # (1-based line number, text)
FIELD_LINE = re.compile(r"^\s*\*\*(?P<label>[^*]+?):*\*\*:*\s*(?P<value>.*)$")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?\s*\)")
_URL = re.compile(r"https?://[^\s<>)]+")
# Where a label names a metric, by kind of statement: a best value is over epochs (val first); an evaluation
# block is the test evaluation; a plain 'label = value' is an end-of-run value (test first).
PREFER = {"best": ("val", "test", "train"), "evaluation": ("test",), "stated": ("test", "val", "train")}


class Section(NamedTuple):
    """A ``###`` section: its heading, what it holds (a key of SECTIONS; None for one we have no place for)."""

    heading: str
    key: str | None
    lines: Lines


@dataclass
class Block:
    """An experiment's lines as the document splitter found them."""

    name: str
    line: int
    prefixed: bool = True  # under '## Experiment: NAME' (else a plain '## NAME' of a log without those)
    preamble: Lines = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def lines(self) -> Lines:
        return [*self.preamble, *(line for s in self.sections for line in s.lines)]

    def text(self) -> str:
        parts = [self.name, *(t for _, t in self.preamble)]
        for section in self.sections:
            parts += [section.heading, *(t for _, t in section.lines)]
        return "\n".join(parts)


@dataclass
class _Reading:
    """What has been read of one experiment so far."""

    run: ImportedRun
    problems: list[Problem] = field(default_factory=list)
    finals: dict[str, tuple[ml.Value, int]] = field(default_factory=dict)  # name -> (value, line)
    lists: list[tuple[str, list[ml.Value], int]] = field(default_factory=list)
    said: list[tuple[ml.Statement, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, line: int | None, text: str, reason: str) -> None:
        self.problems.append(Problem(self.run.source, line, text.strip()[:200], reason))


def read_block(block: Block, path: Path) -> tuple[ImportedRun, list[Problem]]:
    """The imported run of one experiment section of the log at ``path`` (images are looked for beside it)."""
    digest = hashlib.sha256(f"markdown\n{block.text()}".encode()).hexdigest()[:20]
    run = ImportedRun(name=block.name, format="markdown", source=f"{path.name}#{block.name}", key=digest)
    reading = _Reading(run)
    _read_fields(reading, block.preamble, path)
    for section in block.sections:
        _SECTION_READERS.get(section.key or "", _read_extra)(reading, section, path)
    _place_lists(reading)
    _place_finals(reading)
    _check_statements(reading)
    run.notes = "\n\n".join(p for p in [run.notes, *reading.notes] if p).strip()
    return run, reading.problems


# -- fields and text sections --------------------------------------------------------------------------------
def _read_fields(reading: _Reading, lines: Lines, path: Path) -> None:
    """``**Date:** ...``, ``**Research question:** ...`` lines; other text of the preamble goes to the notes."""
    run, loose = reading.run, []
    for _, text in lines:
        match = FIELD_LINE.match(text)
        if not match:
            loose.append(text)
            continue
        label, value = match.group("label").strip(), match.group("value").strip()
        kind = field_key(label)
        if kind == "links" or (kind is None and _URL.search(value)):
            run.links += _URL.findall(value)
        elif kind == "date":
            run.date = value
        elif kind == "run":
            run.origin_id = (re.findall(r"`([^`]+)`", value) or [""])[0]
        elif kind == "group":
            run.group = value
        elif kind == "tags":
            run.tags += [t.strip() for t in value.split(",") if t.strip()]
        elif kind in ("reason", "changes", "notes"):
            setattr(run, kind, "\n".join(p for p in (getattr(run, kind), value) if p))
            if kind == "notes":
                run.stated += ml.prose_values(value)
        else:
            loose.append(f"{label}: {value}")
    if "".join(loose).strip():
        reading.notes.append("\n".join(loose).strip())


def _text(lines: Lines) -> str:
    return "\n".join(t for _, t in lines).strip()


def _read_labels(reading: _Reading, section: Section, path: Path) -> None:
    """Changes, Reason and Notes: their text as written (the writer's 'None recorded' is nothing)."""
    text = _text(section.lines)
    setattr(reading.run, section.key, "" if text == NOTHING_RECORDED else text)
    if section.key == "notes":
        reading.run.stated += ml.prose_values(text)


def _read_extra(reading: _Reading, section: Section, path: Path) -> None:
    """A section we have no place for (``### Gemini thoughts on accuracy above``): kept in the notes."""
    text = _text(section.lines)
    if text:
        reading.notes.append(f"### {section.heading}\n{text}")


def _read_config(reading: _Reading, section: Section, path: Path) -> None:
    lines = section.lines
    body = re.sub(r"^```\w*\s*|\s*```$", "", _text(lines))
    if not body:
        return
    try:
        config = json.loads(body)
    except ValueError as exc:
        reading.problem(lines[0][0], body[:80], f"the Config section is not JSON ({exc}); config left empty")
        return
    if isinstance(config, dict):
        reading.run.config = config
    else:
        reading.problem(lines[0][0], body[:80], "the Config section is not a JSON object; config left empty")


def _read_images(reading: _Reading, section: Section, path: Path) -> None:
    lines = section.lines
    for number, text in lines:
        for ref in _IMAGE.findall(text):
            image = path.parent / ref
            if "://" in ref or not image.is_file():
                reading.problem(number, text, f"image {ref} not found beside the log: not copied")
                continue
            try:
                name = safe_relative(ref).as_posix()
            except ValueError:
                name = Path(ref).name
            reading.run.files.append((image, name))


# -- metrics ---------------------------------------------------------------------------------------------------
def _read_tables(reading: _Reading, lines: Lines) -> set[int]:
    """Per-make tables become test/per_make; other tables are reported. Returns the lines they take."""
    for number, header, rows in md_tables.find_tables(lines):
        if md_tables.is_per_make_table(header):
            reading.run.tables.setdefault(PER_MAKE_TABLE, []).extend(md_tables.per_make_rows(header, rows))
        else:
            reading.problem(number, " | ".join(header), "a table that is not a per-make table: not read")
    return md_tables.table_lines(lines)


def _read_metrics(reading: _Reading, section: Section, path: Path) -> None:
    lines = section.lines
    in_tables = _read_tables(reading, lines)
    for number, text in lines:
        if number in in_tables or ml.is_decoration(text) or text.strip() == NO_EPOCHS:
            continue
        epoch = ml.epoch_line(text)
        if epoch is not None:
            _epoch(reading, number, text, *epoch)
            continue
        item = ml.item_line(text)
        if item is None or not _item(reading, number, text, *item):
            reading.problem(number, text, "not an epoch line, a 'key: value' or a per-make accuracy: skipped")


def _epoch(reading: _Reading, number: int, text: str, epoch: int, pairs: list, left: str) -> None:
    for key, value in pairs:
        name = metric_name(key)
        old = reading.run.metrics.get(epoch, {}).get(name)
        if old is not None and old != value.value:
            reading.problem(number, text, f"epoch {epoch} gives {name} a second time ({old} before): kept {old}")
            continue
        reading.run.log(epoch, name, value.value)
        if value.percent:
            reading.run.percent.add(name)
    if left:
        reading.problem(number, left, f"part of epoch {epoch}'s line is not 'key=number': skipped")
    if not pairs:
        reading.run.metrics.setdefault(epoch, {})


def _item(reading: _Reading, number: int, text: str, key: str, value_text: str) -> bool:
    row = ml.per_make_row(key, value_text)
    if row is not None:
        reading.run.tables.setdefault(PER_MAKE_TABLE, []).append(row)
        return True
    values = ml.number_list(value_text)
    if values is not None:
        reading.lists.append((metric_name(ml.list_key(key)), values, number))
        return True
    value = ml.single_value(value_text)
    if value is None:
        return False
    name = end_of_run_name(key)
    if name in reading.finals and reading.finals[name][0].value != value.value:
        reading.problem(number, text, f"{name} is given twice: kept the first, {reading.finals[name][0].text}")
    else:
        reading.finals.setdefault(name, (value, number))
    return True


def _place_lists(reading: _Reading) -> None:
    """Per-epoch lists go to the epochs of the epoch lines (1..N when there are none), if the counts agree."""
    run = reading.run
    epochs = sorted(run.metrics)
    for name, values, number in reading.lists:
        if epochs and len(values) != len(epochs):
            reading.problem(number, f"{name}: {len(values)} values", f"the list has {len(values)} values but the "
                            f"log has {len(epochs)} epoch lines: not placed, as no epoch is sure")  # fmt: skip
            continue
        for epoch, value in zip(epochs or range(1, len(values) + 1), values):
            old = run.metrics.get(epoch, {}).get(name)
            if old is not None and old != value.value:
                reading.problem(
                    number,
                    f"{name}[{epoch}] = {value.text}",
                    f"differs from epoch {epoch}'s line ({old}): kept the epoch line",
                )
                continue
            run.log(epoch, name, value.value)
            if value.percent:
                run.percent.add(name)


def _place_finals(reading: _Reading) -> None:
    """End-of-run values (and evaluation-block values not given otherwise) at the last epoch."""
    run = reading.run
    step = max(run.last_step(), 1)
    names = set(run.names())
    for name, (value, number) in reading.finals.items():
        if name in names:
            reading.problem(number, f"{name}: {value.text}", f"{name} is also an epoch metric: kept the epoch values")
            continue
        run.log(step, name, value.value)
        if value.percent:
            run.percent.add(name)


# -- results ---------------------------------------------------------------------------------------------------
def _read_results(reading: _Reading, section: Section, path: Path) -> None:
    lines = section.lines
    kept = []
    in_tables = _read_tables(reading, lines)
    for number, text in lines:
        if number in in_tables or ml.is_decoration(text) or ml.is_derived(text):
            continue
        found, left = ml.statements(text)
        if found:
            reading.said += [(s, number) for s in found]
            if ml.has_digits(left):
                reading.problem(number, left, "part of the line is not 'label = number': skipped")
            continue
        evaluated = ml.evaluation(text)
        if evaluated is not None:
            reading.said.append((evaluated[0], number))
        elif ml.has_digits(text):
            reading.problem(number, text, "a line with numbers that is neither 'label = value' nor 'label: value'")
        elif not text.rstrip().endswith(":"):
            kept.append(text)
    if "".join(kept).strip():
        reading.notes.append("Results:\n" + "\n".join(kept).strip())


def _check_statements(reading: _Reading) -> None:
    """Every stated value as a row of the stated table, checked against the data; an evaluation-block value the
    data do not have is logged (under test/); a stated value the data contradict is also a problem."""
    run = reading.run
    for statement, number in reading.said:
        prefer = PREFER[statement.kind]
        name = label_metric(statement.label, run.names(), prefer, create=statement.kind != "best")
        if name is None:
            reading.problem(number, f"{statement.label}: {statement.value.text}",
                            "names no metric we know: kept as written in the stated values")  # fmt: skip
        elif statement.kind == "evaluation" and name not in run.names():
            run.log(max(run.last_step(), 1), name, statement.value.value)
            if statement.value.percent:
                run.percent.add(name)
        check = _check(run, statement, name) if name else "names no metric"
        if check.startswith("differs"):
            reading.problem(number, f"{statement.label} = {statement.value.text}", f"{name} {check}")
        run.stated.append({"kind": statement.kind, "label": statement.label, "metric": name,
                           "value": statement.value.value, "percent": statement.value.percent,
                           "epoch": statement.epoch, "check": check, "line": number})  # fmt: skip
    if run.stated:
        run.tables[STATED_TABLE] = run.stated


def _check(run: ImportedRun, statement: ml.Statement, name: str) -> str:
    """'agrees', 'differs: the data give ...' or 'not in the data', within the rounding of the number written."""
    points = run.series(name)
    if not points:
        return "not in the data"
    sem = resolve(name, [v for _, v in points], {"scale": "percent"} if name in run.percent else None)
    if statement.kind == "best":
        best = sem.best(v for _, v in points)
        value = best if best is not None else points[-1][1]
    else:
        value = points[-1][1]
    epoch = next((s for s, v in points if v == value), None)
    stated = statement.value.value
    if statement.value.percent and sem.scale == "fraction":
        stated /= 100
    tolerance = rounding(statement.value.text) * (0.01 if stated != statement.value.value else 1)
    if abs(value - stated) > tolerance + 1e-12:
        return f"differs: the data give {value:.6g}" + (f" at epoch {epoch}" if epoch is not None else "")
    if statement.epoch is not None and statement.epoch != epoch:
        return f"differs: the best is at epoch {epoch}, not {statement.epoch}"
    return "agrees"


_SECTION_READERS: dict[str, Any] = {
    "changes": _read_labels, "reason": _read_labels, "notes": _read_labels, "config": _read_config,
    "metrics": _read_metrics, "results": _read_results, "images": _read_images,
}  # fmt: skip
