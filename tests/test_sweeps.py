"""Seeds and sweeps: grid, random and Bayesian (optuna) expansion into queued runs of one group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import launcher, runfolder, tracking
from core.datasets.synthetic_cars import generate_synthetic_cars
from core.launcher import queue, sweeps
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels


def test_seeds_replace_the_seed_and_keep_the_rest() -> None:
    assert sweeps.seed_overrides(["lr=0.1", "seed=7"], 3) == [["lr=0.1", "seed=0"], ["lr=0.1", "seed=1"],
                                                              ["lr=0.1", "seed=2"]]
    assert sweeps.seed_overrides([], [5, 9]) == [["seed=5"], ["seed=9"]]


def test_grid_is_the_cartesian_product_and_random_a_seeded_subset() -> None:
    space = {"lr": ["0.1", "0.01"], "heads": ["single", "multi"]}
    grid = sweeps.grid_overrides(["epochs=2", "lr=1"], space)
    assert grid == [["epochs=2", "lr=0.1", "heads=single"], ["epochs=2", "lr=0.1", "heads=multi"],
                    ["epochs=2", "lr=0.01", "heads=single"], ["epochs=2", "lr=0.01", "heads=multi"]]
    picked = sweeps.random_overrides(["epochs=2"], space, 3, seed=1)
    assert len(picked) == 3 and all(p in grid for p in picked) and len({tuple(p) for p in picked}) == 3
    assert picked == sweeps.random_overrides(["epochs=2"], space, 3, seed=1)


@pytest.mark.parametrize(("text", "message"), [("", "no values"), (" , ", "no values")])
def test_bad_sweep_values_say_how_to_write_them(text: str, message: str) -> None:
    with pytest.raises(sweeps.SweepError, match=message):
        sweeps.parse_values(text)


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    return generate_synthetic_cars(tmp_path / "tiny", n_makes=2, models_per_make=2, images_per_class=10,
                                   image_size=32)


def test_seeds_of_a_recipe_run_are_queued_as_one_group(runs_root: Path, tiny_data: Path) -> None:
    base = ["dataset=imagefolder", f"data_root={tiny_data}", "epochs=1"]
    ids = launcher.launch_many("classify", sweeps.seed_overrides(base, 3), labels=RunLabels(group="seeds"),
                                start=False)
    assert len(ids) == 3
    configs = [json.loads((runs_root / r / "config.json").read_text()) for r in ids]
    assert [c["seed"] for c in configs] == [0, 1, 2] and {c["epochs"] for c in configs} == {1}
    assert {runfolder.read_json(runs_root / r / "meta.json")["group"] for r in ids} == {"seeds"}
    with pytest.raises(ValueError, match="lr"):  # one bad set: nothing of the sweep is queued
        launcher.launch_many("classify", [base, [*base[:2], "lr=fast"]], start=False)
    assert len(queue.queued(runs_root)) == 3


def test_a_bayesian_sweep_tells_optuna_each_result_and_queues_the_next_trial(runs_root: Path, tiny_data: Path) -> None:
    base = ["dataset=imagefolder", f"data_root={tiny_data}", "epochs=1"]
    sweep_id = sweeps.start_bayes(runs_root, "classify", base, {"lr": ["0.01", "0.001"]}, n_trials=2,
                                  objective="val/top1", direction="maximize")
    (first,) = [e.run_id for e in queue.queued(runs_root)]
    spec = queue.read_launch_spec(runs_root / first)
    assert spec["sweep"] == sweep_id and spec["trial"] == 0
    with tracking.attach(first) as run:  # what the trial's training would have done
        run.log({"val/top1": 0.25}, step=1)
        run.log({"val/top1": 0.5}, step=2)
    sweeps.on_runs_ended(runs_root, [first])
    sweeps.on_runs_ended(runs_root, [first])  # told twice (a restarted scheduler): counted once
    import optuna

    study = optuna.load_study(study_name=sweep_id, storage=sweeps._storage(runs_root / "sweeps" / sweep_id))
    assert [t.value for t in study.trials if t.value is not None] == [0.5]
    queued = [e.run_id for e in queue.queued(runs_root) if e.run_id != first]
    assert len(queued) == 1 and queue.read_launch_spec(runs_root / queued[0])["trial"] == 1
    assert runstatus.read(runs_root / queued[0])["status"] == "queued"
    with tracking.attach(queued[0]) as run:
        run.log({"val/top1": 0.75}, step=1)
    sweeps.on_runs_ended(runs_root, queued)
    # n_trials reached: no third trial (the two markers left are those of the trials attached by hand above)
    assert {e.run_id for e in queue.queued(runs_root)} == {first, queued[0]}


def test_resume_puts_a_crashed_recipe_run_back_in_the_queue(runs_root: Path, tiny_data: Path) -> None:
    run_id = launcher.launch("classify", ["dataset=imagefolder", f"data_root={tiny_data}"], start=False)
    queue.dequeue(runs_root, run_id)
    runstatus.transition(runs_root / run_id, "starting", expect={"queued"})
    runstatus.transition(runs_root / run_id, "crashed", error="killed")
    assert launcher.resume(run_id, start=False) == run_id
    assert runstatus.read(runs_root / run_id)["status"] == "queued"
    assert "error" not in runstatus.read(runs_root / run_id)
    assert queue.read_launch_spec(runs_root / run_id)["resume"] is True
    with pytest.raises(launcher.LaunchError, match="only cancelled, crashed or failed"):
        launcher.resume(run_id, start=False)
