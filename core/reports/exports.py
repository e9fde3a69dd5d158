"""The runs table and any run's metrics as files: CSV for spreadsheets, Parquet for pandas and DuckDB."""

from __future__ import annotations

import io

import pandas as pd

from core.store import Store, queries

FORMATS = ("csv", "parquet")
ALL_POINTS = 2**31  # curves_many downsamples above this many points per curve: an export keeps every point


def runs_frame(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Every run (or the given ones), newest first, with the last value of every metric as a column."""
    names = queries.metric_names(store, run_ids)
    frame, _ = queries.find_runs(store, metrics=names, limit=None)
    if run_ids is not None:
        frame = frame[frame["id"].isin(run_ids)]
    return frame.reset_index(drop=True)


def metrics_frame(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """Every point the runs logged, long: run_id, run_name, name, step, value, time (step order)."""
    names = queries.metric_names(store, run_ids) if run_ids else []
    points = queries.curves_many(store, run_ids, names, max_points=ALL_POINTS)
    labels = queries.runs_meta(store, run_ids)[["id", "name"]].rename(columns={"id": "run_id", "name": "run_name"})
    merged = points.merge(labels, on="run_id", how="left")
    return merged[["run_id", "run_name", "name", "step", "value", "time"]]


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The frame as a CSV (lists such as tags joined with ';') or Parquet file."""
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    if fmt == "csv":
        flat = frame.copy()
        for column in flat.columns:
            if flat[column].dtype == object:
                flat[column] = flat[column].map(_cell)
        return flat.to_csv(index=False).encode()
    raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _cell(value: object) -> object:
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    return ";".join(str(v) for v in value) if isinstance(value, list) else value
