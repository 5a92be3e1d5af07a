"""Filter change to updated charts in headless Chromium, against a real ``streamlit run`` server.

The server runs ``app.py`` with CRITAC_DB on a free port (file watcher off: others edit the project
while this runs). Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright, with HOME set to a
temporary directory. Measured on the Overview page, starting from FY2024:

- cold load: ``goto`` until the first KPI value and every Plotly chart are drawn;
- multiselect: type an agency type into the sidebar's "Agency types" multiselect and press Enter
  (each round adds one more type, so every round is a new selection and a cache miss on the server);
  the clock stops when the first KPI value has changed, every Plotly chart's data differs from before
  the change, no element is stale and the status widget has gone;
- URL: ``goto`` a link with another state (a new session, new filters: a cache miss) until the first
  KPI and all charts are drawn and the run has finished.

    python benchmarks/browser.py --db PATH [--rounds 5]
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium_pages import (  # noqa: E402
    AGENCY_TYPES,
    CHART,
    KPI,
    PAGE_JS,
    PLOTLY,
    add_agency_type,
    chromium_home,
    launch,
)
from common import FY2024, median  # noqa: E402

from tests.browser_support import start_app, stop, wait_healthy  # noqa: E402

STATES = ["TX", "CA", "NY", "FL", "PA", "OH", "IL", "GA", "NC", "MI"]


def _wait_loaded(page, n_charts: int | None, timeout_ms: int) -> None:
    page.wait_for_selector(KPI, timeout=timeout_ms)
    page.wait_for_function(
        """(n) => (n === null || document.querySelectorAll('CHART').length >= n)
                  && window.__allDrawn && window.__allDrawn()""".replace("CHART", CHART),
        arg=n_charts,
        timeout=timeout_ms,
        polling="raf",
    )


def run(db: Path, rounds: int, timeout_ms: int = 120_000) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"rounds": rounds}
    with chromium_home("critac-bench-browser-") as home:
        log = home / "streamlit.log"
        started = time.perf_counter()
        server, url = start_app(db, home, log)
        try:
            wait_healthy(server, url, log, timeout=90)
            out["server_healthy_s"] = time.perf_counter() - started
            with sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(f"({PAGE_JS})()")
                base = f"{url}/?start={FY2024[0]}&end={FY2024[1]}"

                t0 = time.perf_counter()
                page.goto(base)
                page.wait_for_selector(KPI, timeout=timeout_ms)
                out["cold_first_kpi_s"] = time.perf_counter() - t0
                _wait_loaded(page, None, timeout_ms)
                out["cold_charts_s"] = time.perf_counter() - t0
                n_charts = page.locator(PLOTLY).count()
                out["charts_on_page"] = n_charts

                # Filter change through the Agency types multiselect.
                kpi_times: list[float] = []
                chart_times = [
                    add_agency_type(page, label, "__settled", timeout_ms, kpi_times)
                    for label in AGENCY_TYPES[:rounds]
                ]
                out["multiselect_kpi_s"] = kpi_times
                out["multiselect_charts_s"] = chart_times
                out["multiselect_kpi_median_s"] = median(kpi_times)
                out["multiselect_charts_median_s"] = median(chart_times)

                # Filter change through the URL (a new session with new filters).
                url_kpi, url_charts = [], []
                for state in STATES[:rounds]:
                    t0 = time.perf_counter()
                    page.goto(f"{base}&state={state}")
                    page.wait_for_selector(KPI, timeout=timeout_ms)
                    url_kpi.append(time.perf_counter() - t0)
                    _wait_loaded(page, n_charts, timeout_ms)
                    url_charts.append(time.perf_counter() - t0)
                out["url_kpi_s"] = url_kpi
                out["url_charts_s"] = url_charts
                out["url_kpi_median_s"] = median(url_kpi)
                out["url_charts_median_s"] = median(url_charts)
                browser.close()
        finally:
            stop(server)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.rounds)))


if __name__ == "__main__":
    main()
