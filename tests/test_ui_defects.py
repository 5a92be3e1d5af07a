"""Issue 14's defects, driven in headless Chromium: heatmap clicks, Back, the Data page's tiles,
topic search, empty states, labels, the presenter's page, the modebar and the 390 px layout.

Uses the browser fixtures of tests/conftest.py (one server for the session; the same skip rules
without chromium as tests/test_browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from critac_metrics import registry
from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from .browser_support import (
    RERUN_MS,
    chart,
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
    screenshot_folder,
    wait_idle,
)

expect = playwright_expect()

# The fixtures (one server for the session, ``app``) are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

SCREENSHOTS = screenshot_folder()
ENGAGEMENTS = registry.label("engagements")


# -- 1. a heatmap cell cross-filters on its topic and agency type ----------------------------------


def test_clicking_a_heatmap_cell_filters_on_its_topic_and_agency_type(app):
    page = app("/topics")
    cells = chart(page, "topics_heatmap").locator(".scatterlayer .point")
    expect(cells.first).to_be_attached(timeout=RERUN_MS)
    counts = page.evaluate(
        """() => document.querySelector('.st-key-topics_heatmap .js-plotly-plot')
                   .data[1].customdata.map(c => c[2])"""
    )
    index = max(range(len(counts)), key=counts.__getitem__)  # the busiest cell
    cell = page.evaluate(
        """(i) => document.querySelector('.st-key-topics_heatmap .js-plotly-plot')
                   .data[1].customdata[i]""",
        index,
    )
    click_centre(page, cells.nth(index))
    expect(page).to_have_url(re.compile(r"[?&]agency_type="), timeout=RERUN_MS)
    assert sorted(query_pairs(page.url)) == sorted(
        [("topic", cell[0]), ("agency_type", cell[1])]
    ), page.url
    wanted = Filters(topics=(cell[0],), agency_types=(cell[1],)).describe()
    expect(filter_caption(page)).to_have_text(wanted, timeout=RERUN_MS)
    wait_idle(page)
    no_exception(page)


# -- 4. Back undoes a cross-filter ----------------------------------------------------------------


def test_back_undoes_a_cross_filter_and_forward_redoes_it(app, demo_db):
    page = app("/")
    before = read_kpis(page)
    states = page.evaluate(
        """() => document.querySelector('.st-key-overview_map .js-plotly-plot')
                   .data[0].customdata.map(c => c[0])"""
    )
    index = states.index("CA")
    assert point_customdata(page, "overview_map", index) == "CA"
    click_centre(page, chart(page, "overview_map").locator(".scatterlayer .point").nth(index))
    expect(page).to_have_url(re.compile(r"[?&]state=CA(&|$)"), timeout=RERUN_MS)
    filtered = expected_kpis(demo_db, (("state", "CA"),))
    expect(metric_value(page, ENGAGEMENTS)).to_have_text(filtered[ENGAGEMENTS], timeout=RERUN_MS)
    wait_idle(page)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"state=CA"), timeout=RERUN_MS)
    expect(metric_value(page, ENGAGEMENTS)).to_have_text(before[ENGAGEMENTS], timeout=RERUN_MS)
    expect(filter_caption(page)).to_have_text(Filters().describe(), timeout=RERUN_MS)
    wait_idle(page)
    assert "state=CA" not in page.url  # not written back after the rerun
    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]state=CA(&|$)"), timeout=RERUN_MS)
    expect(metric_value(page, ENGAGEMENTS)).to_have_text(filtered[ENGAGEMENTS], timeout=RERUN_MS)
    no_exception(page)


# -- 3. typing a topic's name selects that topic ----------------------------------------------------


def test_typing_a_topic_name_and_enter_selects_that_topic(app):
    page = app("/")
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Topics")
    box.locator("input").click()
    page.keyboard.type("De-escalation")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"[?&]topic=De-escalation(&|$)"), timeout=RERUN_MS)
    assert query_pairs(page.url) == (("topic", "De-escalation"),), page.url
    expect(filter_caption(page)).to_have_text(
        Filters(topics=("De-escalation",)).describe(), timeout=RERUN_MS
    )
    # The chip reads the topic's name, not "De-escalation · Use …".
    chips = box.get_by_role("group", name="Selected values").locator("[data-tag]")
    expect(chips).to_have_count(1)
    expect(chips).to_have_text("De-escalation")
    wait_idle(page)
    no_exception(page)


# -- 5. and 6. a phone-width screen; the modebar and the demo label --------------------------------

PHONE = {"width": 390, "height": 844}

_BOXES_JS = """(key) => {
  const root = document.querySelector(`.st-key-${key}`);
  const gd = root.querySelector('.js-plotly-plot');
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const annotation = (text) => [...gd.querySelectorAll('g.annotation')]
      .find((g) => g.textContent.includes(text));
  return {
    figure: box(gd),
    footer: box(annotation('Data as of')),
    demo: box(annotation('SYNTHETIC DEMO DATA')),
    xticks: [...gd.querySelectorAll('.xtick text')].map(box),
    yticks: [...gd.querySelectorAll('.ytick text')].map(box),
  };
}"""


def _inside(inner: dict, outer: dict, slack: float = 1) -> bool:
    return inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def test_a_phone_width_screen_keeps_footers_and_labels_whole(app):
    page = app("/")
    page.set_viewport_size(PHONE)
    wait_idle(page)
    for key in ("overview_trend", "overview_cumulative", "overview_topics", "overview_map"):
        chart(page, key).scroll_into_view_if_needed()
        boxes = page.evaluate(_BOXES_JS, key)
        # The footer ("Data as of …") is whole, inside the figure, and below every tick label.
        assert _inside(boxes["footer"], boxes["figure"]), (key, boxes["footer"], boxes["figure"])
        assert _inside(boxes["demo"], boxes["figure"]), (key, boxes["demo"])
        for tick in boxes["xticks"]:
            assert not _overlap(tick, boxes["footer"]), (key, tick, boxes["footer"])
        for tick in boxes["yticks"]:  # topic names are not cut at the figure's left edge
            assert _inside(tick, boxes["figure"]), (key, tick)
    # Wide charts keep a readable width and scroll sideways.
    assert page.evaluate(_BOXES_JS, "overview_map")["figure"]["right"] > PHONE["width"]
    no_exception(page)


def test_the_modebar_does_not_cover_the_demo_label(app):
    page = app("/")
    for key in ("overview_trend", "overview_topics"):
        target = chart(page, key)
        target.scroll_into_view_if_needed()
        target.hover()
        modebar = page.locator(f".st-key-{key} .modebar-container .modebar")
        expect(modebar).to_be_visible()
        bar = modebar.bounding_box()
        demo = page.evaluate(_BOXES_JS, key)["demo"]
        box = {"left": bar["x"], "right": bar["x"] + bar["width"], "top": bar["y"]}
        box["bottom"] = bar["y"] + bar["height"]
        assert not _overlap(box, demo), (key, box, demo)


# -- screenshots of every page at 1440 px and 390 px ------------------------------------------------

_PAGE_OVERFLOW_JS = """() => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  return main.scrollWidth - main.clientWidth;
}"""


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("spec", PAGES, ids=[Path(p.path).stem for p in PAGES])
def test_every_page_at_desktop_and_phone_width(app, spec, width):
    """docs/screenshots/<page>-<width>.png; at 390 px nothing but the wide charts' own scrolling
    boxes is wider than the screen."""
    has_charts = spec.path != "views/data.py"
    page = app(page_url(spec), charts=has_charts)
    page.set_viewport_size({"width": width, "height": 900})
    wait_idle(page)
    no_exception(page)
    assert page.evaluate(_PAGE_OVERFLOW_JS) <= 1, "the page scrolls sideways"
    full_screenshot(page, SCREENSHOTS / f"{Path(spec.path).stem}-{width}.png", width=width)
    no_exception(page)
