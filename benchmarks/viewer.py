"""The speed a viewer feels, in headless Chromium against a real ``streamlit run`` server (issue 15).

    python benchmarks/viewer.py --db PATH [--rounds 5] [--app-root DIR]

Every step is clocked from the user's action until every Plotly chart on the page is drawn, nothing
is stale and the status widget has gone ("all charts drawn"). Chromium is launched, and has drawn
one unrelated page, before the server starts, so its own start-up is never counted.

- **first page after a server restart**: the server is started against an existing database; clocks
  from the server process's start and from the first ``goto`` once it answers /_stcore/health;
- **shared link in a new session**: a new browser context (no HTTP cache, no cookies: a colleague
  opening the link) ``goto`` a link with filters nobody has asked for yet (a cache miss);
  *same tab* = the old measurement, ``goto`` in the tab that already has the page (HTTP cache warm);
- **the same over a slower network**: a new context with Chrome's network throttling at 20 Mbit/s
  down, 10 up and 40 ms latency (HTTP only; the websocket is not slowed), and the bytes received;
- **filter change**: type an agency type into the sidebar multiselect and press Enter (each round a
  new selection); the clock stops when every chart's data differs from before;
- **page switch**: click the next page in the sidebar (Topics, Agencies, Outcomes, Pipeline) after a
  link with a new state, so each switch is a first visit with those filters;
- **Report page**: press "Build the report" (every section) until the deck's download button is
  there: the first press (renderer started when the page opened), two more with the same filters,
  then one after opening the page with other filters (new figures and images);
- **browser time per chart**: Chrome's ``Performance.getMetrics`` (ScriptDuration, LayoutDuration,
  RecalcStyleDuration) summed over the filter-change rounds, divided by the charts redrawn.

``--app-root`` serves another copy of the project (e.g. the code before a change, exported with
``git archive``) so ``run.py --baseline`` can measure before and after in one run. Prints JSON.
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
    PLOTLY,
    add_agency_type,
    chromium_home,
    launch,
    new_page,
    wait_drawn,
)
from common import FY2024, ROOT, median  # noqa: E402

from tests.browser_support import start_app, stop, wait_healthy  # noqa: E402

LINK_STATES = ["CA", "NY", "FL", "PA", "OH", "IL", "GA", "NC", "MI", "WA", "AZ", "MA"]
SWITCH_STATES = ["VA", "NJ", "TN", "IN", "MO", "MD", "WI", "CO"]
SWITCH_PAGES = ["Topics", "Agencies & reach", "Outcomes", "Pipeline"]
SLOW_LINK_STATES = ["OR", "KY", "LA", "SC", "AL", "MN", "CT", "UT"]
# A colleague's line, in Chrome's own throttling (HTTP only: the websocket is not slowed).
SLOW_NETWORK = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8,
                "uploadThroughput": 10e6 / 8}  # fmt: skip


def _count_finished_runs(page) -> list[int]:
    """A counter of the page's script runs that have finished (``ForwardMsg.script_finished`` on
    its websocket): a run too short to show the status widget is seen too. Register before
    ``goto``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished = [0]

    def on_frame(payload) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            finished[0] += message.WhichOneof("type") == "script_finished"

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return finished


def on_slow_line(context, page) -> list[int]:
    """Put ``page`` on ``SLOW_NETWORK``; the list returned fills with the bytes of each HTTP
    response it receives (``encodedDataLength``: as sent, compressed or not)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda event: sizes.append(event["encodedDataLength"]))
    return sizes


def browser_warmed(browser) -> None:
    """Draw one unrelated page (text and an SVG) in a throwaway context: a viewer's browser has
    drawn pages before, so the first page after a server restart should not pay Chromium's own
    first navigation (its renderer and GPU process, fonts), which is not the server's."""
    context, page = new_page(browser)
    page.goto(
        "data:text/html,<h1>warm</h1><svg width=40 height=40><rect width=20 height=20/></svg>"
    )
    page.wait_for_selector("h1")
    context.close()


