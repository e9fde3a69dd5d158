"""A script written for W&B, with only its import changed, gives the run folder core.tracking gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image as PILImage

from core import runfolder, tracking
from core import wandb_compat as wandb
from core.runfolder import metricslog


def _records(run_dir: Path) -> list[tuple[int, str, float]]:
    return [(r.step, r.name, r.value) for r in metricslog.read_records(run_dir)]


def test_a_wandb_script_gives_the_same_run_folder_as_tracking(tmp_path: Path) -> None:
    picture = tmp_path / "sample.png"
    PILImage.new("RGB", (8, 8), (200, 10, 10)).save(picture)

    run = wandb.init(project="jaguar-reid", group="lbe08", name="adamw s0", config={"lr": 3e-4}, tags=["adamw"],
                     dir=str(tmp_path / "a"))  # fmt: skip
    wandb.config.update({"optimizer": "adamw"})
    wandb.config.seed = 0
    wandb.define_metric("val/loss", goal="minimize")
    for epoch in range(3):
        wandb.log({"train/loss": 1.0 / (epoch + 1), "val": {"loss": 1.2 / (epoch + 1), "mAP": 0.5 + epoch / 10}})
    wandb.log({"sample": wandb.Image(str(picture), caption="query 0")})
    wandb.summary["test/mAP"] = 0.81
    wandb.finish()

    with tracking.start(name="adamw s0", group="lbe08", config={"lr": 3e-4, "optimizer": "adamw", "seed": 0},
                        tags=["adamw", "project:jaguar-reid"], runs_dir=tmp_path / "b") as same:  # fmt: skip
        same.define_metric("val/loss", goal="min")
        for epoch in range(3):
            same.log({"train/loss": 1.0 / (epoch + 1), "val/loss": 1.2 / (epoch + 1), "val/mAP": 0.5 + epoch / 10},
                     step=epoch)  # fmt: skip
        same.log({"test/mAP": 0.81}, step=3)

    a, b = Path(run.dir), same.dir
    assert _records(a) == _records(b)
    for record in (runfolder.CONFIG_FILE, "metric_defs.json"):
        assert json.loads((a / record).read_text()) == json.loads((b / record).read_text())
    meta_a, meta_b = (json.loads((d / runfolder.META_FILE).read_text()) for d in (a, b))
    assert {k: meta_a[k] for k in ("name", "group", "tags")} == {k: meta_b[k] for k in ("name", "group", "tags")}
    assert json.loads((a / runfolder.STATUS_FILE).read_text())["status"] == "succeeded"
    (media,) = json.loads(runfolder.table_file(a, "media/sample").read_text())["rows"]
    assert media["caption"] == "query 0" and (a / media["file"]).read_bytes() == picture.read_bytes()


def test_wildcard_goals_and_tables(tmp_path: Path) -> None:
    run = wandb.init(name="t", dir=str(tmp_path))
    wandb.define_metric("val/*", goal="maximize")
    table = wandb.Table(columns=["image", "ap"])
    table.add_data("a.png", 0.5)
    wandb.log({"val/rank1": 0.9, "queries": table})
    wandb.finish()
    defs = json.loads((Path(run.dir) / "metric_defs.json").read_text())
    assert defs == {"val/rank1": {"goal": "max"}}
    assert json.loads(runfolder.table_file(Path(run.dir), "queries").read_text())["rows"] == [
        {"image": "a.png", "ap": 0.5}
    ]


def test_what_is_not_supported_says_so_by_name(tmp_path: Path) -> None:
    with pytest.raises(wandb.UnsupportedError, match="entity"):
        wandb.init(entity="team", dir=str(tmp_path))
    with pytest.raises(AttributeError, match=r"wandb\.watch is not supported"):
        wandb.watch  # noqa: B018
    wandb.init(name="x", dir=str(tmp_path))
    with pytest.raises(wandb.UnsupportedError, match="step_metric"):
        wandb.define_metric("val/*", step_metric="epoch")
    wandb.finish()


def test_a_failing_script_marks_the_run_failed(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), wandb.init(name="boom", dir=str(tmp_path)) as run:
        raise RuntimeError("boom")
    assert json.loads((Path(run.dir) / runfolder.STATUS_FILE).read_text())["status"] == "failed"


def test_steps_follow_wandb_rules_for_commit_and_step(tmp_path: Path) -> None:
    run = wandb.init(project="p", dir=str(tmp_path))
    wandb.log({"a": 1.0})  # step 0, committed: the next call goes to step 1
    wandb.log({"b": 2}, commit=False)  # held for step 1
    wandb.log({"c": 3.0})  # step 1 with b; commits
    wandb.log({"d": 4.0}, step=5)  # step 5; commits: next is 6
    wandb.log({"e": 5.0})
    wandb.log({"f": 6.0}, commit=False)
    wandb.log({"g": 7.0}, step=9)  # a new step flushes f at its own step (7) first
    wandb.finish()
    assert sorted(_records(Path(run.dir))) == [(0, "a", 1.0), (1, "b", 2.0), (1, "c", 3.0), (5, "d", 4.0),
                                               (6, "e", 5.0), (7, "f", 6.0), (9, "g", 7.0)]  # fmt: skip
