"""What the explorer says about runs, computed once for every place that says it: the findings of each run
(the Runs table, the Run page), and for a comparison the deltas against a baseline, the seed groups, the
verdicts of significance tests and the findings over the set (the Compare page and ``python -m core compare``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import runfolder
from core.evaluation import diagnostics, seeds, stats
from core.evaluation.diagnostics.findings import is_diagnosed
from core.evaluation.semantics import DEFS_FILE, Semantics, resolve
from core.evaluation.verdicts import Side, Verdict, judge_pairs
from core.store import Store, queries
from core.views.labels import distinct_labels

CURVE_POINTS = 5000  # per curve and run: the same cap wherever findings are computed, so they agree
DEFAULT_METRICS = ("test/top1", "val/top1", "val/loss", "test/mAP", "val/mAP", "val/mAP_identity")
# Per-sample correctness of a predictions table row, for the metrics it can test (McNemar, Wilson).
# name -> (the field a row needs, its correctness)
PER_SAMPLE = {
    "top1": ("correct", lambda row: bool(row["correct"])),
    "make_acc": ("truth_make", lambda row: row["truth_make"] == row.get("pred_make")),
    "top5": ("top5", lambda row: row.get("truth") in {c.get("class") for c in row["top5"] or []}),
}


def declared_metrics(root: Path, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The metric definitions the runs declared at log time (``define_metric``), merged: name -> record."""
    merged: dict[str, dict[str, Any]] = {}
    for run_id in run_ids:
        merged.update(runfolder.read_json(root / run_id / DEFS_FILE, {}) or {})
    return merged


def run_findings(store: Store, run_ids: list[str]) -> dict[str, list[diagnostics.Finding]]:
    """The findings of each run from its curves and predicted classes (what the Runs table and Run page show)."""
    names = [n for n in queries.metric_names(store, run_ids) if is_diagnosed(n)]
    points = queries.curves_many(store, run_ids, names, max_points=CURVE_POINTS) if names else pd.DataFrame()
    counts = queries.predicted_class_counts(store, run_ids)
    declared = declared_metrics(store.root, run_ids)
    found = {}
    for run_id in run_ids:
        mine = points[points["run_id"] == run_id] if len(points) else points
        curves = {n: list(zip(g["step"].tolist(), g["value"].tolist())) for n, g in mine.groupby("name")} if len(
            mine) else {}  # fmt: skip
        classes = counts[counts["run_id"] == run_id]
        predictions = np.repeat(np.arange(len(classes)), classes["n"].to_numpy()) if len(classes) else None
        found[run_id] = diagnostics.diagnose_run(
            curves, predictions, class_names=[str(c) for c in classes["pred"]], declared=declared
        )
    return found


def finals_of(store: Store, run_ids: list[str]) -> dict[str, dict[str, float]]:
    """run id -> {metric: last value}."""
    finals = queries.final_metrics(store, run_ids)
    out: dict[str, dict[str, float]] = {r: {} for r in run_ids}
    for run_id, name, value in zip(finals["run_id"], finals["name"], finals["last_value"]):
        out[run_id][name] = float(value) if value is not None else math.nan
    return out


def run_names(store: Store, run_ids: list[str]) -> dict[str, str]:
    """run id -> how the verdicts name the run: its name, with the end of its id where names repeat."""
    meta = queries.runs_meta(store, run_ids)
    return distinct_labels(dict(zip(meta["id"], meta["name"])))


def labels_and_configs(store: Store, run_ids: list[str]) -> tuple[dict[str, str | None], dict[str, dict]]:
    meta = queries.runs_meta(store, run_ids)
    labels = {r: (g or None) for r, g in zip(meta["id"], meta["group"])}
    configs = {r: json.loads(c or "{}") for r, c in zip(meta["id"], meta["config"])}
    return labels, configs


def semantics_of(store: Store, run_ids: list[str], metrics: Iterable[str]) -> dict[str, Semantics]:
    """How to read each metric over these runs: its values in all of them, and what any run declared."""
    finals = finals_of(store, run_ids)
    declared = declared_metrics(store.root, run_ids)
    return {m: resolve(m, [f[m] for f in finals.values() if m in f], declared.get(m)) for m in metrics}


def per_sample(store: Store, run_id: str, metric: str) -> dict[str, bool] | None:
    """Per-sample correctness behind ``split/top1`` (or top5, make_acc), keyed by image; None without it."""
    split, _, short = metric.rpartition("/")
    if short not in PER_SAMPLE or not split:
        return None
    needed, correct = PER_SAMPLE[short]
    rows = queries.run_table(store, run_id, f"{split}/predictions")
    keyed = {str(r.get("image", i)): correct(r) for i, r in enumerate(rows) if r.get(needed) is not None}
    return keyed or None


def accuracy_intervals(store: Store, run_id: str) -> pd.DataFrame:
    """Accuracies computed from per-sample predictions with their 95% Wilson interval: metric, correct, n,
    accuracy, low, high (shares in [0, 1])."""
    rows = []
    for split in ("test", "val"):
        for short in PER_SAMPLE:
            hits = per_sample(store, run_id, f"{split}/{short}")
            if not hits:
                continue
            k, n = sum(hits.values()), len(hits)
            low, high = stats.wilson_interval(k, n)
            rows.append({"metric": f"{split}/{short}", "correct": k, "n": n, "accuracy": k / n, "low": low,
                         "high": high})  # fmt: skip
        if rows:
            break
    return pd.DataFrame(rows, columns=["metric", "correct", "n", "accuracy", "low", "high"])


