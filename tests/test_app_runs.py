"""The first page, through Streamlit's AppTest: empty state guidance, then the runs with their metrics."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import tracking

from .conftest import REPO


def _app() -> AppTest:
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=30).run()


def test_an_empty_runs_folder_tells_what_to_do_next(runs_root: Path) -> None:
    at = _app()
    assert not at.exception
    assert "No runs yet" in at.info[0].value and "python -m core run classify" in at.info[0].value


def test_runs_are_listed_with_status_and_latest_metrics(runs_root: Path) -> None:
    with tracking.start(name="baseline", group="heads") as run:
        run.log({"val/top1": 0.25, "val/loss": 2.0}, step=1)
        run.log({"val/top1": 0.5, "val/loss": 1.5}, step=2)
    failed = tracking.start(name="broken")
    failed.finish("failed", error="boom")
    at = _app()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["name"].tolist() == ["broken", "baseline"]
    assert frame["status"].tolist() == ["failed", "succeeded"]
    assert frame.loc[frame["name"] == "baseline", "val/top1"].item() == 0.5
