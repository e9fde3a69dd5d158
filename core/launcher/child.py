"""The training process of a launched recipe run: ``python -m core.launcher child RUN_DIR``.

Reads the run's launch.json and trains into that run folder (or resumes it from its last checkpoint).
"""

from __future__ import annotations

from pathlib import Path

from core.launcher import queue


def main(run_dir: Path) -> int:
    from core.recipes.runner import resume_run, run_recipe  # torch: only in the training process

    spec = queue.read_launch_spec(run_dir)
    if spec.get("resume"):
        resume_run(run_dir.name, runs_dir=str(run_dir.parent))
    else:
        run_recipe(str(spec["recipe"]), list(spec.get("overrides") or []), runs_dir=str(run_dir.parent),
                   run_id=run_dir.name)
    return 0

