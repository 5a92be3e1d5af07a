"""Browser checks for issue 14's anchors: filter chips, charts' accessible names and the table
view (real Chromium; the fixtures are tests/conftest.py's)."""

from __future__ import annotations

import re

import pytest

from .browser_support import MAIN, RERUN_MS, playwright_expect, wait_idle

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


def test_chips_remove_one_filter_and_reset_all(app):
    page = app("/?agency_type=tribal&agency_type=campus&state=CA")
    chips = page.locator(f"{MAIN} .st-key-filter_chips [data-testid=stButton]")
    expect(chips).to_have_count(4, timeout=RERUN_MS)  # tribal, campus, CA, Reset all
    page.locator(
        f"{MAIN} .st-key-chip_agency_types_tribal [data-testid^=stBaseButton]"
    ).first.click()
    expect(page).to_have_url(re.compile(r"agency_type=campus"), timeout=RERUN_MS)
    wait_idle(page)
    assert "agency_type=tribal" not in page.url and "state=CA" in page.url
    expect(chips).to_have_count(3, timeout=RERUN_MS)
    page.locator(f"{MAIN} .st-key-chip_reset_all [data-testid^=stBaseButton]").first.click()
    expect(chips).to_have_count(0, timeout=RERUN_MS)
    assert "state=" not in page.url and "agency_type=" not in page.url


def test_charts_are_named_by_their_takeaway_and_open_as_tables(app):
    page = app("/")
    named = page.locator(f"{MAIN} [aria-label^='Engagements by topic: highest']")
    expect(named.first).to_be_attached(timeout=RERUN_MS)
    page.locator(f"{MAIN} .st-key-overview_topics_as_table label").click()
    wait_idle(page)
    expect(page.locator(f"{MAIN} .st-key-overview_topics_table")).to_be_visible(timeout=RERUN_MS)
    expect(named).to_have_count(0)


def test_a_table_row_filters_like_a_click(app):
    page = app("/")
    page.locator(f"{MAIN} .st-key-overview_topics_as_table label").click()
    wait_idle(page)
    grid = page.locator(f"{MAIN} .st-key-overview_topics_table [data-testid=stDataFrame]")
    expect(grid).to_be_visible(timeout=RERUN_MS)
    box = grid.bounding_box()
    assert box is not None
    # the first data row's selection box: under the 35 px header, in the 35 px row
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    expect(page).to_have_url(re.compile(r"topic=De-escalation"), timeout=RERUN_MS)
