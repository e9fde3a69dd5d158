"""What the Compare page shows: curves per run or per seed group, a summary with deltas against a baseline in
each metric's own units, the config diff, per-make accuracy side by side, accuracies with their 95% interval,
and the axes of a sweep's parallel coordinates. Verdicts and findings come from ``core.views.verdicts``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.evaluation import seeds
from core.evaluation.semantics import Semantics
from core.recipes.config import diff as config_diff_of
from core.store import Store, queries
from core.views import verdicts
from core.views.labels import run_label
from core.views.run import interval_text, smooth

MAX_TICKS = 8
SHARE = Semantics("accuracy", "max", "fraction")  # how per-make accuracies (shares in [0, 1]) are written


def run_labels(store: Store, limit: int = 500) -> dict[str, str]:
    """The recent runs Compare can choose from, newest first: id -> label."""
    recent, _ = queries.find_runs(store, metrics=[], limit=limit)
    return {run_id: run_label(name, run_id) for run_id, name in zip(recent["id"], recent["name"])}


def default_metrics(store: Store, run_ids: list[str], limit: int = 3) -> list[str]:
    """The metrics Compare starts with: the first ``limit`` of those the verdicts default to."""
    return verdicts.default_metrics(store, run_ids)[:limit]


def seed_series(store: Store, run_ids: list[str]) -> dict[str, str]:
    """run id -> the label of its seed group, for the runs in a real seed group (same config but the seed)."""
    labels, configs = verdicts.labels_and_configs(store, run_ids)
    return {run: group.label for group in seeds.seed_groups(labels, configs) for run in group.runs}


def charts(store: Store, run_ids: list[str], metrics: list[str], *, smoothing: float = 0.0, x_axis: str = "step",
           by_group: bool = False) -> dict[str, pd.DataFrame]:
    """What each metric's chart draws, for the metrics with points: with ``by_group``, the mean ± std per seed
    group and step with the other runs as lines (``group_bands``); else one line per run (``run_lines``)."""
    points = queries.curves_many(store, run_ids, metrics)
    series = seed_series(store, run_ids) if by_group else {}
    out = {}
    for metric in metrics:
        part = points[points["name"] == metric]
        if not part.empty:
            out[metric] = group_bands(part, series) if by_group else run_lines(part, smoothing, x_axis)
    return out


def hidden_on_log(charts: dict[str, pd.DataFrame]) -> list[str]:
    """The metrics whose lines have values a log scale cannot draw (zero or below): those points are left out."""
    return [metric for metric, part in charts.items() if "value" in part and (part["value"] <= 0).any()]


def run_lines(points: pd.DataFrame, smoothing: float, x_axis: str) -> pd.DataFrame:
    """One metric's points (run_id, step, value, time) as lines: ``series`` is the run, values are smoothed per
    run (the raw value kept in ``raw``), and on a time axis, time counts from each run's first point."""
    part = points.copy()
    part["raw"] = part["value"]
    part["value"] = part.groupby("run_id")["value"].transform(lambda v: smooth(v, smoothing))
    part["series"] = part["run_id"]
    if x_axis == "time":
        part["time"] = part["time"] - part.groupby("run_id")["time"].transform("min")
    return part


def summary(store: Store, run_ids: list[str], metrics: list[str], baseline: str,
            semantics: dict[str, Semantics] | None = None) -> pd.DataFrame:
    """One row per run: last value of each metric, its delta against the baseline (absolute and %), its best
    value over the run's steps (``<metric> (best)``: the "best val loss" of a results table), and whether the
    last value is the best among the runs by the metric's direction (``best:<metric>`` columns; none on ties)."""
    semantics = semantics or verdicts.semantics_of(store, run_ids, metrics)
    finals = queries.final_metrics(store, run_ids)
    meta = queries.runs_meta(store, run_ids).set_index("id")
    table = pd.DataFrame({"run": run_ids, "name": [meta.loc[r, "name"] for r in run_ids]})
    for metric in metrics:
        sem = semantics[metric]
        of_metric = finals[finals["name"] == metric].set_index("run_id")
        values = np.array([of_metric["last_value"].get(r, np.nan) for r in run_ids], dtype=float)
        base = of_metric["last_value"].get(baseline, np.nan)
        table[metric] = values
        table[f"Δ {metric}"] = values - base
        table[f"Δ% {metric}"] = np.where(base != 0, (values - base) / abs(base) * 100, np.nan)
        extreme = of_metric["min_value" if sem.goal == "min" else "max_value"] if sem.goal else pd.Series()
        table[f"{metric} (best)"] = np.array([extreme.get(r, np.nan) for r in run_ids], dtype=float)
        table[f"best:{metric}"] = best_cells(values, sem)
    return table


