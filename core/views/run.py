"""What the Runs and Run pages show about a run, assembled from the index and the run folder."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core import runfolder
from core.evaluation import diagnostics
from core.runfolder import status as runstatus
from core.store import Store, queries

# The Run page's charts: a title and the metrics drawn on it.
CURVE_GROUPS = (("Loss", ("train/loss", "val/loss")), ("Top-1", ("train/top1", "val/top1")),
                ("Top-5", ("train/top5", "val/top5")),
                ("Make accuracy", ("train/make_acc", "val/make_acc", "val/make_head_acc", "val/head_agreement")),
                ("Learning rate", ("train/lr",)), ("mAP / rank-1", ("val/mAP", "val/rank1")))
CURVE_METRICS = tuple(m for _, names in CURVE_GROUPS for m in names)
# The most confused pairs the classify recipe logs, by confusion level.
TOP_CONFUSED = {"model": "test/top_confused", "make": "test/top_confused_make"}
# The predictions table's columns of truth and prediction, by confusion level.
_PREDICTION_COLUMNS = {"model": ("truth", "pred"), "make": ("truth_make", "pred_make")}
_DIAGNOSED = ("train/loss", "val/loss", "train/top1", "val/top1", "val/head_agreement", "val/mAP")


@dataclass
class RunOverview:
    """One run as the Run page heads it."""

    id: str
    name: str
    group: str
    recipe: str
    status: str
    created: Any
    config: dict[str, Any]
    changes: str
    reason: str
    notes: str
    error: str | None
    progress: float | None  # 0..1
    eta_s: float | None
    stale: bool
    findings: list[diagnostics.Finding] = field(default_factory=list)


def overview(store: Store, run_id: str, stale_after_s: float = 60.0, *, findings: bool = True) -> RunOverview:
    """The run's labels, status, progress and ETA; with ``findings``, its diagnostics too (one more query)."""
    meta = queries.runs_meta(store, [run_id])
    if meta.empty:
        raise runfolder.RunNotFoundError(f"no run {run_id!r} in the index; pick one on the Runs page")
    row = meta.iloc[0].to_dict()
    done, total = _int(row["progress_done"]), _int(row["progress_total"])
    finals = queries.final_metrics(store, [run_id]).set_index("name")
    epoch_s = finals["last_value"].get("train/epoch_seconds") if len(finals) else None
    silent = runstatus.seconds_since_beat(store.root / run_id)
    return RunOverview(
        id=run_id, name=row["name"], group=row["group"], recipe=row["recipe"], status=row["status"],
        created=row["created"], config=json.loads(row["config"] or "{}"), changes=row["changes"] or "",
        reason=row["reason"] or "", notes=row["notes"] or "", error=row["error"],
        progress=done / total if done is not None and total else None,
        eta_s=(total - done) * epoch_s if done is not None and total and _finite(epoch_s) else None,
        stale=row["status"] == "running" and silent is not None and silent > stale_after_s,
        findings=diagnose(store, run_id) if findings else [],
    )


def diagnose(store: Store, run_id: str) -> list[diagnostics.Finding]:
    """Diagnostics of one run from its curves and, when logged, its test predictions."""
    points = queries.curves_many(store, [run_id], list(_DIAGNOSED), max_points=100_000)
    curves = {name: list(zip(g["step"].tolist(), g["value"].tolist())) for name, g in points.groupby("name")}
    predicted = [r.get("pred") for r in queries.run_table(store, run_id, "test/predictions")]
    codes = {name: i for i, name in enumerate(dict.fromkeys(predicted))}  # class names -> indices
    return _diagnosed(curves, [codes[p] for p in predicted] or None)


def _diagnosed(curves: diagnostics.Curves, predictions: list[int] | None = None) -> list[diagnostics.Finding]:
    """Findings of one run; curves the checks cannot read (e.g. accuracies in percent) become a finding."""
    try:
        return diagnostics.diagnose_run(curves, predictions=predictions)
    except ValueError as exc:
        return [diagnostics.Finding(kind="stall", severity="info", message=f"not diagnosed: {exc}")]


def badges(store: Store, run_ids: list[str]) -> dict[str, str]:
    """A short warning per run for the runs list ('' when healthy): the kinds of its findings."""
    points = queries.curves_many(store, run_ids, list(_DIAGNOSED), max_points=2000)
    out = {}
    for run_id in run_ids:
        mine = points[points["run_id"] == run_id]
        curves = {n: list(zip(g["step"].tolist(), g["value"].tolist())) for n, g in mine.groupby("name")}
        found = _diagnosed(curves)
        out[run_id] = ", ".join(sorted({f.kind.replace("_", " ") for f in found}))
    return out


