"""The KPI tiles' arrows as a browser draws them: a drop shows the down arrow, a rise the up
arrow, no change none (st.metric once drew a drop written with U+2212 as a green up-arrow).

Runs the app on the small data set of tests/test_period_comparison.py. Needs Debian's chromium
(``CHROMIUM_PATH`` overrides /usr/bin/chromium); skips without it unless
``CRITAC_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from critac_metrics import registry

from . import reference as ref
from .browser_support import LOAD_MS, MAIN, playwright_expect, running_app
from .conftest import ingested
from .test_period_comparison import ROWS, _write

expect = playwright_expect()

# chromium and the browser's launch arguments are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


@pytest.fixture(scope="module")
def periods_url(chromium, tmp_path_factory):
    base = tmp_path_factory.mktemp("deltas")
    database = ingested(_write(base / "csv", ROWS), base / "periods.duckdb")
    with running_app(database, base, base / "server.log") as (_, url):
        yield url


def _tile(page, label: str):
    return page.locator(f"{MAIN} [data-testid=stMetric]").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )


def test_a_drop_shows_the_down_arrow_and_no_change_none(page, periods_url, tmp_path):
    """FY2025 against FY2024: engagements 3 vs 4 (down), within 180 days 33% vs 75% (down); FY2026
    to 31 Oct against FY2025 to 31 Oct: engagements 2 vs 2 (no arrow)."""
    page.goto(periods_url + "/?start=2024-10-01&end=2025-09-30")
    engagements = _tile(page, registry.label("engagements"))
    expect(engagements.get_by_test_id("stMetricValue")).to_have_text("3", timeout=LOAD_MS)
    expect(engagements.get_by_test_id("stMetricDeltaIcon-Down")).to_be_visible()
    expect(engagements.get_by_test_id("stMetricDeltaIcon-Up")).to_have_count(0)
    expect(engagements.get_by_test_id("stMetricDelta")).to_contain_text("-1")
    timely = _tile(page, "Completed within 180 days")
    expect(timely.get_by_test_id("stMetricDeltaIcon-Down")).to_be_visible()

    page.goto(periods_url + "/?start=2025-10-01&end=2026-09-30")
    engagements = _tile(page, registry.label("engagements"))
    expect(engagements.get_by_test_id("stMetricValue")).to_have_text("2", timeout=LOAD_MS)
    expect(engagements.get_by_test_id("stMetricDelta")).to_contain_text("no change")
    expect(engagements.get_by_test_id("stMetricDeltaIcon-Down")).to_have_count(0)
    expect(engagements.get_by_test_id("stMetricDeltaIcon-Up")).to_have_count(0)
    # Agencies served (by delivered engagements), as the independent reference has them.
    data = ref.load(_write(tmp_path / "reference", ROWS))
    sel = ref.Selection(start=dt.date(2025, 10, 1), end=dt.date(2026, 9, 30))
    want = ref.kpis_with_comparison(data, sel)["agencies_served"]
    agencies = _tile(page, registry.label("agencies_served"))
    expect(agencies.get_by_test_id("stMetricValue")).to_have_text(f"{int(want['value']):,}")
    arrow = {1: "Up", -1: "Down"}.get((want["change"] > 0) - (want["change"] < 0))
    for icon in ("Up", "Down"):
        expect(agencies.get_by_test_id(f"stMetricDeltaIcon-{icon}")).to_have_count(
            int(icon == arrow)
        )
