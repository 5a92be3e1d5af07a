"""Where a filter change's time goes, in the page's own clock: request, messages, the run's end,
the charts.

    python benchmarks/filter_timeline.py --db PATH [--rounds 5] [--switches N] [--app-root DIR]
                                         [--json OUT]

Serves ``app.py`` (as ``viewer.py`` does) and opens the Overview for FY2024 in a new browser
context. Two kinds of filter change, ``--rounds`` each:

- *new selection*: an agency type added in the sidebar (``add_agency_type``), so every metric and
  figure is computed for the first time;
- *computed before*: Back and Forward between two selections the server has already shown, so
  nothing is queried or built: what is left is Streamlit's run of the page, its messages, and the
  drawing. With ``--rounds 1`` these alternate between all agency types and one, so the charts'
  axis labels change width with every change (``--switches`` sets how many).

A script added to the page timestamps the websocket's frames (the rerun request sent, every
message received), the end of the run (no status widget and nothing stale, checked every frame)
and every ``Plotly.react`` of a chart (its start and end). Each change is read from the moment
of the key press (or ``history.back()``) until every chart's data has changed and every chart has
drawn. Prints the median of each phase per kind of change, and the median redraw per chart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium_pages import (  # noqa: E402
    AGENCY_TYPES,
    add_agency_type,
    chromium_home,
    launch,
    new_page,
    wait_drawn,
)
from common import FY2024, ROOT, median  # noqa: E402

from tests.browser_support import start_app, stop, wait_healthy  # noqa: E402

# Events: [kind, ms since the page's time origin, detail]; window.__t0 is the change's start.
TIMELINE_JS = """(() => {
  window.__timeline = [];
  const note = (kind, detail) => window.__timeline.push([kind, performance.now(), detail]);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__t0 = performance.now(); }, true);
  const Socket = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Socket(...args);
    const send = ws.send.bind(ws);
    ws.send = (data) => { note('request'); return send(data); };
    ws.addEventListener('message', () => note('message'));
    return ws;
  };
  window.WebSocket.prototype = Socket.prototype;
  Object.assign(window.WebSocket, Socket);
  let settled = null;
  const watch = () => {
    const now = Boolean(window.__settled && window.__settled());
    if (now !== settled) { settled = now; note(now ? 'settled' : 'running'); }
    requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
  let plotly;
  Object.defineProperty(window, 'Plotly', { configurable: true, get: () => plotly, set: (lib) => {
    plotly = lib;
    const react = lib.react;
    lib.react = function (gd, ...rest) {
      const box = gd.closest && gd.closest('[class*="st-key-"]');
      const key = box ? [...box.classList].find((c) => c.startsWith('st-key-')).slice(7) : '?';
      note('draw', key);
      return Promise.resolve(react.call(this, gd, ...rest)).then((out) => { note('drawn', key); return out; });
    };
  }});
})()"""

CHANGED = """(old) => { const now = window.__chartPrints();
  return now.length === old.length && now.every((h, i) => h !== old[i]) && window.__allDrawn(); }"""

PHASES = {
    "request": "the rerun request sent",
    "first_message": "the first message received",
    "last_message": "the last message received",
    "settled": "the run over on the page (no status widget, nothing stale)",
    "first_draw": "the first chart's redraw started",
    "all_drawn": "the last chart's redraw finished",
    "drawing": "the charts' redraws, added up",
}


def summarise(events: list[list[Any]], t0: float) -> dict[str, Any]:
    """One filter change's phases, in ms after ``t0``, from the page's events (see TIMELINE_JS)."""
    after = [(kind, t - t0, detail) for kind, t, detail in events if t >= t0]
    messages = [t for kind, t, _ in after if kind == "message"]
    last_message = messages[-1] if messages else None
    settled_at = None
    if last_message is not None:
        state = None  # the settled state at the last message, then the first settling after it
        for kind, t, _ in after:
            if kind in ("settled", "running") and t <= last_message:
                state = kind
            elif kind == "settled" and t > last_message and settled_at is None:
                settled_at = t
        if state == "settled":
            settled_at = last_message
    started: dict[str, float] = {}
    charts: dict[str, float] = {}
    for kind, t, key in after:
        if kind == "draw":
            started[key] = t
        elif kind == "drawn" and key in started:
            charts[key] = t - started.pop(key)
    draws = [t for kind, t, _ in after if kind == "draw"]
    drawn = [t for kind, t, _ in after if kind == "drawn"]
    first = next((t for kind, t, _ in after if kind == "request"), None)
    return {
        "request": first,
        "first_message": messages[0] if messages else None,
        "last_message": last_message,
        "settled": settled_at,
        "first_draw": draws[0] if draws else None,
        "all_drawn": drawn[-1] if drawn else None,
        "drawing": sum(charts.values()) if charts else None,
        "charts": charts,
    }


def _change(page: Any, act: str | None, label: str | None, timeout_ms: int) -> dict[str, Any]:
    page.evaluate("window.__timeline = []")
    if label is not None:  # the key press sets window.__t0
        wall = add_agency_type(page, label, "__allDrawn", timeout_ms)
    else:
        before = page.evaluate("window.__chartPrints()")
        started = time.perf_counter()
        page.evaluate(f"window.__t0 = performance.now(); {act}")
        page.wait_for_function(CHANGED, arg=before, timeout=timeout_ms, polling="raf")
        wall = time.perf_counter() - started
    out = summarise(page.evaluate("window.__timeline"), page.evaluate("window.__t0"))
    out["wall"] = 1000 * wall
    page.wait_for_timeout(400)
    return out


def run(db: Path, rounds: int, root: Path = ROOT, timeout_ms: int = 180_000,
        switches: int | None = None) -> dict[str, Any]:  # fmt: skip
    from playwright.sync_api import sync_playwright

    changes: dict[str, list[dict[str, Any]]] = {"new selection": [], "computed before": []}
    with chromium_home("critac-bench-timeline-") as home:
        log = home / "streamlit.log"
        server, url = start_app(db, home, log, root=root)
        try:
            wait_healthy(server, url, log, timeout=120)
            with sync_playwright() as p:
                browser = launch(p)
                context, page = new_page(browser)
                page.add_init_script(TIMELINE_JS)
                page.goto(f"{url}/?start={FY2024[0]}&end={FY2024[1]}")
                wait_drawn(page, timeout_ms)
                page.wait_for_timeout(500)
                for label in AGENCY_TYPES[:rounds]:
                    changes["new selection"].append(_change(page, None, label, timeout_ms))
                for k in range(rounds if switches is None else switches):
                    act = "history.back()" if k % 2 == 0 else "history.forward()"
                    changes["computed before"].append(_change(page, act, None, timeout_ms))
                browser.close()
        finally:
            stop(server)
    return {"rounds": rounds, "switches": len(changes["computed before"]), "changes": changes}


def table(result: dict[str, Any]) -> str:
    kinds = list(result["changes"])
    lines = [
        f"Overview, FY2024, {result['rounds']} new selections and {result['switches']} changes "
        "Back/Forward; medians in ms from the key press (or Back/Forward):",
        "",
        "| phase | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for phase, text in [*PHASES.items(), ("wall", "all drawn, as the benchmark reads it")]:
        cells = [median([c[phase] for c in result["changes"][k]]) for k in kinds]
        lines.append(f"| {text} | " + " | ".join(f"{v:.0f}" for v in cells) + " |")
    keys = sorted({key for k in kinds for c in result["changes"][k] for key in c["charts"]})
    lines += ["", "| chart's redraw (`Plotly.react`) | " + " | ".join(kinds) + " |"]
    lines.append("|---|" + "---|" * len(kinds))
    for key in keys:
        cells = [median([c["charts"].get(key) for c in result["changes"][k]]) for k in kinds]
        lines.append(f"| {key} | " + " | ".join(f"{v:.0f}" for v in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--switches",
        type=int,
        help="Back/Forward changes (default: --rounds); with --rounds 1 they alternate between "
        "all agency types and one, whose axes' labels differ in width",
    )
    parser.add_argument("--app-root", type=Path, default=ROOT)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    rounds = min(args.rounds, len(AGENCY_TYPES))
    result = run(args.db, rounds, args.app_root.resolve(), switches=args.switches)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(table(result))


if __name__ == "__main__":
    main()
