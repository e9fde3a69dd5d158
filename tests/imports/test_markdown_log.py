"""Markdown experiment logs: each example log in shared/examples imports to the experiments, epochs and best
values it states; hand-written variations are read or reported line by line, never a traceback; importing the
same log twice finds the first import."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import imports, runfolder
from core.imports import markdown_log
from core.imports.model import ImportReport
from core.store import Store, queries
from tests.conftest import REPO

EXAMPLES = REPO.parent / "shared" / "examples"


def _example(name: str) -> Path:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is not here (shared/examples travels beside the repository)")
    return path


def _records(root: Path, report: ImportReport) -> list[dict]:
    with Store(root, in_memory=True) as store:
        return [queries.run_record(store, run_id) for run_id, _ in report.imported]


def test_the_car_log_imports_its_epochs_end_of_run_values_per_make_table_and_best_values(runs_root: Path) -> None:
    report = imports.import_path(_example("car-classification-log.md"), runs_root)
    (record,) = _records(runs_root, report)
    assert record["name"] == "Baseline_single_head_classification"
    assert record["changes"] == "None, this is the baseline" and record["reason"] == "Measure a baseline to compare to"
    assert record["notes"].startswith("Training finished.")
    assert "### Gemini thoughts on accuracy above" in record["notes"]  # a section of its own, kept
    assert "imported" in record["tags"] and record["status"] == "succeeded"
    top1 = record["metrics"]["val/top1"]
    assert [s for s, _ in top1] == list(range(1, 16)) and top1[0][1] == 16.942909751222352  # percent stays percent
    assert record["metrics"]["train/loss"][-1] == [15, 0.20891222185294445]
    assert record["metrics"]["test/hierarchical_consistency"] == [[15, 0.5316144874155924]]
    per_make = {r["make"]: r["accuracy"] for r in record["tables"]["test/per_make"]}
    assert len(per_make) == 49 and per_make["Land Rover"] == 0.6428571428571429 and per_make["Geo"] == 1.0
    # the evaluation block: exact accuracy, make accuracy, the gap and the test set size
    assert {n: record["metrics"][n][0][1] for n in ("test/top1", "test/make_acc", "test/gap", "test/images")} == {
        "test/top1": 41.72, "test/make_acc": 52.82, "test/gap": 11.09, "test/images": 8041}  # fmt: skip
    stated = {r["label"]: r for r in record["tables"]["import/stated"]}
    assert stated["Best Top-1 Accuracy"]["metric"] == "val/top1" and stated["Best Top-1 Accuracy"]["value"] == 41.74
    assert all(r["check"] == "agrees" for r in stated.values())
    assert max(v for _, v in top1) == pytest.approx(41.74, abs=0.005)  # the best value it states
    source = record["tables"]["import/source"][0]
    assert source["date"] == "2025-11-23 22:14:09" and source["format"] == "markdown"
    # its four plots are not beside the log here: each is reported with its line, nothing else is
    assert [p.line for p in report.problems] == [103, 104, 105, 106]


def test_the_reid_log_imports_every_experiment_with_its_question_intervention_and_stated_values(
    runs_root: Path,
) -> None:
    report = imports.import_path(_example("reid-leaderboard-experiments.md"), runs_root)
    records = {r["name"]: r for r in _records(runs_root, report)}
    assert len(records) == 13 and not report.problems
    names = list(records)
    assert names[0] == "LBE01: Multiple Backbones" and names[-1] == "Final Experiment"
    lbe08 = records["LBE08: Optimizer Comparison"]
    assert lbe08["reason"].startswith("Which optimizer yields the highest identity-balanced mAP")
    assert lbe08["changes"].startswith("Evaluate five optimization algorithms")
    assert "Divergence Rate below 0.75 mAP at epoch 20" in lbe08["changes"]  # the second intervention line is kept
    assert lbe08["notes"].startswith("Adaptive optimizers")
    assert lbe08["tables"]["import/source"][0]["links"] == [
        "https://wandb.ai/josef-and-vincent/jaguar-reid-josefandvincent/groups/lbe08_optimizer/overview"
    ]
    stated = {n: [(s["value"], s.get("plus_minus")) for s in r["tables"].get("import/stated", [])]
              for n, r in records.items()}  # fmt: skip
    assert stated["LBE05: Hyperbolic vs. Hyperspherical Embedding Spaces"] == [(0.886, None)]
    assert stated["LBE07: Progressive Resizing"] == [(0.7955, None)]
    assert stated["LBE09: Learning Rate Scheduler Comparison"] == [(0.8879, 0.0134)]
    assert stated["LBE11: Performance Stability and Random Seed Analysis"] == [(0.9379, None)]
    assert all(not r["metrics"] for r in records.values())  # the log states no epochs


def test_the_results_summary_imports_a_run_per_table_row_with_its_group_and_epochs(runs_root: Path) -> None:
    report = imports.import_path(_example("results-summary.md"), runs_root)
    records = _records(runs_root, report)
    assert len(records) == 20
    by_name = {r["name"]: r for r in records}
    assert by_name["combo_4_aggressive"]["group"] == "Overnight regularization experiments"
    assert by_name["higher_lr"]["group"] == "sweep_1768899422"
    assert by_name["run_1768745543"]["metrics"]["test/KL"] == [[39, 14.6613]]
    assert by_name["combo_4_aggressive"]["metrics"]["test/top1"] == [[30, 34.84]]
    assert by_name["combo_4_aggressive"]["metrics"]["val/best_loss"] == [[30, 0.4496]]
    # the takeaways are prose: each line with numbers is reported, as is the generation date
    assert len(report.problems) == 7 and all("not read" in p.reason for p in report.problems)


def test_importing_the_same_log_twice_does_not_duplicate_its_runs(runs_root: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.md"
    log.write_text("## Experiment: a\n### Metrics\n- Epoch 1: val_top1=0.5\n\n## Experiment: b\n### Metrics\n"
                   "- Epoch 1: val_top1=0.6\n")  # fmt: skip
    first = imports.import_path(log, runs_root)
    copy = tmp_path / "elsewhere" / "copy.md"
    copy.parent.mkdir()
    copy.write_text(log.read_text())
    second = imports.import_path(copy, runs_root)
    assert len(first.imported) == 2 and not second.imported
    assert second.existing == first.imported
    assert len(list(runfolder.iter_run_dirs(runs_root))) == 2


HAND_WRITTEN = """# My runs

