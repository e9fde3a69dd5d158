"""Every page through Streamlit's AppTest over a prepared runs folder: renders, filters, selections, bad
form values, no exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import runfolder, tracking
from core.runfolder import status as runstatus

from .conftest import REPO
from .fixtures_runs import prepare


@pytest.fixture
def runs(runs_root: Path, tmp_path: Path) -> dict[str, str]:
    return prepare(runs_root, tmp_path / "images")


def _page(path: str, **state: object) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def test_runs_page_lists_filters_and_sorts(runs: dict[str, str]) -> None:
    at = _page("app_pages/1_Runs.py")
    assert len(at.dataframe[0].value) == 4
    at.multiselect(key="runs_group").set_value(["multi"]).run()
    assert sorted(at.dataframe[0].value["name"]) == ["multi s0", "multi s1"]
    at.multiselect(key="runs_group").set_value([]).run()
    at.text_input(key="runs_search").input("s1").run()
    assert sorted(at.dataframe[0].value["name"]) == ["multi s1", "single s1"]
    at.text_input(key="runs_search").input("").run()
    at.selectbox(key="runs_sort").set_value("val/top1").run()
    assert at.dataframe[0].value["name"].iloc[0] == "multi s1"
    assert not at.exception


def test_launch_page_shows_a_bad_value_next_to_its_field_and_queues_nothing(runs: dict[str, str],
                                                                           runs_root: Path) -> None:
    before = list(runfolder.iter_run_dirs(runs_root))
    at = _page("app_pages/2_Launch.py")
    at.text_input(key="cfg_classify_lr").input("fast").run()
    at.button(key="launch_button").click().run()
    assert not at.exception
    assert any("lr" in e.value for e in at.error)
    assert list(runfolder.iter_run_dirs(runs_root)) == before


def test_launch_page_queues_a_valid_run_once(runs: dict[str, str], runs_root: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.launcher.control.ensure_scheduler", lambda root: None)  # queue only; nothing trains
    monkeypatch.setattr("core.launcher.service.ensure_scheduler", lambda root: None)  # nor does the queue panel
    at = _page("app_pages/2_Launch.py")
    at.text_input(key="cfg_classify_epochs").input("1").run()
    at.text_input(key="launch_name").input("from the form").run()
    at.button(key="launch_button").click().run()
    at.button(key="launch_button").click().run()  # a double click
    assert not at.exception
    queued = [p for p in runfolder.iter_run_dirs(runs_root) if runstatus.read(p).get("status") == "queued"]
    assert len(queued) == 1
    meta = runfolder.read_json(queued[0] / "meta.json")
    assert meta["name"] == "from the form" and meta["recipe"] == "classify"
    assert runfolder.read_json(queued[0] / "config.json")["epochs"] == 1
    at.run()  # the queue panel, after the index has synced the new run
    assert f"from the form  {queued[0].name}" in [t.value for t in at.text]


def test_launch_page_is_in_six_sections_and_the_objective_follows_the_recipe(runs_root: Path) -> None:
    at = _page("app_pages/2_Launch.py")
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == ["**Model**", "**Data**", "**Optimisation**", "**Schedule**", "**Regularisation**", "**Run**"]
    assert "peak learning rate" in at.text_input(key="cfg_classify_lr").help
    assert at.text_input(key="launch_objective").value == "val/top1"
    at.selectbox(key="launch_recipe").set_value("reid").run()
    assert not at.exception
    assert at.text_input(key="launch_objective").value == "val/mAP_identity"
    assert at.radio(key="launch_direction").value == "maximize"
    at.text_input(key="launch_objective").input("val/loss").run()
    assert at.radio(key="launch_direction").value == "minimize"


def test_launch_page_clone_marks_changed_fields(runs: dict[str, str]) -> None:
    at = _page("app_pages/2_Launch.py")
    at.text_input(key="cfg_classify_lr").input("0.123").run()
    assert any("`lr`" in c.value and "0.123" in c.value for c in at.caption)


def test_run_page_shows_status_results_and_confusion(runs: dict[str, str]) -> None:
    at = _page("app_pages/3_Run.py", run_id=runs["multi0"])
    assert at.title[0].value == "multi s0"
    assert any(m.label == "Status" and m.value == "succeeded" for m in at.metric)
    frames = [d.value for d in at.dataframe]
    assert any("make" in f.columns and len(f) == 2 for f in frames)
    at.session_state["tab"] = "Confusion"  # the sections are tabs that draw only when open
    at.run()
    at.radio(key="confusion_level").set_value("model").run()
    assert not at.exception


def test_run_page_lists_the_confused_pairs_the_run_logged(runs_root: Path) -> None:
    with tracking.start(name="pairs", recipe="classify", runs_dir=runs_root) as run:
        run.log_table("test/confusion_make", [{"truth": "audi", "predicted": "bmw", "count": 3},
                                              {"truth": "audi", "predicted": "audi", "count": 5}])
        run.log_table("test/top_confused_make", [{"truth": "audi", "predicted": "bmw", "count": 3,
                                                  "share_of_truth": 0.375}])
    at = _page("app_pages/3_Run.py", run_id=run.id)
    (pairs,) = [d.value for d in at.dataframe if "share_of_truth" in d.value.columns]
    assert pairs.to_dict(orient="records") == [{"truth": "audi", "predicted": "bmw", "count": 3,
                                                "share_of_truth": 0.375}]


def test_compare_page_summarises_with_deltas_and_config_diff(runs: dict[str, str]) -> None:
    at = _page("app_pages/4_Compare.py", compare_ids=[runs["single0"], runs["multi0"]])
    assert not at.exception
    summary = at.table[0].value
    assert list(summary.index) == ["single s0", "multi s0"]
    assert summary.loc["multi s0", "Δ val/top1"] == "+40.00 pts"  # a share's delta, in points
    (config_diff,) = [d.value for d in at.dataframe if d.value.index.name == "key"]
    assert {"lr", "heads"} <= set(config_diff.index)
    assert any("McNemar" in m.value for m in [*at.info, *at.success])
    at.toggle(key="compare_sweep").set_value(True).run()  # drawn on demand: WebGL is slow to draw
    (parallel,) = [c for c in at.get("plotly_chart") if '"parcoords"' in c.proto.spec]
    assert '"label":"lr (log)"' not in parallel.proto.spec and '"label":"heads"' in parallel.proto.spec


def test_compare_page_tests_seed_groups(runs: dict[str, str]) -> None:
    at = _page("app_pages/4_Compare.py", compare_ids=list(runs.values()))
    at.toggle(key="compare_groups").set_value(True).run()
    assert not at.exception
    assert any("Welch" in m.value for m in [*at.info, *at.success])
