"""TensorBoard event folders written by torch.utils.tensorboard import with the same values: one run per
folder, scalars by step (names mapped like an epoch line's keys), hparams as the config; the folder of runs is
their group; a second import finds the first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import imports
from core.store import Store, queries

torch_tb = pytest.importorskip("torch.utils.tensorboard")
pytest.importorskip("tensorboard")


def _write(folder: Path, lr: float, scale: float) -> dict[str, list[tuple[int, float]]]:
    values = {"train/loss": [(s, scale / s) for s in range(1, 6)], "val_top1": [(s, 0.1 * s * scale) for s in
                                                                               range(1, 6)]}  # fmt: skip
    writer = torch_tb.SummaryWriter(str(folder))
    for tag, points in values.items():
        for step, value in points:
            writer.add_scalar(tag, value, step)
    writer.add_hparams({"lr": lr, "optimizer": "adamw", "layers": 4}, {"hparam/final": scale})
    writer.close()
    return values


def test_a_tensorboard_folder_imports_with_the_same_values_and_its_hparams(runs_root: Path, tmp_path: Path) -> None:
    logs = tmp_path / "tb-sweep"
    written = {"lr_0.1": _write(logs / "lr_0.1", 0.1, 1.0), "lr_0.01": _write(logs / "lr_0.01", 0.01, 2.0)}
    report = imports.import_path(logs, runs_root)
    assert report.formats == ["tensorboard"] and len(report.imported) == 2 and not report.problems
    with Store(runs_root, in_memory=True) as store:
        records = {r["name"]: r for r in (queries.run_record(store, i) for i, _ in report.imported)}
    assert set(records) == set(written)
    for name, values in written.items():
        record = records[name]
        assert record["group"] == "tb-sweep" and "imported" in record["tags"]
        assert record["config"] == {"lr": pytest.approx(float(name[3:])), "optimizer": "adamw", "layers": 4}
        for tag, metric in (("train/loss", "train/loss"), ("val_top1", "val/top1")):
            steps = [s for s, _ in record["metrics"][metric]]
            got = [v for _, v in record["metrics"][metric]]
            assert steps == [s for s, _ in values[tag]]
            assert got == [float(np.float32(v)) for _, v in values[tag]]  # event files hold float32
        assert record["tables"]["import/source"][0]["format"] == "tensorboard"
    again = imports.import_path(logs, runs_root)
    assert not again.imported and sorted(again.existing) == sorted(report.imported)


def test_one_event_file_imports_its_folder(runs_root: Path, tmp_path: Path) -> None:
    _write(tmp_path / "single", 0.5, 1.0)
    event = next((tmp_path / "single").glob("events.out.tfevents.*"))
    report = imports.import_path(event, runs_root)
    assert [name for _, name in report.imported] == ["single"]


def test_a_folder_without_events_says_so(runs_root: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = imports.import_path(tmp_path / "empty", runs_root)
    assert not report.imported and "no experiment log" in report.problems[0].reason
