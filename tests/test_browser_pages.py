"""Issue 12 in a real browser (Debian's chromium): no lost input, no dead ends, what W&B and ClearML users
expect. One app server over a prepared folder: classify-like runs with predictions, a detection project's run
(steps in the tens of thousands, system metrics, no per-sample tables) and a sweep whose top-1 ties."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fixtures_runs import prepare, prepare_other_projects
from .helpers_browser import (
    BROWSER_MARKS,
    AppServer,
    exceptions,
    launch_browser,
    open_idle,
    wait_idle,
)

pytestmark = BROWSER_MARKS
TIMEOUT = 60_000  # ms: the machine may be busy


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, dict[str, Any]]]:
    base = tmp_path_factory.mktemp("browser-pages")
    root = base / "runs"
    root.mkdir()
    ids: dict[str, Any] = {**prepare(root, base / "images"), **prepare_other_projects(root)}
    server = AppServer(root, base / "streamlit.log").start()
    yield server, ids
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_browser(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    yield tab
    assert exceptions(tab) == []
    context.close()


def _expect() -> Any:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    return expect


def test_home_is_named_home_laid_out_wide_with_run_names_as_links(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, server.url)
    nav = page.locator('[data-testid="stSidebarNav"]')
    _expect()(nav.get_by_text("Home", exact=True)).to_be_visible()
    assert nav.get_by_text("app", exact=True).count() == 0
    assert page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"] > 1000  # wide
    link = f"Run?run={ids['single0']}&name=single+s0"  # the name column links to the Run page
    _expect()(page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=link)).to_have_count(1)
    open_idle(page, f"{server.url}/Run?run={ids['single0']}")
    code = page.get_by_text(ids["single0"], exact=True).first
    assert code.bounding_box()["height"] < 30  # the run id on one line


@pytest.mark.parametrize("bad", ["doesnotexist", "../../etc"])
def test_a_bad_link_says_no_run_and_offers_a_way_on(app: tuple, page: Any, bad: str) -> None:
    server, _ = app
    open_idle(page, f"{server.url}/Run?run={bad}")
    _expect()(page.get_by_text(f"No run {bad} in")).to_be_visible()
    page.get_by_role("link", name="Find it on Runs").click()
    _expect()(page.get_by_role("heading", name="Runs")).to_be_visible()


def test_notes_are_saved_as_typed_and_survive_reload_restart_and_the_report(app: tuple, page: Any) -> None:
    server, ids = app
    url = f"{server.url}/Run?run={ids['single1']}&tab=Config+%26+notes"
    open_idle(page, url)
    notes = page.get_by_role("textbox", name="Notes")
    notes.fill("try a wider head next")
    page.get_by_role("button", name="Save notes").click()  # once, straight after typing
    _expect()(page.get_by_text("Notes saved.")).to_be_visible()
    open_idle(page, url)
    _expect()(page.get_by_role("textbox", name="Notes")).to_have_value("try a wider head next")
    with page.expect_download() as download:
        page.get_by_role("button", name="Report (markdown)").click()
    assert "### Notes\ntry a wider head next" in Path(download.value.path()).read_text()
    server.restart()
    open_idle(page, url)
    _expect()(page.get_by_role("textbox", name="Notes")).to_have_value("try a wider head next")


def test_a_confusion_cell_opens_its_images(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, f"{server.url}/Run?run={ids['multi0']}&tab=Confusion")
    chart = page.locator('[data-testid="stPlotlyChart"]', has_text="Confusion (make level)")
    chart.scroll_into_view_if_needed()
    assert chart.locator("text", has_text=re.compile(r"^6$")).count() >= 1  # counts in the cells
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)  # truth bmw, predicted audi
    _expect()(page.get_by_text("truth bmw, predicted audi: 1 shown of 1 images")).to_be_visible()
    _expect()(page.locator('[data-testid="stImage"]')).to_have_count(1)
    page.get_by_text("Per row").click()  # counts instead of per-row shares: redrawn, no error
    _expect()(chart.locator("text", has_text=re.compile(r"^5$")).first).to_be_visible()


def test_predictions_are_thumbnails_with_readable_top5_and_filters(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, f"{server.url}/Run?run={ids['single0']}&tab=Predictions")
    _expect()(page.get_by_text("12 shown of 12 matching (12 test images)")).to_be_visible()
    _expect()(page.locator('[data-testid="stImage"]')).to_have_count(12)
    _expect()(page.get_by_text("1. audi-a · 70.0%").first).to_be_visible()
    main = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "/images/" not in main and '"class"' not in main  # no absolute paths, no raw JSON
    page.get_by_text("Wrong only").click()
    _expect()(page.get_by_text("6 shown of 6 matching (12 test images)")).to_be_visible()


def test_a_run_of_another_project_shows_only_what_it_has(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, f"{server.url}/Run?run={ids['detector']}")
    tabs = page.get_by_role("tab").all_inner_texts()
    assert tabs == ["Results", "System", "Config & notes", "Console"]
    charts = page.locator('[data-testid="stEChartsChart"]')
    texts = [charts.nth(i).locator("svg text").all_text_contents() for i in range(charts.count())]
    assert [t[-1] for t in texts] == ["loss", "mAP"]  # the title, drawn last
    ticks = charts.first.evaluate(X_TICKS)
    assert len(ticks) > 2 and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in ticks), ticks  # never 1.5, 99.999k
    assert charts.first.locator("svg path[fill='none']").count() >= 2  # the raw line under the smoothed one
    page.get_by_role("tab", name="System").click()
    _expect()(page.locator('[data-testid="stEChartsChart"] svg text', has_text="cpu_percent")).to_be_visible()


# The texts of a chart's x-axis ticks: the row of texts lowest in the plot, above the axis name "step".
X_TICKS = """chart => {
    const texts = [...chart.querySelectorAll('svg text')].map(t => [t.textContent, t.getBoundingClientRect()]);
    const name = texts.find(([text]) => text === 'step')[1];
    const above = texts.filter(([, r]) => r.bottom <= name.top + 1);
    const row = Math.max(...above.map(([, r]) => Math.round(r.top)));
    return above.filter(([, r]) => Math.abs(Math.round(r.top) - row) <= 2).map(([text]) => text);
}"""


# The summary's highlighted cells: (row name, column name, text) of cells drawn in the "best" colour.
HIGHLIGHTED = """table => {
    const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
    return [...table.querySelectorAll('tbody tr')].flatMap(tr => {
        const cells = [...tr.querySelectorAll('th, td')];
        return cells.filter(c => getComputedStyle(c).backgroundColor === 'rgb(230, 244, 234)')
                    .map(c => [cells[0].innerText.trim(), heads[cells.indexOf(c)], c.innerText.trim()]);
    });
}"""


def test_compare_reads_in_units_marks_the_best_by_direction_and_keeps_its_address(app: tuple, page: Any) -> None:
    server, ids = app
    sweep = ",".join(ids["sweep"])
    open_idle(page, f"{server.url}/Compare?runs={sweep}&metrics=test/top1,train/KL")
    table = page.locator('[data-testid="stTable"]').first
    _expect()(table).to_contain_text("34.84%")
    _expect()(table).to_contain_text("+0.00 pts")
    best = table.locator("table").evaluate(HIGHLIGHTED)
    assert best == [["combo_0", "train/KL", "0.3333"]]  # the lowest KL; the tied top-1 has no "best"
    _expect()(page.get_by_text("No significance test is possible").first).to_be_visible()
    pair = f"{ids['single0']},{ids['multi0']}"
    open_idle(page, f"{server.url}/Compare?runs={pair}&baseline={ids['multi0']}&metrics=test/top1,val/loss")
    best = page.locator('[data-testid="stTable"] table').first.evaluate(HIGHLIGHTED)
    assert ["multi s0", "test/top1", "83.33%"] in best  # the higher accuracy
    assert not [r for r, c, _ in best if c == "val/loss"]  # equal losses tie
    assert f"baseline={ids['multi0']}" in page.url and "metrics=test%2Ftop1%2Cval%2Floss" in page.url
    _expect()(page.locator('[data-testid="stAlert"]', has_text="McNemar").first).to_be_visible()


def _pick(page: Any, label: str, text: str) -> None:
    """Type into a multiselect (new options allowed) and press Enter."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    box.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)


