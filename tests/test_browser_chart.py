"""The dashboard's chart component in headless Chromium (dashboard/plotly_chart.js): a filter change
redraws each chart in the div it already had, plotly.js comes once from the app's own route (never
Streamlit's full Plotly bundle), the modebar offers the PNG and full screen only, each chart is an
image named by its takeaway, and a chart follows its column's width."""

from __future__ import annotations

import re

import pytest

from .browser_support import (
    CHART,
    PLOTLY_SVG,
    RERUN_MS,
    chart,
    choose_agency_type,
    click_centre,
    playwright_expect,
    running_app,
    wait_idle,
)

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

FY2024 = "/?start=2023-10-01&end=2024-09-30"
KEYS = ("overview_trend", "overview_cumulative", "overview_topics", "overview_map")

MARK_JS = """(keys) => keys.forEach((key, i) => {
  document.querySelector(`.st-key-${key} .critac-chart`).__testMark = i; })"""
STATE_JS = """(keys) => keys.map((key) => {
  const gd = document.querySelector(`.st-key-${key} .critac-chart`);
  return { mark: gd.__testMark, data: JSON.stringify(gd.data.map((t) => [t.x, t.y, t.z, t.text])) };
})"""


def test_a_filter_change_redraws_each_chart_in_the_div_it_had(app):
    page = app(FY2024)
    page.evaluate(MARK_JS, list(KEYS))
    before = page.evaluate(STATE_JS, list(KEYS))
    choose_agency_type(page, "Tribal")
    page.wait_for_function(
        f"([keys, old]) => ({STATE_JS})(keys).every((now, i) => now.data !== old[i].data)",
        arg=[list(KEYS), before],
        timeout=RERUN_MS,
    )
    wait_idle(page)
    after = page.evaluate(STATE_JS, list(KEYS))
    assert [a["mark"] for a in after] == list(range(len(KEYS)))  # the same divs, redrawn
    assert all(a["data"] != b["data"] for a, b in zip(after, before, strict=True))


def test_plotly_js_comes_once_from_the_app_gzipped_and_streamlits_never(page, app_url):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(app_url + FY2024)
    expect(page.locator(PLOTLY_SVG).first).to_be_visible(timeout=RERUN_MS)
    wait_idle(page)
    for stem in ("plotly", "plotly_chart"):  # plotly.js and the chart's module, once each
        ours = [r for r in responses if re.search(rf"/critac/{stem}-[0-9a-f]{{12}}\.js$", r.url)]
        assert len(ours) == 1, [r.url for r in ours]
        headers = ours[0].all_headers()
        assert ours[0].status == 200 and headers["content-encoding"] == "gzip"
        assert "immutable" in headers["cache-control"]
    assert not [r.url for r in responses if "PlotlyChart" in r.url]
    assert page.locator(CHART).count() >= len(KEYS)


HEIGHT_JS = (
    "(key) => document.querySelector(`.st-key-${key} .critac-chart`).getBoundingClientRect().height"
)


def _modebar_button(page, key: str, title: str):
    chart(page, key).scroll_into_view_if_needed()
    chart(page, key).hover()
    return page.locator(f'.st-key-{key} .modebar-btn[data-title="{title}"]')


def _wait_height(page, key: str, height: float) -> None:
    page.wait_for_function(
        f"([key, h]) => Math.abs(({HEIGHT_JS})(key) - h) < 2", arg=[key, height], timeout=RERUN_MS
    )


def test_the_modebar_offers_the_png_and_full_screen(app):
    page = app(FY2024)
    _modebar_button(page, "overview_topics", "View fullscreen")
    buttons = page.locator(".st-key-overview_topics .modebar-btn")
    assert buttons.evaluate_all("(bs) => bs.map((b) => b.dataset.title)") == [
        "Download plot as a PNG",
        "View fullscreen",
    ]  # plotly.js 4's "Share chart..." would upload the figure to Plotly Cloud


def test_full_screen_fills_the_screen_and_gives_a_chart_its_height_back(app):
    page = app(FY2024)
    for key in ("overview_trend", "overview_topics"):  # plotly's height, then the figure's own
        height = page.evaluate(HEIGHT_JS, key)
        _modebar_button(page, key, "View fullscreen").click()
        page.wait_for_function("() => document.fullscreenElement !== null")
        _wait_height(page, key, page.evaluate("window.innerHeight"))
        page.evaluate("document.exitFullscreen()")
        _wait_height(page, key, height)


def test_a_chart_redrawn_in_full_screen_stays_full_screen(app):
    """A presenter clicks a bar in full screen: the filter narrows and the chart stays full size."""
    page = app(FY2024)
    _modebar_button(page, "overview_topics", "View fullscreen").click()
    screen = page.evaluate("window.innerHeight")
    _wait_height(page, "overview_topics", screen)
    before = page.url
    click_centre(page, chart(page, "overview_topics").locator(".point").first)
    page.wait_for_function("(old) => window.location.href !== old", arg=before, timeout=RERUN_MS)
    wait_idle(page)
    assert "topic=" in page.url
    assert abs(page.evaluate(HEIGHT_JS, "overview_topics") - screen) < 2


