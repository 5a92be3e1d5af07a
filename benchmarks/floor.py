"""The floor under a page load: the same two steps as ``viewer.py`` on a Streamlit page that does
(almost) nothing, next to the dashboard's Overview, in one run (issue 15).

    python benchmarks/floor.py --db PATH [--rounds 5]

Three apps, each served like ``viewer.py``'s server (``start_app``: the project's
``.streamlit/config.toml``, the same flags):

- ``title``: ``benchmarks/floor_app.py``, an ``st.title`` only (drawn: the heading is there, the run
  has finished);
- ``chart``: the same page with one small chart, drawn as the dashboard draws its charts
  (``dashboard.plotly_chart``; ``?chart=1``; drawn: its SVG);
- ``overview``: ``app.py``'s Overview, FY2024 and a state nobody asked for yet (all charts drawn);
- ``charts`` (third step only): ``floor_app.py?charts=overview``, the Overview's four figures and an
  "Agency types" multiselect, each selection's figures built before the timed rounds.

Two steps, each round visiting every app in turn (the order rotates each round):

- ``new_context``: a shared link opened in a new browser context (no HTTP cache) against a server
  that has served one untimed visit;
- ``restart``: a new server process; the first ``goto`` once it answers /_stcore/health (also timed
  from the process's start);
- ``filter_change``: an agency type added in the sidebar multiselect, as ``viewer.py`` does, on the
  Overview (a selection nobody asked for: each round's link has another fiscal year) and on ``charts``
  (the same four charts redrawn as the dashboard draws them, nothing queried or built): the floor under the
  dashboard's filter change.

Every load also records where the browser's time went, in the page's own clock (ms from the
navigation's start): the HTML, the JavaScript (bytes, when the last bundle arrived), the
websocket's open, the server's first message, first delta and ``script_finished``, and when the
page was drawn; and Chrome's main-thread time (``Performance.getMetrics``). Prints JSON.
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
    add_agency_type,
    chromium_home,
    launch,
    new_page,
    wait_drawn,
)
from common import FY2024, median  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from viewer import LINK_STATES  # noqa: E402

from critac_metrics.filters import fiscal_year_bounds  # noqa: E402
from tests.browser_support import start_app, stop, wait_healthy  # noqa: E402

OVERVIEW_QUERY = f"start={FY2024[0]}&end={FY2024[1]}"
# name: (script, query, the page function that says it is drawn)
APPS = {
    "title": ("benchmarks/floor_app.py", "", "__titled"),
    "chart": ("benchmarks/floor_app.py", "chart=1", "__allDrawn"),
    "overview": ("app.py", OVERVIEW_QUERY, "__allDrawn"),
}
CHANGE_APPS = {
    "overview": APPS["overview"],
    "charts": ("benchmarks/floor_app.py", "charts=overview", "__allDrawn"),
}
CHANGES = AGENCY_TYPES[:4]  # added one after another; the first is untimed

# Times every message of Streamlit's websocket in the page's clock.
WS_JS = """
() => {
  const Native = window.WebSocket;
  window.__ws = { open: null, messages: [] };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes('_stcore/stream')) {
        this.addEventListener('open', () => { window.__ws.open = performance.now(); });
        this.addEventListener('message', () => { window.__ws.messages.push(performance.now()); });
      }
    }
  };
}
"""
TIMELINE_JS = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const js = performance.getEntriesByType('resource').filter((r) => r.name.split('?')[0].endsWith('.js'));
  return {
    drawn: performance.now(),
    html: nav.responseEnd,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    js_files: js.length,
    js_bytes: js.reduce((n, r) => n + r.encodedBodySize, 0),
    js_bytes_decoded: js.reduce((n, r) => n + r.decodedBodySize, 0),
    js_last_arrived: Math.max(0, ...js.map((r) => r.responseEnd)),
    js_largest: js.sort((a, b) => b.decodedBodySize - a.decodedBodySize).slice(0, 3).map((r) => ({
      name: r.name.split('/').pop(), bytes: r.encodedBodySize, start: r.startTime, end: r.responseEnd })),
    ws_open: window.__ws.open,
    ws_messages: window.__ws.messages,
  };
}
"""
CHROME_METRICS = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")


