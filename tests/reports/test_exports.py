"""Exports: the runs table with each metric's last value, and every point of chosen runs, as CSV and Parquet
files that pandas reads back to the same numbers (no downsampling, however long a curve)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from core import tracking
from core.reports import exports
from core.store import Store


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with tracking.start(name="long", group="g", tags=["a", "b"], runs_dir=runs_root) as run:
        for step in range(1, 2501):
            run.log({"train/loss": 1.0 / step}, step=step)
        run.log({"val/top1": 0.5}, step=2500)
    with tracking.start(name="short", runs_dir=runs_root) as other:
        other.log({"val/top1": 0.25}, step=1)
    with Store(runs_root, in_memory=True) as index:
        yield index


def test_the_runs_table_reads_back_from_csv_and_parquet(store: Store) -> None:
    frame = exports.runs_frame(store)
    assert list(frame["name"]) == ["short", "long"] and {"train/loss", "val/top1", "tags"} <= set(frame.columns)
    back_csv = pd.read_csv(io.BytesIO(exports.to_bytes(frame, "csv")))
    back_parquet = pd.read_parquet(io.BytesIO(exports.to_bytes(frame, "parquet")))
    for back in (back_csv, back_parquet):
        assert list(back["val/top1"]) == [0.25, 0.5] and back["train/loss"].iloc[1] == 1.0 / 2500
    assert back_csv["tags"].iloc[1] == "a;b" and list(back_parquet["tags"].iloc[1]) == ["a", "b"]


def test_a_runs_metrics_keep_every_point(store: Store) -> None:
    run_id = exports.runs_frame(store)["id"].iloc[1]
    frame = exports.metrics_frame(store, [run_id])
    loss = frame[frame["name"] == "train/loss"]
    assert len(loss) == 2500 and list(loss["step"])[:3] == [1, 2, 3] and set(frame["run_name"]) == {"long"}
    back = pd.read_parquet(io.BytesIO(exports.to_bytes(frame, "parquet")))
    assert back["value"].tolist() == frame["value"].tolist()


def test_an_unknown_format_names_the_known_ones(store: Store) -> None:
    with pytest.raises(ValueError, match="csv, parquet"):
        exports.to_bytes(exports.runs_frame(store), "xlsx")
