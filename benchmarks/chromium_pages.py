"""What the Chromium benchmarks (``browser.py``, ``viewer.py``) share: the page's selectors, the
script they add to every page, a HOME of their own for Chromium, and launching it.

The script defines, in the page:

- ``__chartPrints()``: a fingerprint of every Plotly chart's data (a filter change is drawn when
  every fingerprint differs from before);
- ``__settled()``: the run has finished (no status widget) and nothing is stale;
- ``__allDrawn()``: settled, and every Plotly chart on the page has drawn its SVG;
- ``__titled()``: settled, and the page has a heading (a page with no chart is drawn);
- ``__title()``: the page's heading.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.browser_support import CHROMIUM_ARGS, chromium_path  # noqa: E402

AGENCY_TYPES = ["Tribal", "Campus", "County", "State", "Sheriff", "Other", "Territorial"]
KPI = "[data-testid=stMetricValue]"
# A chart's div once plotly.js has drawn in it: the dashboard's component (dashboard/plotly_chart.js),
# or st.plotly_chart's in a revision from before it (``run.py --baseline``).
CHART = ".critac-chart, [data-testid=stPlotlyChart]"
PLOTLY = ".critac-chart.js-plotly-plot, [data-testid=stPlotlyChart] .js-plotly-plot"

PAGE_JS = """
() => {
  const hash = (s) => { let h = 0; for (let i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) | 0; } return h; };
  window.__chartPrints = () => Array.from(document.querySelectorAll('PLOTLY')).map((gd) => {
    try { return hash(JSON.stringify((gd.data || []).map((t) => [t.x, t.y, t.z, t.text]))); }
    catch (e) { return null; }
  });
  window.__settled = () => !document.querySelector('[data-testid=stStatusWidget]')
      && !document.querySelector('[data-stale=true]');
  window.__allDrawn = () => {
    const plots = document.querySelectorAll('CHART');
    const drawn = Array.from(document.querySelectorAll('PLOTLY')).filter((gd) => gd.querySelector('.main-svg'));
    return plots.length > 0 && drawn.length >= plots.length && window.__settled();
  };
  window.__titled = () => window.__title() !== '' && window.__settled();
  window.__title = () => { const h = document.querySelector('[data-testid=stMain] h1'); return h ? h.innerText : ''; };
}
""".replace("PLOTLY", PLOTLY).replace("CHART", CHART)


@contextmanager
def chromium_home(prefix: str) -> Iterator[Path]:
    """A temporary folder set as HOME for the block (Chromium as root writes ~/.config/chromium);
    the server started in it gets the same HOME."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        old_home = os.environ.get("HOME")
        os.environ["HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = old_home


def launch(playwright: Any) -> Any:
    """Headless Chromium (CHROMIUM_PATH, else Debian's) with the tests' arguments."""
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
    )


def new_page(browser: Any) -> tuple[Any, Any]:
    """A new browser context (no HTTP cache, no cookies) and a page in it with ``PAGE_JS``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.add_init_script(f"({PAGE_JS})()")
    return context, page


def wait_drawn(page: Any, timeout_ms: int, drawn: str = "__allDrawn") -> None:
    """Wait until ``drawn`` (a page function of ``PAGE_JS``) holds."""
    page.wait_for_function(f"() => window.{drawn} && window.{drawn}()", timeout=timeout_ms,
                           polling="raf")  # fmt: skip


def add_agency_type(
    page: Any, label: str, drawn: str, timeout_ms: int, kpi_times: list[float] | None = None
) -> float:
    """Type ``label`` into the sidebar's "Agency types" multiselect and press Enter; return the
    seconds from Enter until every chart's data differs from before and ``drawn`` (the name of a
    page function: ``__settled`` or ``__allDrawn``) holds. With ``kpi_times``, the seconds until
    the first KPI value changed are appended to it. The dropdown is closed afterwards."""
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Agency types")
    before_kpi = page.locator(KPI).first.inner_text() if kpi_times is not None else None
    before = page.evaluate("window.__chartPrints()")
    box.locator("input").click()
    page.keyboard.type(label)
    t0 = time.perf_counter()
    page.keyboard.press("Enter")
    if kpi_times is not None:
        page.wait_for_function(
            "(old) => { const el = document.querySelector('KPI');"
            " return el && el.innerText !== old; }".replace("KPI", KPI),
            arg=before_kpi,
            timeout=timeout_ms,
            polling="raf",
        )
        kpi_times.append(time.perf_counter() - t0)
    page.wait_for_function(
        """(old) => { const now = window.__chartPrints();
            return now.length === old.length && now.every((h, i) => h !== old[i])
                && window.DRAWN(); }""".replace("DRAWN", drawn),
        arg=before,
        timeout=timeout_ms,
        polling="raf",
    )
    seconds = time.perf_counter() - t0
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    return seconds