def _load(browser, url: str, drawn: str, timeout_ms: int) -> dict:
    """Open ``url`` in a new context until ``drawn``; seconds and where the browser's time went."""
    context, page = new_page(browser)
    page.add_init_script(f"({WS_JS})()")
    frames: list[bytes] = []

    def on_websocket(ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", lambda data: frames.append(data))

    page.on("websocket", on_websocket)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    t0 = time.perf_counter()
    page.goto(url)
    wait_drawn(page, timeout_ms, drawn)
    seconds = time.perf_counter() - t0
    timeline = page.evaluate(f"({TIMELINE_JS})()")
    chrome = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    context.close()
    # The page's messages and Playwright's frames are the same, in the same order.
    stamps = timeline.pop("ws_messages")
    for stamp, data in zip(stamps, frames, strict=False):
        if isinstance(data, str):
            continue
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        key = {"new_session": "ws_new_session", "delta": "ws_first_delta"}.get(kind or "")
        if key and key not in timeline:
            timeline[key] = stamp
        if kind == "script_finished":
            timeline["ws_script_finished"] = stamp
    timeline["chrome_ms"] = {k: 1000 * chrome.get(k, 0.0) for k in CHROME_METRICS}
    return {"s": seconds, "timeline": timeline}


def _serve(db: Path, home: Path, script: str, name: str):
    """A server of ``script`` that answers /_stcore/health: (process, base URL)."""
    log = home / f"{name}.log"
    process, url = start_app(db, home, log, script=script)
    try:
        wait_healthy(process, url, log, timeout=120)
    except BaseException:
        stop(process)
        raise
    return process, url


def _link(app: str, round_: int) -> str:
    _, query, _ = APPS[app]
    if app == "overview":
        query += f"&state={LINK_STATES[round_ % len(LINK_STATES)]}"
    return f"/?{query}" if query else "/"


def _filter_changes(browser, url: str, timeout_ms: int) -> list[float]:
    """Open ``url`` and add the agency types of ``CHANGES`` one after another: the seconds of each
    change after the first until every chart is redrawn."""
    context, page = new_page(browser)
    page.goto(url)
    wait_drawn(page, timeout_ms)
    seconds = [add_agency_type(page, label, "__allDrawn", timeout_ms) for label in CHANGES]
    context.close()
    return seconds[1:]


def filter_change_floor(browser, db: Path, home: Path, rounds: int, timeout_ms: int) -> dict:
    """The ``filter_change`` step: {app: [seconds, ...]}, the apps alternating round by round."""
    servers = {
        app: _serve(db, home, script, f"change-{app}")
        for app, (script, _, _) in CHANGE_APPS.items()
    }
    try:
        _filter_changes(browser, servers["charts"][1] + "/?charts=overview", timeout_ms)  # builds
        out: dict[str, list[float]] = {app: [] for app in CHANGE_APPS}
        for r in range(rounds):
            for app in list(CHANGE_APPS) if r % 2 == 0 else list(CHANGE_APPS)[::-1]:
                start, end = fiscal_year_bounds(2024 - r)  # a new selection every round
                link = f"/?start={start}&end={end}" if app == "overview" else "/?charts=overview"
                out[app] += _filter_changes(browser, servers[app][1] + link, timeout_ms)
        return out
    finally:
        for process, _ in servers.values():
            stop(process)


def run(db: Path, rounds: int, timeout_ms: int = 120_000) -> dict:
    from playwright.sync_api import sync_playwright

    loads: dict = {step: {app: [] for app in APPS} for step in ("new_context", "restart")}
    from_process: dict[str, list[float]] = {app: [] for app in APPS}
    loadavg = [Path("/proc/loadavg").read_text().split()[:3]]
    order = list(APPS)
    with chromium_home("critac-bench-floor-") as home, sync_playwright() as p:
        browser = launch(p)
        servers: dict = {}
        try:
            # -- a shared link in a new context, against warm servers
            for script in {s for s, _, _ in APPS.values()}:
                servers[script] = _serve(db, home, script, Path(script).stem)
            for app, (script, _, drawn) in APPS.items():  # one untimed visit each
                _load(browser, servers[script][1] + _link(app, -1), drawn, timeout_ms)
            for r in range(rounds):
                for app in order[r % 3 :] + order[: r % 3]:
                    script, _, drawn = APPS[app]
                    url = servers[script][1] + _link(app, r)
                    loads["new_context"][app].append(_load(browser, url, drawn, timeout_ms))
            for process, _ in servers.values():
                stop(process)
            servers.clear()
            loadavg.append(Path("/proc/loadavg").read_text().split()[:3])
            # -- a filter change, on the Overview and on its four charts alone
            changes = filter_change_floor(browser, db, home, rounds, timeout_ms)
            loadavg.append(Path("/proc/loadavg").read_text().split()[:3])
            # -- the first page after a server restart
            for r in range(rounds):
                for app in order[r % 3 :] + order[: r % 3]:
                    script, _, drawn = APPS[app]
                    started = time.perf_counter()
                    servers[app] = _serve(db, home, script, f"restart-{app}")
                    load = _load(browser, servers[app][1] + _link(app, r), drawn, timeout_ms)
                    from_process[app].append(time.perf_counter() - started)
                    loads["restart"][app].append(load)
                    stop(servers.pop(app)[0])
        finally:
            for process, _ in servers.values():
                stop(process)
            browser.close()
    loadavg.append(Path("/proc/loadavg").read_text().split()[:3])
    medians = {
        f"{step}_{app}_s": median([x["s"] for x in runs])
        for step, by_app in loads.items()
        for app, runs in by_app.items()
    }
    medians.update({f"restart_from_process_{app}_s": median(v) for app, v in from_process.items()})
    medians.update({f"filter_change_{app}_s": median(v) for app, v in changes.items()})
    return {
        "rounds": rounds,
        "loadavg": loadavg,  # start, after each of the three steps
        "medians": medians,
        "timeline_medians": {
            f"{step}_{app}": _median_timeline([x["timeline"] for x in runs])
            for step, by_app in loads.items()
            for app, runs in by_app.items()
        },
        "loads": loads,
        "restart_from_process_s": from_process,
        "filter_change_s": changes,
    }


def _median_timeline(timelines: list[dict]) -> dict:
    """The median of every number in the timelines (``js_largest`` from the first)."""
    out: dict = {}
    for key, value in timelines[0].items():
        if isinstance(value, int | float):
            out[key] = median([t[key] for t in timelines if t.get(key) is not None])
        elif key == "chrome_ms":
            out[key] = {k: median([t[key][k] for t in timelines]) for k in value}
        else:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.rounds)))


if __name__ == "__main__":
    main()
