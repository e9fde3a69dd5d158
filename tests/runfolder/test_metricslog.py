"""The metrics log format: what is written reads back exactly; damaged lines are skipped, never misread."""

from __future__ import annotations

import math
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.runfolder import metricslog


def test_lines_carry_an_adler32_of_their_body() -> None:
    data = metricslog.encode_records({"val/top1": 0.25}, 3, 1700000000.0, set())
    body, checksum = data[:-9], data[-9:-1]
    assert data.endswith(b"\n")
    assert body == b"3\tval/top1\t0.25\t1700000000.000\t"
    assert checksum == b"%08x" % zlib.adler32(body)


def test_non_finite_values_are_written_as_words() -> None:
    data = metricslog.encode_records({"a": math.nan, "b": math.inf, "c": -math.inf}, 1, 0.0, set())
    assert [line.split(b"\t")[2] for line in data.splitlines()] == [b"nan", b"inf", b"-inf"]


@pytest.mark.parametrize(
    ("metrics", "message"),
    [({"": 1.0}, "non-empty"), ({"a\tb": 1.0}, "tab"), ({"x" * 300: 1.0}, "longer"),
     ({"val/x": "0.5"}, "text"), ({"val/x": object()}, "not a number"), ({"val/x": [1, 2]}, "not a number")],
)
def test_bad_names_and_values_are_refused_with_the_reason(metrics: dict, message: str) -> None:
    with pytest.raises(metricslog.MetricError, match=message):
        metricslog.encode_records(metrics, 1, 0.0, set())


def test_validate_keeps_complete_lines_and_leaves_the_unfinished_one() -> None:
    data = metricslog.encode_records({"a": 1.0, "b": 2.0}, 1, 0.0, set())
    partial = metricslog.encode_records({"c": 3.0}, 2, 0.0, set())[:-4]
    chunk = metricslog.validate_chunk(data + partial)
    assert (chunk.n_valid, chunk.n_invalid, chunk.consumed) == (2, 0, len(data))
    assert chunk.valid == data


def test_parse_line_rejects_a_malformed_line_even_with_a_good_checksum() -> None:
    body = b"1\tname\tnot-a-number\t0.0\t"
    assert metricslog.parse_line(body + b"%08x" % zlib.adler32(body)) is None
    assert metricslog.parse_line(b"00000001") is None


names = st.text(st.characters(blacklist_characters="\t\n\r\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)
values = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), names, values), min_size=1, max_size=20))
def test_every_logged_value_reads_back_exactly(records: list) -> None:
    data = b"".join(metricslog.encode_records({n: v}, s, 1.5, set()) for s, n, v in records)
    chunk = metricslog.validate_chunk(data)
    parsed = [metricslog.parse_line(line) for line in chunk.valid.splitlines()]
    assert [(s, n, float(v)) for s, n, v in records] == [(p[0], p[1], p[2]) for p in parsed]


@pytest.mark.parametrize(
    "damage",
    [b"\n", b"ab\n", b"0000000\n", b"0123456789abcdef\n", b"A" * 8 + b"\n"],
    ids=["empty line", "short line", "seven hex digits", "wrong checksum", "upper-case checksum"],
)
def test_one_bad_line_among_good_ones_is_the_only_one_dropped(damage: bytes) -> None:
    """The whole-block comparison must not let a short or wrong line through, whatever its length."""
    good = [metricslog.encode_records({"m": float(i)}, i, 0.0, set()) for i in range(5)]
    chunk = metricslog.validate_chunk(b"".join(good[:2]) + damage + b"".join(good[2:]))
    assert (chunk.n_valid, chunk.n_invalid, chunk.valid) == (5, 1, b"".join(good))

