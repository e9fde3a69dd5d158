"""Finished reid runs for the Gallery's tests: one tiny real run (tiny synthetic-spots, a tiny timm model,
seconds on a CPU), trained once and copied into each test's runs folder under new ids."""

from __future__ import annotations

import shutil
from pathlib import Path

from core import runfolder
from core.datasets import generate_synthetic_spots
from core.recipes.runner import run_recipe
from core.runfolder.labels import RunLabels

TINY_SPOTS = {"n_individuals": 6, "min_images": 6, "max_images": 12, "image_size": 32}
TINY_RUN = ["backbone=test_resnet", "image_size=32", "batch_size=8", "epochs=1", "max_train_batches=2",
            "warmup_epochs=0", "device=cpu", "embedding_size=16", "head_width=32"]  # fmt: skip


def train_tiny_reid(base: Path, name: str = "tiny reid") -> Path:
    """Generate tiny synthetic-spots under ``base`` and train one reid run on it; its run folder."""
    data = generate_synthetic_spots(base / "spots", **TINY_SPOTS)
    runs = base / "runs"
    run_id = run_recipe("reid", [f"data_root={data}", *TINY_RUN], runs_dir=runs, labels=RunLabels(name=name),
                        echo=lambda line: None)  # fmt: skip
    return runs / run_id


def copy_run(run_dir: Path, runs_root: Path, name: str, suffix: str = "a1b2c3") -> str:
    """A copy of a finished run in ``runs_root`` under a new id and name; the new id."""
    run_id = f"{run_dir.name[:-6]}{suffix}"
    shutil.copytree(run_dir, runs_root / run_id, ignore=shutil.ignore_patterns("*.lock"))
    meta = runfolder.read_json(runs_root / run_id / runfolder.META_FILE)
    runfolder.write_json_atomic(runs_root / run_id / runfolder.META_FILE, {**meta, "id": run_id, "name": name})
    return run_id
