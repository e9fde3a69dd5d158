"""Oracle and property tests for core.evaluation.classification.

Each metric is recomputed with a plain Python loop (the oracle) on small batches, hand-made and drawn by
Hypothesis. Scores are drawn from a few integers so that ties, the usual source of off-by-one ranking
bugs, are common.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.classification import (
    gap_points,
    head_agreement,
    make_accuracy,
    make_head_accuracy,
    make_probabilities,
    per_class_accuracy,
    per_make_table,
    per_model_table,
    predictions_rows,
    summarize_predictions,
    topk_accuracy,
    topk_indices,
)
from core.evaluation.confusion import confusion_matrix, make_confusion, top_confused_pairs
from tests.conftest import REPO as REPO_ROOT

FAST = settings(max_examples=60, deadline=None)


# --- oracles: plain loops over Python lists ---------------------------------------------------------------


def oracle_ranking(row: list[float]) -> list[int]:
    """Classes by descending score; ties to the lower index (the documented rule)."""
    return sorted(range(len(row)), key=lambda c: (-row[c], c))


def oracle_share(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else math.nan


def oracle_topk(scores: list[list[float]], labels: list[int], k: int) -> float:
    return oracle_share([labels[i] in oracle_ranking(scores[i])[:k] for i in range(len(labels))])


def oracle_confusion(pred: list[int], labels: list[int], n: int) -> list[list[int]]:
    cm = [[0] * n for _ in range(n)]
    for p, t in zip(pred, labels, strict=True):
        cm[t][p] += 1
    return cm


def oracle_per_make(pred: list[int], labels: list[int], c2m: list[int], makes: list[str]) -> list[dict]:
    counts: dict[str, list[int]] = {}
    for p, t in zip(pred, labels, strict=True):
        entry = counts.setdefault(makes[c2m[t]], [0, 0])
        entry[0] += c2m[p] == c2m[t]
        entry[1] += 1
    rows = [{"make": m, "correct": c, "total": n, "accuracy": c / n} for m, (c, n) in counts.items()]
    return sorted(rows, key=lambda r: (r["make"].lower(), r["make"]))


@dataclass
class Batch:
    scores: np.ndarray  # (N, C)
    labels: list[int]
    c2m: list[int]
    n_makes: int
    make_scores: np.ndarray  # (N, n_makes)

    @property
    def pred(self) -> list[int]:
        return [oracle_ranking(row)[0] for row in self.scores.tolist()]

    @property
    def make_pred(self) -> list[int]:
        return [oracle_ranking(row)[0] for row in self.make_scores.tolist()]


def _int_matrix(draw: st.DrawFn, n: int, m: int) -> np.ndarray:
    cells = draw(st.lists(st.integers(-2, 2), min_size=n * m, max_size=n * m))
    return np.array(cells, dtype=np.float32).reshape(n, m)


@st.composite
def batches(draw: st.DrawFn, min_n: int = 0) -> Batch:
    n_classes = draw(st.integers(1, 6))
    n_makes = draw(st.integers(1, n_classes))
    c2m = draw(st.lists(st.integers(0, n_makes - 1), min_size=n_classes, max_size=n_classes))
    n = draw(st.integers(min_n, 12))
    labels = draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    return Batch(_int_matrix(draw, n, n_classes), labels, c2m, n_makes, _int_matrix(draw, n, n_makes))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


# --- a hand-worked example: 4 models of 2 makes, as in the car log ---------------------------------------

CLASSES = ["Ford Focus", "Ford Fiesta", "BMW M3", "BMW X5"]
MAKES = ["Ford", "BMW"]
C2M = [0, 0, 1, 1]
LABELS = [0, 0, 1, 1, 2, 2, 3, 3, 3, 2]
PRED = [0, 1, 1, 2, 2, 3, 3, 0, 3, 2]  # 6 exact; i3 Fiesta->M3 and i7 X5->Focus also miss the make
MAKE_PRED = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]  # make head: wrong only on i9


def test_hand_worked_example_make_accuracy_exceeds_model_accuracy() -> None:
    logits = np.eye(4)[PRED] * 5.0
    make_logits = np.eye(2)[MAKE_PRED] * 3.0
    got = summarize_predictions(logits, LABELS, C2M, make_logits=make_logits)
    assert got == pytest.approx(
        {"top1": 0.6, "top5": 1.0, "make_acc": 0.8, "gap": 20.0, "make_head_acc": 0.9, "head_agreement": 0.7}
    )
    assert per_make_table(PRED, LABELS, C2M, MAKES) == [
        {"make": "BMW", "correct": 5, "total": 6, "accuracy": pytest.approx(5 / 6)},
        {"make": "Ford", "correct": 3, "total": 4, "accuracy": 0.75},
    ]
    assert [
        (r["model"], r["make"], r["correct"], r["total"]) for r in per_model_table(PRED, LABELS, CLASSES, C2M, MAKES)
    ] == [
        ("BMW M3", "BMW", 2, 3),
        ("BMW X5", "BMW", 2, 3),
        ("Ford Fiesta", "Ford", 1, 2),
        ("Ford Focus", "Ford", 1, 2),
    ]
    assert confusion_matrix(PRED, LABELS, 4).tolist() == [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 2, 1], [1, 0, 0, 2]]
    assert make_confusion(PRED, LABELS, C2M, 2).tolist() == [[3, 1], [1, 5]]


def test_hand_worked_confused_pairs_break_count_ties_by_truth_then_prediction() -> None:
    rows = top_confused_pairs(confusion_matrix(PRED, LABELS, 4), CLASSES, k=3)
    assert rows == [
        {"truth": "Ford Focus", "predicted": "Ford Fiesta", "count": 1, "share_of_truth": 0.5},
        {"truth": "Ford Fiesta", "predicted": "BMW M3", "count": 1, "share_of_truth": 0.5},
        {"truth": "BMW M3", "predicted": "BMW X5", "count": 1, "share_of_truth": pytest.approx(1 / 3)},
    ]


def test_gap_is_in_points_as_in_the_car_log() -> None:
    # The log: exact 41.72 %, make 52.82 %, "THE GAP: 11.09% points" (from unrounded accuracies).
    assert gap_points(0.5282, 0.4172) == pytest.approx(11.10)
    with pytest.raises(ValueError, match=r"make_acc.*not percent"):
        gap_points(52.82, 41.72)
    assert math.isnan(gap_points(math.nan, 0.5))


def test_ties_go_to_the_lower_class_index() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    assert topk_indices(scores, 3).tolist() == [[1, 2, 0], [0, 1, 2]]
    assert topk_accuracy(scores, [2, 3], k=1) == 0.0
    assert topk_accuracy(scores, [2, 3], k=2) == 0.5


def test_nan_scores_rank_last() -> None:
    assert topk_indices(np.array([[np.nan, 0.1, 0.2]]), 3).tolist() == [[2, 1, 0]]


# --- property tests against the oracles ----------------------------------------------------------------


@FAST
@given(batches(), st.integers(1, 6))
def test_topk_matches_oracle(b: Batch, k: int) -> None:
    k = min(k, b.scores.shape[1])
    assert topk_indices(b.scores, k).tolist() == [oracle_ranking(r)[:k] for r in b.scores.tolist()]
    assert same(topk_accuracy(b.scores, b.labels, k), oracle_topk(b.scores.tolist(), b.labels, k))


@FAST
@given(batches(min_n=1))
def test_topk_is_monotone_in_k_and_reaches_one(b: Batch) -> None:
    n_classes = b.scores.shape[1]
    accs = [topk_accuracy(b.scores, b.labels, k) for k in range(1, n_classes + 1)]
    assert accs == sorted(accs)
    assert accs[-1] == 1.0


@FAST
@given(batches())
def test_make_metrics_match_oracle(b: Batch) -> None:
    pred, make_pred, c2m = b.pred, b.make_pred, b.c2m
    n = len(b.labels)
    expected_make = oracle_share([c2m[pred[i]] == c2m[b.labels[i]] for i in range(n)])
    expected_head = oracle_share([make_pred[i] == c2m[b.labels[i]] for i in range(n)])
    expected_agree = oracle_share([c2m[pred[i]] == make_pred[i] for i in range(n)])
    assert same(make_accuracy(pred, b.labels, c2m), expected_make)
    assert same(make_head_accuracy(make_pred, b.labels, c2m), expected_head)
    assert same(head_agreement(pred, make_pred, c2m), expected_agree)


@FAST
@given(batches(min_n=1))
def test_make_accuracy_never_below_top1(b: Batch) -> None:
    assert make_accuracy(b.pred, b.labels, b.c2m) >= topk_accuracy(b.scores, b.labels, 1)


@FAST
@given(batches(min_n=1))
def test_head_agreement_limits(b: Batch) -> None:
    c2m = np.array(b.c2m)
    pred = np.array(b.pred)
    # A make head that copies the model head agrees always and is exactly as good as make accuracy.
    assert head_agreement(pred, c2m[pred], c2m) == 1.0
    assert make_head_accuracy(c2m[pred], b.labels, c2m) == make_accuracy(pred, b.labels, c2m)
    # A perfect make head agrees with the model head exactly when the model gets the make right.
    true_make = c2m[b.labels]
    assert make_head_accuracy(true_make, b.labels, c2m) == 1.0
    assert head_agreement(pred, true_make, c2m) == make_accuracy(pred, b.labels, c2m)


@FAST
@given(batches())
def test_confusion_matrices_match_oracle_and_accuracies(b: Batch) -> None:
    n_classes, n = b.scores.shape[1], len(b.labels)
    cm = confusion_matrix(b.pred, b.labels, n_classes)
    assert cm.dtype == np.int64 and cm.tolist() == oracle_confusion(b.pred, b.labels, n_classes)
    assert cm.sum() == n
    mcm = make_confusion(b.pred, b.labels, b.c2m, b.n_makes)
    assert mcm.tolist() == oracle_confusion([b.c2m[p] for p in b.pred], [b.c2m[t] for t in b.labels], b.n_makes)
    if n:
        assert np.trace(cm) / n == pytest.approx(topk_accuracy(b.scores, b.labels, 1))
        assert np.trace(mcm) / n == pytest.approx(make_accuracy(b.pred, b.labels, b.c2m))


@FAST
@given(batches())
def test_top_confused_pairs_cover_every_mistake_in_descending_order(b: Batch) -> None:
    n_classes = b.scores.shape[1]
    names = [f"class {i}" for i in range(n_classes)]
    cm = confusion_matrix(b.pred, b.labels, n_classes)
    rows = top_confused_pairs(cm, names, k=n_classes * n_classes)
    expected = sorted((-cm[t][p], t, p) for t in range(n_classes) for p in range(n_classes) if t != p and cm[t][p] > 0)
    assert [(r["truth"], r["predicted"], r["count"]) for r in rows] == [
        (names[t], names[p], -c) for c, t, p in expected
    ]
    assert sum(r["count"] for r in rows) == len(b.labels) - np.trace(cm)
    for r in rows:
        assert r["share_of_truth"] == pytest.approx(r["count"] / cm[names.index(r["truth"])].sum())
    assert top_confused_pairs(cm, names, k=1) == rows[:1]


@FAST
@given(batches())
def test_per_make_and_per_model_tables(b: Batch) -> None:
    makes = [f"make {m}" for m in range(b.n_makes)]
    classes = [f"model {c}" for c in range(b.scores.shape[1])]
    by_make = per_make_table(b.pred, b.labels, b.c2m, makes)
    assert by_make == oracle_per_make(b.pred, b.labels, b.c2m, makes)
    assert sum(r["total"] for r in by_make) == len(b.labels)
    by_model = per_model_table(b.pred, b.labels, classes, b.c2m, makes)
    assert sum(r["total"] for r in by_model) == len(b.labels)
    for r in by_model:
        idx = classes.index(r["model"])
        assert r["make"] == makes[b.c2m[idx]]
        assert r["total"] == b.labels.count(idx)
        assert r["correct"] == sum(p == t == idx for p, t in zip(b.pred, b.labels, strict=True))
    if b.labels:
        assert sum(r["correct"] for r in by_make) / len(b.labels) == pytest.approx(
            make_accuracy(b.pred, b.labels, b.c2m)
        )
        assert sum(r["correct"] for r in by_model) / len(b.labels) == pytest.approx(
            topk_accuracy(b.scores, b.labels, 1)
        )


@FAST
@given(batches())
def test_make_probabilities_sum_each_makes_models(b: Batch) -> None:
    probs = np.exp(b.scores) / np.exp(b.scores).sum(axis=1, keepdims=True)
    got = make_probabilities(probs, b.c2m, b.n_makes)
    assert got.shape == (len(b.labels), b.n_makes)
    for i, row in enumerate(probs.tolist()):
        for m in range(b.n_makes):
            assert got[i, m] == pytest.approx(sum(p for c, p in enumerate(row) if b.c2m[c] == m))
    assert got.sum(axis=1) == pytest.approx(np.ones(len(b.labels)))


@FAST
@given(batches())
def test_summarize_predictions_agrees_with_the_single_metrics(b: Batch) -> None:
    n_classes, c2m = b.scores.shape[1], np.array(b.c2m)
    got = summarize_predictions(b.scores, b.labels, b.c2m, make_logits=b.make_scores)
    expected = {
        "top1": oracle_topk(b.scores.tolist(), b.labels, 1),
        "top5": oracle_topk(b.scores.tolist(), b.labels, min(5, n_classes)),
        "make_acc": make_accuracy(b.pred, b.labels, c2m),
        "make_head_acc": make_head_accuracy(b.make_pred, b.labels, c2m),
        "head_agreement": head_agreement(b.pred, b.make_pred, c2m),
    }
    expected["gap"] = 100 * (expected["make_acc"] - expected["top1"])
    assert got.keys() == expected.keys()
    assert all(same(got[key], expected[key]) for key in expected), (got, expected)
    assert set(summarize_predictions(b.scores, b.labels, b.c2m)) == {"top1", "top5", "make_acc", "gap"}
    if b.labels:
        assert got["gap"] >= 0.0


@FAST
@given(batches(), st.integers(1, 8))
def test_predictions_rows_match_oracle(b: Batch, k: int) -> None:
    classes = [f"model {c}" for c in range(b.scores.shape[1])]
    labels: list[int | None] = [t if t % 3 else None for t in b.labels]  # some truths unknown
    paths = [Path(f"img/{i}.jpg") for i in range(len(labels))]
    rows = predictions_rows(b.scores, labels, paths, classes, k=k)
    for i, row in enumerate(rows):
        ranking = oracle_ranking(b.scores[i].tolist())[: min(k, len(classes))]
        assert row["image"] == f"img/{i}.jpg"
        assert row["pred"] == classes[ranking[0]]
        assert row["truth"] == (None if labels[i] is None else classes[labels[i]])
        assert row["correct"] == (None if labels[i] is None else ranking[0] == labels[i])
        assert row["top5"] == [{"class": classes[c], "prob": float(b.scores[i, c])} for c in ranking]


# --- edges: empty input, unknown truth, other array types, bad input -----------------------------------


def test_empty_input_gives_nan_shares_and_empty_tables() -> None:
    empty = np.zeros((0, 4))
    assert math.isnan(topk_accuracy(empty, [], 1))
    assert math.isnan(make_accuracy([], [], C2M))
    assert all(math.isnan(v) for v in summarize_predictions(empty, [], C2M, np.zeros((0, 2))).values())
    assert per_make_table([], [], C2M, MAKES) == [] and per_class_accuracy([], [], CLASSES) == []
    assert confusion_matrix([], [], 3).tolist() == [[0] * 3] * 3
    assert predictions_rows(empty, [], [], CLASSES) == []


def test_predictions_rows_unknown_truth_and_negative_labels() -> None:
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    rows = predictions_rows(probs, [-1, 0], ["a.jpg", "b.jpg"], ["x", "y", "z"], k=2)
    assert rows[0] == {
        "image": "a.jpg",
        "truth": None,
        "pred": "y",
        "correct": None,
        "top5": [{"class": "y", "prob": 0.7}, {"class": "z", "prob": 0.2}],
    }
    assert rows[1]["truth"] == "x" and rows[1]["correct"] is True
    assert [r["truth"] for r in predictions_rows(probs, None, ["a", "b"], ["x", "y", "z"])] == [None, None]


def test_per_make_table_sorts_names_case_insensitively_and_omits_empty_makes() -> None:
    makes = ["smart", "Tesla", "Audi", "Scion"]  # a plain sort would put "smart" after "Tesla"
    rows = per_make_table([0, 1, 2, 0], [0, 1, 2, 2], [0, 1, 2, 3], makes)
    assert [r["make"] for r in rows] == ["Audi", "smart", "Tesla"]
    assert rows[0] == {"make": "Audi", "correct": 1, "total": 2, "accuracy": 0.5}


def test_accepts_torch_tensors_including_bfloat16_with_grad() -> None:
    torch = pytest.importorskip("torch")
    logits = torch.tensor(np.eye(4)[PRED] * 5.0, dtype=torch.bfloat16, requires_grad=True)
    got = summarize_predictions(logits, torch.tensor(LABELS), torch.tensor(C2M))
    assert got["top1"] == pytest.approx(0.6) and got["make_acc"] == pytest.approx(0.8)


def test_float_labels_with_integer_values_are_accepted() -> None:
    assert topk_accuracy(np.eye(3), np.array([0.0, 1.0, 2.0]), 1) == 1.0


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: topk_accuracy(np.zeros(3), [0, 0, 0], 1), "logits_or_probs"),
        (lambda: topk_accuracy(np.zeros((3, 2)), [0, 0], 1), "labels"),
        (lambda: topk_accuracy(np.zeros((3, 2)), [0, 0, 2], 1), "labels"),
        (lambda: topk_accuracy(np.zeros((3, 2)), [0.5, 0, 0], 1), "labels"),
        (lambda: topk_indices(np.zeros((3, 2)), 3), "k"),
        (lambda: topk_indices(np.zeros((3, 2)), 0), "k"),
        (lambda: make_accuracy([0, 5], [0, 1], [0, 1]), "pred_classes"),
        (lambda: make_head_accuracy([0, -1], [0, 1], [0, 1]), "make_pred"),
        (lambda: head_agreement([0, 1], [0], [0, 1]), "make_pred"),
        (lambda: make_probabilities(np.ones((2, 3)), [0, 1], 2), "class_to_make"),
        (lambda: make_probabilities(np.ones((2, 2)), [0, 2], 2), "class_to_make"),
        (lambda: per_make_table([0], [0], [0, 3], MAKES), "class_to_make"),
        (lambda: per_model_table([0], [0], CLASSES, [0, 1], MAKES), "class_to_make"),
        (lambda: confusion_matrix([0], [0], 0), "n"),
        (lambda: top_confused_pairs(np.zeros((2, 3), dtype=int), ["a", "b"]), "cm"),
        (lambda: top_confused_pairs(np.zeros((2, 2), dtype=int), ["a"]), "names"),
        (lambda: summarize_predictions(np.zeros((2, 4)), [0, 1], C2M, make_logits=np.zeros((2, 1))), "make_logits"),
        (lambda: summarize_predictions(np.zeros((2, 4)), [0, 1], [0, 1]), "class_to_make"),
        (lambda: predictions_rows(np.zeros((2, 3)), [0, 1], ["a"], ["x", "y", "z"]), "paths"),
        (lambda: predictions_rows(np.zeros((2, 3)), [0, 1], ["a", "b"], ["x", "y"]), "classes"),
        (lambda: predictions_rows(np.zeros((2, 3)), [0, 3], ["a", "b"], ["x", "y", "z"]), "labels"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call: object, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()  # type: ignore[operator]


def test_importing_the_metrics_does_not_import_torch() -> None:
    code = "import sys, core.evaluation.classification; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
