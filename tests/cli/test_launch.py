"""``launch --sweep-kind bayes``: without --objective a sweep optimises the recipe's own metric, in the direction
its name asks for (checked on the sweep's record; nothing trains: the scheduler is not started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import runfolder
from core.cli.launch import cmd_launch
from core.cli.main import parse
from core.datasets import generate_synthetic_spots
from core.launcher import queue, service, sweeps
from core.recipes.registry import objective_direction


def _launch_bayes(runs_root: Path, data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    """Launch a Bayesian reid sweep as the CLI does; what it recorded in its sweep.json (the printed id's)."""
    _, args = parse(["launch", "reid", f"data_root={data}", "image_size=32", "--sweep", "lr=0.01,0.001",
                     "--sweep-kind", "bayes", "--trials", "2", *extra])  # fmt: skip
    assert cmd_launch(args) == 0
    out = capsys.readouterr().out.splitlines()
    return {**runfolder.read_json(runs_root / sweeps.SWEEPS_DIR / out[-1] / "sweep.json"), "said": out[0]}


@pytest.fixture
def spots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(service, "ensure_scheduler", lambda root: None)  # queue only; nothing trains
    return generate_synthetic_spots(tmp_path / "spots", n_individuals=4, min_images=5, max_images=6, image_size=32)


def test_a_reid_sweep_without_objective_optimises_the_identity_map(runs_root: Path, spots: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sweep = _launch_bayes(runs_root, spots, capsys)
    assert (sweep["recipe"], sweep["objective"], sweep["direction"]) == ("reid", "val/mAP_identity", "maximize")
    assert sweep["said"].endswith("optimising val/mAP_identity (maximize)")
    assert len(queue.queued(runs_root)) == 1  # the first trial waits for the scheduler


def test_a_given_objective_sets_the_direction_unless_it_is_given_too(runs_root: Path, spots: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    sweep = _launch_bayes(runs_root, spots, capsys, "--objective", "val/loss")
    assert (sweep["objective"], sweep["direction"]) == ("val/loss", "minimize")
    sweep = _launch_bayes(runs_root, spots, capsys, "--objective", "val/loss", "--direction", "maximize")
    assert (sweep["objective"], sweep["direction"]) == ("val/loss", "maximize")


def test_the_direction_follows_the_metrics_goal() -> None:
    assert [objective_direction(m) for m in ("val/top1", "val/mAP_identity", "val/loss", "test/error")] == \
        ["maximize", "maximize", "minimize", "minimize"]  # fmt: skip
