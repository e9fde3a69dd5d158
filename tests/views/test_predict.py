"""The Predict page's choices on a small hand-made predictions table: makes, their models and files, the
random image that stays until shuffled, the misclassified ones; and which finished runs are offered."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pandas as pd

from core import tracking
from core.store import Store
from core.views import predict as predictview
from tests.conftest import REPO

PREDS = pd.DataFrame({
    "image": ["/d/bmw-x/1.png", "/d/audi-a/1.png", "/d/audi-b/1.png", "/d/audi-a/2.png", "/d/odd/1.png"],
    "truth": ["bmw-x", "audi-a", "audi-b", "audi-a", "odd"],
    "pred": ["bmw-x", "audi-b", "audi-b", "audi-a", "audi-a"],
    "truth_make": ["bmw", "audi", "audi", "audi", None],
    "correct": [True, False, True, 1, 0],
})


def test_test_images_by_make_then_model_then_file() -> None:
    assert predictview.makes(PREDS) == ["audi", "bmw"]  # sorted, a missing make left out
    assert predictview.models_of(PREDS, "audi") == ["audi-a", "audi-b"]
    assert predictview.images_of(PREDS, "audi-a") == ["/d/audi-a/1.png", "/d/audi-a/2.png"]
    row = predictview.row_of(PREDS, "/d/audi-a/2.png")
    assert (row["truth"], row["pred"]) == ("audi-a", "audi-a")
    assert predictview.file_name("/d/audi-a/2.png") == "2.png"


def test_the_random_image_stays_until_shuffled() -> None:
    state: dict[str, int] = {}
    first = predictview.random_row(PREDS, state, shuffle=False, rng=random.Random(0))
    assert predictview.random_row(PREDS, state, shuffle=False, rng=random.Random(99))["image"] == first["image"]
    seen = {predictview.random_row(PREDS, state, shuffle=True, rng=random.Random(seed))["image"] for seed in range(30)}
    assert seen == set(PREDS["image"])  # shuffling reaches every image
    state[predictview.RANDOM_KEY] = 7  # chosen when the table was longer
    assert predictview.random_row(PREDS, state, shuffle=False)["image"] == PREDS["image"].iloc[7 % 5]


def test_misclassified_images_with_their_mistake() -> None:
    wrong = predictview.misclassified(PREDS)
    assert wrong["image"].tolist() == ["/d/audi-a/1.png", "/d/odd/1.png"]  # truthy 1 is correct, 0 is not
    assert predictview.mistake_label(wrong.iloc[0]) == "audi-a → audi-b"


def test_class_index_and_probability_table() -> None:
    assert predictview.class_index(["a", "b"], "b") == 1
    assert predictview.class_index(["a", "b"], "c") is None and predictview.class_index(["a"], None) is None
    assert predictview.probability_table([("a", 0.7), ("b", 0.2)], "make") == {"make": ["a", "b"],
                                                                                "probability": [0.7, 0.2]}


def test_finished_classify_runs_with_a_checkpoint_are_offered(runs_root: Path) -> None:
    def run(name: str, recipe: str = "classify", top1: float | None = None, status: str = "succeeded") -> str:
        handle = tracking.start(name=name, recipe=recipe, runs_dir=runs_root)
        if top1 is not None:
            handle.log({"test/top1": top1}, step=1)
        handle.finish(status)
        return handle.id

    good, untested, failed = run("good", top1=0.4567), run("untested"), run("failed", status="failed")
    no_checkpoint, other_recipe = run("no checkpoint"), run("script", recipe="script")
    running = tracking.start(name="running", recipe="classify", runs_dir=runs_root)
    with Store(runs_root, in_memory=True) as store:
        labels = predictview.finished_runs(store, lambda run_id: run_id != no_checkpoint)
    running.finish()
    assert list(labels) == [failed, untested, good]  # newest first
    assert labels[good] == f"good ({good[-6:]}) · top-1 45.7%" and labels[untested] == f"untested ({untested[-6:]})"
    assert other_recipe not in labels and running.id not in labels


def test_the_view_imports_no_torch() -> None:
    code = "import sys, core.views.predict; assert 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr



def test_the_page_opens_with_the_best_finished_run(runs_root: Path) -> None:
    ids = []
    for name, top1 in (("older, best", 0.61), ("newest", 0.40), ("untested", None)):
        with tracking.start(name=name, recipe="classify", runs_dir=runs_root) as run:
            if top1 is not None:
                run.log({"test/top1": top1}, step=1)
        ids.append(run.id)
    with Store(runs_root, in_memory=True) as store:
        assert predictview.best_run(store, ids[::-1]) == ids[0]
        assert predictview.best_run(store, [ids[2]]) == ids[2] and predictview.best_run(store, []) is None


def test_an_upload_has_no_truth_to_explain() -> None:
    assert predictview.targets(has_truth=True) == ["prediction", "truth", predictview.A_CLASS]
    assert predictview.targets(has_truth=False) == ["prediction", predictview.A_CLASS]


