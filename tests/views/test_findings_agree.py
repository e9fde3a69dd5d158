"""One diagnosis for every place that shows it: the Runs table's warnings, the Run page's findings and what
``python -m core compare`` prints per run (``verdicts.run_findings``) are the same for the same runs, in percent
as in fractions, with class names and never a "not diagnosed" warning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import tracking
from core.store import Store
from core.views import run as runview
from core.views import runs as runsview
from core.views import verdicts


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _log(root: Path, name: str, curves: dict[str, list[float]], rows: list | None = None) -> str:
    with tracking.start(name=name, runs_dir=root, config={"name": name}) as run:
        for step in range(len(next(iter(curves.values())))):
            run.log({k: v[step] for k, v in curves.items()}, step=step + 1)
        if rows is not None:
            run.log_table("test/predictions", rows)
    return run.id


def _runs(root: Path) -> list[str]:
    stalled = [30.0, 40.0, 41.0, 41.0, 41.0, 41.0, 41.0, 41.0]  # in percent: stalls at 41%
    loss = [2.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    return [
        _log(root, "percent stall", {"val/top1": stalled, "train/loss": loss}),
        _log(root, "fraction stall", {"val/top1": [v / 100 for v in stalled], "train/loss": loss}),
        _log(root, "diverged", {"train/loss": [2.0, 1.5, float("nan")]}),
        _log(root, "degenerate", {"val/top1": [0.1, 0.1]},
             [{"image": f"i{k}", "pred": "Ford F-150", "correct": k < 3} for k in range(30)]),
        _log(root, "healthy", {"train/loss": [2.0, 1.0, 0.5], "val/top1": [0.2, 0.5, 0.7]}),
    ]


def test_the_runs_table_the_run_page_and_compare_say_the_same(store: Store, runs_root: Path) -> None:
    ids = _runs(runs_root)
    store.sync()
    per_run = verdicts.run_findings(store, ids)  # what `python -m core compare --json` prints as run_findings
    frame, _ = runsview.runs_page(store, metrics=[], page=1)
    table = dict(zip(frame["id"], frame["warnings"]))
    for run_id in ids:
        page = runview.overview(store, run_id).findings
        assert page == per_run[run_id]
        assert table[run_id] == ", ".join(sorted({f.kind.replace("_", " ") for f in page}))
        assert all("not diagnosed" not in f.message for f in page)
    percent, fraction, diverged, degenerate, healthy = (per_run[r] for r in ids)
    assert [f.kind for f in percent] == [f.kind for f in fraction] == ["stall"]
    assert percent[0].message == fraction[0].message  # the same sentence, in percent, for both
    assert [f.kind for f in diverged] == ["divergence"] and table[ids[2]] == "divergence"
    (found,) = degenerate
    assert found.kind == "degenerate_predictions" and "'Ford F-150'" in found.message
    assert healthy == [] and table[ids[4]] == ""
