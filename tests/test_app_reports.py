"""The Reports page through Streamlit's AppTest over a prepared runs folder: a group's results summary with its
columns and sort, the experiment log written on a click, an upload imported with the lines it could not read,
a path imported, and the export buttons; never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import runfolder

from .conftest import REPO
from .fixtures_runs import prepare

PAGE = "app_pages/7_Reports.py"


@pytest.fixture
def runs(runs_root: Path, tmp_path: Path) -> dict[str, str]:
    return prepare(runs_root, tmp_path / "images")


def _page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _downloads(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_a_groups_summary_and_experiment_log(runs: dict[str, str]) -> None:
    at = _page()
    assert any("Choose runs" in i.value for i in at.info)
    at.selectbox(key="reports_group").set_value("multi").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="reports_runs_multi").value == [runs["multi0"], runs["multi1"]]
    summary = "\n".join(m.value for m in at.markdown)
    assert "## multi" in summary and "| multi s0 |" in summary and "## Key results" in summary
    assert {"Download md", "Download csv", "Download latex"} <= set(_downloads(at))
    sort = next(s for s in at.selectbox if s.label == "Sort by")
    assert sort.value == "best:val/loss"  # the first metric column
    sort.set_value("val/top1").run()
    assert "Sorted by **Val Top-1 (higher is better)**" in "\n".join(m.value for m in at.markdown)
    next(s for s in at.selectbox if s.label == "Sort by").set_value("best:val/loss").run()
    assert "Sorted by **Best Val Loss (lower is better)**" in "\n".join(m.value for m in at.markdown)
    at.button(key="reports_write_log").click().run()
    assert not at.exception, at.exception
    assert any("## Experiment: multi s0" in m.value for m in at.markdown)
    assert {"Download markdown", "Download zip (markdown and images)"} <= set(_downloads(at))
    assert {"Runs table (csv)", "Runs table (parquet)", "Metrics of the chosen runs (parquet)"} <= set(_downloads(at))


def test_an_upload_is_imported_and_what_was_not_read_is_listed(runs: dict[str, str], runs_root: Path) -> None:
    before = len(list(runfolder.iter_run_dirs(runs_root)))
    at = _page()
    log = b"## Experiment: uploaded\n### Metrics\n- Epoch 1: val_top1=0.5, val_top5=??\n- Epoch 2: val_top1=0.6\n"
    at.file_uploader(key="reports_upload").set_value(("old-log.md", log, "text/markdown")).run()
    at.button(key="reports_import_button").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("imported 1 run(s) (markdown)")
    assert at.warning[0].value == "1 line(s) were not read:"
    problems = at.dataframe[0].value
    assert problems["line"].tolist() == [3] and problems["text"].tolist() == ["val_top5=??"]
    assert len(list(runfolder.iter_run_dirs(runs_root))) == before + 1
    assert any("uploaded" in label for label in at.multiselect(key="reports_runs_(choose runs)").options)


def test_a_path_that_holds_no_log_is_an_error_not_a_traceback(runs: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01 not a log")
    at = _page()
    at.text_input(key="reports_import_path").input(str(tmp_path / "junk.bin")).run()
    at.button(key="reports_import_button").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value.startswith("imported 0 run(s)")
    at.text_input(key="reports_import_path").input(str(tmp_path / "missing")).run()
    at.button(key="reports_import_button").click().run()
    assert not at.exception
