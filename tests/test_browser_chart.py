"""The dashboard's chart component in headless Chromium (dashboard/plotly_chart.js): a filter change
redraws each chart in the div it already had, plotly.js comes once from the app's own route (never
Streamlit's full Plotly bundle), the modebar offers the PNG and full screen only, each chart is an
image named by its takeaway, and a chart follows its column's width."""

from __future__ import annotations

import re

import pytest

from .browser_support import CHART, PLOTLY_SVG, RERUN_MS, chart, playwright_expect, wait_idle

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
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Agency types")
    box.locator("input").click()
    page.keyboard.type("Tribal")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function(
        """([keys, old]) => keys.every((key, i) => {
             const gd = document.querySelector(`.st-key-${key} .critac-chart`);
             return gd && JSON.stringify(gd.data.map((t) => [t.x, t.y, t.z, t.text])) !== old[i].data;
           })""",
        arg=[list(KEYS), before],
        timeout=RERUN_MS,
    )
    wait_idle(page)
    after = page.evaluate(STATE_JS, list(KEYS))
    assert [a["mark"] for a in after] == list(range(len(KEYS)))  # the same divs, redrawn
    assert all(a["data"] != b["data"] for a, b in zip(after, before, strict=True))


def test_plotly_js_comes_once_from_the_app_gzipped_and_streamlits_bundle_never(page, app_url):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(app_url + FY2024)
    expect(page.locator(PLOTLY_SVG).first).to_be_visible(timeout=RERUN_MS)
    wait_idle(page)
    ours = [r for r in responses if re.search(r"/critac/plotly-[0-9a-f]{12}\.min\.js$", r.url)]
    assert len(ours) == 1, [r.url for r in ours]
    headers = ours[0].all_headers()
    assert ours[0].status == 200 and headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]
    assert not [r.url for r in responses if "PlotlyChart" in r.url]
    assert page.locator(CHART).count() >= len(KEYS)


def test_the_modebar_offers_the_png_and_full_screen_and_full_screen_fills_it(app):
    page = app(FY2024)
    topics = chart(page, "overview_topics")
    topics.scroll_into_view_if_needed()
    topics.hover()
    buttons = page.locator(".st-key-overview_topics .modebar-btn")
    assert buttons.evaluate_all("(bs) => bs.map((b) => b.dataset.title)") == [
        "Download plot as a PNG",
        "View fullscreen",
    ]  # plotly.js 4's "Share chart..." would upload the figure to Plotly Cloud
    height = topics.bounding_box()["height"]
    page.locator('.st-key-overview_topics .modebar-btn[data-title="View fullscreen"]').click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    screen = page.evaluate("window.innerHeight")
    page.wait_for_function(
        "(h) => Math.abs(document.querySelector('.st-key-overview_topics .critac-chart')"
        ".getBoundingClientRect().height - h) < 2",
        arg=screen,
    )
    page.evaluate("document.exitFullscreen()")
    page.wait_for_function(
        "(h) => !document.fullscreenElement && Math.abs(document.querySelector("
        "'.st-key-overview_topics .critac-chart').getBoundingClientRect().height - h) < 2",
        arg=height,
    )


def test_every_chart_is_an_image_named_by_its_takeaway(app):
    page = app(FY2024)
    named = page.locator(CHART).evaluate_all(
        """(gds) => gds.map((gd) => [gd.getAttribute('role'), gd.getAttribute('aria-label'),
                                     gd.layout.title.text.replace(/<[^>]+>/g, ' ')])"""
    )
    assert len(named) >= len(KEYS)
    for role, label, title in named:
        assert role == "img"
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