def best_cells(values: np.ndarray, sem: Semantics) -> np.ndarray:
    """Which values are the best by the metric's direction; none when they all tie or there is no direction."""
    finite = values[np.isfinite(values)]
    best = sem.best(finite.tolist())
    if best is None or finite.size < 2 or np.all(finite == finite[0]):
        return np.zeros(len(values), dtype=bool)
    return values == best


def summary_cells(table: pd.DataFrame, semantics: dict[str, Semantics]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``summary``'s table as shown: by run name, each value written in its metric's units (34.84%, +1.20 pts,
    +3.57%), without the run id and ``best:`` columns; and which cells hold a metric's best value (same shape)."""
    shown = table.drop(columns=["run", *[c for c in table.columns if c.startswith("best:")]]).set_index("name")
    cells, best = {}, {}
    for column in shown.columns:
        kind, metric = _column_kind(column, semantics)
        sem = semantics[metric]
        write = {"Δ": sem.format_delta, "Δ%": _percent_change}.get(kind, sem.format)
        cells[column] = [write(v) for v in shown[column]]
        best[column] = table[f"best:{metric}"].to_numpy(dtype=bool) if kind == "value" else np.zeros(len(shown), bool)
    return pd.DataFrame(cells, index=shown.index), pd.DataFrame(best, index=shown.index)


def _column_kind(column: str, semantics: dict[str, Semantics]) -> tuple[str, str]:
    """('value' | 'Δ' | 'Δ%' | 'best', metric) of a summary column."""
    if column in semantics:
        return "value", column
    if column.endswith(" (best)"):
        return "best", column.removesuffix(" (best)")
    kind, _, metric = column.partition(" ")
    return kind, metric


def _percent_change(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:+.2f}%"


def seed_group_table(judgement: verdicts.Judgement, labels: dict[str, str]) -> pd.DataFrame:
    """The real seed groups of a judgement: group, n, mean ± std in the metric's units, and its runs."""
    rows = []
    for group in judgement.seed_groups:
        sem = judgement.semantics[group["metric"]]
        rows.append({"group": group["label"], "metric": group["metric"], "n": int(group["n"]),
                     "mean ± std": f"{sem.format(group['mean'])} ± {sem.format_delta(group['std']).lstrip('+')}",
                     "runs": ", ".join(labels.get(r, r) for r in group["runs"])})  # fmt: skip
    return pd.DataFrame(rows, columns=["group", "metric", "n", "mean ± std", "runs"])


def intervals(store: Store, run_ids: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """Accuracies computed from each run's per-sample predictions with their 95% Wilson interval (text), one
    row per run that has them; empty when none has."""
    rows = {}
    for run_id in run_ids:
        found = verdicts.accuracy_intervals(store, run_id)
        if len(found):
            rows[labels.get(run_id, run_id)] = {r["metric"]: interval_text(r["accuracy"], r["low"], r["high"], r["n"])
                                                for r in found.to_dict("records")}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").fillna("—")


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


def per_make(store: Store, run_ids: list[str], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Per-make accuracy of each run side by side (as percentages, by run label), with each run's difference to
    the first run in points; empty when no run logged test/per_make."""
    labels = labels or {}
    columns = {}
    for run_id in run_ids:
        rows = queries.run_table(store, run_id, "test/per_make")
        columns[run_id] = {r["make"]: r["accuracy"] for r in rows}
    if not any(columns.values()):
        return pd.DataFrame()
    frame = pd.DataFrame(columns).sort_index()
    shown = pd.DataFrame({labels.get(r, r): frame[r].map(SHARE.format) for r in run_ids}, index=frame.index)
    for run_id in run_ids[1:]:
        shown[f"Δ {labels.get(run_id, run_id[-6:])}"] = (frame[run_id] - frame[run_ids[0]]).map(SHARE.format_delta)
    return shown


def group_bands(points: pd.DataFrame, series: dict[str, str]) -> pd.DataFrame:
    """Mean and std per series and step of curve points (run_id, step, value): a seed group's runs share one
    series (a band), every other run is a series of its own (a line); ``count`` is the runs at that step."""
    frame = points.assign(group=points["run_id"].map(series).fillna(points["run_id"]))
    agg = frame.groupby(["group", "step"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    return agg.fillna({"std": 0.0})


def _text(value: Any) -> str:
    return "—" if value is None else str(value)
