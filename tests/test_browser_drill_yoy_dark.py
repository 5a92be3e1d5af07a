"""Issue 14's anchors-users features in headless Chromium: the year-over-year switch (kept in the
link), drilling into a fiscal year and into a topic group by a click, and dark mode that follows
the browser's setting (charts included), with screenshots of every page in the dark.

Uses the browser fixtures of tests/conftest.py (one server for the session; the same skip rules
without chromium as tests/test_browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from critac_metrics import charts, palette
from critac_metrics.filters import fiscal_year_bounds
from dashboard.pages import PAGES
from dashboard.show import YOY_LABEL

from .browser_support import (
    MAIN,
    RERUN_MS,
    chart,
    click_centre,
    full_screenshot,
    no_exception,
    page_url,
    playwright_expect,
    screenshot_folder,
    wait_idle,
)

expect = playwright_expect()

# The fixtures (one server for the session, ``app``) are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

SCREENSHOTS = screenshot_folder()


def _params(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def _trace_names(page, key: str) -> list[str]:
    return page.evaluate(
        """(key) => document.querySelector(`.st-key-${key} .js-plotly-plot`)
                     .data.map((t) => t.name)""",
        key,
    )


# -- year over year ----------------------------------------------------------------------------


def test_the_year_over_year_switch_overlays_the_year_before_and_stays_in_the_link(app):
    page = app("/")
    expect(page.locator(".st-key-overview_trend_yoy")).to_have_count(0)
    page.locator(MAIN).get_by_text(YOY_LABEL).first.click()
    expect(page).to_have_url(re.compile(r"[?&]_yoy=1(&|$)"), timeout=RERUN_MS)
    expect(chart(page, "overview_trend_yoy")).to_be_visible(timeout=RERUN_MS)
    wait_idle(page)
    names = _trace_names(page, "overview_trend_yoy")
    years = sorted(int(n[2:]) for n in names)
    assert len(names) == 2 and years[1] == years[0] + 1, names
    ticks = chart(page, "overview_trend_yoy").locator(".xtick text").all_text_contents()
    assert ticks[:3] == ["Oct", "Nov", "Dec"], ticks
    # A shared link reopens it, on the Topics page too (one switch for every trend chart).
    link = urlparse(page.url)._replace(path="/topics").geturl()
    page.goto(link)
    expect(chart(page, "topics_trend_yoy")).to_be_visible(timeout=RERUN_MS)
    wait_idle(page)
    assert any(n.endswith(f" · FY{years[0]}") for n in _trace_names(page, "topics_trend_yoy"))
    no_exception(page)


# -- drill-down ----------------------------------------------------------------------------------


def test_clicking_a_fiscal_year_opens_its_months_and_back_closes_it(app):
    page = app("/")
    bars = chart(page, "overview_trend").locator(".barlayer .point path")
    expect(bars.first).to_be_attached(timeout=RERUN_MS)
    labels = page.evaluate(
        "() => document.querySelector('.st-key-overview_trend .js-plotly-plot').data[0].x"
    )
    index = len(labels) - 2  # the last complete fiscal year
    year = int(labels[index][2:])
    click_centre(page, bars.nth(index))
    start, end = fiscal_year_bounds(year)
    expect(page).to_have_url(re.compile(rf"start={start}&end={end}"), timeout=RERUN_MS)
    wait_idle(page)
    months = page.evaluate(
        "() => document.querySelector('.st-key-overview_trend .js-plotly-plot').data[0].x"
    )
    assert months == [f"{start.year}-{m:02d}" for m in range(10, 13)] + [
        f"{end.year}-{m:02d}" for m in range(1, 10)
    ], months
    no_exception(page)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"start="), timeout=RERUN_MS)
    wait_idle(page)
    no_exception(page)


def test_clicking_a_topic_group_opens_its_topics(app, demo_db):
    from critac_metrics import db, store

    con = db.connect(demo_db)
    try:
        catalogue = store.topic_catalogue(con)
    finally:
        con.close()
    page = app("/topics")
    bars = chart(page, "topics_groups").locator(".barlayer .point path")
    expect(bars.first).to_be_attached(timeout=RERUN_MS)
    group = page.evaluate(
        """() => document.querySelector('.st-key-topics_groups .js-plotly-plot')
                   .data[0].customdata[0][0]"""
    )
    click_centre(page, bars.first)
    expect(page).to_have_url(re.compile(r"[?&]topic="), timeout=RERUN_MS)
    wait_idle(page)
    wanted = sorted(catalogue.loc[catalogue["topic_group"] == group, "topic"])
    assert sorted(_params(page)["topic"]) == wanted, (group, page.url)
    no_exception(page)


# -- dark mode -----------------------------------------------------------------------------------

_COLOURS_JS = """(key) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const app = document.querySelector('[data-testid=stApp]');
  return {page: getComputedStyle(app).backgroundColor, font: gd._fullLayout.font.color};
}"""


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_app_and_its_charts_follow_the_browser_setting(app, page, scheme):
    page.emulate_media(color_scheme=scheme)
    app("/")
    chart(page, "overview_trend").wait_for(timeout=RERUN_MS)
    # The theme is known to the script from the first rerun on; wait for the charts to follow.
    wanted = charts.DARK_TEXT if scheme == "dark" else charts.INK
    page.wait_for_function(
        """([key, wanted]) => {
             const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
             return gd && gd._fullLayout && gd._fullLayout.font.color === wanted;
           }""",
        arg=["overview_trend", wanted],
        timeout=RERUN_MS,
    )
    colours = page.evaluate(_COLOURS_JS, "overview_trend")
    assert (_luminance(colours["page"]) < 0.3) == (scheme == "dark"), colours
    no_exception(page)


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("spec", PAGES, ids=[Path(p.path).stem for p in PAGES])
def test_every_page_in_the_dark_at_desktop_and_phone_width(app, page, spec, width):
    """docs/screenshots/<page>-<width>-dark.png (written with CRITAC_WRITE_SCREENSHOTS=1)."""
    page.emulate_media(color_scheme="dark")
    has_charts = spec.path != "views/data.py"
    app(page_url(spec), charts=has_charts)
    page.set_viewport_size({"width": width, "height": 900})
    if has_charts:
        page.wait_for_function(
            """([wanted, paper]) => [...document.querySelectorAll('.js-plotly-plot')]
                 .every((gd) => gd._fullLayout && (gd._fullLayout.font.color === wanted
                                                   || gd.layout.paper_bgcolor === paper))""",
            arg=[charts.DARK_TEXT, palette.BACKGROUND],  # an export's preview keeps its paper
            timeout=RERUN_MS,
        )
    wait_idle(page)
    no_exception(page)
    full_screenshot(page, SCREENSHOTS / f"{Path(spec.path).stem}-{width}-dark.png", width=width)
