"""In a real browser: pick a finished reid run on the Gallery page, switch re-ranking on and see the mAP
change, then reload and find the page still working. A screenshot goes to test-artifacts/. Needs Debian's
chromium (.ci/run installs it); skipped where it is missing."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures_reid import copy_run, train_tiny_reid
from tests.helpers_browser import ARTIFACTS, BROWSER_MARKS, exceptions, launch_browser, wait_idle

pytestmark = BROWSER_MARKS


def _metric(page, label: str) -> str:
    """The value of the st.metric labelled ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True)).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_pick_a_run_switch_re_ranking_and_reload(app_url: str, runs_root: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    trained = train_tiny_reid(tmp_path / "reid")
    copy_run(trained, runs_root, "spots baseline", suffix="0a0a0a")
    copy_run(trained, runs_root, "spots second", suffix="0b0b0b")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{app_url}/Gallery")
        expect(page.get_by_text("identity-balanced mAP")).to_be_visible(timeout=90_000)
        page.get_by_label(re.compile("^Run$")).first.click()
        page.get_by_role("option", name=re.compile("^spots second")).click()
        expect(page.get_by_text(re.compile(r"^query · .* · AP "))).to_be_visible(timeout=60_000)
        plain = _metric(page, "mAP")
        page.get_by_text("Re-ranking", exact=True).click()
        expect(page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("mAP", exact=True)).first
               .locator('[data-testid="stMetricDelta"]')).to_be_visible(timeout=60_000)  # fmt: skip
        assert _metric(page, "mAP") != plain
        page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)
        page.reload()
        expect(page.get_by_text("identity-balanced mAP")).to_be_visible(timeout=90_000)
        expect(page.get_by_text(re.compile(r"^query · .* · AP "))).to_be_visible(timeout=60_000)
        wait_idle(page)
        assert exceptions(page) == []
        browser.close()