@dataclass
class Judgement:
    """What a comparison says: JSON-ready lists as ``python -m core compare --json`` prints them; ``names`` is
    how the sentences name each run (see ``run_names``)."""

    baseline: str
    metrics: list[str]
    names: dict[str, str] = field(default_factory=dict)
    deltas: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    seed_groups: list[dict[str, Any]] = field(default_factory=list)
    findings: list[diagnostics.Finding] = field(default_factory=list)
    semantics: dict[str, Semantics] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "metrics": self.metrics,
            "names": self.names,
            "semantics": {m: {"goal": s.goal, "scale": s.scale} for m, s in self.semantics.items()},
            "deltas": self.deltas,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "seed_groups": self.seed_groups,
            "findings": [f.to_dict() for f in self.findings],
        }


def default_metrics(store: Store, run_ids: list[str]) -> list[str]:
    names = queries.metric_names(store, run_ids)
    return [m for m in DEFAULT_METRICS if m in names] or names[:3]


def judge(store: Store, run_ids: list[str], metrics: list[str] | None = None, baseline: str | None = None) -> Judgement:
    """Deltas, seed groups, verdicts and findings of ``run_ids`` against ``baseline`` (default: the first)."""
    if not run_ids:
        raise ValueError("give at least one run to compare")
    baseline = baseline or run_ids[0]
    if baseline not in run_ids:
        run_ids = [baseline, *run_ids]
    metrics = metrics or default_metrics(store, run_ids)
    finals = finals_of(store, run_ids)
    labels, configs = labels_and_configs(store, run_ids)
    sems = semantics_of(store, run_ids, metrics)
    groups = seeds.seed_groups(labels, configs)
    judgement = Judgement(baseline, metrics, run_names(store, run_ids), semantics=sems)
    judgement.deltas = _deltas(finals, run_ids, baseline, metrics)
    judgement.seed_groups = _seed_group_records(groups, finals, metrics)
    judgement.verdicts = judge_pairs(_pairs(store, judgement, finals, groups))
    judgement.findings = _set_findings(finals, labels, configs, metrics, store.root, run_ids)
    return judgement


def _deltas(finals: dict, run_ids: list[str], baseline: str, metrics: list[str]) -> list[dict[str, Any]]:
    out = []
    for metric in metrics:
        base = finals[baseline].get(metric)
        for run_id in run_ids:
            if run_id == baseline:
                continue
            value = finals[run_id].get(metric)
            delta = value - base if value is not None and base is not None else None
            pct = delta / abs(base) * 100 if delta is not None and base else None
            out.append({"run": run_id, "metric": metric, "value": _num(value), "baseline_value": _num(base),
                        "delta": _num(delta), "delta_pct": _num(pct)})  # fmt: skip
    return out


def _seed_group_records(groups: list[seeds.RunGroup], finals: dict, metrics: list[str]) -> list[dict[str, Any]]:
    out = []
    for group in groups:
        for metric in metrics:
            summary = seeds.summarize_seeds([finals[r].get(metric, math.nan) for r in group.runs])
            if summary["n"]:
                out.append({"label": group.label, "runs": list(group.runs), "metric": metric, "n": summary["n"],
                            **{k: _num(summary[k]) for k in ("mean", "std", "sem")}})  # fmt: skip
    return out


def _pairs(store: Store, judgement: Judgement, finals: dict,
           groups: list[seeds.RunGroup]) -> list[tuple[Side, Side, Semantics]]:  # fmt: skip
    """Each unit (a seed group, or a run outside any) against the baseline's unit, for every metric of the
    judgement (its names, metrics and semantics; its run ids are the keys of ``finals``)."""
    group_of = {r: g for g in groups for r in g.runs}
    units: list[seeds.RunGroup | str] = []
    for run_id in finals:
        unit = group_of.get(run_id, run_id)
        if unit not in units:
            units.append(unit)
    base_unit = group_of.get(judgement.baseline, judgement.baseline)
    pairs = []
    for metric in judgement.metrics:
        base_side = _side(store, base_unit, metric, finals, judgement.names)
        pairs += [(_side(store, u, metric, finals, judgement.names), base_side, judgement.semantics[metric])
                  for u in units if u != base_unit]  # fmt: skip
    return pairs


def _side(store: Store, unit: seeds.RunGroup | str, metric: str, finals: dict, names: dict[str, str]) -> Side:
    if isinstance(unit, str):
        value = finals[unit].get(metric)
        return Side(unit, names.get(unit, unit), value, correct=per_sample(store, unit, metric))
    values = tuple(v for r in unit.runs if (v := finals[r].get(metric)) is not None and math.isfinite(v))
    mean = sum(values) / len(values) if values else None
    return Side(unit.runs[0], f"{unit.label} (n={len(unit.runs)})", mean, values if len(values) >= 2 else ())


def _set_findings(finals: dict, labels: dict, configs: dict, metrics: list[str], root: Path,
                  run_ids: list[str]) -> list[diagnostics.Finding]:  # fmt: skip
    return diagnostics.diagnose_runs(
        finals, labels, configs=configs, metric=metrics[0] if metrics else None,
        declared=declared_metrics(root, run_ids),
    )  # fmt: skip


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
