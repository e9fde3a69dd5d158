"""The Run page's numbers: the picker and unknown ids, the headline, the charts of whatever was logged, the
test results with their Wilson intervals, the sections with data, the config, notes and tags that survive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import runfolder, tracking
from core.evaluation import stats
from core.store import Store
from core.views import run as runview
from tests.fixtures_runs import log_classify_like


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def test_charts_are_titled_by_what_was_logged_losses_first(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        for step in (1, 2):
            run.log({"val/mAP": 0.1 * step, "train/loss": 1.0 / step, "val/loss": 2.0 / step, "train/lr": 0.01,
                     "system/cpu_percent": 50.0 + step}, step=step)  # fmt: skip
        run.log({"test/mAP": 0.3}, step=2)  # one point: a result, not a curve
    store.sync()
    charts = runview.curve_charts(store, run.id)
    assert [title for title, _ in charts] == ["loss", "mAP", "lr"]  # no "mAP / rank-1", no top-1 chart
    loss = charts[0][1]
    assert set(loss["name"]) == {"train/loss", "val/loss"} and (loss["series"] == loss["name"]).all()
    ((title, cpu),) = runview.curve_charts(store, run.id, system=True)
    assert title == "cpu_percent" and cpu[runview.SYSTEM_X].iloc[0] == 0.0  # minutes since the first sample
    assert (cpu[runview.SYSTEM_X] * 60).round(6).tolist() == (cpu["time"] - cpu["time"].min()).round(6).tolist()
    assert runview.sections(store, run.id) == ["Results", "System", "Config & notes", "Console"]


def test_smoothing_keeps_the_raw_values(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        for step, loss in enumerate([1.0, 3.0, 1.0], start=1):
            run.log({"train/loss": loss}, step=step)
    store.sync()
    ((_, points),) = runview.curve_charts(store, run.id, smoothing=0.5)
    assert points["raw"].tolist() == [1.0, 3.0, 1.0] and points["value"].tolist() != [1.0, 3.0, 1.0]


def test_no_charts_before_any_metric(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        pass
    store.sync()
    assert runview.curve_charts(store, run.id) == []


def test_results_in_percent_with_their_wilson_interval(store: Store, runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "r", "single", 0, 0.5)
    store.sync()
    results = runview.results_table(store, run_id).set_index("metric")
    assert results.loc["test/top1", "value"] == "50.00%"
    low, high = stats.wilson_interval(6, 12)
    assert results.loc["test/top1", "95% interval"] == f"50.00% (95% CI {low * 100:.2f}–{high * 100:.2f}%, n = 12)"
    assert runview.sections(store, run_id) == ["Results", "Confusion", "Predictions", "Config & notes", "Console"]


def test_an_unknown_id_is_no_run_and_never_a_path(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root) as run:
        pass
    store.sync()
    assert runview.exists(store, run.id) and not runview.exists(store, None)
    for bad in ("doesnotexist", "../../etc", "'; DROP TABLE runs; --", run.id[:-1]):
        assert not runview.exists(store, bad, sync=True)
    with pytest.raises(runfolder.RunNotFoundError, match="no run 'doesnotexist'"):
        runview.overview(store, "doesnotexist")


def test_notes_and_tags_are_written_to_the_folder_and_the_index(store: Store, runs_root: Path) -> None:
    with tracking.start(name="r", runs_dir=runs_root, tags=["old"]) as run:
        pass
    store.sync()
    runview.save_notes(store, run.id, "try a wider head")
    runview.save_tags(store, run.id, ["baseline", " ", "baseline", "paper "])
    view = runview.overview(store, run.id)  # no sync in between: saving brought the index up to date
    assert view.notes == "try a wider head" and view.tags == ["baseline", "paper"]
    with Store(runs_root, in_memory=True) as fresh:  # what the app sees after a restart
        assert runview.overview(fresh, run.id).notes == "try a wider head"


def test_the_config_reads_as_a_table() -> None:
    rows = runview.config_rows({"lr": 0.001, "heads": "multi", "milestones": [3, 6], "root": None})
    assert rows.to_dict("records") == [{"key": "lr", "value": "0.001"}, {"key": "heads", "value": "multi"},
                                       {"key": "milestones", "value": "[3, 6]"}, {"key": "root", "value": "—"}]


def test_the_picker_lists_recent_runs_and_keeps_an_older_current_one(store: Store, runs_root: Path) -> None:
    ids = []
    for name in ("first", "second"):
        with tracking.start(name=name, runs_dir=runs_root) as run:
            pass
        ids.append(run.id)
    store.sync()
    choices, labels = runview.run_choices(store, None)
    assert choices == ids[::-1] and labels[ids[0]] == f"first · {ids[0][-6:]}"
    assert runview.run_choices(store, ids[0])[0] == ids[::-1]
    choices, _ = runview.run_choices(store, ids[0], limit=1)  # first is too old for the list: shown first
    assert choices == [ids[0], ids[1]]


def _overview(**changes: object) -> runview.RunOverview:
    fields = {"id": "r", "name": "n", "group": "", "recipe": "classify", "status": "running", "created": None,
              "config": {}, "changes": "", "reason": "", "notes": "", "error": None, "progress": 0.5, "eta_s": 3725.4,
              "stale": False}
    return runview.RunOverview(**{**fields, **changes})


def test_the_headline() -> None:
    status, recipe, group, eta = runview.header_metrics(_overview())
    assert status[:2] == ("Status", "running") and group[1] == "—" and recipe[1] == "classify"
    assert eta[1] == str(dt.timedelta(seconds=3725)) == "1:02:05"
    assert runview.header_metrics(_overview(stale=True, eta_s=None, group="g"))[0][1] == "stale"
    assert [value for _, value, _ in runview.header_metrics(_overview(eta_s=None, group="g"))[2:]] == ["g", "—"]