def _perf(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def run(db: Path, rounds: int, root: Path = ROOT, report: bool = True,
        timeout_ms: int = 180_000) -> dict:  # fmt: skip
    from playwright.sync_api import sync_playwright

    out: dict = {"rounds": rounds, "root": str(root)}
    base_query = f"start={FY2024[0]}&end={FY2024[1]}"
    with chromium_home("critac-bench-viewer-") as home:
        server = None
        try:
            with sync_playwright() as p:
                browser = launch(p)
                browser_warmed(browser)
                # -- first page after a server restart
                log = home / "streamlit.log"
                started = time.perf_counter()
                server, url = start_app(db, home, log, root=root)
                wait_healthy(server, url, log, timeout=120)
                out["server_healthy_s"] = time.perf_counter() - started
                context, page = new_page(browser)
                t0 = time.perf_counter()
                page.goto(f"{url}/?{base_query}")
                wait_drawn(page, timeout_ms)
                out["restart_first_page_s"] = time.perf_counter() - t0
                out["restart_first_page_from_process_s"] = time.perf_counter() - started
                out["charts_on_overview"] = page.locator(PLOTLY).count()

                # -- filter change (sidebar multiselect), with Chrome's own timings
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                perf_before = _perf(cdp)
                change = [
                    add_agency_type(page, label, "__allDrawn", timeout_ms)
                    for label in AGENCY_TYPES[:rounds]
                ]
                perf_after = _perf(cdp)
                redrawn = max(1, out["charts_on_overview"] * len(change))
                out["filter_change_s"] = change
                out["browser_ms_per_chart"] = {
                    key: 1000 * (perf_after.get(key, 0) - perf_before.get(key, 0)) / redrawn
                    for key in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration",
                                "TaskDuration")
                }  # fmt: skip

                # -- the same link in the same tab (HTTP cache warm): the old measurement
                same_tab = []
                for state in LINK_STATES[:rounds]:
                    t0 = time.perf_counter()
                    page.goto(f"{url}/?{base_query}&state={state}")
                    wait_drawn(page, timeout_ms)
                    same_tab.append(time.perf_counter() - t0)
                out["link_same_tab_s"] = same_tab
                context.close()

                # -- a shared link opened by someone else: a new context each time
                shared = []
                for state in LINK_STATES[rounds : 2 * rounds]:
                    context, page = new_page(browser)
                    t0 = time.perf_counter()
                    page.goto(f"{url}/?{base_query}&state={state}")
                    wait_drawn(page, timeout_ms)
                    shared.append(time.perf_counter() - t0)
                    context.close()
                out["link_new_session_s"] = shared

                # -- the same over a 20 Mbit/s line with 40 ms latency: time and bytes received
                slow, received = [], []
                for state in SLOW_LINK_STATES[:rounds]:
                    context, page = new_page(browser)
                    sizes = on_slow_line(context, page)
                    t0 = time.perf_counter()
                    page.goto(f"{url}/?{base_query}&state={state}")
                    wait_drawn(page, timeout_ms)
                    slow.append(time.perf_counter() - t0)
                    received.append(sum(sizes))
                    context.close()
                out["link_slow_network_s"] = slow
                out["link_slow_network_bytes"] = received

                # -- page switches (each a first visit with that round's filters)
                switches: dict[str, list[float]] = {name: [] for name in SWITCH_PAGES}
                context, page = new_page(browser)
                for state in SWITCH_STATES[: max(1, min(rounds, len(SWITCH_STATES)))]:
                    page.goto(f"{url}/?{base_query}&state={state}")
                    wait_drawn(page, timeout_ms)
                    for name in SWITCH_PAGES:
                        title = page.evaluate("window.__title()")
                        link = page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True)
                        t0 = time.perf_counter()
                        link.click()
                        page.wait_for_function(
                            "(old) => window.__title() !== old && window.__allDrawn()",
                            arg=title,
                            timeout=timeout_ms,
                            polling="raf",
                        )
                        switches[name].append(time.perf_counter() - t0)
                    nav = page.get_by_test_id("stSidebarNav").get_by_text("Overview", exact=True)
                    nav.click()
                    page.wait_for_timeout(200)
                    wait_drawn(page, timeout_ms)
                out["page_switch_s"] = switches

                # -- the Report page's deck
                if report:
                    builds = []
                    finished = _count_finished_runs(page)
                    for k in range(4):
                        if k in (0, 3):  # the last press: other filters (new figures, images)
                            state = "" if k == 0 else "&state=TX"
                            page.goto(f"{url}/report?{base_query}{state}")
                            wait_drawn(page, timeout_ms)
                        button = page.get_by_role("button", name="Build the report")
                        runs = finished[0]
                        t0 = time.perf_counter()
                        button.click()
                        # The press's run has finished (its script_finished arrived; a short run
                        # shows no status widget), then the deck's download button is there.
                        while finished[0] == runs and time.perf_counter() - t0 < timeout_ms / 1e3:
                            page.wait_for_timeout(5)
                        page.wait_for_function(
                            """() => window.__settled() && [...document.querySelectorAll(
                                   '[data-testid=stDownloadButton] button')].some(
                                   (b) => b.innerText.includes('PowerPoint'))""",
                            timeout=timeout_ms,
                            polling="raf",
                        )
                        builds.append(time.perf_counter() - t0)
                    out["deck_build_s"] = builds
                context.close()
                browser.close()
        finally:
            if server is not None:
                stop(server)
    out["medians"] = {
        "restart_first_page_s": out.get("restart_first_page_s"),
        "filter_change_s": median(out.get("filter_change_s", [])),
        "link_same_tab_s": median(out.get("link_same_tab_s", [])),
        "link_new_session_s": median(out.get("link_new_session_s", [])),
        "link_slow_network_s": median(out.get("link_slow_network_s", [])),
        "link_slow_network_bytes": median(out.get("link_slow_network_bytes", [])),
        "page_switch_s": median([t for v in out.get("page_switch_s", {}).values() for t in v]),
        "deck_first_s": (out.get("deck_build_s") or [None])[0],
        "deck_later_s": median((out.get("deck_build_s") or [])[1:3]),
        "deck_other_filters_s": (out.get("deck_build_s") or [None] * 4)[3],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--app-root", type=Path, default=ROOT)
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.rounds, args.app_root.resolve(), not args.skip_report)))


if __name__ == "__main__":
    main()
