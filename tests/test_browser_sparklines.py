"""The Overview's KPI tiles in headless Chromium: each tile's sparkline is our own inline SVG (one
point per period of the metric's sparkline series), and loading the page logs no Vega "Infinite
extent" warning (st.metric's own chart_data sparklines, a Vega chart per tile, logged it on every
load).

Shares the server and fixtures of tests/conftest.py (same skip rules without chromium).
"""

from __future__ import annotations

import math

import pytest

from critac_metrics import db, metrics, registry, sparkline
from critac_metrics.filters import Filters

from .browser_support import LOAD_MS, MAIN, PLOTLY_SVG, playwright_expect, wait_idle

expect = playwright_expect()

# chromium, app_url and the browser's launch arguments are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

_TILES_JS = """() => [...document.querySelectorAll('[class*="st-key-kpi-"]')].map((tile) => {
  const key = [...tile.classList].find((c) => c.startsWith('st-key-kpi-')).slice(11);
  const svg = tile.querySelector('svg[role=img]');
  const points = svg ? [...svg.querySelectorAll('polyline')]
      .map((p) => p.getAttribute('points').trim().split(/\\s+/).length)
      .reduce((a, b) => a + b, 0) + svg.querySelectorAll('line').length : 0;
  return {key, metric: !!tile.querySelector('[data-testid=stMetric]'), svg: !!svg, points,
          label: svg ? svg.getAttribute('aria-label') : null,
          stroke: svg && svg.firstElementChild.nextElementSibling
              ? svg.firstElementChild.nextElementSibling.getAttribute('stroke') : null,
          vega: tile.querySelectorAll('.vega-embed, canvas').length};
})"""


def _expected_points(demo_db) -> dict[str, int]:
    con = db.connect(demo_db)
    try:
        frame = metrics.kpis_with_comparison(con, Filters())
    finally:
        con.close()
    return {
        row.metric: sum(1 for v in row.sparkline if v is not None and math.isfinite(v))
        for row in frame.itertuples()
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_overview_tiles_draw_svg_sparklines_and_log_no_vega_warning(page, app_url, demo_db, scheme):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.emulate_media(color_scheme=scheme)
    page.goto(app_url + "/")
    expect(page.locator(f"{MAIN} [data-testid=stMetric]").first).to_be_visible(timeout=LOAD_MS)
    expect(page.locator(PLOTLY_SVG).first).to_be_visible(timeout=LOAD_MS)
    wait_idle(page, LOAD_MS)
    colour = sparkline.DARK_COLOUR if scheme == "dark" else sparkline.LIGHT_COLOUR
    # The theme reaches the script from its first rerun on: wait for the tiles to follow it.
    page.wait_for_function(
        """(colour) => [...document.querySelectorAll('svg.critac-sparkline polyline')]
                         .every((p) => p.getAttribute('stroke') === colour)""",
        arg=colour,
        timeout=LOAD_MS,
    )
    wait_idle(page)
    page.wait_for_timeout(1000)  # Vega logs its warnings after drawing
    infinite = [m for m in messages if "Infinite extent" in m]
    assert not infinite, infinite
    tiles = {tile["key"]: tile for tile in page.evaluate(_TILES_JS)}
    wanted = _expected_points(demo_db)
    assert set(tiles) == set(wanted), (sorted(tiles), sorted(wanted))
    # A tile whose series is empty (the survey rates on the demo data) had no sparkline before
    # either; the others each draw every point of their series.
    assert sum(1 for n in wanted.values() if n > 1) >= 3, wanted
    for key, tile in tiles.items():
        assert tile["metric"], key
        if wanted[key] == 0:
            assert not tile["svg"], tile
            continue
        assert tile["svg"], f"tile {key} has no sparkline"
        assert tile["points"] == wanted[key], (key, tile, wanted[key])
        assert tile["stroke"] == colour, tile
        assert tile["vega"] == 0, tile
        assert tile["label"].startswith(registry.METRICS[key].label + " per period, "), tile
        assert any(word in tile["label"] for word in (" up ", " down ", " unchanged ")), tile
    assert page.locator("[data-testid=stException]").count() == 0
