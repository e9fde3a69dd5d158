"""CLI verbs that read the runs: ``ls`` and ``show``; and ``reindex``, which rebuilds the index.

Before any verb runs, ``core.cli.main`` settles runs whose processes died and starts a scheduler if runs wait
(``reconcile_and_start_scheduler``), so a killed run shows as crashed and a queued one gets started even when no
scheduler ran; the index (pandas, DuckDB) is imported only when a verb runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from core import runfolder
from core.cli.verbs import VERBS, CliError, Verb, no_arguments
from core.runfolder.paths import runs_dir

if TYPE_CHECKING:
    from core.store import Store


def open_store() -> Store:
    """The index, up to date; a private in-memory one when another process (the app) holds the file."""
    from core.store import IndexBusyError, Store

    root = runs_dir()
    try:
        store = Store(root)
    except IndexBusyError:
        print("note: the app holds the index; reading the run folders directly", file=sys.stderr)
        return Store(root, in_memory=True)
    store.sync()
    return store


# -- ls ------------------------------------------------------------------------------------------------
def _ls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON array of run objects")
    p.add_argument("--limit", type=int, default=None, help="at most this many runs, newest first")


def cmd_ls(args: argparse.Namespace) -> int:
    from core.store import queries

    with open_store() as store:
        frame = queries.list_runs(store, limit=args.limit)
    records = [_run_row(row) for row in frame.to_dict(orient="records")]
    if args.json:
        print(json.dumps(records, indent=1))
    elif not records:
        print(f"no runs in {runs_dir()}; start one with `python -m core run classify` or the app")
    else:
        _print_table(records)
    return 0


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is pd.NaT:
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat() + "Z"
        elif hasattr(value, "tolist"):
            value = value.tolist()
        out[key] = runfolder.sanitize_json(value) if isinstance(value, float) else value
    return out


def _print_table(records: list[dict[str, Any]]) -> None:
    skip = {"tags", "error", "progress_done", "progress_total", "ended"}
    cols = [c for c in records[0] if c not in skip]
    cells = [[_cell(r.get(c)) for c in cols] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:40]


# -- show ----------------------------------------------------------------------------------------------
def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (or a unique part of it)")
    p.add_argument("--json", action="store_true", help="print one JSON object: config, metrics, tables, artifacts")


def cmd_show(args: argparse.Namespace) -> int:
    from core.store import queries

    run_dir = runfolder.resolve_run_dir(runs_dir(), args.run)
    with open_store() as store:
        record = queries.run_record(store, run_dir.name)
    if args.json:
        print(json.dumps(record, indent=1))
        return 0
    print(f"{record['id']}  {record['name']}  [{record['status']}]  recipe={record['recipe']}  group={record['group']}")
    print("config: " + json.dumps(record["config"], sort_keys=True))
    for name, points in record["metrics"].items():
        step, value = points[-1]
        print(f"  {name:<28} last {_cell(value):>10} at step {step}  ({len(points)} points)")
    for name, rows in record["tables"].items():
        print(f"  table {name}: {len(rows)} rows")
    for name in record["artifacts"]:
        print(f"  file {name}")
    return 0


# -- reindex -------------------------------------------------------------------------------------------
def cmd_reindex(args: argparse.Namespace) -> int:
    from core.store import IndexBusyError, Store

    root = runs_dir()
    try:
        store = Store(root)
    except IndexBusyError as exc:
        raise CliError(f"{exc} (reindex needs the index file itself)") from exc
    with store:
        report = store.reindex()
        n_runs = store.rows("SELECT count(*) FROM runs")[0][0]
    skipped = sum(report.skipped.values())
    print(f"reindexed {n_runs} runs, {report.records} metric records from {root}"
          + (f"; skipped {skipped} corrupt line(s)" if skipped else ""))
    return 0


VERBS.register(Verb("ls", "list the runs, newest first", _ls_args, cmd_ls))
VERBS.register(Verb("show", "show one run: status, config, metrics, tables, artifacts", _show_args, cmd_show))
VERBS.register(Verb("reindex", "rebuild the index from the run folders", no_arguments, cmd_reindex))
