"""The Run page's numbers: the picker, the headline, the charts by group, the test results, the confused pairs
as the classify recipe logs them, a pair's images, and the predictions sample."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import tracking
from core.evaluation.confusion import top_confused_pairs
from core.store import Store
from core.views import run as runview
from tests.fixtures_runs import log_classify_like

CLASSES = ["audi-a", "audi-b", "bmw-a"]
CM = np.array([[5, 3, 1], [0, 6, 2], [4, 0, 2]])  # rows truth, columns predicted


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def test_confused_pairs_are_the_logged_table_most_frequent_first(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", recipe="classify", runs_dir=runs_root) as run:
        run.log_table("test/top_confused", top_confused_pairs(CM, CLASSES, k=20))
        run.log_table("test/top_confused_make", top_confused_pairs(np.array([[7, 1], [3, 2]]), ["audi", "bmw"]))
    store.sync()
    pairs = runview.confused_pairs(store, run.id, "model")
    assert list(pairs.columns) == ["truth", "predicted", "count", "share_of_truth"]
    assert list(zip(pairs["truth"], pairs["predicted"], pairs["count"])) == [
        ("bmw-a", "audi-a", 4), ("audi-a", "audi-b", 3), ("audi-b", "bmw-a", 2), ("audi-a", "bmw-a", 1)]
    assert pairs["share_of_truth"].iloc[0] == pytest.approx(4 / 6)
    assert len(runview.confused_pairs(store, run.id, "model", limit=2)) == 2
    makes = runview.confused_pairs(store, run.id, "make")
    assert list(zip(makes["truth"], makes["predicted"])) == [("bmw", "audi"), ("audi", "bmw")]


def test_no_confused_pairs_when_the_run_logged_none(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        pass
    store.sync()
    pairs = runview.confused_pairs(store, run.id, "make")
    assert pairs.empty and list(pairs.columns) == ["truth", "predicted", "count", "share_of_truth"]


PREDS = pd.DataFrame({
    "image": ["a.png", "b.png", "c.png", "d.png", "e.png"],
    "truth": ["audi-a", "audi-a", "audi-b", "bmw-a", "audi-a"],
    "pred": ["audi-b", "audi-b", "audi-b", "audi-a", "bmw-a"],
    "truth_make": ["audi", "audi", "audi", "bmw", "audi"],
    "pred_make": ["audi", "audi", "audi", "audi", "bmw"],
    "correct": [False, False, True, False, False],
})


def test_a_pairs_images_at_each_level() -> None:
    images, captions = runview.pair_images(PREDS, "model", "audi-a", "audi-b")
    assert images == ["a.png", "b.png"] and captions == ["audi-a → audi-b"] * 2
    images, captions = runview.pair_images(PREDS, "make", "audi", "bmw")
    assert images == ["e.png"] and captions == ["audi → bmw"]
    assert runview.pair_images(PREDS, "model", "audi-a", "audi-b", limit=1)[0] == ["a.png"]
    assert runview.pair_images(PREDS.drop(columns=["truth_make", "pred_make"]), "make", "audi", "bmw") == ([], [])


def test_the_predictions_sample_shows_mistakes_or_all() -> None:
    assert runview.prediction_sample(PREDS, "misclassified")["image"].tolist() == ["a.png", "b.png", "d.png", "e.png"]
    assert len(runview.prediction_sample(PREDS, "all")) == 5
    assert len(runview.prediction_sample(PREDS, "all", limit=2)) == 2


def test_charts_group_the_curves_in_order_and_skip_empty_ones(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        for step in (1, 2):
            run.log({"val/top1": 0.1 * step, "train/loss": 1.0 / step, "train/lr": 0.01, "val/other": 1.0}, step=step)
    store.sync()
    charts = runview.curve_charts(store, run.id)
    assert [title for title, _ in charts] == ["Loss", "Top-1", "Learning rate"]
    loss = charts[0][1]
    assert set(loss["name"]) == {"train/loss"} and (loss["series"] == loss["name"]).all() and len(loss) == 2


def test_no_charts_before_any_metric(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        pass
    store.sync()
    assert runview.curve_charts(store, run.id) == []


def test_results_are_the_test_metrics(store: Store, runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "r", "single", 0, 0.5)
    store.sync()
    results = runview.results_table(store, run_id)
    assert dict(zip(results["name"], results["last_value"])) == {"test/top1": 0.5, "test/make_acc": 0.9}
    assert runview.class_names(runview.confusion(store, run_id, "make")) == ["audi", "bmw"]


def test_the_picker_lists_recent_runs_and_keeps_an_older_current_one(store: Store, runs_root: Path) -> None:
    ids = []
    for name in ("first", "second"):
        with tracking.start(name=name, runs_dir=runs_root) as run:
            pass
        ids.append(run.id)
    store.sync()
    choices, labels = runview.run_choices(store, None)
    assert choices == ids[::-1] and labels[ids[0]] == f"first · {ids[0][-6:]}"
    assert runview.run_choices(store, ids[0])[0] == ids[::-1]
    choices, _ = runview.run_choices(store, ids[0], limit=1)  # first is too old for the list: shown first
    assert choices == [ids[0], ids[1]]


def _overview(**changes: object) -> runview.RunOverview:
    fields = {"id": "r", "name": "n", "group": "", "recipe": "classify", "status": "running", "created": None,
              "config": {}, "changes": "", "reason": "", "notes": "", "error": None, "progress": 0.5, "eta_s": 3725.4,
              "stale": False}
    return runview.RunOverview(**{**fields, **changes})


def test_the_headline() -> None:
    status, recipe, group, eta = runview.header_metrics(_overview())
    assert status[:2] == ("Status", "running") and group[1] == "—" and recipe[1] == "classify"
    assert eta[1] == str(dt.timedelta(seconds=3725)) == "1:02:05"
    assert runview.header_metrics(_overview(stale=True, eta_s=None, group="g"))[0][1] == "stale"
    assert [value for _, value, _ in runview.header_metrics(_overview(eta_s=None, group="g"))[2:]] == ["g", "—"]
