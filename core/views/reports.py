"""Experiment-log reports in the markdown format our users write by hand (see shared/examples/).

Each run becomes an "Experiment" section: date, Changes, Reason, per-epoch metrics, Results (test metrics in
their units, accuracies from per-sample predictions with their 95% Wilson interval, per-make accuracy), Notes.
``report RUN... --format md|csv`` and the Run page's download use this.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from core.evaluation.semantics import Semantics, resolve
from core.store import Store, queries
from core.views import verdicts
from core.views.run import interval_text

_RESULT_METRICS = ("test/top1", "test/top5", "test/make_acc", "test/gap", "test/make_head_acc", "test/head_agreement",
                   "val/mAP", "val/mAP_identity", "val/rank1", "val/rank5")


def markdown_report(store: Store, run_ids: list[str]) -> str:
    """The experiment log of the given runs, one section each, in creation order."""
    meta = queries.runs_meta(store, run_ids)
    parts = ["# Experiment Log", ""]
    for row in meta.to_dict(orient="records"):
        parts += _section(store, row)
    return "\n".join(parts).rstrip() + "\n"


def _section(store: Store, row: dict[str, Any]) -> list[str]:
    record = queries.run_record(store, row["id"])
    sems = verdicts.semantics_of(store, [row["id"]], record["metrics"])
    lines = [f"## Experiment: {row['name']}", f"**Date:** {str(row['created'])[:19]}  ",
             f"**Run:** `{row['id']}` · status {row['status']} · recipe {row['recipe']} · group {row['group'] or '-'}",
             "", "### Changes", row["changes"] or "None recorded", "", "### Reason", row["reason"] or "None recorded",
             "", "### Metrics"]  # fmt: skip
    lines += _epoch_lines(record["metrics"], sems) or ["No per-epoch metrics logged."]
    lines += ["", "### Results"]
    intervals = verdicts.accuracy_intervals(store, row["id"]).set_index("metric")
    results = [f"- {name} = {_result(name, points[-1][1], sems[name], intervals)}"
               for name, points in record["metrics"].items() if name in _RESULT_METRICS]  # fmt: skip
    lines += results or ["No test results logged."]
    per_make = record["tables"].get("test/per_make", [])
    if per_make:
        share = Semantics("accuracy", "max", "fraction")
        lines += ["", "| make | correct | total | accuracy |", "|---|---|---|---|"]
        lines += [f"| {r['make']} | {r['correct']} | {r['total']} | {share.format(r['accuracy'])} |" for r in per_make]
    lines += ["", "### Notes", row.get("notes") or "", "", "---", ""]
    return lines


def _result(name: str, value: float | None, sem: Semantics, intervals: Any) -> str:
    """The value in its units, with its 95% Wilson interval when it was computed from per-sample predictions."""
    if name in intervals.index:
        ci = intervals.loc[name]
        return interval_text(ci["accuracy"], ci["low"], ci["high"], int(ci["n"]))
    return sem.format(value) if value is not None else "nan"


def _epoch_lines(metrics: dict[str, list[list[Any]]], sems: dict[str, Semantics]) -> list[str]:
    """'- Epoch 3: train_loss=..., val_top1=...' for train/ and val/ metrics, as the example logs write them
    (shares in percent, as everywhere)."""
    by_step: dict[int, list[str]] = {}
    for name, points in sorted(metrics.items()):
        if not name.startswith(("train/", "val/")):
            continue
        sem = sems.get(name) or resolve(name)
        for step, value in points:
            text = _fmt(value) if value is None or not sem.is_share else sem.format(value)
            by_step.setdefault(step, []).append(f"{name.replace('/', '_')}={text}")
    return [f"- Epoch {step}: {', '.join(values)}" for step, values in sorted(by_step.items())]


def csv_report(store: Store, run_ids: list[str]) -> str:
    """One row per run: labels and the last value of every metric (a results summary table)."""
    finals = queries.final_metrics(store, run_ids)
    meta = queries.runs_meta(store, run_ids).set_index("id")
    names = sorted(finals["name"].unique()) if len(finals) else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "name", "group", "status", "recipe", *names])
    for run_id in run_ids:
        last = finals[finals["run_id"] == run_id].set_index("name")["last_value"]
        m = meta.loc[run_id]
        writer.writerow([run_id, m["name"], m["group"], m["status"], m["recipe"],
                         *(last.get(n, "") for n in names)])
    return out.getvalue()


def _fmt(value: Any) -> str:
    return "nan" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
