"""What the Compare page shows: summary with deltas against a baseline, config diff, per-make side by side,
seed groups as mean ± std, whether a difference is significant, and the axes of a sweep's parallel coordinates."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.evaluation import diagnostics, stats
from core.recipes.config import diff as config_diff_of
from core.store import Store, queries
from core.views import verdicts
from core.views.runs import run_label

# Metrics where lower is better; every other metric is better when higher.
LOWER_IS_BETTER = ("loss", "epoch_seconds", "gap")
MAX_TICKS = 8
# What Compare charts first, when the runs logged them (at most three of these).
DEFAULT_METRICS = ("val/top1", "val/loss", "val/make_acc", "val/mAP")
MAIN_METRIC = "val/top1"  # of the significance tests, when no metric is chosen


def lower_is_better(metric: str) -> bool:
    return any(word in metric.rsplit("/", 1)[-1] for word in LOWER_IS_BETTER)


def run_labels(store: Store, limit: int = 500) -> dict[str, str]:
    """The recent runs Compare can choose from, newest first: id -> label."""
    recent, _ = queries.find_runs(store, metrics=[], limit=limit)
    return {run_id: run_label(name, run_id) for run_id, name in zip(recent["id"], recent["name"])}


def default_metrics(names: list[str]) -> list[str]:
    """The metrics Compare starts with: up to three of DEFAULT_METRICS that were logged, else the first two."""
    return [m for m in DEFAULT_METRICS if m in names][:3] or names[:2]


def charts(store: Store, run_ids: list[str], metrics: list[str], *, smoothing: float = 0.0, x_axis: str = "step",
           by_group: bool = False) -> dict[str, pd.DataFrame]:
    """What each metric's chart draws, for the metrics with points: with ``by_group``, the mean ± std per seed
    group and step (``group_bands``); else one line per run (``run_lines``)."""
    points = queries.curves_many(store, run_ids, metrics)
    groups = queries.runs_meta(store, run_ids).set_index("id")["group"].to_dict()
    out = {}
    for metric in metrics:
        part = points[points["name"] == metric]
        if not part.empty:
            out[metric] = group_bands(part, groups) if by_group else run_lines(part, smoothing, x_axis)
    return out


def run_lines(points: pd.DataFrame, smoothing: float, x_axis: str) -> pd.DataFrame:
    """One metric's points (run_id, step, value, time) as lines: ``series`` is the run, values are smoothed per
    run, and on a time axis, time counts from each run's first point (runs started at different times)."""
    part = points.copy()
    part["value"] = part.groupby("run_id")["value"].transform(lambda v: smooth(v, smoothing))
    part["series"] = part["run_id"]
    if x_axis == "time":
        part["time"] = part["time"] - part.groupby("run_id")["time"].transform("min")
    return part


def summary(store: Store, run_ids: list[str], metrics: list[str], baseline: str) -> pd.DataFrame:
    """One row per run: last value of each metric, its delta against the baseline (absolute and %), its best
    value over the run's steps (``<metric> (best)``: the "best val loss" of a results table), and whether the
    last value is the best among the runs (``best:<metric>`` columns)."""
    finals = queries.final_metrics(store, run_ids)
    meta = queries.runs_meta(store, run_ids).set_index("id")
    table = pd.DataFrame({"run": run_ids, "name": [meta.loc[r, "name"] for r in run_ids]})
    for metric in metrics:
        of_metric = finals[finals["name"] == metric].set_index("run_id")
        last = of_metric["last_value"]
        values = np.array([last.get(r, np.nan) for r in run_ids], dtype=float)
        base = last.get(baseline, np.nan)
        table[metric] = values
        table[f"Δ {metric}"] = values - base
        table[f"Δ% {metric}"] = np.where(base != 0, (values - base) / abs(base) * 100, np.nan)
        extreme = of_metric["min_value" if lower_is_better(metric) else "max_value"]
        table[f"{metric} (best)"] = np.array([extreme.get(r, np.nan) for r in run_ids], dtype=float)
        finite = values[np.isfinite(values)]
        best = (finite.min() if lower_is_better(metric) else finite.max()) if finite.size else np.nan
        table[f"best:{metric}"] = values == best
    return table


