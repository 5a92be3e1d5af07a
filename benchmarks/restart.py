"""The first page after a server restart, on loopback and over a colleague's line, before and after
a change, in one run.

    python benchmarks/restart.py --db PATH [--rounds 5] [--baseline REV]

Each round restarts the server once per (code, network) pair, the order rotating each round: the
working tree and, with ``--baseline``, ``git archive REV`` (``viewer_table.export``). After
``/_stcore/health`` answers, a new browser context opens the Overview for FY2024 and a state not
asked for before, and the time until every chart is drawn is taken from the ``goto`` (and from the
process's start). ``slow`` runs the same over Chrome's throttled network (``viewer.SLOW_NETWORK``:
20 Mbit/s, 40 ms; HTTP only) and adds up the bytes received. Chromium draws one unrelated page
first (``viewer.browser_warmed``). Prints a table of medians, and JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium_pages import chromium_home, launch, new_page, wait_drawn  # noqa: E402
from common import FY2024, ROOT, median  # noqa: E402
from viewer import browser_warmed, on_slow_line  # noqa: E402
from viewer_table import export  # noqa: E402

from tests.browser_support import start_app, stop, wait_healthy  # noqa: E402

STATES = ["CA", "NY", "TX", "FL", "OH", "PA", "IL", "GA", "NC", "MI", "WA", "AZ", "MA", "VA"]


def first_page(browser, db: Path, home: Path, root: Path, state: str, slow: bool,
               timeout_ms: int) -> dict[str, float]:  # fmt: skip
    log = home / f"streamlit-{time.monotonic_ns()}.log"
    started = time.perf_counter()
    server, url = start_app(db, home, log, root=root)
    try:
        wait_healthy(server, url, log, timeout=120)
        context, page = new_page(browser)
        sizes = on_slow_line(context, page) if slow else []
        t0 = time.perf_counter()
        page.goto(f"{url}/?start={FY2024[0]}&end={FY2024[1]}&state={state}")
        wait_drawn(page, timeout_ms)
        done = time.perf_counter()
        context.close()
    finally:
        stop(server)
    return {"from_goto_s": done - t0, "from_process_s": done - started, "bytes": sum(sizes)}


def run(db: Path, rounds: int, roots: dict[str, Path], timeout_ms: int = 180_000) -> dict:
    from playwright.sync_api import sync_playwright

    pairs = [(code, slow) for code in roots for slow in (False, True)]
    out: dict[str, list[dict[str, float]]] = {f"{code} {'slow' if slow else 'loopback'}": []
                                              for code, slow in pairs}  # fmt: skip
    with chromium_home("critac-bench-restart-") as home, sync_playwright() as p:
        browser = launch(p)
        browser_warmed(browser)
        for k in range(rounds):
            for j in range(len(pairs)):
                code, slow = pairs[(j + k) % len(pairs)]
                state = STATES[(k * len(pairs) + j) % len(STATES)]
                result = first_page(browser, db, home, roots[code], state, slow, timeout_ms)
                out[f"{code} {'slow' if slow else 'loopback'}"].append(result)
        browser.close()
    return out


def table(out: dict[str, list[dict[str, float]]]) -> str:
    lines = ["| code, network | from goto | from process start | bytes received |",
             "|---|---|---|---|"]  # fmt: skip
    for name, results in out.items():
        goto = median([r["from_goto_s"] for r in results])
        process = median([r["from_process_s"] for r in results])
        received = median([r["bytes"] for r in results])
        size = f"{received / 1e6:.2f} MB" if "slow" in name else ""
        lines.append(f"| {name} | {goto:.2f} s | {process:.2f} s | {size} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="a git revision to compare with (git archive)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="critac-bench-baseline-") as tmp:
        roots: dict[str, Any] = {}
        if args.baseline:
            roots[f"before ({args.baseline})"] = export(args.baseline, Path(tmp))
        roots["now"] = ROOT
        out = run(args.db, args.rounds, roots)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    print(table(out))


if __name__ == "__main__":
    main()
