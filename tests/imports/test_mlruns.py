"""MLflow's local mlruns store, written here by hand in MLflow's file layout (MLflow is not a dependency),
imports with the same values: experiments as groups, params as the config, metrics by step (nested keys
included), tags and the note; a deleted run is left out and said so; a second import finds the first."""

from __future__ import annotations

from pathlib import Path

from core import imports
from core.store import Store, queries


def _run(experiment: Path, run_id: str, name: str, *, status: int = 3, stage: str = "active") -> Path:
    folder = experiment / run_id
    for sub in ("metrics/val", "params", "tags", "artifacts"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "meta.yaml").write_text(
        f"artifact_uri: file://{folder}/artifacts\nend_time: 1700000100000\nentry_point_name: ''\n"
        f"experiment_id: '{experiment.name}'\nlifecycle_stage: {stage}\nrun_id: {run_id}\nrun_name: {name}\n"
        f"run_uuid: {run_id}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\n"
        f"status: {status}\ntags: []\nuser_id: ann\n"
    )
    return folder


def _store(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    experiment = root / "1"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text("artifact_location: file:///x\ncreation_time: 1700000000000\n"
                                          "experiment_id: '1'\nlifecycle_stage: active\nname: heads\n")  # fmt: skip
    (root / "0").mkdir()
    (root / "0" / "meta.yaml").write_text("experiment_id: '0'\nlifecycle_stage: active\nname: Default\n")
    run = _run(experiment, "a1b2c3", "multi-head")
    (run / "metrics" / "train_loss").write_text("1700000000001 2.5 1\n1700000000002 1.25 2\n1700000000003 0.75 3\n")
    (run / "metrics" / "val" / "top1").write_text("1700000000001 0.31 1\n1700000000002 0.42 2\n"
                                                  "1700000000003 0.45 3\nnot a line\n")  # fmt: skip
    (run / "params" / "lr").write_text("0.0003")
    (run / "params" / "heads").write_text("multi")
    (run / "params" / "epochs").write_text("3")
    (run / "params" / "amp").write_text("True")
    (run / "tags" / "mlflow.runName").write_text("multi-head")
    (run / "tags" / "mlflow.note.content").write_text("make head helps")
    (run / "tags" / "stage").write_text("ablation")
    failed = _run(experiment, "d4e5f6", "broken", status=4)
    (failed / "metrics" / "train_loss").write_text("1700000000001 nan 1\n")
    _run(experiment, "0000aa", "gone", stage="deleted")
    return root


def test_an_mlruns_store_imports_with_the_same_values(runs_root: Path, tmp_path: Path) -> None:
    report = imports.import_path(_store(tmp_path), runs_root)
    assert report.formats == ["mlflow"] and [n for _, n in report.imported] == ["multi-head", "broken"]
    assert [(p.line, p.text) for p in report.problems if p.line] == [(4, "not a line")]
    assert any("deleted" in p.reason for p in report.problems)
    with Store(runs_root, in_memory=True) as store:
        run, failed = (queries.run_record(store, i) for i, _ in report.imported)
    assert run["group"] == "heads" and run["notes"] == "make head helps"
    assert run["config"] == {"amp": True, "epochs": 3, "heads": "multi", "lr": 0.0003}
    assert sorted(run["tags"]) == ["imported", "stage=ablation"]
    assert run["metrics"] == {"train/loss": [[1, 2.5], [2, 1.25], [3, 0.75]], "val/top1": [[1, 0.31], [2, 0.42],
                                                                                          [3, 0.45]]}  # fmt: skip
    assert run["tables"]["import/source"][0]["origin_id"] == "a1b2c3"
    assert run["tables"]["import/source"][0]["date"] == "2023-11-14 22:13:20"
    assert failed["status"] == "failed" and failed["metrics"]["train/loss"] == [[1, None]]
    again = imports.import_path(tmp_path / "mlruns", runs_root)
    assert not again.imported and len(again.existing) == 2


def test_one_run_folder_of_a_store_imports_alone(runs_root: Path, tmp_path: Path) -> None:
    root = _store(tmp_path)
    report = imports.import_path(root / "1" / "a1b2c3", runs_root)
    assert [n for _, n in report.imported] == ["multi-head"]
