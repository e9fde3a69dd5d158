"""The DuckDB index over the run folders: one owner of the database file, its ingestion and its queries.

Only the app (or the CLI when the app is closed) opens the database: DuckDB lets one process hold it, and
training processes write to their run folders instead. The index can always be rebuilt from the folders, so
a database that will not open is set aside and rebuilt, never repaired by hand.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from core.runfolder.paths import INDEX_FILE
from core.runfolder.paths import runs_dir as default_runs_dir
from core.store import schema
from core.store.ingest import Ingestor, IngestReport

log = logging.getLogger(__name__)

__all__ = ["IndexBusyError", "IngestReport", "Store"]


class IndexBusyError(RuntimeError):
    """Another process (the app, or another CLI command) holds the index."""


class Store:
    """The index of the runs under ``root``; thread-safe (one connection, used under a lock)."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, in_memory: bool = False) -> None:
        """Open (or create) the index of ``root`` and bring it up to date when it was empty.

        Args:
            root: the runs folder; default EXPLORER_RUNS_DIR or runs/.
            in_memory: build a private index in memory instead of opening the file (what the CLI does
                while the app holds the file: same code, same answers, a little slower).
        """
        self.root = default_runs_dir(root)
        self.path = self.root / INDEX_FILE
        self._lock = threading.RLock()
        self.con = duckdb.connect(":memory:") if in_memory else self._open()
        if schema.create(self.con):
            self.sync()

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise IndexBusyError(
                    f"the index {self.path} is held by another process (is the app running?). "
                    "Close it, or read the run folders directly: the CLI does so by itself."
                ) from exc
            return self._set_aside_and_open(exc)
        except duckdb.Error as exc:
            return self._set_aside_and_open(exc)

    def _set_aside_and_open(self, exc: Exception) -> duckdb.DuckDBPyConnection:
        """Move an index that will not open out of the way and start a new one (rebuilt from the runs)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", ".wal"):
            broken = Path(f"{self.path}{suffix}")
            if broken.exists():
                broken.rename(broken.with_name(f"{broken.name}.broken-{stamp}"))
        log.warning("index %s did not open (%s); set aside as *.broken-%s and rebuilt from the run folders",
                    self.path, exc, stamp)
        return duckdb.connect(str(self.path))

    # -- ingestion --------------------------------------------------------------------------------
    def sync(self) -> IngestReport:
        """Ingest what is new in the run folders (cheap when nothing changed)."""
        with self._lock:
            report = Ingestor(self.con, self.root).sync()
        for run_id, n in report.skipped.items():
            log.warning("run %s: skipped %d corrupt or truncated metric line(s)", run_id, n)
        return report

    def reindex(self) -> IngestReport:
        """Rebuild the index from scratch out of the run folders, with the same code as ``sync``."""
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            schema.clear(self.con)
            self.con.execute("COMMIT")
            return self.sync()

    # -- reading ----------------------------------------------------------------------------------
    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a DataFrame (used by core.store.queries, not by pages)."""
        with self._lock:
            return self.con.cursor().execute(sql, params or []).df()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return its rows as tuples."""
        with self._lock:
            return self.con.cursor().execute(sql, params or []).fetchall()

    def close(self) -> None:
        with self._lock:
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
