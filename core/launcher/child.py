"""The training process of a launched recipe run: ``python -m core.launcher child RUN_DIR``.

Reads the run's launch.json and trains into that run folder, or resumes it from its last checkpoint (a resume,
or a retry after a crash); a retry of a run that crashed before its first checkpoint starts it over.
"""

from __future__ import annotations

from pathlib import Path

from core import runfolder
from core.launcher import queue


def main(run_dir: Path) -> int:
    from core.recipes.runner import RESUME_CHECKPOINT, resume_run, run_recipe  # torch: only in training processes

    spec = queue.read_launch_spec(run_dir)
    has_checkpoint = (run_dir / runfolder.CHECKPOINTS_DIR / RESUME_CHECKPOINT).is_file()
    if spec.get("resume") and (has_checkpoint or not spec.get("retries")):
        resume_run(run_dir.name, runs_dir=str(run_dir.parent))  # a manual resume without checkpoint says so
    else:
        run_recipe(str(spec["recipe"]), list(spec.get("overrides") or []), runs_dir=str(run_dir.parent),
                   run_id=run_dir.name)  # fmt: skip
    return 0
