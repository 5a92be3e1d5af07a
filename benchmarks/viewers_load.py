"""Many viewers at once, without browsers: N protocol-level sessions (st_protocol.Viewer) against one
``streamlit run app.py`` server, each changing a filter every ``--interval`` seconds.

    python benchmarks/viewers_load.py --db PATH [--viewers 20,50,100] [--seconds 60] [--interval 10]

For each level N (one server for all levels, warmed by one run first):

- N sessions connect, their first runs spread over one interval (a viewer opening the page);
- each then asks for a run with new URL filters every ``--interval`` s (its own phase), until
  ``--seconds`` have passed. If a run takes longer than the interval, the next one is sent as soon
  as it finishes (a viewer never has two runs in flight). Every filter change in the whole
  benchmark is a selection not seen before (state × fiscal year × agency type, shuffled), so every
  change is a cache miss on the server: the conservative case;
- with ``--popular K`` the viewers choose among K selections instead (cache hits after the first
  round: many people looking at the same few views);
- latency = request sent -> ``script_finished`` received (the server's whole run, the websocket
  messages and their parsing; no drawing);
- the server's CPU time comes from /proc/PID/stat (user + system) over the level's window, so
  *reruns per CPU-second* (= reruns per second per fully used core) does not depend on what else
  the machine runs; the load generator's own CPU time is reported beside it.

Bounded: at most ``--max-reruns`` per level and ``--seconds`` + 2 min of wall time per level;
loopback only; the server is stopped at the end. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT  # noqa: E402
from st_protocol import Viewer  # noqa: E402

from critac_metrics import schema  # noqa: E402
from critac_metrics.filters import Filters, fiscal_year_bounds  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.browser_support import running_app  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def selections(topics: list[str], seed: int = 15) -> list[str]:
    """Distinct filter selections as URL query strings (fiscal year × agency type or all × topic),
    in a fixed shuffled order. Most select a few hundred engagements at 100k, like a dashboard view;
    the empty ones are counted (an empty page is cheaper)."""
    out = []
    for year in range(2019, 2026):
        start, end = fiscal_year_bounds(year)
        for agency_type in [(), *((a,) for a in schema.AGENCY_TYPES)]:
            for topic in topics:
                filters = Filters(start=start, end=end, agency_types=agency_type, topics=(topic,))
                out.append(urllib.parse.urlencode(filters.to_query_params(), doseq=True))
    random.Random(seed).shuffle(out)
    return out


def topic_names(db_path: Path) -> list[str]:
    from critac_metrics import db, store

    con = db.connect(db_path, read_only=True)
    try:
        return list(store.topic_catalogue(con)["topic"])
    finally:
        con.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


async def level(
    url: str,
    pid: int,
    viewers: int,
    seconds: float,
    interval: float,
    page: str,
    pool,
    max_reruns: int,
) -> dict:
    """N viewers for ``seconds``; returns latencies and costs."""
    latencies: list[float] = []
    opens: list[float] = []
    errors: list[str] = []
    exceptions: list[str] = []
    empty = {"runs": 0}
    sizes: list[int] = []
    budget = {"left": max_reruns}
    start = time.perf_counter()
    stop_at = start + seconds

    async def one(i: int) -> None:
        phase = interval * i / viewers
        await asyncio.sleep(phase)
        try:
            async with Viewer(url, timeout=seconds + 60) as viewer:
                run = await viewer.rerun(next(pool), page)
                opens.append(run.seconds)
                exceptions.extend(run.exceptions)
                k = 1
                while True:
                    due = start + phase + k * interval
                    now = time.perf_counter()
                    if due >= stop_at or now >= stop_at or budget["left"] <= 0:
                        return  # the window is over (a late viewer sends no catch-up changes)
                    if due > now:
                        await asyncio.sleep(due - now)
                    budget["left"] -= 1
                    run = await viewer.rerun(next(pool), page)
                    latencies.append(run.seconds)
                    sizes.append(run.bytes)
                    empty["runs"] += run.charts == 0
                    exceptions.extend(run.exceptions)
                    if run.status != "ok":
                        errors.append(run.status)
                    k += 1
        except Exception as exc:  # noqa: BLE001 - counted, reported
            errors.append(repr(exc)[:300])

    cpu0, own0 = cpu_seconds(pid), _own_cpu()
    wall0 = time.perf_counter()
    tasks = [asyncio.ensure_future(one(i)) for i in range(viewers)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + 120)
    for task in pending:  # runs still queued on a saturated server: counted, not waited for
        task.cancel()
        errors.append("still waiting when the level ended")
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds(pid) - cpu0
    own = _own_cpu() - own0
    runs = len(latencies) + len(opens)
    return {
        "viewers": viewers,
        "interval_s": interval,
        "wall_s": wall,
        "filter_changes": len(latencies),
        "session_opens": len(opens),
        "offered_per_s": viewers / interval,
        "reruns_per_s": runs / wall,
        "server_cpu_s": cpu,
        "server_cores_used": cpu / wall,
        "reruns_per_cpu_s": runs / cpu if cpu else None,
        "cpu_ms_per_rerun": 1000 * cpu / runs if runs else None,
        "p50_s": percentile(latencies, 0.50),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies) if latencies else None,
        "open_p50_s": percentile(opens, 0.50),
        "open_p95_s": percentile(opens, 0.95),
        "empty_selections": empty["runs"],
        "bytes_per_rerun": statistics.median(sizes) if sizes else None,
        "errors": errors[:20],
        "error_count": len(errors),
        "exceptions": sorted(set(exceptions))[:10],
        "loadgen_cpu_s": own,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "server_rss_mb": rss_mb(pid),
        "server_threads": threads(pid),
    }


def rss_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def threads(pid: int) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return None


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(db: Path, levels: list[int], seconds: float, interval: float, page: str,
        max_reruns: int, popular: int = 0, root: Path = ROOT) -> dict:  # fmt: skip
    """``popular`` > 0: every viewer picks among that many selections (after the first round,
    cache hits: many people looking at the same few views); 0: every change a new selection."""
    every = selections(topic_names(db))
    pool = itertools.cycle(every[:popular]) if popular else iter(every * 4)
    out: dict = {"db": str(db), "page": page or "overview", "popular": popular, "root": str(root),
                 "levels": []}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="critac-bench-viewers-") as tmp:
        home = Path(tmp)
        with running_app(db, home, home / "streamlit.log", root, timeout=90) as (server, url):

            async def warm() -> float:
                async with Viewer(url) as viewer:
                    return (await viewer.rerun(next(pool), page)).seconds

            out["first_run_s"] = asyncio.run(warm())
            for n in levels:
                result = asyncio.run(
                    level(url, server.pid, n, seconds, interval, page, pool, max_reruns)
                )
                out["levels"].append(result)
                print(
                    f"  {n} viewers: {result['reruns_per_s']:.1f} reruns/s, server "
                    f"{result['server_cores_used']:.2f} cores, {result['cpu_ms_per_rerun']:.0f} "
                    f"CPU-ms/rerun, p50 {result['p50_s']}, p95 {result['p95_s']}, "
                    f"errors {result['error_count']}",
                    file=sys.stderr,
                    flush=True,
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--viewers", default="20,50,100")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--page", default="", help="URL path name of the page ('' = Overview)")
    parser.add_argument("--max-reruns", type=int, default=2000, help="per level")
    parser.add_argument(
        "--popular",
        type=int,
        default=0,
        help="viewers choose among this many selections (0: each change a new one)",
    )
    parser.add_argument("--app-root", type=Path, default=ROOT, help="serve another project copy")
    args = parser.parse_args()
    levels = [int(v) for v in args.viewers.split(",") if v]
    result = run(
        args.db,
        levels,
        args.seconds,
        args.interval,
        args.page,
        args.max_reruns,
        args.popular,
        args.app_root.resolve(),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