def summary_cells(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``summary``'s table as shown (by run name, without the ``best:`` columns), and which of its cells hold
    the best value of their metric (True/False, same shape)."""
    shown = table.drop(columns=[c for c in table.columns if c.startswith("best:")]).set_index("name")
    best = {c: table[f"best:{c}"].to_numpy(dtype=bool) if f"best:{c}" in table else np.zeros(len(table), bool)
            for c in shown.columns}
    return shown, pd.DataFrame(best, index=shown.index)


def findings(store: Store, run_ids: list[str]) -> list[diagnostics.Finding]:
    """The diagnostics of the runs together, from their final metrics and their groups."""
    groups = queries.runs_meta(store, run_ids).set_index("id")["group"].to_dict()
    return diagnostics.diagnose_runs(verdicts.finals_of(store, run_ids), groups)


def config_differences(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """Config keys whose values differ between the runs (rows) with each run's value (columns)."""
    meta = queries.runs_meta(store, run_ids).set_index("id")
    configs = {r: json.loads(meta.loc[r, "config"] or "{}") for r in run_ids}
    keys = _varied_keys([configs[r] for r in run_ids])
    names = [run_label(meta.loc[r, "name"], r) for r in run_ids]
    return pd.DataFrame({name: [_text(configs[r].get(k)) for k in keys] for name, r in zip(names, run_ids)},
                        index=pd.Index(keys, name="key"))


@dataclass(frozen=True)
class Axis:
    """One axis of a parallel-coordinates chart: the numbers to plot, with tick labels where the values are
    categories or on a log scale."""

    label: str
    values: list[float]
    tickvals: list[float] | None = None
    ticktext: list[str] | None = None


def sweep_axes(store: Store, run_ids: list[str], metric: str) -> tuple[list[Axis], list[str]]:
    """The axes of a sweep's parallel-coordinates chart: one per config key whose value differs between the
    runs, then the metric's last value (the lines are coloured by it).

    Numbers spanning two decades or more (a learning rate) go on a log axis; text, booleans and mixed values
    become categories in sorted order. Runs without a finite value of the metric cannot be drawn.

    Returns:
        The axes (empty when no key differs) and the ids of the runs left out.
    """
    finals = queries.final_metrics(store, run_ids)
    last = finals[finals["name"] == metric].set_index("run_id")["last_value"].to_dict()
    drawn = [r for r in run_ids if r in last and np.isfinite(last[r])]
    left_out = [r for r in run_ids if r not in drawn]
    meta = queries.runs_meta(store, drawn).set_index("id")
    configs = [json.loads(meta.loc[r, "config"] or "{}") for r in drawn]
    keys = _varied_keys(configs)
    if len(drawn) < 2 or not keys:
        return [], left_out
    axes = [_axis(key, [c.get(key) for c in configs]) for key in keys]
    return [*axes, Axis(metric, [float(last[r]) for r in drawn])], left_out


def _axis(label: str, values: list[Any]) -> Axis:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in values):
        numbers = [float(v) for v in values]
        if min(numbers) > 0 and max(numbers) / min(numbers) >= 100:
            ticks = sorted(set(numbers))
            if len(ticks) > MAX_TICKS:  # a random sweep: decades instead of every value
                ticks = [10.0**k for k in range(math.floor(math.log10(ticks[0])), math.ceil(math.log10(ticks[-1])) + 1)]
            return Axis(f"{label} (log)", list(np.log10(numbers)), list(np.log10(ticks)), [f"{t:g}" for t in ticks])
        return Axis(label, numbers)
    names = sorted({_text(v) for v in values})
    position = {name: float(i) for i, name in enumerate(names)}
    return Axis(label, [position[_text(v)] for v in values], list(position.values()), names)


def _varied_keys(configs: list[dict[str, Any]]) -> list[str]:
    """Keys whose values differ between the configs, in the order they first appear."""
    keys: list[str] = []
    for other in configs[1:]:
        keys += [k for k in config_diff_of(configs[0], other) if k not in keys]
    return keys


