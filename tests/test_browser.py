"""In a real browser: launch a tiny classify run from the Launch page (a second click of Launch queues nothing
more), follow the link to it and watch it succeed on the Run page, explain its predictions on Predict (no dead
end when the image source changes, a fake image said to be one and taken off the list), select it and a second
run on Runs, and find both in Compare's summary. Screenshots of each page go to test-artifacts/. Needs Debian's
chromium (.ci/run installs it); skipped where it is missing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image

from core.datasets.synthetic_cars import generate_synthetic_cars

from .fixtures_runs import log_classify_like
from .helpers_browser import ARTIFACTS, BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, wait_idle

pytestmark = BROWSER_MARKS


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_label(re.compile(rf"^{re.escape(label)}( ●)?$"), exact=False).first
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(400)


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(re.compile(rf"^{re.escape(label)}( ●)?$")).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(400)


def _named(runs_root: Path, name: str) -> int:
    """How many run folders carry this name."""
    return sum(json.loads(meta.read_text()).get("name") == name for meta in runs_root.glob("*/meta.json"))


def _predict_has_no_dead_end(page, app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{app_url}/Predict")
    expect(page.get_by_text("Explain", exact=True)).to_be_visible(timeout=120_000)
    expect(page.get_by_text("browser run").first).to_be_visible()  # the best finished run is the default
    _choose(page, "Explain", "truth")
    page.get_by_text("upload", exact=True).click()
    page.wait_for_timeout(1500)
    fake = tmp_path / "fake.png"
    fake.write_text("not an image at all")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(fake))
    expect(page.get_by_text("fake.png is not an image: its content is text")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stFileUploaderFile"]')).to_have_count(0)  # not left on the list
    wait_idle(page)  # the uploader is drawn anew: a person picks the next file once the page has settled
    real = tmp_path / "real.png"
    Image.new("RGB", (48, 48), (200, 30, 30)).save(real)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(real))
    expect(page.get_by_text("Make probabilities")).to_be_visible(timeout=120_000)
    explain = page.get_by_role("combobox", name="Explain")
    expect(explain).to_have_value("prediction")  # an upload has no truth to explain: back to the prediction
    page.screenshot(path=str(ARTIFACTS / "predict.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_launch_watch_select_compare(app_url: str, runs_root: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    data = generate_synthetic_cars(tmp_path / "tiny", n_makes=2, models_per_make=2, images_per_class=10,
                                   image_size=32)
    log_classify_like(runs_root, tmp_path / "images", "earlier baseline", "single", 0, 0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        page.get_by_role("button", name="Launch", exact=True).click()  # a second click repeats nothing
        wait_idle(page)
        expect(page.get_by_text(f"Queued 1: {run_id}")).to_be_visible()
        assert _named(runs_root, "browser run") == 1
        page.screenshot(path=str(ARTIFACTS / "launch.png"), full_page=True)
        page.get_by_role("link", name=f"Open {run_id[-6:]}").click()  # the link to the run just launched
        expect(page.get_by_text("succeeded").first).to_be_visible(timeout=240_000)
        assert _named(runs_root, "browser run") == 1
        page.wait_for_timeout(2500)
        page.screenshot(path=str(ARTIFACTS / "run.png"), full_page=True)
        _predict_has_no_dead_end(page, app_url, tmp_path)

        page.goto(f"{app_url}/")
        expect(page.get_by_text("Latest runs")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
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
