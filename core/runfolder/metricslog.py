"""The append-only metrics log of a run folder: its line format, how lines are written and validated.

One metric record per line, tab-separated and ending in an Adler-32 checksum of everything before it::

    <step>\\t<name>\\t<value>\\t<unix time>\\t<adler32 as 8 lowercase hex>\\n

A reader takes a line only when it ends in a newline and its checksum matches, so a line cut short by a
kill, or changed by a flipped byte, is skipped and counted, never misread. Any single changed byte breaks
the checksum (Adler-32 sums are taken modulo a prime larger than any line).
Validation runs at C speed (``bytes.split``, ``map`` of ``zlib.adler32``, one comparison for a whole block);
parsing is left to Arrow.
"""

from __future__ import annotations

import operator
import sys
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

METRICS_FILE = "metrics.log"
MAX_NAME_LEN = 200
READ_BLOCK = 64 << 20  # bytes of a metrics log read and checked at once
_CHECKSUM_LEN = 8
_BODY = operator.itemgetter(slice(None, -_CHECKSUM_LEN))
_TAIL = operator.itemgetter(slice(-_CHECKSUM_LEN, None))
_adler32 = zlib.adler32
_UINT32 = next(code for code in "IL" if array(code).itemsize == 4)


class MetricError(ValueError):
    """A metric name or value that cannot be logged."""


def check_name(name: object) -> str:
    """Return ``name`` if it can be a metric name, else raise MetricError saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise MetricError(f"metric name {name!r} must be a non-empty string, e.g. 'val/top1'")
    if len(name) > MAX_NAME_LEN:
        raise MetricError(f"metric name {name[:40]!r}... is longer than {MAX_NAME_LEN} characters")
    if any(ch in name for ch in "\t\n\r\x00"):
        raise MetricError(f"metric name {name!r} contains a tab, newline or NUL; use letters, digits, '/', '_'")
    return name


def to_float(name: str, value: object) -> float:
    """Convert a logged value (int, float, bool, numpy or torch scalar) to float, or raise MetricError."""
    if isinstance(value, (str, bytes)):
        raise MetricError(f"metric {name!r}: value {value!r} is text; log numbers (use log_table for text)")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise MetricError(f"metric {name!r}: value of type {type(value).__name__} is not a number") from exc


def encode_records(metrics: dict[str, object], step: int, when: float, known: set[str]) -> bytes:
    """Check and encode the metrics of one step as complete log lines, for a single write.

    Args:
        metrics: name -> number; every name and value is checked before anything is returned.
        step: the step (epoch or iteration) the values belong to.
        when: unix time of the call.
        known: names already checked by this writer (a cache: checking each name once keeps ``log`` cheap).

    Raises:
        MetricError: a name or value that cannot be logged.
    """
    if not known.issuperset(metrics):
        known.update(map(check_name, metrics))
    head, tail, lines = f"{step}\t", f"\t{when:.3f}\t", []
    for name, value in metrics.items():
        if type(value) is not float:
            value = to_float(name, value)
        body = f"{head}{name}\t{value!r}{tail}".encode()  # a float's repr reads back to it; nan, inf, -inf too
        lines.append(b"%s%08x\n" % (body, _adler32(body)))
    return b"".join(lines)


@dataclass
class Chunk:
    """The outcome of validating a block of bytes read from a metrics log.

    Attributes:
        valid: the complete, checksummed lines, concatenated (ready for a CSV parser).
        n_valid: how many records ``valid`` holds.
        n_invalid: complete lines that failed validation (skipped).
        consumed: bytes of the input that were complete lines; the rest is an unfinished line.
    """

    valid: bytes
    n_valid: int
    n_invalid: int
    consumed: int


def validate_chunk(data: bytes) -> Chunk:
    """Split ``data`` into complete lines and keep those whose checksum holds.

    The field layout of a kept line is checked by the parser that reads it (core.store.ingest), which
    falls back to :func:`parse_line` line by line when a line with a good checksum is malformed.
    """
    end = data.rfind(b"\n")
    if end < 0:
        return Chunk(b"", 0, 0, 0)
    lines = data[:end].split(b"\n")
    if _all_valid(lines):  # the usual case, checked without a Python step per line
        return Chunk(data[:end + 1], len(lines), 0, end + 1)
    adler = zlib.adler32
    good = [line for line in lines if b"%08x" % adler(line[:-8]) == line[-8:]]
    valid = b"\n".join(good) + b"\n" if good else b""
    return Chunk(valid, len(good), len(lines) - len(good), end + 1)


def _all_valid(lines: list[bytes]) -> bool:
    """True when every line ends in the checksum of the rest. The checksums of all lines, written as one hex
    string, are compared with the lines' last 8 bytes joined: equal lengths mean every line had 8 bytes to
    compare, and equal bytes mean every checksum matched."""
    sums = array(_UINT32, map(zlib.adler32, map(_BODY, lines)))
    if sys.byteorder == "little":
        sums.byteswap()  # big-endian bytes read as hex in the order %08x writes them
    return sums.tobytes().hex().encode() == b"".join(map(_TAIL, lines))


def parse_line(line: bytes) -> tuple[int, str, float, float] | None:
    """Parse one checksummed line strictly (the slow path); None when it is malformed."""
    fields = line.split(b"\t")
    if len(fields) != 5 or len(fields[4]) != _CHECKSUM_LEN:
        return None
    try:
        return int(fields[0]), fields[1].decode(), float(fields[2]), float(fields[3])
    except ValueError:
        return None


class Record(NamedTuple):
    """One metric record as logged."""

    step: int
    name: str
    value: float
    time: float


def read_chunk(path: Path, offset: int = 0, size: int | None = None) -> tuple[Chunk, int]:
    """Validate the complete lines of a metrics log from ``offset`` (at most READ_BLOCK bytes): the one reader
    of the file, used by the index's incremental ingestion and by :func:`read_records`.

    Args:
        size: the file's size if known (then exactly the bytes present are read, not a whole block).

    Returns:
        The validated chunk and the offset to read from next time.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(READ_BLOCK if size is None else max(0, min(READ_BLOCK, size - offset)))
    except FileNotFoundError:
        return Chunk(b"", 0, 0, 0), offset
    chunk = validate_chunk(data)
    if chunk.consumed == 0 and len(data) == READ_BLOCK:  # one line longer than a block: garbage, skip it
        return Chunk(b"", 0, 1, len(data)), offset + len(data)
    return chunk, offset + chunk.consumed


def read_records(run_dir: Path, name: str | None = None) -> list[Record]:
    """Every valid record of a run folder's metrics log in the order written (only ``name``'s when given);
    empty when there is no log. For the small reads of a running process (resume, a sweep's objective); the
    index reads the same file in bulk with :func:`read_chunk` and Arrow."""
    path, offset, records = Path(run_dir) / METRICS_FILE, 0, []
    while True:
        chunk, offset = read_chunk(path, offset)
        for parsed in map(parse_line, chunk.valid.splitlines()):
            if parsed is not None and (name is None or parsed[1] == name):
                records.append(Record(*parsed))
        if chunk.consumed == 0:
            return records