def per_make(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """Per-make accuracy of each run side by side, with each run's difference to the first run."""
    columns = {}
    for run_id in run_ids:
        rows = queries.run_table(store, run_id, "test/per_make")
        columns[run_id] = {r["make"]: r["accuracy"] for r in rows}
    if not any(columns.values()):
        return pd.DataFrame()
    frame = pd.DataFrame(columns)
    first = run_ids[0]
    for run_id in run_ids[1:]:
        frame[f"Δ {run_id[-6:]}"] = frame[run_id] - frame[first]
    return frame.sort_index()


def seed_groups(store: Store, run_ids: list[str], metric: str) -> pd.DataFrame:
    """Groups among the runs with the mean ± std of the metric's last value and the number of seeds."""
    meta = queries.runs_meta(store, run_ids)
    finals = queries.final_metrics(store, run_ids)
    last = finals[finals["name"] == metric].set_index("run_id")["last_value"]
    rows = []
    for group, members in meta.groupby("group"):
        values = [v for v in (last.get(r) for r in members["id"]) if v is not None and np.isfinite(v)]
        if not values:
            continue
        mean, std, n = stats.mean_std(values)
        rows.append({"group": group or "(no group)", "mean": mean, "std": std, "n": n, "values": values})
    return pd.DataFrame(rows, columns=["group", "mean", "std", "n", "values"])


def group_bands(points: pd.DataFrame, groups: dict[str, str]) -> pd.DataFrame:
    """Mean and std per group and step of curve points (run_id, step, value), for bands on a chart."""
    frame = points.assign(group=points["run_id"].map(groups).fillna(""))
    agg = frame.groupby(["group", "step"])["value"].agg(["mean", "std", "count"]).reset_index()
    return agg.fillna({"std": 0.0})


def mcnemar_of_runs(store: Store, run_a: str, run_b: str) -> stats.TestResult | None:
    """McNemar's test on the two runs' test predictions, paired by image; None when either lacks them."""
    a = {r["image"]: bool(r["correct"]) for r in queries.run_table(store, run_a, "test/predictions")
         if r.get("correct") is not None}
    b = {r["image"]: bool(r["correct"]) for r in queries.run_table(store, run_b, "test/predictions")
         if r.get("correct") is not None}
    shared = sorted(set(a) & set(b))
    if not shared:
        return None
    return stats.mcnemar([a[i] for i in shared], [b[i] for i in shared], label_a=run_a[-6:], label_b=run_b[-6:])


def welch_of_groups(table: pd.DataFrame, group_a: str, group_b: str, metric: str) -> stats.TestResult:
    """Welch's t-test between two seed groups of ``seed_groups``' table."""
    values = table.set_index("group")["values"]
    return stats.welch(values[group_a], values[group_b], label_a=group_a, label_b=group_b, metric=metric)


@dataclass(frozen=True)
class Significance:
    """Which tests the runs allow: Welch's t-test between two seed groups of the main metric, and McNemar's
    test of the baseline against the first other run (paired by test image)."""

    metric: str
    seeds: pd.DataFrame  # seed_groups' table of the metric
    other: str | None  # the run compared with the baseline
    mcnemar: stats.TestResult | None  # None when either run lacks test predictions

    @property
    def welch(self) -> bool:
        """At least two groups of at least two seeds each."""
        return len(self.seeds) >= 2 and int((self.seeds["n"] >= 2).sum()) >= 2

    @property
    def hint(self) -> bool:
        """Neither test applies: tell the user what each needs."""
        return self.mcnemar is None and (self.seeds.empty or bool((self.seeds["n"] < 2).all()))


def significance(store: Store, run_ids: list[str], baseline: str, metrics: list[str]) -> Significance:
    """The tests that apply to the runs, on the first chosen metric (MAIN_METRIC when none is chosen)."""
    metric = metrics[0] if metrics else MAIN_METRIC
    other = next((r for r in run_ids if r != baseline), None)
    return Significance(metric=metric, seeds=seed_groups(store, run_ids, metric), other=other,
                        mcnemar=mcnemar_of_runs(store, baseline, other) if other else None)


def smooth(values: pd.Series, weight: float) -> pd.Series:
    """Exponential moving average as TensorBoard's smoothing slider does it (weight 0 = raw)."""
    if weight <= 0:
        return values
    return values.ewm(alpha=1 - weight, adjust=True).mean()


def _text(value: Any) -> str:
    return "—" if value is None else str(value)
