"""What the Run page shows about a run, assembled from the index and the run folder: the headline, the curves
of whatever the run logged (raw and smoothed), the test results with their 95% intervals, the config as a
table, notes and tags. Findings come from ``core.views.verdicts``, one definition for every page."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core import runfolder
from core.evaluation import diagnostics
from core.evaluation.semantics import RESOURCE_PREFIX as SYSTEM  # the training process's metrics, drawn apart
from core.evaluation.semantics import SHARE_WORDS, name_words
from core.runfolder import status as runstatus
from core.store import Store, queries
from core.views import verdicts

LIVE = ("queued", "starting", "running")  # a run in one of these may still change: the page refreshes it
# The Run page's sections, in order; each is shown only when the run has data for it.
SMOOTHING, SMOOTH_FROM = 0.6, 50  # the Run page smooths curves of at least SMOOTH_FROM points by default
SECTIONS = ("Results", "Confusion", "Predictions", "System", "Config & notes", "Console")


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
    tags: list[str] = field(default_factory=list)
    findings: list[diagnostics.Finding] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status in LIVE


def exists(store: Store, run_id: str | None, *, sync: bool = False) -> bool:
    """Whether the index holds a run with exactly this id (any text is safe to ask: it is never a path); with
    ``sync``, a run not found is looked for once more after the index catches up (one launched a moment ago)."""
    if not run_id:
        return False
    if queries.runs_meta(store, [str(run_id)]).empty:
        if not sync:
            return False
        store.sync()
        return not queries.runs_meta(store, [str(run_id)]).empty
    return True


def overview(store: Store, run_id: str, stale_after_s: float = 60.0, *, findings: bool = True) -> RunOverview:
    """The run's labels, status, progress and ETA; with ``findings``, its diagnostics too (as the Runs table)."""
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
        tags=[str(t) for t in row["tags"]] if row.get("tags") is not None else [],
        findings=verdicts.run_findings(store, [run_id])[run_id] if findings else [],
    )  # fmt: skip


def run_choices(store: Store, current: str | None, limit: int = 200) -> tuple[list[str], dict[str, str]]:
    """The Run page's picker: the recent runs' ids (``current`` first when it is an older run) and their labels.

    No status in the label: the live header refreshes it, the picker is drawn once per page run.
    """
    runs = queries.newest_runs(store, [current] if current else [], limit)
    labels = dict(zip(runs["id"], runs["name"] + " · " + runs["id"].str[-6:]))
    return list(labels), labels


def header_metrics(view: RunOverview) -> list[tuple[str, str, str | None]]:
    """The Run page's headline numbers: label, value and help of status, recipe, group and ETA."""
    return [
        ("Status", "stale" if view.stale else view.status,
         "stale: the process is alive but has not reported progress for a minute"),
        ("Recipe", view.recipe, None),
        ("Group", view.group or "—", None),
        ("ETA", str(dt.timedelta(seconds=round(view.eta_s))) if view.eta_s else "—", None),
    ]  # fmt: skip


def sections(store: Store, run_id: str) -> list[str]:
    """The Run page's sections that have something to show for this run, in SECTIONS order."""
    tables = set(queries.table_names(store, run_id))
    names = queries.metric_names(store, [run_id])
    has = {
        "Results": any(n.startswith("test/") for n in names) or "test/per_make" in tables,
        "Confusion": any(t.startswith("test/confusion_") for t in tables),
        "Predictions": "test/predictions" in tables,
        "System": any(n.startswith(SYSTEM) for n in names),
    }
    return [s for s in SECTIONS if has.get(s, True)]


