"""Processes of a run's group, read from /proc (no PID is trusted to still mean the same process)."""

from __future__ import annotations

import os
from pathlib import Path

from core.runfolder.paths import REPO_ROOT


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def process_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of the launcher's processes: this one's, with the runs folder and the repository on
    the import path (a user's script launched from anywhere can ``from core import tracking``)."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "EXPLORER_RUNS_DIR": str(root), "PYTHONPATH": path, **extra}
