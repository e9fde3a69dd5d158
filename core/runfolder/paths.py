"""Where things live: the runs folder (EXPLORER_RUNS_DIR) and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INDEX_FILE = "index.duckdb"


def runs_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds run folders and the index.

    Args:
        override: an explicit folder; else EXPLORER_RUNS_DIR; else ``runs/`` in the repository.
    """
    chosen = override or os.environ.get("EXPLORER_RUNS_DIR") or REPO_ROOT / "runs"
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