def chart_groups(names: list[str]) -> list[tuple[str, list[str]]]:
    """The run's charts from the metrics it logged: one per quantity (the last part of the name), its splits
    as lines (train/loss and val/loss together), titled by that quantity; losses first, then accuracy-like
    quantities (top-1, mAP...), then the rest (learning rate, timings), each by name."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.rsplit("/", 1)[-1], []).append(name)

    def rank(quantity: str) -> tuple[int, str]:
        words = name_words(quantity)
        kind = 0 if "loss" in words or quantity.endswith("loss") else 1 if SHARE_WORDS & set(words) else 2
        return kind, quantity.lower()

    return [(q, groups[q]) for q in sorted(groups, key=rank)]


def default_smoothing(store: Store, run_id: str) -> float:
    """TensorBoard's 0.6 for long curves; none for short ones, where it would hide the few points logged (the
    system metrics, sampled every few seconds, do not count: they are not on the curves it smooths)."""
    finals = queries.final_metrics(store, [run_id])
    counts = finals.loc[~finals["name"].str.startswith(SYSTEM), "n"]
    return SMOOTHING if len(counts) and int(counts.max()) >= SMOOTH_FROM else 0.0


SYSTEM_X = "minutes since start"  # the x of the system metrics' charts


def curve_charts(store: Store, run_id: str, *, smoothing: float = 0.0, system: bool = False,
                 max_points: int = 1000) -> list[tuple[str, pd.DataFrame]]:
    """The run's charts: title and points (name, step, value smoothed, raw, with ``series`` = name) of the
    metrics logged at two steps or more; ``system`` for the training process's metrics instead, with their
    minutes since the first sample (column SYSTEM_X) to draw them against."""
    finals = queries.final_metrics(store, [run_id])
    names = [n for n, k in zip(finals["name"], finals["n"]) if k >= 2 and n.startswith(SYSTEM) == system]
    points = queries.curves_many(store, [run_id], names, max_points=max_points)
    points["series"] = points["name"]
    points["raw"] = points["value"]
    points["value"] = points.groupby("name")["value"].transform(lambda v: smooth(v, smoothing))
    if system:  # drawn against time, as W&B's relative time: a sample's step only counts samples
        points[SYSTEM_X] = (points["time"] - points["time"].min()) / 60.0 if len(points) else []
    return [(title, points[points["name"].isin(group)]) for title, group in chart_groups(names)]


def smooth(values: pd.Series, weight: float) -> pd.Series:
    """Exponential moving average as TensorBoard's smoothing slider does it (weight 0 = raw)."""
    if weight <= 0:
        return values
    return values.ewm(alpha=1 - weight, adjust=True).mean()


def interval_text(accuracy: float, low: float, high: float, n: int | None = None) -> str:
    """'80.00% (95% CI 65.24–89.50%, n = 40)': an accuracy (a share) with its Wilson interval."""
    count = f", n = {n}" if n else ""
    return f"{accuracy * 100:.2f}% (95% CI {low * 100:.2f}–{high * 100:.2f}%{count})"


def results_table(store: Store, run_id: str) -> pd.DataFrame:
    """The last value of each test/ metric in its own units, with the 95% Wilson interval where the run saved
    per-sample predictions: columns metric, value, 95% interval (text)."""
    finals = queries.final_metrics(store, [run_id])
    finals = finals[finals["name"].str.startswith("test/")]
    sems = verdicts.semantics_of(store, [run_id], finals["name"].tolist())
    found = verdicts.accuracy_intervals(store, run_id).set_index("metric")
    rows = []
    for name, value in zip(finals["name"], finals["last_value"]):
        ci = found.loc[name] if name in found.index else None
        rows.append({"metric": name, "value": sems[name].format(value),
                     "95% interval": "—" if ci is None else interval_text(ci["accuracy"], ci["low"], ci["high"],
                                                                         int(ci["n"]))})  # fmt: skip
    return pd.DataFrame(rows, columns=["metric", "value", "95% interval"])


def per_make(store: Store, run_id: str) -> pd.DataFrame:
    """test/per_make sorted from worst to best, with counts."""
    rows = queries.run_table(store, run_id, "test/per_make")
    frame = pd.DataFrame(rows, columns=["make", "correct", "total", "accuracy"])
    return frame.sort_values(["accuracy", "total"], ascending=[True, False]).reset_index(drop=True)


def config_rows(config: dict[str, Any]) -> pd.DataFrame:
    """The config as a two-column table (key, value as text), in the order it was logged."""
    return pd.DataFrame({"key": list(config), "value": [_text(v) for v in config.values()]})


def console_tail(store: Store, run_id: str, lines: int = 60) -> str:
    return runfolder.tail_text(store.root / run_id / runfolder.CONSOLE_FILE, lines)


def save_notes(store: Store, run_id: str, notes: str) -> None:
    """Write the notes to the run folder and bring the index up to date, so a reload shows them."""
    runfolder.update_meta(runfolder.resolve_run_dir(store.root, run_id), notes=notes)
    store.sync()


def save_tags(store: Store, run_id: str, tags: list[str]) -> None:
    """Set the run's tags (blank and repeated ones dropped), in its meta.json and then in the index."""
    clean = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    runfolder.update_meta(runfolder.resolve_run_dir(store.root, run_id), tags=clean)
    store.sync()


def _text(value: Any) -> str:
    return "—" if value is None else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else int(value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
