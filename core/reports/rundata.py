"""What a run's experiment log says, computed from the index: its record, how each metric reads (Semantics),
the best value of each per-epoch metric with its epoch, the end-of-run values, the make/model gap, the Wilson
intervals and the findings. ``core.reports.experiment_log`` only writes these down."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.evaluation import diagnostics, stats
from core.evaluation.semantics import Semantics, resolve
from core.imports.model import SOURCE_TABLE, STATED_TABLE
from core.store import Store, queries
from core.views import verdicts

FINAL_SPLIT = "test"  # metrics of this split logged once are the end-of-run results


@dataclass
class RunData:
    """One run as its experiment log needs it."""

    root: Path  # the runs folder
    record: dict[str, Any]
    semantics: dict[str, Semantics]
    intervals: list[dict[str, Any]] = field(default_factory=list)
    findings: list[diagnostics.Finding] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, list[list[Any]]]:
        return self.record["metrics"]

    @property
    def source(self) -> dict[str, Any]:
        rows = self.record["tables"].get(SOURCE_TABLE) or [{}]
        return rows[0]

    @property
    def stated(self) -> list[dict[str, Any]]:
        return self.record["tables"].get(STATED_TABLE) or []

    def is_final(self, name: str) -> bool:
        """An end-of-run result: a test/ metric logged once."""
        return name.startswith(f"{FINAL_SPLIT}/") and len(self.metrics[name]) == 1

    def epoch_metrics(self) -> list[str]:
        return [n for n in sorted(self.metrics) if not self.is_final(n)]

    def final_metrics(self) -> list[str]:
        return [n for n in sorted(self.metrics) if self.is_final(n)]

    def date(self) -> str:
        """The date the imported log gave, else when the run was created (UTC), as 'YYYY-MM-DD HH:MM:SS'."""
        given = self.source.get("date")
        return str(given) if given else str(self.record["created"] or "")[:19].replace("T", " ")

    def best(self, name: str) -> tuple[float, int] | None:
        """The best value of a per-epoch metric by its direction, and the first epoch it was reached."""
        points = [(s, v) for s, v in self.metrics.get(name, []) if v is not None and math.isfinite(v)]
        best = self.semantics[name].best(v for _, v in points) if points else None
        if best is None:
            return None
        return best, next(s for s, v in points if v == best)

    def last(self, name: str) -> float | None:
        points = self.metrics.get(name) or []
        return points[-1][1] if points else None

    def gap(self) -> float | None:
        """Make accuracy minus top-1 in points: the logged test/gap, else computed from the two shares."""
        if self.last("test/gap") is not None:
            return self.last("test/gap")
        make, top1 = self.last("test/make_acc"), self.last("test/top1")
        if make is None or top1 is None:
            return None
        return (self.semantics["test/make_acc"].to_share(make) - self.semantics["test/top1"].to_share(top1)) * 100


def gather(store: Store, run_id: str) -> RunData:
    """Everything the experiment log of ``run_id`` writes."""
    record = queries.run_record(store, run_id)
    declared = verdicts.declared_metrics(store.root, [run_id])
    semantics = {
        name: resolve(name, [v for _, v in points if v is not None], declared.get(name))
        for name, points in record["metrics"].items()
    }
    data = RunData(store.root, record, semantics)
    data.intervals = _intervals(store, data)
    data.findings = verdicts.run_findings(store, [run_id]).get(run_id, [])
    return data


def _intervals(store: Store, data: RunData) -> list[dict[str, Any]]:
    """Wilson intervals from the per-sample predictions; else, for test shares, from the count of test images."""
    rows = verdicts.accuracy_intervals(store, data.record["id"]).to_dict(orient="records")
    done = {r["metric"] for r in rows}
    n = data.last("test/images")
    if n is None or not n >= 1:
        return rows
    for name in data.final_metrics():
        sem = data.semantics[name]
        value = data.last(name)
        if name in done or not sem.is_share or sem.goal != "max" or value is None:
            continue
        share = min(max(sem.to_share(value), 0.0), 1.0)
        correct = round(share * n)
        low, high = stats.wilson_interval(correct, int(n))
        rows.append({"metric": name, "correct": correct, "n": int(n), "accuracy": share, "low": low, "high": high})
    return rows
