"""In a real browser: launch a tiny classify run from the Launch page, watch it succeed on the Run page,
select it and a second run on Runs, and find both in Compare's summary. Screenshots of each page go to
test-artifacts/. Needs Debian's chromium (.ci/run installs it); skipped where it is missing."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.datasets.synthetic_cars import generate_synthetic_cars

from .conftest import REPO
from .fixtures_runs import log_classify_like

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(runs_root: Path, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "EXPLORER_RUNS_DIR": str(runs_root), "EXPLORER_CPU_SLOTS": "1", "PYTHONPATH": str(REPO)}
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            process_group=0)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=20)
    log.close()


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_label(re.compile(rf"^{re.escape(label)}( ●)?$"), exact=False).first
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(400)


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(re.compile(rf"^{re.escape(label)}( ●)?$")).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(400)


def test_launch_watch_select_compare(app_url: str, runs_root: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    data = generate_synthetic_cars(tmp_path / "tiny", n_makes=2, models_per_make=2, images_per_class=10,
                                   image_size=32)
    log_classify_like(runs_root, tmp_path / "images", "earlier baseline", "single", 0, 0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                      "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{app_url}/Launch")
        expect(page.get_by_text("Configuration")).to_be_visible(timeout=60_000)
        _choose(page, "dataset", "imagefolder")
        for label, value in [("data_root", str(data)), ("epochs", "1"), ("image_size", "32"), ("batch_size", "8"),
                             ("max_train_batches", "2"), ("max_eval_batches", "2"), ("backbone", "resnet10t"),
                             ("Name", "browser run")]:
            _fill(page, label, value)
        page.get_by_role("button", name="Launch", exact=True).click()
        expect(page.get_by_text(re.compile("Queued 1"))).to_be_visible(timeout=60_000)
        run_id = re.search(r"Queued 1: (\S+)", page.get_by_text(re.compile("Queued 1")).inner_text()).group(1)
        page.screenshot(path=str(ARTIFACTS / "launch.png"), full_page=True)
        page.goto(f"{app_url}/")
        expect(page.get_by_text("Latest runs")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)

        page.goto(f"{app_url}/Run?run={run_id}")
        expect(page.get_by_text("succeeded").first).to_be_visible(timeout=240_000)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(ARTIFACTS / "run.png"), full_page=True)

        page.goto(f"{app_url}/Runs")
        grid = page.locator('[data-testid="stDataFrame"]').first
        expect(grid).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        box = grid.bounding_box()
        for row in (0, 1):  # the row-selection markers, left of the first column
            page.mouse.click(box["x"] + 18, box["y"] + 35 * (row + 1) + 17)
            page.wait_for_timeout(600)
        page.screenshot(path=str(ARTIFACTS / "runs.png"), full_page=True)
        page.get_by_role("link", name=re.compile("Compare 2 selected")).click()
        table = page.locator('[data-testid="stTable"]').first
        expect(table).to_be_visible(timeout=60_000)
        expect(table).to_contain_text("browser run")
        expect(table).to_contain_text("earlier baseline")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
        browser.close()
