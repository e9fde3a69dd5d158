"""The launcher's processes: ``python -m core.launcher scheduler RUNS | supervisor RUN_DIR SLOT | child RUN_DIR |
ray-job RUN_DIR TOKEN``."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    role, *args = argv
    if role == "scheduler":
        from core.launcher.scheduler import main as run_scheduler

        return run_scheduler(Path(args[0]))
    if role == "supervisor":
        from core.launcher.supervisor import supervise

        return supervise(Path(args[0]), args[1])
    if role == "ray-job":
        from core.launcher.ray_job import main as run_job

        return run_job(Path(args[0]), args[1])
    if role == "child":
        from core.launcher.child import main as run_child

        try:
            return run_child(Path(args[0]))
        except ValueError as exc:  # configuration and dataset errors: one line; the run is marked failed
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"unknown role {role!r}; use scheduler, supervisor, ray-job or child", file=sys.stderr)
    return 2


raise SystemExit(main(sys.argv[1:]))
