"""The running app in headless Chromium: every page draws, shared links give the CLI's figures,
widgets and chart clicks change the filters and the URL, and presentation mode hides the sidebar.

Needs Debian's chromium (``CHROMIUM_PATH`` overrides /usr/bin/chromium). Without it these tests
skip, unless ``CRITAC_REQUIRE_BROWSER=1`` (set in CI), where a missing browser is a failure.
Every page is screenshotted; the images replace docs/screenshots/ only with
``CRITAC_WRITE_SCREENSHOTS=1`` (otherwise they go to a temporary folder and the tree stays clean).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from critac_metrics import db
from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from .browser_support import (
    LOAD_MS,
    MAIN,
    PLOTLY_SVG,
    RERUN_MS,
    ROOT,
    chart,
    choose_agency_type,
    cli_summary,
    click_centre,
    expected_kpis,
    filter_caption,
    full_screenshot,
    metric_value,
    no_exception,
    page_url,
    playwright_expect,
    point_customdata,
    query_pairs,
    read_kpis,
    running_app,
    screenshot_folder,
    wait_idle,
)

expect = playwright_expect()

# The fixtures (chromium, browser_home, app_url, app) are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

SCREENSHOTS = screenshot_folder()
BANNER = "Synthetic demo data."


def _expect_kpis(page, expected: dict[str, str]) -> None:
    for label, value in expected.items():
        expect(metric_value(page, label), f"KPI {label!r}").to_have_text(value, timeout=RERUN_MS)


# -- 1. every page --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", PAGES, ids=[Path(p.path).stem for p in PAGES])
def test_every_page_renders(app, spec):
    has_charts = spec.path != "views/data.py"
    page = app(page_url(spec), charts=has_charts)
    no_exception(page)
    expect(page.locator(MAIN).get_by_text(BANNER)).to_be_visible()
    expect(filter_caption(page)).to_have_text(re.compile(r"^(Engagement|Requests)"))
    if has_charts:
        assert page.locator(PLOTLY_SVG).count() >= 1
    full_screenshot(page, SCREENSHOTS / f"{Path(spec.path).stem}.png")
    no_exception(page)


# -- 2. a shared link gives the CLI's figures -----------------------------------------------------

SHARED_LINKS = [
    "?start=2023-10-01&end=2024-09-30&agency_type=tribal&agency_type=campus",
    "?topic=De-escalation&state=TX",
]


@pytest.mark.parametrize("query", SHARED_LINKS, ids=["fy2024-tribal-campus", "topic-state"])
def test_a_shared_link_shows_the_cli_figures(app, demo_db, query):
    page = app("/" + query)
    no_exception(page)
    pairs = query_pairs(query)
    _expect_kpis(page, expected_kpis(demo_db, pairs))
    filters, notices = Filters.from_query_params(
        {k: [v for kk, v in pairs if kk == k] for k, _ in pairs}, ["De-escalation"]
    )
    assert not notices
    expect(filter_caption(page)).to_have_text(filters.describe())
    for key, value in pairs:  # the link stays in the address bar
        assert f"{key}={value}" in page.url


# -- 3. a sidebar widget changes the numbers and the URL ------------------------------------------


def test_a_sidebar_filter_changes_the_kpis_and_the_url(app, demo_db):
    page = app("/")
    before = read_kpis(page)
    assert before == expected_kpis(demo_db, ())
    choose_agency_type(page, "Campus")
    expect(page).to_have_url(re.compile(r"[?&]agency_type=campus(&|$)"), timeout=RERUN_MS)
    expected = expected_kpis(demo_db, (("agency_type", "campus"),))
    assert expected["Engagements accepted"] != before["Engagements accepted"]
    _expect_kpis(page, expected)
    expect(filter_caption(page)).to_have_text(Filters(agency_types=("campus",)).describe())
    no_exception(page)


# -- 4. filters survive a page switch --------------------------------------------------------------


def test_filters_survive_a_page_switch(app):
    page = app("/?agency_type=tribal")
    sentence = filter_caption(page).inner_text()
    assert sentence == Filters(agency_types=("tribal",)).describe()
    page.locator("[data-testid=stSidebarNav] a[href$='/topics']").click()
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Topics", timeout=LOAD_MS)
    expect(page).to_have_url(
        re.compile(r"/topics\?(.*&)?agency_type=tribal(&|$)"), timeout=RERUN_MS
    )
    expect(filter_caption(page)).to_have_text(sentence, timeout=RERUN_MS)
    wait_idle(page)
    no_exception(page)


# -- 5. cross-filtering by clicking a chart -------------------------------------------------------


def _click_and_expect(page, demo_db, key: str, points: str, index: int, param: str, pairs):
    """Click point ``index`` of chart ``key``; the URL gains param=<its customdata[0]> and the KPIs
    become the CLI's figures for ``pairs`` plus that value. Returns the new pairs."""
    before = read_kpis(page)
    value = point_customdata(page, key, index)
    click_centre(page, chart(page, key).locator(points).nth(index))
    expect(page).to_have_url(re.compile(rf"[?&]{param}="), timeout=RERUN_MS)
    pairs = (*pairs, (param, value))
    assert sorted(query_pairs(page.url)) == sorted(pairs), page.url
    expected = expected_kpis(demo_db, pairs)
    assert expected != before, f"clicking {param}={value} should change the figures"
    _expect_kpis(page, expected)
    wait_idle(page)
    no_exception(page)
    return pairs


