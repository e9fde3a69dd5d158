"""Metrics of a pass and the end-of-run evaluation: test-split metrics and the tables the UI drills into.

Every number comes from the pure functions of core.evaluation.classification; this module only names them
(SPEC's ``split/name``) and logs them.
"""

from __future__ import annotations

from typing import Any

import torch

from core.datasets import ClassificationData
from core.evaluation.classification import (
    per_make_table,
    per_model_table,
    predictions_rows,
    summarize_predictions,
)
from core.evaluation.confusion import confusion_matrix, make_confusion, top_confused_pairs
from core.recipes.classify.loop import Outputs

TOP_CONFUSED = 20


def split_metrics(out: Outputs, class_to_make: list[int], prefix: str) -> dict[str, float]:
    """``{prefix}/loss``, ``/top1``, ``/top5``, ``/make_acc``, ``/gap`` and, multi-head, ``/make_head_acc``,
    ``/head_agreement`` of one pass (shares in [0, 1], gap in points)."""
    summary = summarize_predictions(out.logits, out.labels, class_to_make, out.make_logits)
    return {f"{prefix}/loss": out.loss, **{f"{prefix}/{k}": v for k, v in summary.items()}}


def _cells(cm: Any, names: list[str]) -> list[dict[str, Any]]:
    """Non-zero cells of a confusion matrix as rows ``{truth, predicted, count, truth_index, predicted_index}``."""
    rows = []
    for t, p in zip(*cm.nonzero(), strict=True):
        rows.append(
            {
                "truth": names[t],
                "predicted": names[p],
                "count": int(cm[t, p]),
                "truth_index": int(t),
                "predicted_index": int(p),
            }
        )
    return rows


def result_tables(out: Outputs, data: ClassificationData, split: str, prefix: str = "test") -> dict[str, list]:
    """The tables of the end-of-run evaluation, by name (``test/per_make``, ``test/predictions``, ...)."""
    pred = out.logits.argmax(dim=1).numpy()  # ties: lowest index, as the metrics module ranks
    labels = out.labels.numpy()
    c2m = data.class_to_make
    cm_model = confusion_matrix(pred, labels, len(data.classes))
    cm_make = make_confusion(pred, labels, c2m, len(data.makes))
    samples = data.splits[split]
    paths = [samples[int(i)].path for i in out.indices]
    rows = predictions_rows(torch.softmax(out.logits, dim=1), labels, paths, data.classes)
    make_pred = out.make_logits.argmax(dim=1).tolist() if out.make_logits is not None else None
    for i, row in enumerate(rows):
        row["truth_make"] = data.makes[c2m[int(labels[i])]]
        row["pred_make"] = data.makes[c2m[int(pred[i])]]
        if make_pred is not None:
            row["make_head"] = data.makes[make_pred[i]]
    return {
        f"{prefix}/per_make": per_make_table(pred, labels, c2m, data.makes),
        f"{prefix}/per_model": per_model_table(pred, labels, data.classes, c2m, data.makes),
        f"{prefix}/confusion_model": _cells(cm_model, data.classes),
        f"{prefix}/confusion_make": _cells(cm_make, data.makes),
        f"{prefix}/top_confused": top_confused_pairs(cm_model, data.classes, k=TOP_CONFUSED),
        f"{prefix}/top_confused_make": top_confused_pairs(cm_make, data.makes, k=TOP_CONFUSED),
        f"{prefix}/predictions": rows,
    }


def final_split(data: ClassificationData) -> str:
    """The split of the end-of-run evaluation: test, or val when the dataset has no test images."""
    return "test" if data.splits.get("test") else "val"
