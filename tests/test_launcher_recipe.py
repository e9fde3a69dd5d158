"""The launcher with the real classify recipe: cancel mid-run, the last checkpoint loads, resume finishes the
run with every epoch logged once."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import launcher
from core.recipes.classify.checkpoint import read_checkpoint
from core.runfolder import status as runstatus
from core.store import Store, queries

from .conftest import REPO
from .test_launcher import _wait

pytestmark = pytest.mark.slow


def test_cancel_then_resume_a_classify_run(runs_root: Path, tiny_cars: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    run_id = launcher.launch("classify", ["dataset=imagefolder", f"data_root={tiny_cars}", "epochs=3",
                                          "image_size=32", "batch_size=8", "backbone=resnet10t", "num_workers=0"])
    run_dir = runs_root / run_id
    last = run_dir / "checkpoints" / "last.pt"
    _wait(last.exists, 120, "the first checkpoint")
    assert launcher.cancel(run_id, grace_s=5) == "cancelled"
    assert read_checkpoint(last)["epoch"] >= 1  # the last checkpoint still loads
    launcher.resume(run_id)
    _wait(lambda: runstatus.read(run_dir).get("status") in ("succeeded", "failed", "crashed"), 180, "the end")
    assert runstatus.read(run_dir)["status"] == "succeeded", (run_dir / "console.log").read_text()[-3000:]
    with Store(runs_root, in_memory=True) as store:
        steps = queries.curves(store, [run_id], "val/top1")["step"].tolist()
        assert steps == [1, 2, 3]  # curves join without a gap or a duplicate
        assert queries.run_table(store, run_id, "test/per_make")