def run_choices(store: Store, current: str | None, limit: int = 200) -> tuple[list[str], dict[str, str]]:
    """The Run page's picker: the recent runs' ids (``current`` first when it is an older run) and their labels.

    No status in the label: the live header refreshes it, the picker is drawn once per page run.
    """
    recent, _ = queries.find_runs(store, metrics=[], limit=limit)
    labels = dict(zip(recent["id"], recent["name"] + " · " + recent["id"].str[-6:]))
    choices = list(labels) if current in labels or current is None else [current, *labels]
    return choices, labels


def header_metrics(view: RunOverview) -> list[tuple[str, str, str | None]]:
    """The Run page's headline numbers: label, value and help of status, recipe, group and ETA."""
    return [
        ("Status", "stale" if view.stale else view.status,
         "stale: the process is alive but has not reported progress for a minute"),
        ("Recipe", view.recipe, None),
        ("Group", view.group or "—", None),
        ("ETA", str(dt.timedelta(seconds=round(view.eta_s))) if view.eta_s else "—", None),
    ]


def curves(store: Store, run_id: str) -> pd.DataFrame:
    return queries.curves_many(store, [run_id], list(CURVE_METRICS))


def curve_charts(store: Store, run_id: str) -> list[tuple[str, pd.DataFrame]]:
    """The run's charts that have points: title and points (name, step, value, with ``series`` = name)."""
    points = curves(store, run_id)
    points["series"] = points["name"]
    charts = [(title, points[points["name"].isin(names)]) for title, names in CURVE_GROUPS]
    return [(title, part) for title, part in charts if not part.empty]


def results_table(store: Store, run_id: str) -> pd.DataFrame:
    """The last value of each test/ metric: columns name, last_value."""
    finals = queries.final_metrics(store, [run_id])
    return finals[finals["name"].str.startswith("test/")][["name", "last_value"]]


def per_make(store: Store, run_id: str) -> pd.DataFrame:
    """test/per_make sorted from worst to best, with counts."""
    rows = queries.run_table(store, run_id, "test/per_make")
    frame = pd.DataFrame(rows, columns=["make", "correct", "total", "accuracy"])
    return frame.sort_values(["accuracy", "total"], ascending=[True, False]).reset_index(drop=True)


def confusion(store: Store, run_id: str, level: str) -> pd.DataFrame:
    """Non-zero cells of the confusion matrix at ``level`` ("model" or "make"): truth, predicted, count."""
    rows = queries.run_table(store, run_id, f"test/confusion_{level}")
    return pd.DataFrame(rows)


def class_names(cells: pd.DataFrame) -> list[str]:
    """The classes of confusion cells, sorted: the heatmap's axes."""
    return sorted(set(cells["truth"]) | set(cells["predicted"]))


def confused_pairs(store: Store, run_id: str, level: str, limit: int = 15) -> pd.DataFrame:
    """The most confused pairs at ``level`` as the run logged them (truth, predicted, count, share_of_truth),
    most frequent first."""
    rows = queries.run_table(store, run_id, TOP_CONFUSED[level])
    return pd.DataFrame(rows, columns=["truth", "predicted", "count", "share_of_truth"]).head(limit)


def predictions(store: Store, run_id: str) -> pd.DataFrame:
    """The test predictions table (image, truth, pred, correct, top5)."""
    return pd.DataFrame(queries.run_table(store, run_id, "test/predictions"))


def pair_images(preds: pd.DataFrame, level: str, truth: str, predicted: str,
                limit: int = 12) -> tuple[list[str], list[str]]:
    """The test images whose truth is ``truth`` and prediction ``predicted`` at ``level``: paths and captions."""
    truth_column, pred_column = _PREDICTION_COLUMNS[level]
    if truth_column not in preds:
        return [], []
    hits = preds[(preds[truth_column] == truth) & (preds[pred_column] == predicted)].head(limit)
    return hits["image"].tolist(), [f"{t} → {p}" for t, p in zip(hits[truth_column], hits[pred_column])]


def prediction_sample(preds: pd.DataFrame, show: str, limit: int = 200) -> pd.DataFrame:
    """The first ``limit`` predictions: the misclassified ones (``show`` "misclassified") or all."""
    sample = preds[~preds["correct"].astype(bool)] if show == "misclassified" else preds
    return sample.head(limit)


def console_tail(store: Store, run_id: str, lines: int = 60) -> str:
    return runfolder.tail_text(store.root / run_id / runfolder.CONSOLE_FILE, lines)


def save_notes(store: Store, run_id: str, notes: str) -> None:
    runfolder.update_meta(runfolder.resolve_run_dir(store.root, run_id), notes=notes)


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else int(value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
