"""The sidebar's link to this view in headless Chromium: the box holds this view's URL, which
reopens the same filters; Copy puts it on the clipboard; and loading a page no longer fetches
Streamlit's syntax highlighter (1.5 MB, which st.code's copy icon needed).

Shares the server and fixtures of tests/conftest.py (same skip rules without chromium).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from critac_metrics.filters import Filters
from dashboard import share_link

from .browser_support import LOAD_MS, playwright_expect, wait_idle

expect = playwright_expect()

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

BOX = "[data-testid=stSidebar] .critac-share input"
QUERY = "start=2023-10-01&end=2024-09-30&agency_type=municipal&topic=De-escalation"


def _filters(url: str) -> Filters:
    filters, notices = Filters.from_query_params(parse_qs(urlsplit(url).query), ["De-escalation"])
    assert not notices, notices
    return filters


def test_the_link_box_reopens_this_view_and_copies(app, page, app_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url))
    app(f"/topics?{QUERY}")
    box = page.locator(BOX)
    expect(box).to_be_visible(timeout=LOAD_MS)
    link = box.input_value()
    wanted = _filters(f"?{QUERY}")
    assert link.startswith(app_url), link
    assert urlsplit(link).path.rstrip("/").endswith("topics"), link
    assert wanted.topics and wanted.agency_types and wanted.start  # a view worth sharing
    assert _filters(link) == wanted
    assert not any("SyntaxHighlighter" in url for url in scripts)

    page.get_by_role("button", name="Copy the link to this view").click()
    expect(page.locator("[data-testid=stSidebar] .critac-share button")).to_have_text(
        share_link.COPIED
    )
    assert page.evaluate("navigator.clipboard.readText()") == link

    # The copied link, opened afresh, shows the same view: the box gives the same link back.
    page.goto(link)
    expect(page.locator(BOX)).to_be_visible(timeout=LOAD_MS)
    wait_idle(page, LOAD_MS)
    assert _filters(page.locator(BOX).input_value()) == wanted


def test_the_link_is_escaped_into_the_box():
    markup = share_link.share_link_html('http://x/?a="><script>alert(1)</script>')
    assert "<script>alert(1)" not in markup
    assert 'value="http://x/?a=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in markup
