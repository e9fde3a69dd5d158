"""What the home and Runs pages show: the runs by status, the latest runs, and one page of the runs list with
progress and warnings; and how a run is labelled in the pages' pickers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.store import Store, queries
from core.views import run as runview

PAGE_SIZE = 50
SORT_COLUMNS = ("name", "group", "status", "duration_s")  # offered after "created" and the key metrics


def run_label(name: str, run_id: str) -> str:
    """How a picker names a run: its name and the end of its id (names need not be unique)."""
    return f"{name} ({run_id[-6:]})"


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a runs frame (metric names are ``split/name``; no run column has a slash)."""
    return [c for c in frame.columns if "/" in c]


def latest_runs(store: Store, limit: int = 10) -> tuple[pd.DataFrame, list[str]]:
    """The home page's table: the newest runs with their key metrics; and the names of those metrics."""
    latest = queries.list_runs(store, limit=limit)
    metrics = metric_columns(latest)
    return latest[["name", "group", "status", "recipe", "created", *metrics, "id"]], metrics


def sort_options(metrics: list[str]) -> list[str]:
    """What the runs list can be sorted by: creation, the key metrics, then the plain columns."""
    return ["created", *metrics, *SORT_COLUMNS]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages of ``size`` runs needed for ``total`` runs (at least one)."""
    return max(1, -(-total // size))


def runs_page(store: Store, *, metrics: list[str], page: int, size: int = PAGE_SIZE,
              **filters: Any) -> tuple[pd.DataFrame, int]:
    """One page of the runs list as shown: progress (0..1) and warnings next to the labels and metrics.

    Args:
        store: the index.
        metrics: metric columns to show (their last values).
        page: 1-based page number.
        size: runs per page.
        filters: ``queries.find_runs``' search, status, group, recipe, tag, sort and descending.

    Returns:
        The page's rows and the number of runs matching the filters.
    """
    frame, total = queries.find_runs(store, metrics=metrics, limit=size, offset=(page - 1) * size, **filters)
    frame["progress"] = frame["progress_done"] / frame["progress_total"]
    frame["warnings"] = frame["id"].map(runview.badges(store, frame["id"].tolist())) if len(frame) else ""
    columns = ["name", "status", "progress", "group", "recipe", *metrics, "warnings", "created", "duration_s",
               "tags", "id"]
    return frame[columns], total
