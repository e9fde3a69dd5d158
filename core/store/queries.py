"""The questions pages and the CLI ask of the index, each one SQL query returning a frame or a record."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    return find_runs(store, metrics=metrics, limit=limit)[0]


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


# -- the pages' queries ---------------------------------------------------------------------------------
SORTABLE = ("created", "name", "group", "status", "recipe", "duration_s")


def filter_options(store: Store) -> dict[str, list[str]]:
    """Values the runs filters offer: statuses, groups, recipes and tags that occur."""
    def distinct(sql: str) -> list[str]:
        return [row[0] for row in store.rows(sql) if row[0]]

    return {
        "status": distinct("SELECT DISTINCT status FROM runs ORDER BY 1"),
        "group": distinct("SELECT DISTINCT grp FROM runs ORDER BY 1"),
        "recipe": distinct("SELECT DISTINCT recipe FROM runs ORDER BY 1"),
        "tag": distinct("SELECT DISTINCT unnest(tags) FROM runs ORDER BY 1"),
    }


def status_counts(store: Store) -> list[tuple[str, int]]:
    """How many runs have each status, by status name."""
    rows = store.rows("SELECT status, count(*) FROM runs GROUP BY status ORDER BY 1")
    return [(status, int(n)) for status, n in rows]


CONFIG_PREFIX = "config."  # a runs-list column holding a config key's value: "config.lr"


def config_keys(store: Store) -> list[str]:
    """The top-level config keys some run logged, sorted."""
    sql = ("SELECT DISTINCT unnest(json_keys(CASE WHEN json_valid(config) AND config LIKE '{%' THEN config "
           "ELSE '{}' END)) AS key FROM runs ORDER BY 1")
    return [row[0] for row in store.rows(sql)]


def find_runs(
    store: Store,
    *,
    metrics: list[str],
    search: str = "",
    status: list[str] | None = None,
    group: list[str] | None = None,
    recipe: list[str] | None = None,
    tag: list[str] | None = None,
    sort: str = "created",
    descending: bool = True,
    limit: int | None = 50,
    offset: int = 0,
    config: list[str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """One page of runs matching the filters, sorted by a column, any metric's last value or a config key's
    value (``config.<key>``, numbers as numbers); and the total. ``config`` keys become ``config.<key>`` columns.

    The filtering, sorting and paging happen in SQL, so 10,000 runs cost what 50 do.
    """
    config = list(config or [])
    params: list[Any] = list(metrics)
    where = _filters(params, search, status, group, recipe, tag)
    pivots = "".join(f', max(s.last_value) FILTER (WHERE s.name = ${i + 1}) AS "{_quote(m)}"'
                     for i, m in enumerate(metrics))
    for key in config:
        params.append(f"$.{json.dumps(key)}")
        value = f"json_extract_string(CASE WHEN json_valid(r.config) THEN r.config END, ${len(params)})"
        pivots += f', any_value({value}) AS "{_quote(CONFIG_PREFIX + key)}"'
    names_in = ", ".join(f"${i + 1}" for i in range(len(metrics))) or "NULL"
    way = "DESC" if descending else "ASC"
    order = ", ".join(f"{e} {way} NULLS LAST" for e in _order_by(sort, metrics, config))
    sql = (
        f"SELECT {_RUN_COLUMNS}{pivots}, count(*) OVER () AS total FROM runs r "
        f"LEFT JOIN metric_summary s ON s.run_key = r.key AND s.name IN ({names_in}) "
        f"WHERE {' AND '.join(where)} GROUP BY ALL "
        f"ORDER BY {order}, r.id DESC "
        f"{f'LIMIT {int(limit)} ' if limit else ''}OFFSET {int(offset)}"
    )
    frame = store.frame(sql, params)
    total = int(frame["total"].iloc[0]) if len(frame) else 0
    return frame.drop(columns="total"), total


def _filters(params: list[Any], search: str, status: list[str] | None, group: list[str] | None,
             recipe: list[str] | None, tag: list[str] | None) -> list[str]:
    """The WHERE conditions of the runs filters; their values are appended to ``params`` ($n placeholders)."""
    where = ["TRUE"]
    if search:
        params.append(f"%{search.lower()}%")
        p = len(params)
        where.append(f"(lower(r.name) LIKE ${p} OR lower(r.id) LIKE ${p} OR lower(r.grp) LIKE ${p} "
                     f"OR lower(array_to_string(r.tags, ' ')) LIKE ${p})")
    for column, chosen in (("r.status", status), ("r.grp", group), ("r.recipe", recipe)):
        if chosen:
            params.append(list(chosen))
            where.append(f"{column} IN (SELECT unnest(${len(params)}::VARCHAR[]))")
    if tag:
        params.append(list(tag))
        where.append(f"list_has_any(r.tags, ${len(params)}::VARCHAR[])")
    return where


def _order_by(sort: str, metrics: list[str], config: list[str]) -> list[str]:
    """The ORDER BY expressions of a sort choice; a config key sorts numbers by value, then text."""
    if sort in metrics or sort in SORTABLE:
        return [f'"{_quote(sort)}"']
    if sort.startswith(CONFIG_PREFIX) and sort.removeprefix(CONFIG_PREFIX) in config:
        column = f'"{_quote(sort)}"'
        return [f"TRY_CAST({column} AS DOUBLE)", column]
    return ["created"]


def curves_many(store: Store, run_ids: list[str], metrics: list[str], max_points: int = 1000) -> pd.DataFrame:
    """Points of several metrics of several runs (run_id, name, step, value, time), step order.

    A series longer than ``max_points`` is downsampled in the query, keeping the lowest and the highest
    point of each of max_points/2 buckets (shape-preserving: spikes survive), so a chart never gets more
    points than it can draw.
    """
    if not run_ids or not metrics:
        return pd.DataFrame(columns=["run_id", "name", "step", "value", "time"])
    ids, names = _params_from(1, len(run_ids)), _params_from(len(run_ids) + 1, len(metrics))
    cap = len(run_ids) + len(metrics) + 1
    sql = f"""
        WITH chosen AS (SELECT key, id FROM runs WHERE id IN ({ids})),
        pts AS (
            SELECT c.id AS run_id, m.name, m.step, m.value, m.time,
                   count(*) OVER (PARTITION BY c.id, m.name) AS n,
                   row_number() OVER (PARTITION BY c.id, m.name ORDER BY m.step, m.time) AS rn
            FROM metrics m JOIN chosen c ON m.run_key = c.key WHERE m.name IN ({names})
        ),
        bucketed AS (SELECT *, floor((rn - 1) * (${cap} // 2) / n) AS bucket FROM pts)
        SELECT run_id, name, step, value, time FROM bucketed
        QUALIFY n <= ${cap}
            OR row_number() OVER (PARTITION BY run_id, name, bucket ORDER BY value ASC, step) = 1
            OR row_number() OVER (PARTITION BY run_id, name, bucket ORDER BY value DESC, step) = 1
        ORDER BY run_id, name, step, time
    """
    return store.frame(sql, [*run_ids, *metrics, int(max_points)])


def final_metrics(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """Per run and metric: last value (at the last step), best (min and max), number of points."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "name", "last_step", "last_value", "min_value", "max_value", "n"])
    sql = (f"SELECT r.id AS run_id, s.name, s.last_step, s.last_value, s.min_value, s.max_value, s.n "
           f"FROM metric_summary s JOIN runs r ON r.key = s.run_key WHERE r.id IN ({_params(len(run_ids))}) "
           f"ORDER BY r.id, s.name")
    return store.frame(sql, list(run_ids))


def run_table(store: Store, run_id: str, name: str) -> list[dict[str, Any]]:
    """The rows of one table a run logged (e.g. ``test/per_make``); [] when it has none."""
    sql = ("SELECT t.row FROM table_rows t JOIN runs r ON r.key = t.run_key "
           "WHERE r.id = ? AND t.name = ? ORDER BY t.idx")
    return [json.loads(row[0]) for row in store.rows(sql, [run_id, name])]


def table_names(store: Store, run_id: str) -> list[str]:
    sql = "SELECT DISTINCT t.name FROM table_rows t JOIN runs r ON r.key = t.run_key WHERE r.id = ? ORDER BY 1"
    return [row[0] for row in store.rows(sql, [run_id])]


def newest_runs(store: Store, keep: Sequence[str] = (), limit: int = 500,
                recipe: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """A picker's runs: the newest ``limit`` (of ``recipe``), and first those of ``keep`` that are not among them,
    so that thousands of runs are not sent to the browser and a run already chosen is never dropped. Columns
    id, name, group, status."""
    columns = ["id", "name", "group", "status"]
    frame, _ = find_runs(store, metrics=[], recipe=recipe, limit=limit)
    offered = set(frame["id"])
    older = runs_meta(store, [r for r in dict.fromkeys(keep) if r and r not in offered])
    if recipe is not None:
        older = older[older["recipe"].isin(recipe)]
    return pd.concat([older[columns], frame[columns]], ignore_index=True) if len(older) else frame[columns]


def runs_meta(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """Name, group, status, recipe, config (JSON text), changes, reason, notes, tags... of the given runs."""
    if not run_ids:
        return pd.DataFrame(columns=["id", "name", "group", "status", "recipe", "config", "changes", "reason", "tags"])
    sql = (f'SELECT id, name, grp AS "group", status, recipe, created, ended, config, changes, reason, notes, '
           f"progress_done, progress_total, error, tags FROM runs WHERE id IN ({_params(len(run_ids))}) "
           f"ORDER BY created")
    return store.frame(sql, list(run_ids))


def _params_from(first: int, n: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + n))


def predicted_class_counts(store: Store, run_ids: list[str], table: str = "test/predictions") -> pd.DataFrame:
    """How often each run predicted each class in a predictions table: columns run_id, pred, n."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "pred", "n"])
    sql = (f"SELECT r.id AS run_id, json_extract_string(t.row, '$.pred') AS pred, count(*) AS n "
           f"FROM table_rows t JOIN runs r ON r.key = t.run_key "
           f"WHERE t.name = $1 AND r.id IN ({_params_from(2, len(run_ids))}) GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2")
    return store.frame(sql, [table, *run_ids])
