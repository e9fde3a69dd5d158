"""Links that can be shared and links that are wrong, through Streamlit's AppTest: a bad run id is "no run"
with a way on (never an exception), Compare opens as its address says and writes its state back, Clone opens
the Launch form filled in, and the Runs table's filters live in the address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import tracking
from core.runfolder.paths import runs_dir
from core.store import Store
from core.views import verdicts

from .conftest import REPO
from .fixtures_runs import prepare


@pytest.fixture
def runs(runs_root: Path, tmp_path: Path) -> dict[str, str]:
    return prepare(runs_root, tmp_path / "images")


def _page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("bad", ["doesnotexist", "../../etc", "%00"])
def test_a_bad_run_link_says_no_run_and_offers_a_way_on(runs: dict[str, str], bad: str) -> None:
    at = _page("app_pages/3_Run.py", run=bad)
    (error,) = at.error
    assert error.value.startswith(f"No run `{bad}`")
    assert "Find it on Runs" in [link.proto.label for link in at.get("page_link")]


def test_compare_opens_as_its_address_says(runs: dict[str, str]) -> None:
    ids = [runs["single0"], runs["multi0"], runs["multi1"]]
    at = _page("app_pages/4_Compare.py", runs=",".join(ids), baseline=runs["multi0"], metrics="test/top1,val/loss")
    assert at.multiselect(key="compare_pick").value == ids
    assert at.selectbox(key="compare_baseline").value == runs["multi0"]
    assert at.multiselect(key="compare_metrics").value == ["test/top1", "val/loss"]
    assert list(at.table[0].value.columns[:2]) == ["test/top1", "Δ test/top1"]
    shown = [e.value for e in [*at.info, *at.success]]
    with Store(runs_dir(), in_memory=True) as store:
        judgement = verdicts.judge(store, ids, ["test/top1"], runs["multi0"])
    assert shown == [v.sentence for v in judgement.verdicts] and len(shown) == 1  # single0 vs the multi seeds
    at.multiselect(key="compare_metrics").set_value(["val/loss"]).run()
    assert at.query_params["metrics"] == "val/loss" and at.query_params["baseline"] == runs["multi0"]


def test_clone_opens_the_launch_form_filled_in(runs: dict[str, str]) -> None:
    at = _page("app_pages/2_Launch.py", clone=runs["multi0"])
    assert at.selectbox(key="launch_clone").value == runs["multi0"]
    assert at.text_input(key="cfg_classify_lr").value == "0.0003"
    at.text_input(key="cfg_classify_lr").input("0.01").run()
    assert at.text_area(key="launch_changes").value == "lr 0.0003 → 0.01"  # the diff, pre-filled


def test_the_runs_filters_live_in_the_address(runs: dict[str, str]) -> None:
    at = _page("app_pages/1_Runs.py", runs_group="multi")
    assert sorted(at.dataframe[0].value["name"]) == ["multi s0", "multi s1"]


def _best_cells(at: AppTest) -> set[tuple[int, int]]:
    """(row, column) of the summary cells drawn as the best (the table's styler CSS)."""
    css = at.table[0].proto.arrow_data.styler.styles
    return {(int(r), int(c)) for r, c in re.findall(r"row(\d+)_col(\d+)[^{]*\{[^}]*e6f4ea", css)}


def test_compare_marks_no_best_on_ties_the_lowest_loss_and_shows_percent(runs_root: Path) -> None:
    ids = []
    for name, kl in (("a", 0.5), ("b", 0.3), ("c", 0.4)):
        with tracking.start(name=name, config={"variant": name}, runs_dir=runs_root) as run:
            run.log({"test/top1": 34.84, "train/KL": kl}, step=1)  # top-1 logged in percent, the same in all
        ids.append(run.id)
    at = _page("app_pages/4_Compare.py", runs=",".join(ids), metrics="test/top1,train/KL")
    summary = at.table[0].value
    assert summary["test/top1"].tolist() == ["34.84%"] * 3 and summary["Δ test/top1"].tolist() == ["+0.00 pts"] * 3
    kl_column = list(summary.columns).index("train/KL")
    assert _best_cells(at) == {(1, kl_column)}  # b: the lowest KL; the tied top-1 has no best
