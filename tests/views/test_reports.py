"""Experiment-log reports: one markdown section per run in creation order with its epochs, results, per-make
table and notes (as the users' own logs read), and the CSV summary with one row per run."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import tracking
from core.evaluation import stats
from core.store import Store
from core.views import reports
from core.views import run as runview


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _runs(root: Path) -> list[str]:
    with tracking.start(name="baseline", group="heads", changes="none, the baseline", reason="a reference",
                        runs_dir=root) as first:
        first.log({"train/loss": 2.0, "val/top1": 0.25}, step=1)
        first.log({"train/loss": 1.0, "val/top1": 0.5}, step=2)
        first.log({"test/top1": 0.5, "test/other": 7.0}, step=2)
        first.log_table("test/per_make", [{"make": "audi", "correct": 3, "total": 4, "accuracy": 0.75}])
    with tracking.start(name="bare", runs_dir=root) as second:
        second.log({"test/make_acc": 0.9}, step=1)
    return [first.id, second.id]


def test_markdown_has_a_section_per_run_in_creation_order(store: Store, runs_root: Path) -> None:
    first, second = _runs(runs_root)
    store.sync()
    runview.save_notes(store, first, "try a wider head next")
    store.sync()
    text = reports.markdown_report(store, [second, first])
    assert text.startswith("# Experiment Log\n") and text.endswith("---\n")
    assert text.index("## Experiment: baseline") < text.index("## Experiment: bare")
    baseline = text[text.index("## Experiment: baseline"):text.index("## Experiment: bare")]
    assert f"**Run:** `{first}` · status succeeded · recipe script · group heads" in baseline
    assert "### Changes\nnone, the baseline\n\n### Reason\na reference" in baseline
    assert "- Epoch 1: train_loss=2.0000, val_top1=25.00%\n- Epoch 2: train_loss=1.0000, val_top1=50.00%\n" in baseline
    assert "- test/top1 = 50.00%" in baseline and "test/other" not in baseline  # only the result metrics
    assert "| audi | 3 | 4 | 75.00% |" in baseline
    assert "### Notes\ntry a wider head next" in baseline


def test_markdown_says_what_a_bare_run_did_not_record(store: Store, runs_root: Path) -> None:
    _, second = _runs(runs_root)
    store.sync()
    text = reports.markdown_report(store, [second])
    assert "### Changes\nNone recorded" in text and "### Reason\nNone recorded" in text
    assert "No per-epoch metrics logged." in text and "- test/make_acc = 90.00%" in text
    assert "| make |" not in text and "group -" in text


def test_csv_has_a_row_per_run_with_every_metric(store: Store, runs_root: Path) -> None:
    first, second = _runs(runs_root)
    store.sync()
    rows = list(csv.reader(io.StringIO(reports.csv_report(store, [second, first]))))
    assert rows[0] == ["id", "name", "group", "status", "recipe", "test/make_acc", "test/other", "test/top1",
                       "train/loss", "val/top1"]
    assert rows[1] == [second, "bare", "", "succeeded", "script", "0.9", "", "", "", ""]
    assert rows[2] == [first, "baseline", "heads", "succeeded", "script", "", "7.0", "0.5", "1.0", "0.5"]


def test_an_accuracy_from_per_sample_predictions_has_its_wilson_interval(store: Store, runs_root: Path) -> None:
    with tracking.start(name="predicted", runs_dir=runs_root) as run:
        run.log({"test/top1": 32.5}, step=1)  # logged in percent: read as such
        run.log_table("test/predictions", [{"image": f"i{k}", "correct": k < 13} for k in range(40)])
    store.sync()
    text = reports.markdown_report(store, [run.id])
    low, high = stats.wilson_interval(13, 40)
    assert f"- test/top1 = 32.50% (95% CI {low * 100:.2f}–{high * 100:.2f}%, n = 40)" in text


def test_the_reports_picker_offers_the_newest_runs_and_keeps_the_chosen_ones(store: Store, runs_root: Path) -> None:
    from core.views import reports_page

    ids = []
    for i in range(4):
        with tracking.start(name=f"r{i}", group="g" if i == 0 else None, runs_dir=runs_root) as run:
            run.log({"val/top1": 0.1 * i}, step=1)
        ids.append(run.id)
    store.sync()
    offered, labels = reports_page.run_choices(store, limit=2)
    assert offered == [ids[3], ids[2]]  # newest first, only as many as the limit
    offered, labels = reports_page.run_choices(store, keep=[ids[0], "no-such-run"], limit=2)
    assert set(offered) == {ids[0], ids[2], ids[3]} and labels[ids[0]] == f"r0 · g · {ids[0][-6:]}"
