"""Where the browser's time goes in a filter change: Chrome's JavaScript profile, by script file.

    python benchmarks/browser_profile.py --db PATH [--rounds 5] [--interval-us 500] [--json OUT]

Serves ``app.py`` (as ``viewer.py`` does), opens the Overview for FY2024 in a new browser context,
then adds an agency type in the sidebar multiselect ``--rounds`` times (``add_agency_type``: timed
from Enter until every chart's data has changed and every chart has drawn). Each change runs under
Chrome's sampling profiler (CDP ``Profiler``), and a ``history.pushState`` probe counts the URL
updates. Prints a table of self time per filter change, by script file (Streamlit's Plotly chunk,
React, Streamlit's own bundle, ...) and by function, and the same as JSON with ``--json``.

The profiler adds its own cost (a filter change takes longer while it samples): read the table as
shares, and the wall times of ``viewer.py`` as the times. ``(program)`` is Chrome's native work
outside JavaScript (style, layout, paint); ``(idle)`` is the main thread waiting, e.g. for the
server's next message.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
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

NATIVE = {"(program)", "(idle)", "(garbage collector)", "(root)"}
HISTORY_PROBE = """(() => {
  window.__pushStates = 0;
  const push = history.pushState.bind(history);
  history.pushState = (...args) => { window.__pushStates += 1; return push(...args); };
})()"""


def _where(frame: dict[str, Any]) -> str:
    """A profile node's script file (its name without the folder), or Chrome's name for native
    work."""
    if frame["functionName"] in NATIVE:
        return frame["functionName"]
    return frame["url"].rsplit("/", 1)[-1] or f"(native: {frame['functionName'] or '?'})"


def self_times(profile: dict[str, Any]) -> tuple[collections.Counter, collections.Counter]:
    """Milliseconds of self time by script file and by (file, function) in one CDP profile."""
    nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    by_file: collections.Counter = collections.Counter()
    by_function: collections.Counter = collections.Counter()
    for node_id, delta_us in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node_id]
        where = _where(frame)
        by_file[where] += delta_us / 1000
        by_function[f"{where} {frame['functionName'] or '(anonymous)'}"] += delta_us / 1000
    return by_file, by_function


def run(db: Path, rounds: int, interval_us: int, root: Path = ROOT,
        timeout_ms: int = 180_000) -> dict[str, Any]:  # fmt: skip
    from playwright.sync_api import sync_playwright

    by_file: collections.Counter = collections.Counter()
    by_function: collections.Counter = collections.Counter()
    walls, push_states = [], []
    with chromium_home("critac-bench-jsprofile-") as home:
        log = home / "streamlit.log"
        server, url = start_app(db, home, log, root=root)
        try:
            wait_healthy(server, url, log, timeout=120)
            with sync_playwright() as p:
                browser = launch(p)
                context, page = new_page(browser)
                page.add_init_script(HISTORY_PROBE)
                page.goto(f"{url}/?start={FY2024[0]}&end={FY2024[1]}")
                wait_drawn(page, timeout_ms)
                page.wait_for_timeout(500)
                cdp = context.new_cdp_session(page)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": interval_us})
                for label in AGENCY_TYPES[:rounds]:
                    page.evaluate("window.__pushStates = 0")
                    cdp.send("Profiler.start")
                    walls.append(add_agency_type(page, label, "__allDrawn", timeout_ms))
                    files, functions = self_times(cdp.send("Profiler.stop")["profile"])
                    by_file.update(files)
                    by_function.update(functions)
                    push_states.append(page.evaluate("window.__pushStates"))
                browser.close()
        finally:
            stop(server)
    n = max(1, len(walls))
    return {
        "rounds": len(walls),
        "filter_change_median_s": median(walls),
        "push_states_per_change": push_states,
        "ms_per_change_by_file": {k: v / n for k, v in by_file.most_common()},
        "ms_per_change_by_function": {k: v / n for k, v in by_function.most_common(40)},
    }


def table(result: dict[str, Any], top: int = 14) -> str:
    by_file = result["ms_per_change_by_file"]
    script = sum(ms for where, ms in by_file.items() if where not in NATIVE)
    lines = [
        f"{result['rounds']} filter changes under the profiler, median "
        f"{1000 * result['filter_change_median_s']:.0f} ms; JavaScript {script:.0f} ms a change; "
        f"URL updates (pushState) per change: {result['push_states_per_change']}",
        "",
        "| where | ms per change | share of JavaScript |",
        "|---|---|---|",
    ]
    for where, ms in list(by_file.items())[:top]:
        share = "" if where in NATIVE else f"{100 * ms / script:.0f}%"
        lines.append(f"| {where} | {ms:.1f} | {share} |")
    lines += ["", "| function (file, name) | ms per change |", "|---|---|"]
    lines += [
        f"| {name} | {ms:.1f} |"
        for name, ms in list(result["ms_per_change_by_function"].items())[:top]
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interval-us", type=int, default=500, help="the profiler's sampling")
    parser.add_argument("--app-root", type=Path, default=ROOT)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.db, min(args.rounds, len(AGENCY_TYPES)), args.interval_us,
                 args.app_root.resolve())  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(table(result))


if __name__ == "__main__":
    main()
