"""The Run page's prediction views: the confused pairs as the classify recipe logs them, the confusion matrix
(in class order, counts and per-row shares), a cell's images with how many there are, and the prediction cards
with their filters (mistakes, make, confidence), readable without paths or JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import tracking
from core.evaluation.confusion import top_confused_pairs
from core.store import Store
from core.views import predictions as predview
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
    pairs = predview.confused_pairs(store, run.id, "model")
    assert list(pairs.columns) == ["truth", "predicted", "count", "share_of_truth"]
    assert list(zip(pairs["truth"], pairs["predicted"], pairs["count"])) == [
        ("bmw-a", "audi-a", 4), ("audi-a", "audi-b", 3), ("audi-b", "bmw-a", 2), ("audi-a", "bmw-a", 1)]
    assert pairs["share_of_truth"].iloc[0] == pytest.approx(4 / 6)
    assert len(predview.confused_pairs(store, run.id, "model", limit=2)) == 2
    makes = predview.confused_pairs(store, run.id, "make")
    assert list(zip(makes["truth"], makes["predicted"])) == [("bmw", "audi"), ("audi", "bmw")]


def test_no_confused_pairs_when_the_run_logged_none(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        pass
    store.sync()
    pairs = predview.confused_pairs(store, run.id, "make")
    assert pairs.empty and list(pairs.columns) == ["truth", "predicted", "count", "share_of_truth"]
    assert predview.levels(store, run.id) == []


def test_the_matrix_in_class_order_with_counts_and_per_row_shares() -> None:
    cells = pd.DataFrame([{"truth": CLASSES[t], "predicted": CLASSES[p], "count": int(CM[t, p]), "truth_index": t,
                           "predicted_index": p} for t, p in zip(*CM.nonzero())])  # fmt: skip
    cells = cells.iloc[::-1]  # the order of the rows does not matter
    m = predview.matrix(cells, per_row=True)
    assert m.names == CLASSES and (m.counts == CM).all()
    assert m.shade[0].tolist() == pytest.approx([5 / 9, 3 / 9, 1 / 9]) and m.shade.sum(axis=1) == pytest.approx(1)
    assert (predview.matrix(cells, per_row=False).shade == CM).all()
    by_name = predview.matrix(cells.drop(columns=["truth_index", "predicted_index"]), per_row=False)
    assert by_name.names == sorted(CLASSES)


PREDS = pd.DataFrame({
    "image": ["/data/x/a.png", "/data/x/b.png", "c.png", "d.png", "e.png"],
    "truth": ["audi-a", "audi-a", "audi-b", "bmw-a", "audi-a"],
    "pred": ["audi-b", "audi-b", "audi-b", "audi-a", "bmw-a"],
    "truth_make": ["audi", "audi", "audi", "bmw", "audi"],
    "pred_make": ["audi", "audi", "audi", "audi", "bmw"],
    "correct": [False, False, True, False, False],
    "top5": [[{"class": "audi-b", "prob": 0.9}, {"class": "audi-a", "prob": 0.05}], [{"class": "audi-b", "prob": 0.4}],
             [{"class": "audi-b", "prob": 0.7}], [{"class": "audi-a", "prob": 0.2}], None],
})  # fmt: skip


def test_a_pairs_images_at_each_level_and_how_many_there_are() -> None:
    images, captions, total = predview.pair_images(PREDS, "model", "audi-a", "audi-b")
    assert images == ["/data/x/a.png", "/data/x/b.png"] and captions == ["audi-a → audi-b"] * 2 and total == 2
    images, captions, total = predview.pair_images(PREDS, "make", "audi", "bmw")
    assert images == ["e.png"] and captions == ["audi → bmw"] and total == 1
    assert predview.pair_images(PREDS, "model", "audi-a", "audi-b", limit=1)[::2] == (["/data/x/a.png"], 2)
    assert predview.pair_images(PREDS.drop(columns=["truth_make", "pred_make"]), "make", "audi", "bmw") == ([], [], 0)


def test_the_filters_mistakes_make_and_confidence() -> None:
    assert predview.filtered(PREDS, wrong_only=True)["image"].tolist() == ["/data/x/a.png", "/data/x/b.png", "d.png",
                                                                           "e.png"]  # fmt: skip
    assert predview.filtered(PREDS, make="bmw")["image"].tolist() == ["d.png"]
    assert predview.filtered(PREDS, confidence_range=(0.5, 1.0))["image"].tolist() == ["/data/x/a.png", "c.png"]
    assert len(predview.filtered(PREDS)) == 5


def test_cards_are_readable_text_without_paths_or_json() -> None:
    first, *_, last = predview.cards(PREDS)
    assert first["file"] == "a.png" and first["image"] == "/data/x/a.png"
    assert first["title"] == "wrong · truth: audi-a" and first["top5"] == ["1. audi-b · 90.0%", "2. audi-a · 5.0%"]
    assert last["top5"] == ["predicted: bmw-a"]
    text = " ".join(str(v) for card in predview.cards(PREDS) for k, v in card.items() if k != "image")
    assert "/data" not in text and "{" not in text
    assert len(predview.cards(PREDS, limit=2)) == 2


def test_a_classify_like_run_has_both_levels(store: Store, runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "r", "single", 0, 0.5)
    store.sync()
    assert predview.levels(store, run_id) == ["make", "model"]
    assert predview.class_names(predview.confusion(store, run_id, "make")) == ["audi", "bmw"]
    assert not predview.confused_pairs(store, run_id, "model").empty
