"""In a real browser: the Reports page writes a group's experiment log and hands over the zip of the markdown
and its images, imports an uploaded log, listing the line it could not read, and exports the runs table. A
screenshot goes to test-artifacts/. Needs Debian's chromium (.ci/run installs it); skipped where it is missing."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .fixtures_runs import log_classify_like
from .helpers_browser import ARTIFACTS, BROWSER_MARKS, launch_browser

pytestmark = BROWSER_MARKS


def test_reports_page_downloads_a_log_zip_and_imports_an_upload(app_url: str, runs_root: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    log_classify_like(runs_root, tmp_path / "images", "browser baseline", "heads", 0, 0.5)
    upload = tmp_path / "old-log.md"
    upload.write_text("## Experiment: from the browser\n### Metrics\n- Epoch 1: val_top1=0.5, val_top5=??\n")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{app_url}/Reports")
        expect(page.get_by_text("Choose runs (or a group) above.")).to_be_visible(timeout=60_000)
        page.get_by_label(re.compile(r"^Group$")).first.click()
        page.get_by_role("option", name="heads", exact=True).click()
        page.get_by_role("button", name="Write the experiment log").click()
        button = page.get_by_role("button", name="Download zip (markdown and images)")
        expect(button).to_be_visible(timeout=60_000)
        with page.expect_download() as download:
            button.click()
        saved = tmp_path / "log.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = archive.namelist()
        assert "experiment-log.md" in names and any(n.endswith("_loss_curve.png") for n in names)
        page.get_by_role("tab", name="Import").click()
        page.locator('input[type="file"]').first.set_input_files(str(upload))
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_text(re.compile(r"imported 1 run\(s\) \(markdown\)"))).to_be_visible(timeout=60_000)
        expect(page.get_by_text("1 line(s) were not read:")).to_be_visible()
        page.wait_for_timeout(1500)  # the table of lines not read is drawn on a canvas
        page.screenshot(path=str(ARTIFACTS / "reports-import.png"), full_page=True)
        page.get_by_role("tab", name="Results summary").click()
        expect(page.get_by_text("Key results (computed from the tables)")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "reports-summary.png"), full_page=True)
        page.get_by_role("tab", name="Export").click()  # the tables are written on the click, not on the visit
        with page.expect_download() as download:
            page.get_by_role("button", name="Runs table (csv)").click()
        table = tmp_path / "runs.csv"
        download.value.save_as(table)
        assert "browser baseline" in table.read_text() and "from the browser" in table.read_text()
        browser.close()