def test_without_the_fullscreen_api_the_chart_is_laid_over_the_page(page, app):
    """iPhone Safari has no Element.requestFullscreen: the chart covers the page instead, until
    the button or Escape."""
    page.add_init_script("Element.prototype.requestFullscreen = undefined")
    app(FY2024)
    height = page.evaluate(HEIGHT_JS, "overview_trend")
    _modebar_button(page, "overview_trend", "View fullscreen").click()
    box = page.locator(".st-key-overview_trend .critac-expanded")
    expect(box).to_have_css("position", "fixed")
    _wait_height(page, "overview_trend", page.evaluate("window.innerHeight") - 32)  # 1rem padding
    page.keyboard.press("Escape")
    expect(box).to_have_count(0)
    _wait_height(page, "overview_trend", height)


def test_a_clickable_chart_shows_a_pointer_and_another_does_not(app):
    page = app(FY2024)
    cursor = "(key) => getComputedStyle(document.querySelector(`.st-key-${key} .nsewdrag`)).cursor"
    assert page.evaluate(cursor, "overview_topics") == "pointer"
    assert page.evaluate(cursor, "overview_cumulative") != "pointer"


def test_a_chart_comes_back_after_view_as_table(app):
    page = app(FY2024)
    toggle = page.locator(".st-key-overview_topics_as_table")
    toggle.get_by_text("View as table").click()
    expect(page.locator(".st-key-overview_topics")).to_have_count(0, timeout=RERUN_MS)
    wait_idle(page)
    toggle.get_by_text("View as table").click()
    expect(chart(page, "overview_topics").locator(".main-svg").first).to_be_visible(
        timeout=RERUN_MS
    )
    wait_idle(page)


def test_every_chart_is_an_image_named_by_its_takeaway(app):
    page = app(FY2024)
    named = page.locator(CHART).evaluate_all(
        """(gds) => gds.map((gd) => [gd.getAttribute('role'), gd.getAttribute('aria-label'),
                                     gd.layout.title.text.replace(/<[^>]+>/g, ' ')])"""
    )
    assert len(named) >= len(KEYS)
    for role, label, title in named:
        assert role == "figure"  # not "img", which would hide the modebar's buttons
        # the takeaway: the title in plain text, then what the chart shows
        assert " ".join(label.split()).startswith(" ".join(title.split()) + ": "), (label, title)


def test_a_chart_follows_its_columns_width_when_the_sidebar_closes(app):
    page = app(FY2024)
    trend = chart(page, "overview_trend")
    width = trend.bounding_box()["width"]
    page.get_by_test_id("stSidebar").hover()  # the button shows on hover
    page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    page.wait_for_function(
        """(w) => {
             const gd = document.querySelector('.st-key-overview_trend .critac-chart');
             const svg = gd.querySelector('.main-svg');
             return svg.getBoundingClientRect().width > w + 50
               && Math.abs(svg.getBoundingClientRect().width - gd.getBoundingClientRect().width) < 2;
           }""",
        arg=width,
    )


def test_under_a_base_url_path_charts_draw(page, demo_db, browser_home, tmp_path):
    log = tmp_path / "server.log"
    with running_app(demo_db, browser_home, log, base="impact") as (_, url):
        page.goto(url + FY2024)
        expect(page.locator(PLOTLY_SVG).first).to_be_visible(timeout=RERUN_MS * 2)
        wait_idle(page)
        assert page.locator(CHART).count() == page.locator(f"{CHART}.js-plotly-plot").count()
        assert page.evaluate("window.__critacPlotly !== undefined && !!window.Plotly")


MARGIN_JS = """(key) => {
  const gd = document.querySelector(`.st-key-${key} .critac-chart`);
  const left = gd.getBoundingClientRect().left;
  const labels = [...gd.querySelectorAll('.yaxislayer-above .ytick text')];
  return {
    given: gd.layout.margin.l,
    used: gd._fullLayout._size.l,
    title: gd.querySelector('.g-ytitle text').getBoundingClientRect().left - left,
    labels: Math.min(...labels.map((t) => t.getBoundingClientRect().left)) - left,
    widest: labels.map((t) => t.textContent).sort((a, b) => b.length - a.length)[0],
  };
}"""


@pytest.mark.parametrize(
    "path", [FY2024 + "&agency_type=Tribal", FY2024, "/"], ids=["hundreds", "thousands", "all"]
)
def test_a_count_axis_fits_its_labels_in_the_margin_it_is_given(app, path):
    """Plotly's automargin draws a chart a second time when its labels need more margin than the
    figure gives; a count axis is given enough (charts.layout.count_margin), with little to spare:
    the axis title stays in view near the chart's left edge."""
    page = app(path)
    for key in ("overview_trend", "overview_cumulative"):
        m = page.evaluate(MARGIN_JS, key)
        assert m["used"] == m["given"], m  # plotly kept it: drawn once
        assert 0 <= m["title"] <= 16, m
        assert m["labels"] > m["title"], m
