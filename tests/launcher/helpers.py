"""Helpers of the launcher tests: the live processes of a run."""

from __future__ import annotations

import os
from pathlib import Path


def processes_of(run_dir: Path) -> list[str]:
    """Live processes of a run: its folder in their command line, or its id in their environment."""
    marks = (str(run_dir).encode(), f"EXPLORER_RUN_ID={run_dir.name}".encode())
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            seen = Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(m in seen for m in marks) and int(pid) != os.getpid():
            found.append(f"{pid} {seen[:200]!r}")
    return found
