"""The experiment log: each run in the structure of car-classification-log.md with values as logged, its images
drawn beside it as PNG files and linked relatively, one zip of both; and the round trip: a run exported to
markdown and imported again has the same per-epoch metrics, per-make table and best values."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import imports, tracking
from core.reports.experiment_log import experiment_log
from core.reports.rundata import gather
from core.store import Store, queries
from tests.fixtures_runs import log_classify_like

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def test_a_section_has_the_structure_of_the_users_logs(store: Store, runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "multi s0", "multi", 0, 0.9)
    store.sync()
    text = experiment_log(store, [run_id], images=False).markdown
    order = ["## Experiment: multi s0", "**Date:** ", "### Changes\nmulti head", "### Reason\ndoes a make head help?",
             "### Config", '"heads": "multi"', "### Metrics", "- Epoch 1: train_epoch_seconds=3, train_loss=2, "
             "train_lr=0.001, train_top1=0.22999999999999998", "- Epoch 5: ", "- test_top1: 0.8333333333333334",
             "- accuracy_audi: 0.9 (5/6)", "### Results", "- Best val/loss = 0.44 (epoch 5)",
             "- Best val/top1 = 90.00% (epoch 5)", "- test/top1 = 83.33%", "- Make/model gap = ",
             "- 95% Wilson interval of test/top1: 55.20% to 95.30% (10 of 12)", "### Notes"]  # fmt: skip
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_images_are_drawn_beside_the_log_and_linked_relatively(store: Store, runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "single s0", "single", 0, 0.5)
    store.sync()
    doc = experiment_log(store, [run_id])
    kinds = sorted(name.rsplit("_", 2)[-2] + "_" + name.rsplit("_", 2)[-1] for name in doc.images)
    assert kinds == ["accuracy_curve.png", "confusion_matrix.png", "loss_curve.png", "sample_prediction.png"]
    assert all(data.startswith(PNG) for data in doc.images.values())
    path = doc.write(tmp_path / "out" / "log.md")
    for name in doc.images:
        assert f"]({name})" in doc.markdown and (path.parent / name).read_bytes().startswith(PNG)
    with zipfile.ZipFile(io.BytesIO(doc.zip_bytes("log.md"))) as archive:
        assert sorted(archive.namelist()) == sorted(["log.md", *doc.images])
        assert archive.read("log.md").decode() == doc.markdown


def _best(store: Store, run_id: str) -> dict[str, tuple[float, int]]:
    data = gather(store, run_id)
    return {n: b for n in data.epoch_metrics() if (b := data.best(n)) is not None}


def test_a_run_exported_and_imported_again_has_the_same_metrics_per_make_table_and_best_values(
    store: Store, runs_root: Path, tmp_path: Path
) -> None:
    first = log_classify_like(runs_root, tmp_path / "images", "multi s1", "multi", 1, 0.9)
    with tracking.start(name="percent logger", group="pct", config={"lr": 0.1}, runs_dir=runs_root) as run:
        for epoch in range(1, 4):
            run.log({"val/top1": 30.0 + epoch * 1.37, "val/loss": 3.0 / epoch, "lr": 0.1 / epoch}, step=epoch)
        run.log({"test/top1": 33.3333, "test/KL": 0.123456789, "test/images": 300}, step=3)
    store.sync()
    exported = experiment_log(store, [first, run.id]).write(tmp_path / "export" / "log.md")
    report = imports.import_path(exported, runs_root)
    assert not report.problems, report.lines()
    store.sync()
    for original, (copy, name) in zip([first, run.id], report.imported):
        a, b = queries.run_record(store, original), queries.run_record(store, copy)
        assert b["name"] == a["name"] == name
        assert b["metrics"] == a["metrics"]
        assert b["tables"].get("test/per_make") == a["tables"].get("test/per_make")
        assert _best(store, copy) == _best(store, original)
        assert (b["group"], b["changes"], b["reason"], b["config"]) == (a["group"], a["changes"], a["reason"],
                                                                          a["config"])  # fmt: skip
        assert b["tables"]["import/source"][0]["origin_id"] == original
        assert not [s for s in b["tables"]["import/stated"] if s["check"].startswith("differs")]
        assert sorted(n.rsplit("_", 1)[-1] for n in b["artifacts"]) == sorted(
            n.rsplit("_", 1)[-1] for n in experiment_log(store, [original]).images
        )  # its images came along


def test_the_date_of_an_imported_log_is_kept_on_export(store: Store, runs_root: Path, tmp_path: Path) -> None:
    log = tmp_path / "old.md"
    log.write_text("## Experiment: old one\n**Date:** 2024-02-03 04:05:06\n### Metrics\n- Epoch 1: val_loss=1.5\n")
    imports.import_path(log, runs_root)
    store.sync()
    run_id = queries.list_runs(store)["id"].iloc[0]
    assert "**Date:** 2024-02-03 04:05:06" in experiment_log(store, [run_id], images=False).markdown
