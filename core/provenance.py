"""What a run was started from, captured once at its start as W&B and MLflow do: the git commit of the working
folder, whether the tree was dirty (and its diff), the command line, Python and key package versions, the host
and its GPUs. Standard library only; each probe is bounded in time and a missing tool (no git, no nvidia-smi)
leaves its field empty instead of failing the run.

Set ``EXPLORER_PROVENANCE=0`` to skip the capture (the tests do, to stay fast).
"""

from __future__ import annotations

import getpass
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PROVENANCE_FILE = "provenance.json"
DIFF_FILE = "git.diff"
ENV_SWITCH = "EXPLORER_PROVENANCE"
PACKAGES = ("torch", "torchvision", "timm", "numpy", "lightning", "transformers", "pytorch-metric-learning")
MAX_DIFF_BYTES = 1 << 20  # a diff larger than this is cut (it is a record, not a backup)
TIMEOUT_S = 5.0


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1") not in ("0", "false", "no")


def _run(argv: list[str], cwd: Path) -> str | None:
    """stdout of a short command, or None when the tool is missing, fails or takes too long."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(cwd: Path) -> tuple[dict[str, Any], str]:
    """(commit, branch, dirty) of the repository holding ``cwd``, and its diff against HEAD ('' when clean)."""
    commit = _run(["git", "rev-parse", "HEAD"], cwd)
    if commit is None:
        return {}, ""
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd) or ""
    branch = (_run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd) or "").strip()
    diff = (_run(["git", "diff", "HEAD"], cwd) or "") if status.strip() else ""
    return {"commit": commit.strip(), "branch": branch, "dirty": bool(status.strip())}, diff[:MAX_DIFF_BYTES]


def gpus() -> list[str]:
    """The names of the visible NVIDIA GPUs ('' entries dropped); [] without nvidia-smi."""
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"], Path.cwd())
    return [line.strip() for line in (out or "").splitlines() if line.strip()]


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def capture(cwd: Path | None = None) -> tuple[dict[str, Any], str]:
    """The provenance record of a run started now from ``cwd`` (default: the current folder), and the git diff."""
    cwd = Path(cwd or Path.cwd())
    git, diff = git_state(cwd)
    record = {
        "git": git,
        "command": [sys.executable, *sys.argv],
        "cwd": str(cwd),
        "python": platform.python_version(),
        "packages": versions(),
        "host": platform.node(),
        "user": _user(),
        "platform": platform.platform(),
        "gpus": gpus(),
    }
    return record, diff


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
