"""What the home and Runs pages show: the runs by status, the latest runs, and one page of the runs list with
progress, the chosen metric and config columns, tags and warnings (the findings of ``core.views.verdicts``);
the columns a user chose, remembered; and how a run is labelled and linked in the pages."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pandas as pd

from core import runfolder
from core.store import Store, queries
from core.views import verdicts
from core.views.run import save_tags

PAGE_SIZE = 50
SORT_COLUMNS = ("name", "group", "status", "duration_s")  # offered after "created" and the chosen columns
RUN_PAGE = "Run"  # the Run page's address, relative to the app's root
LINK_TEXT = r"name=(.*)$"  # what a run link shows: its name (see run_link)
SETTINGS_FILE = "explorer_ui.json"  # in the runs folder: what the pages remember, such as the chosen columns


def run_link(run_id: str, name: str) -> str:
    """The Run page's address of a run, ending in its name so that a link column shows the name."""
    return f"{RUN_PAGE}?run={quote_plus(run_id)}&name={quote_plus(str(name))}"


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a runs frame (metric names are ``split/name``; no run column has a slash)."""
    return [c for c in frame.columns if "/" in c]


def latest_runs(store: Store, limit: int = 10) -> tuple[pd.DataFrame, list[str]]:
    """The home page's table: the newest runs with their key metrics, and ``link`` to their page (showing the
    name); and the names of those metrics."""
    latest = queries.list_runs(store, limit=limit)
    metrics = metric_columns(latest)
    latest["link"] = [run_link(r, n) for r, n in zip(latest["id"], latest["name"])]
    return latest[["name", "group", "status", "recipe", "created", *metrics, "id", "link"]], metrics


def column_choices(store: Store) -> list[str]:
    """What the runs list can show as a column: every metric logged, then every config key (``config.<key>``)."""
    return [*queries.metric_names(store), *(queries.CONFIG_PREFIX + k for k in queries.config_keys(store))]


def chosen_columns(root: Path, offered: list[str], default: list[str]) -> list[str]:
    """The columns the user chose last time (kept in the runs folder), those still offered; else ``default``."""
    saved = runfolder.read_json(Path(root) / SETTINGS_FILE, {}) or {}
    columns = [c for c in saved.get("columns", []) if c in offered] if isinstance(saved, dict) else []
    return columns or default


def remember_columns(root: Path, columns: list[str]) -> None:
    """Keep the chosen columns for the next visit (and the next user of this runs folder)."""
    path = Path(root) / SETTINGS_FILE
    saved = runfolder.read_json(path, {}) or {}
    runfolder.write_json_atomic(path, {**(saved if isinstance(saved, dict) else {}), "columns": list(columns)})


def sort_options(columns: list[str]) -> list[str]:
    """What the runs list can be sorted by: creation, the chosen columns, then the plain columns."""
    return ["created", *columns, *SORT_COLUMNS]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages of ``size`` runs needed for ``total`` runs (at least one)."""
    return max(1, -(-total // size))


def warnings_of(store: Store, runs: pd.DataFrame, cache: MutableMapping[Any, str] | None = None) -> dict[str, str]:
    """A short warning per run for the runs list ('' when healthy): the kinds of its findings.

    Args:
        store: the index.
        runs: the runs (columns id, status, ended).
        cache: kept by the caller across calls: a finished run's warning, keyed by its id and end, is
            diagnosed once (the list refreshes every few seconds; only live runs change).
    """
    cache = {} if cache is None else cache
    keys = {r: (r, str(e)) for r, e in zip(runs["id"], runs["ended"])}
    todo = [r for r in runs["id"] if keys[r] not in cache]
    found = verdicts.run_findings(store, todo) if todo else {}
    out = {}
    for run_id, status in zip(runs["id"], runs["status"]):
        text = cache.get(keys[run_id])
        if text is None:
            text = ", ".join(sorted({f.kind.replace("_", " ") for f in found[run_id]}))
            if status in runfolder.FINAL_STATUSES:
                cache[keys[run_id]] = text
        out[run_id] = text
    return out


def runs_page(store: Store, *, metrics: list[str], page: int, size: int = PAGE_SIZE,
              cache: MutableMapping[Any, str] | None = None, **filters: Any) -> tuple[pd.DataFrame, int]:
    """One page of the runs list as shown: progress (0..1), the chosen columns, warnings and tags; the name is
    a link to the run's page (``link``).

    Args:
        store: the index.
        metrics: columns to show: metric names (their last values) and ``config.<key>`` names.
        page: 1-based page number.
        size: runs per page.
        cache: see ``warnings_of``.
        filters: ``queries.find_runs``' search, status, group, recipe, tag, sort and descending.

    Returns:
        The page's rows and the number of runs matching the filters.
    """
    config = [c.removeprefix(queries.CONFIG_PREFIX) for c in metrics if c.startswith(queries.CONFIG_PREFIX)]
    logged = [c for c in metrics if not c.startswith(queries.CONFIG_PREFIX)]
    frame, total = queries.find_runs(store, metrics=logged, limit=size, offset=(page - 1) * size, config=config,
                                     **filters)  # fmt: skip
    frame["progress"] = frame["progress_done"] / frame["progress_total"]
    frame["warnings"] = frame["id"].map(warnings_of(store, frame, cache)) if len(frame) else ""
    frame["link"] = [run_link(r, n) for r, n in zip(frame["id"], frame["name"])]
    frame["tags"] = [list(t) if t is not None else [] for t in frame["tags"]]
    columns = ["link", "name", "status", "progress", "group", "recipe", *metrics, "warnings", "tags", "created",
               "duration_s", "id"]
    return frame[columns], total


def common_tags(frame: pd.DataFrame, run_ids: list[str]) -> list[str]:
    """The tags every one of the runs has (what a tag editor for several runs starts from)."""
    sets = [set(t) for r, t in zip(frame["id"], frame["tags"]) if r in run_ids]
    return sorted(set.intersection(*sets)) if sets else []


def retag(store: Store, frame: pd.DataFrame, run_ids: list[str], chosen: list[str]) -> None:
    """Give the runs the ``chosen`` tags in place of the ones they all shared; their other tags stay."""
    before = set(common_tags(frame, run_ids))
    for run_id, tags in zip(frame["id"], frame["tags"]):
        if run_id in run_ids:
            save_tags(store, run_id, [t for t in tags if t not in before] + list(chosen))


def column_formats(store: Store, run_ids: list[str], columns: list[str]) -> dict[str, Callable[[Any], str]]:
    """How the runs list writes each metric column: by the metric's semantics, so shares read in percent with
    the % sign whether logged as fractions or in percent ("34.84%"), other numbers to 4 significant digits."""
    logged = [c for c in columns if not c.startswith(queries.CONFIG_PREFIX)]
    sems = verdicts.semantics_of(store, run_ids, logged) if run_ids else {}
    return {name: sem.format for name, sem in sems.items()}
