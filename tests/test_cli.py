"""The public CLI: verbs listed, JSON shapes of SPEC.md, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from core import tracking

from .conftest import run_cli


def test_help_lists_the_verbs() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for verb in ("ls", "show", "reindex", "report", "launch", "cancel", "resume", "data", "explain"):
        assert verb in done.stdout


def test_ls_json_has_the_public_fields(runs_root: Path) -> None:
    with tracking.start(name="one", group="grp", recipe="script") as run:
        run.log({"val/top1": 0.5}, step=1)
    done = run_cli("ls", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert {k: row[k] for k in ("id", "name", "group", "recipe", "status")} == {
        "id": run.id, "name": "one", "group": "grp", "recipe": "script", "status": "succeeded"}
    assert row["created"].startswith(run.id[:4]) and row["val/top1"] == 0.5


def test_ls_tells_a_new_user_what_to_do(runs_root: Path) -> None:
    done = run_cli("ls")
    assert done.returncode == 0 and "no runs" in done.stdout


def test_show_an_unknown_run_is_one_clear_line(runs_root: Path) -> None:
    done = run_cli("show", "nope")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: no run 'nope' in " + str(runs_root)
                                               + "; `python -m core ls` lists the run ids"]


def test_reindex_reports_what_it_rebuilt(runs_root: Path) -> None:
    with tracking.start() as run:
        run.log({"a": 1.0, "b": 2.0}, step=1)
    done = run_cli("reindex")
    assert done.returncode == 0 and "1 runs, 2 metric records" in done.stdout


def test_launch_with_a_wrong_key_names_it_and_queues_nothing(runs_root: Path) -> None:
    done = run_cli("launch", "classify", "lrr=0.1", "--seeds", "2")
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown config key 'lrr'; did you mean 'lr'?")
    assert not [p for p in runs_root.iterdir() if p.is_dir() and p.name[:2] == "20"]


def test_report_prints_the_experiment_log_and_writes_csv(runs_root: Path, tmp_path: Path) -> None:
    with tracking.start(name="lr 1e-3", changes="lr 3e-4 -> 1e-3", reason="faster start?") as run:
        run.log({"train/loss": 1.5, "val/top1": 0.25}, step=1)
        run.log({"test/top1": 0.5}, step=1)
    done = run_cli("report", run.id[-6:])
    assert done.returncode == 0, done.stderr
    assert "## Experiment: lr 1e-3" in done.stdout and "lr 3e-4 -> 1e-3" in done.stdout
    assert "- Epoch 1: train_loss=1.5, val_top1=0.25" in done.stdout  # values as logged
    out = tmp_path / "results.csv"
    done = run_cli("report", run.id, "--format", "csv", "--out", str(out))
    assert done.returncode == 0 and str(out) in done.stdout
    header, row = out.read_text().splitlines()
    assert header == "id,name,group,status,recipe,test/top1,train/loss,val/top1"
    assert row == f"{run.id},lr 1e-3,,succeeded,script,0.5,1.5,0.25"


def test_report_of_an_unknown_run_is_one_clear_line(runs_root: Path) -> None:
    done = run_cli("report", "nope")
    assert done.returncode == 1 and done.stderr.startswith("error: no run 'nope'")
