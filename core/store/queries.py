"""The questions pages and the CLI ask of the index, each one SQL query returning a frame or a record."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from core import runfolder
from core.store import Store

# Shown on the runs list when present, in this order; the first few that runs actually log are used.
KEY_METRICS = (
    "val/top1", "val/make_acc", "val/top5", "val/loss", "val/mAP", "val/mAP_identity", "val/rank1",
    "test/top1", "test/make_acc", "train/loss",
)

_RUN_COLUMNS = """
    r.id, r.name, r.grp AS "group", r.recipe, r.status, r.created, r.ended,
    epoch(coalesce(r.ended, r.updated) - r.created) AS duration_s,
    r.progress_done, r.progress_total, r.tags, r.error
"""


def key_metrics(store: Store, limit: int = 4) -> list[str]:
    """The KEY_METRICS that some run has logged, at most ``limit`` of them."""
    present = {row[0] for row in store.rows("SELECT DISTINCT name FROM metric_summary")}
    return [m for m in KEY_METRICS if m in present][:limit]


def list_runs(store: Store, metrics: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    """Runs newest first, with the last value of each of ``metrics`` as a column (default: key_metrics)."""
    metrics = key_metrics(store) if metrics is None else metrics
    pivots = "".join(
        f", max(s.last_value) FILTER (WHERE s.name = ${i + 1}) AS \"{_quote(m)}\"" for i, m in enumerate(metrics)
    )
    names_in = ", ".join(f"${i + 1}" for i in range(len(metrics))) or "NULL"
    sql = (
        f"SELECT {_RUN_COLUMNS}{pivots} FROM runs r "
        f"LEFT JOIN metric_summary s ON s.run_key = r.key AND s.name IN ({names_in}) "
        f"GROUP BY ALL ORDER BY r.created DESC, r.id DESC{f' LIMIT {int(limit)}' if limit else ''}"
    )
    return store.frame(sql, list(metrics))


def metric_names(store: Store, run_ids: list[str] | None = None) -> list[str]:
    """Names of the metrics logged (by the given runs, or by any run), sorted."""
    if run_ids:
        sql = (f"SELECT DISTINCT s.name FROM metric_summary s JOIN runs r ON r.key = s.run_key "
               f"WHERE r.id IN ({_params(len(run_ids))}) ORDER BY 1")
        return [row[0] for row in store.rows(sql, list(run_ids))]
    return [row[0] for row in store.rows("SELECT DISTINCT name FROM metric_summary ORDER BY 1")]


def curves(store: Store, run_ids: list[str], metric: str) -> pd.DataFrame:
    """Points of ``metric`` for the given runs: columns run_id, step, value, time, in step order."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "step", "value", "time"])
    sql = (
        "WITH chosen AS (SELECT key, id FROM runs WHERE id IN (" + _params(len(run_ids)) + ")) "
        "SELECT c.id AS run_id, m.step, m.value, m.time FROM metrics m JOIN chosen c ON m.run_key = c.key "
        "WHERE m.name = ? ORDER BY c.id, m.step, m.time"
    )
    return store.frame(sql, [*run_ids, metric])


def run_record(store: Store, run_id: str) -> dict[str, Any]:
    """One run as ``show --json`` prints it: meta, status, config, metrics, tables and artifacts."""
    rows = store.rows(
        "SELECT key, id, name, grp, recipe, status, created, ended, tags, notes, changes, reason, config, "
        "status_record FROM runs WHERE id = ?", [run_id])
    if not rows:
        raise runfolder.RunNotFoundError(f"no run {run_id!r} in the index; run `python -m core reindex`")
    key, *fields = rows[0]
    names = ["id", "name", "group", "recipe", "status", "created", "ended", "tags", "notes", "changes", "reason"]
    record: dict[str, Any] = dict(zip(names, fields[: len(names)]))
    for stamp in ("created", "ended"):
        record[stamp] = record[stamp].isoformat() + "Z" if record[stamp] is not None else None
    record["config"] = json.loads(fields[len(names)] or "{}")
    record["status_record"] = json.loads(fields[len(names) + 1] or "{}")
    record["metrics"] = _metrics_of(store, key)
    record["tables"] = _tables_of(store, key)
    record["artifacts"] = runfolder.list_artifacts(store.root / run_id)
    return record


def _metrics_of(store: Store, key: int) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for name, step, value in store.rows(
        "SELECT name, step, value FROM metrics WHERE run_key = ? ORDER BY name, step, time", [key]
    ):
        out.setdefault(name, []).append([step, _finite_or_none(value)])
    return out


def _tables_of(store: Store, key: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, row in store.rows("SELECT name, row FROM table_rows WHERE run_key = ? ORDER BY name, idx", [key]):
        out.setdefault(name, []).append(json.loads(row))
    return out


def _finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values are reported as null."""
    return value if value is not None and value == value and abs(value) != float("inf") else None


def _params(n: int) -> str:
    return ", ".join("?" * n)


def _quote(name: str) -> str:
    return name.replace('"', '""')