def test_clicking_a_topic_bar_then_a_state_tile_filters_everything(app, demo_db):
    page = app("/")
    # The largest topic bar (customdata[0] is the raw topic name)...
    pairs = _click_and_expect(
        page, demo_db, "overview_topics", ".barlayer .point path", 0, "topic", ()
    )
    expect(filter_caption(page)).to_contain_text(f" on {pairs[0][1]}")
    # ...then Texas on the tile map: both filters apply.
    states = page.evaluate(
        """() => document.querySelector('.st-key-overview_map .js-plotly-plot')
                   .data[0].customdata.map(c => c[0])"""
    )
    _click_and_expect(
        page, demo_db, "overview_map", ".scatterlayer .point", states.index("TX"), "state", pairs
    )
    expect(filter_caption(page)).to_contain_text("in Texas")


# -- 6. a malformed link ---------------------------------------------------------------------------


def test_a_malformed_link_shows_notices_and_no_exception(app):
    page = app("/?agency_type=martian&start=notadate")
    no_exception(page)
    notices = page.locator(f"{MAIN} [data-testid=stAlertContentInfo]")
    expect(notices.filter(has_text="martian")).to_have_count(1)
    expect(notices.filter(has_text="notadate")).to_have_count(1)
    expect(filter_caption(page)).to_have_text(Filters().describe())
    expect(page.locator(MAIN).get_by_text(BANNER)).to_be_visible()
    assert "martian" not in page.url and "notadate" not in page.url  # the bad values are dropped


# -- 7. presentation mode --------------------------------------------------------------------------


def test_presentation_mode_hides_the_sidebar(app):
    page = app("/?_present=1&start=2023-10-01&end=2024-09-30")
    no_exception(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_test_id("stSidebarCollapsedControl")).to_be_hidden()
    expect(filter_caption(page)).to_have_text(
        Filters.from_query_params({"start": "2023-10-01", "end": "2024-09-30"})[0].describe()
    )
    expect(metric_value(page, "Engagements accepted")).to_be_visible()
    assert "_present=1" in page.url
    full_screenshot(page, SCREENSHOTS / "presentation.png")


# -- 8. a page link is the first request a fresh server gets ----------------------------------------


def test_a_fresh_server_opens_a_page_link_through_the_app(page, demo_db, browser_home, tmp_path):
    """With a folder named pages/, a fresh server would serve /agencies without app.py (no
    sidebar, file names as navigation); see docs/architecture.md. The link gets the full app."""
    with running_app(demo_db, browser_home, tmp_path / "fresh.log") as (_, url):
        page.goto(url + "/agencies?agency_type=tribal")
        expect(page.locator(f"{MAIN} h1").first).to_have_text("Agencies & reach", timeout=LOAD_MS)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Filters", exact=True)).to_be_visible(timeout=RERUN_MS)
        expect(sidebar.get_by_text("Agencies & reach", exact=True)).to_be_visible(timeout=RERUN_MS)
        caption = Filters(agency_types=("tribal",)).describe()
        expect(filter_caption(page)).to_have_text(caption, timeout=RERUN_MS)
        no_exception(page)


# -- 9. the Data page's download holds every filtered row ------------------------------------------


def test_the_csv_download_holds_every_filtered_row(app, demo_db):
    query = "?agency_type=tribal&agency_type=campus"
    page = app("/data" + query, charts=False)
    button = page.get_by_test_id("stDownloadButton").get_by_text("CSV", exact=True)
    expect(button).to_be_enabled(timeout=LOAD_MS)
    with page.expect_download(timeout=LOAD_MS) as download:  # the file is built on the click
        button.click()
    with Path(download.value.path()).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == cli_summary(str(demo_db), query_pairs(query))["requests"]
    assert {row["agency_type"] for row in rows} == {"tribal", "campus"}


# -- 10. an administrator's upload ----------------------------------------------------------------


def test_an_admin_upload_loads_and_the_page_shows_the_new_rows_at_once(
    page, demo_db, browser_home, tmp_path, monkeypatch
):
    """Sign in, upload one new engagement: the success message and, on the same screen, figures
    that include it (the page is drawn again after the import, not left showing the old data)."""
    store = tmp_path / "store" / "critac.duckdb"
    store.parent.mkdir()
    shutil.copyfile(demo_db, store)
    before = cli_summary(str(store), ())["requests"]
    header, row = (ROOT / "data" / "engagements.csv").read_text(encoding="utf-8").splitlines()[:2]
    upload = tmp_path / "engagements_new.csv"
    upload.write_text(f"{header}\nE-UPLOAD-1,{row.split(',', 1)[1]}\n", encoding="utf-8")
    monkeypatch.setenv("CRITAC_ADMIN_PASSWORD", "s3cret")
    with running_app(store, browser_home, tmp_path / "admin.log") as (_, url):
        page.goto(url + "/data")
        main = page.locator(MAIN)
        expect(main.get_by_text(f"{before:,} engagement records")).to_be_visible(timeout=LOAD_MS)
        page.get_by_label("Admin password").fill("s3cret")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
        page.get_by_role("button", name="Validate and import").click()
        expect(main.get_by_text("Imported engagements: 1 row.")).to_be_visible(timeout=LOAD_MS)
        expect(main.get_by_text(f"{before + 1:,} engagement records")).to_be_visible(
            timeout=RERUN_MS
        )
        con = db.connect(store)
        try:
            ids = con.execute(
                "select engagement_id from engagements where agency_id = ?", [row.split(",")[1]]
            ).fetchall()
        finally:
            con.close()
        assert ("E-UPLOAD-1",) in ids
        no_exception(page)