def test_runs_columns_are_chosen_remembered_sorted_and_runs_tagged(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, f"{server.url}/Runs")
    _pick(page, "Columns", "config.heads")
    open_idle(page, f"{server.url}/Runs")  # a new visit: the chosen column is remembered
    header = page.locator('[data-testid="stDataFrame"] [role="columnheader"]')
    _expect()(header.filter(has_text="config.heads")).to_have_count(1)
    open_idle(page, f"{server.url}/Runs?runs_columns=config.lr&runs_sort=config.lr&runs_desc=false")
    _expect()(header.filter(has_text="config.lr")).to_have_count(1)
    names = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()
    assert names[0].endswith("name=multi+s0") or names[0].endswith("name=multi+s1")  # the lowest lr first
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)  # select the first row
    _pick(page, "Tags of the 1 selected", "lowest-lr")
    page.get_by_role("button", name="Save tags").click()
    page.wait_for_timeout(1000)
    wait_idle(page)  # the save is done before the page is left
    open_idle(page, f"{server.url}/Runs?runs_tag=lowest-lr")
    _expect()(page.get_by_text("1 runs · page 1 of 1")).to_be_visible()
    open_idle(page, f"{server.url}/Run?run={ids['multi1']}")  # and on the Run page
    _pick(page, "Tags", "paper")
    wait_idle(page)
    open_idle(page, f"{server.url}/Run?run={ids['multi1']}")
    _expect()(page.get_by_text(re.compile(r"tags: .*paper"))).to_be_visible()
    open_idle(page, f"{server.url}/Runs?runs_tag=paper")
    _expect()(page.get_by_text("1 runs · page 1 of 1")).to_be_visible()


def test_clone_from_the_run_page_fills_the_launch_form_in_sections(app: tuple, page: Any) -> None:
    server, ids = app
    open_idle(page, f"{server.url}/Run?run={ids['multi0']}")
    _expect()(page.get_by_role("button", name="Resume")).to_be_disabled()  # a succeeded run: nothing to resume
    page.get_by_role("link", name="Clone").click()
    _expect()(page.get_by_text("Optimisation", exact=True)).to_be_visible()
    lr = page.get_by_label(re.compile(r"^lr( ●)?$"))
    _expect()(lr).to_have_value("0.0003")
    lr.fill("0.01")
    lr.press("Enter")
    _expect()(page.get_by_label("Changes")).to_have_value(re.compile(r"lr 0\.0003 → 0\.01"))