Some words before anything.

## Experiment: wide head
**Date:** 2025-12-01
**Owner:** Ann

### Changes
head width 512 -> 1024

### Metrics
- Epoch 1: train_loss=2.0, val_top1=30.5%, val_top5=oops
- Epoch 2 - train_loss: 1.5 - val_top1: 35.0%
- Epoch 3: train_loss=1.2 val_top1=34.0%
- val_loss per epoch: [2.5, 2.2, 2.3]
- train_top5: [50, 60]
- accuracy_Audi: 0.75 (3/4)
- accuracy_BMW: 0.5
- final_kl: 0.31
- something odd 12 here

### Results
Best val top-1 = 35.00% (epoch 2), Best Val Loss = 2.1
1. Exact Car Accuracy: 33.2%
2. Mystery number: 7

### Random thoughts
It went fine.
"""


def test_a_hand_written_log_is_read_where_it_can_be_and_every_other_line_is_reported(
    runs_root: Path, tmp_path: Path
) -> None:
    log = tmp_path / "mine.md"
    log.write_text(HAND_WRITTEN)
    report = imports.import_path(log, runs_root)
    (record,) = _records(runs_root, report)
    assert record["metrics"]["val/top1"] == [[1, 30.5], [2, 35.0], [3, 34.0]]
    assert record["metrics"]["val/loss"] == [[1, 2.5], [2, 2.2], [3, 2.3]]  # a list as long as the epochs
    assert "train/top5" not in record["metrics"]  # 2 values for 3 epochs: which epochs would they be?
    assert record["metrics"]["test/final_kl"] == [[3, 0.31]] and record["metrics"]["test/top1"] == [[3, 33.2]]
    assert record["tables"]["test/per_make"] == [
        {"make": "Audi", "correct": 3, "total": 4, "accuracy": 0.75},
        {"make": "BMW", "correct": None, "total": None, "accuracy": 0.5},
    ]
    assert "Owner: Ann" in record["notes"] and "### Random thoughts\nIt went fine." in record["notes"]
    problems = {p.line: p.reason for p in report.problems}
    assert "val_top5=oops" in next(p.text for p in report.problems if p.line == 13)
    assert "epoch lines" in problems[17]  # the list of two
    assert "skipped" in problems[21]  # 'something odd 12 here'
    assert "differs" in problems[24]  # Best Val Loss = 2.1, but the data's best is 2.2
    assert "names no metric" in problems[26]  # 'Mystery number: 7'
    assert sorted(problems) == [13, 17, 21, 24, 26]  # and nothing else: words without numbers are not data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([
    "## Experiment: x", "## other", "### Metrics", "### Results", "### Config", "### Images", "- Epoch 1: a=1",
    "- Epoch x: b=2", "- k: [1, 2", "- accuracy_: 1", "| a | b |", "|---|---|", "| 1 | 2 |", "Best = ", "```",
    "**Date:**", "![i](../../etc/passwd)", "1. Gap: 5% points", "- val_top1=nan", "",
]) | st.text(max_size=40), max_size=25))  # fmt: skip
def test_no_text_makes_the_markdown_reader_raise(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "log.md"
    path.write_text("\n".join(lines))
    _, problems = markdown_log.read_log(path)
    assert all(p.reason for p in problems)
