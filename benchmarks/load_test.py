"""A bounded load test of the real app: N browser sessions against one Streamlit server, an import
in the middle, and every KPI checked against the metrics layer.

    python benchmarks/load_test.py --sessions 20 --seconds 60 --engagements 20000

What it does (loopback only; everything it starts is stopped, everything it writes is in a temp dir):

1. builds a demo database (``python -m critac_metrics demo``) and serves a COPY of it with
   ``python -m streamlit run app.py`` (``CRITAC_DB`` pointing at the copy);
2. opens one headless Chromium with N browser contexts; each repeatedly opens the app at a URL with
   random valid filters (agency_type / state / start / end / topic) and waits until the KPI tiles
   (``[data-testid=stMetricValue]``) have settled. Latency is navigation start -> settled values;
3. checks "Engagements" and "Agencies served" against ``critac_metrics.metrics.headline`` for the
   same Filters on the database version current at that moment (the oracle reads snapshot copies,
   never the published path, so it is not fooled by DuckDB's per-process instance cache);
4. halfway through, imports a CSV of new engagements with ``python -m critac_metrics ingest``. While
   it runs (and for ``--grace`` seconds after it returns) either version's figure is accepted; after
   that only the new one.

It prints a markdown table and exits 1 if there was any error or mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from critac_metrics import db, metrics, registry, schema  # noqa: E402
from critac_metrics.filters import Filters  # noqa: E402
from tests.browser_support import CHROMIUM_ARGS, start_app, stop, wait_healthy  # noqa: E402

PY = sys.executable
KPI_LABELS = ("Engagements", "Agencies served")
SETTLE_S = 0.5  # values unchanged for this long = settled

# Runs inside the page (one round trip per wait, polled by the browser itself): resolves once the
# KPI tiles (or the empty state, or an exception) have shown the same values for `settleMs`, with
# those values and the wall-clock moment they first appeared.
SETTLED_KPIS_JS = """(settleMs) => {
  const shown = {};
  for (const m of document.querySelectorAll('[data-testid=stMetric]')) {
    const label = m.querySelector('[data-testid=stMetricLabel]');
    const value = m.querySelector('[data-testid=stMetricValue]');
    if (label && value) shown[label.innerText.trim()] = value.innerText.trim();
  }
  const alerts = [...document.querySelectorAll('[data-testid=stAlert]')].map(a => a.innerText);
  if (alerts.some(t => t.includes('No engagements match'))) shown.__empty__ = '1';
  const exc = document.querySelector('[data-testid=stException]');
  if (exc) shown.__exception__ = exc.innerText.slice(0, 400);
  const state = window.__kpiSettle || (window.__kpiSettle = {key: null, since: 0, wall: 0});
  const complete = (shown['Engagements'] && shown['Agencies served']) || shown.__empty__
    || shown.__exception__;
  if (!complete) { state.key = null; return false; }
  const key = JSON.stringify(shown), now = performance.now();
  if (state.key !== key) { state.key = key; state.since = now; state.wall = Date.now(); }
  if (shown.__exception__ || now - state.since >= settleMs) return {shown, firstSeen: state.wall};
  return false;
}"""


# -- bookkeeping -----------------------------------------------------------------------------------


@dataclass
class Interaction:
    session: int
    url: str
    started: float  # monotonic
    finished: float
    phase: str  # before / swap / after
    latency: float
    shown: dict[str, str]
    ok: bool
    detail: str = ""
    changed: bool = False  # the two versions' figures differ for these filters


@dataclass
class Run:
    started: float = 0.0
    import_started: float | None = None
    import_finished: float | None = None
    import_rc: int | None = None
    import_output: str = ""
    grace: float = 5.0
    interactions: list[Interaction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    peak_used_mb: float = 0.0
    base_used_mb: float = 0.0
    server_peak_rss_mb: float = 0.0
    duration: float = 0.0
    server_cpu_s: float = 0.0
    browser_cpu: dict[int, float] = field(default_factory=dict)
    import_pids: set[int] = field(default_factory=set)
    machine_busy_pct: float = 0.0
    load_before: float = 0.0
    sessions: list = field(default_factory=list)

    def phase(self, started: float, finished: float) -> str:
        if self.import_started is None or finished < self.import_started:
            return "before"
        if self.import_finished is not None and started >= self.import_finished + self.grace:
            return "after"
        return "swap"


class Oracle:
    """Expected KPI text per Filters, for the old and the new database version (snapshot copies)."""

    def __init__(self, old_path: Path):
        self.paths = {"old": old_path}
        self.cons = {"old": db.connect(old_path)}
        self.cache: dict[tuple[str, Filters], dict[str, str]] = {}

    def add_new(self, path: Path) -> None:
        self.paths["new"] = path
        self.cons["new"] = db.connect(path)

    def expected(self, version: str, filters: Filters) -> dict[str, str]:
        key = (version, filters)
        if key not in self.cache:
            cursor = self.cons[version].cursor()
            try:
                head = metrics.headline(cursor, filters)
            finally:
                cursor.close()
            if head["requests"] == 0:
                self.cache[key] = {"__empty__": "1"}
            else:
                self.cache[key] = {
                    "Engagements": registry.METRICS["engagements"].format(head["engagements"]),
                    "Agencies served": registry.METRICS["agencies_served"].format(
                        head["agencies_served"]
                    ),
                }
        return self.cache[key]

    def close(self) -> None:
        for con in self.cons.values():
            con.close()


# -- machine facts ---------------------------------------------------------------------------------


def used_memory_mb() -> float:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":", 1)
        info[name] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def total_memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> set[int]:
    """All live processes below ``root`` (the Playwright driver, Chromium and its helpers, the
    server, the import)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


# -- data ------------------------------------------------------------------------------------------


def build_database(folder: Path, engagements: int, log) -> Path:
    demo = folder / "demo.duckdb"
    log(f"building a demo database of {engagements:,} engagements ...")
    subprocess.run(
        [PY, "-m", "critac_metrics", "demo", "--db", str(demo), "--engagements", str(engagements)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=900,
    )
    served = folder / "served" / "critac.duckdb"
    served.parent.mkdir()
    shutil.copyfile(demo, served)
    return served


@dataclass(frozen=True)
class Choices:
    agency_types: tuple[str, ...]
    states: tuple[str, ...]
    topics: tuple[str, ...]
    first: dt.date
    last: dt.date
    agency_ids: tuple[str, ...]


def choices(path: Path) -> Choices:
    con = db.connect(path)
    try:
        states = [
            r[0] for r in con.execute("select distinct state from agencies order by 1").fetchall()
        ]
        topics = [
            r[0]
            for r in con.execute(
                "select topic from topics where in_catalogue order by topic"
            ).fetchall()
        ]
        span = con.execute(
            "select min(requested_on), max(requested_on) from engagements"
        ).fetchone()
        assert span is not None  # an aggregate returns one row
        first, last = span
        agency_ids = [
            r[0] for r in con.execute("select agency_id from agencies order by 1").fetchall()
        ]
    finally:
        con.close()
    return Choices(
        schema.AGENCY_TYPES, tuple(states), tuple(topics), first, last, tuple(agency_ids)
    )


def random_filters(rng: random.Random, c: Choices) -> Filters:
    def some(values: tuple[str, ...], p: float) -> tuple[str, ...]:
        return tuple(rng.sample(values, rng.randint(1, 2))) if rng.random() < p else ()

    start = end = None
    if rng.random() < 0.6:
        span = (c.last - c.first).days
        a, b = sorted(rng.randint(0, span) for _ in range(2))
        start, end = c.first + dt.timedelta(days=a), c.first + dt.timedelta(days=max(b, a + 60))
        end = min(end, c.last)
        if rng.random() < 0.3:
            start = None  # open-ended ranges too
    return Filters(
        start=start,
        end=end,
        agency_types=some(c.agency_types, 0.5),
        states=some(c.states, 0.35),
        topics=some(c.topics, 0.35),
    )


def write_new_engagements(path: Path, c: Choices, n: int, seed: int) -> Path:
    """A valid engagements CSV of ``n`` new records (new ids) for existing agencies."""
    rng = random.Random(seed)
    header = (
        "engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,"
        "completed_on,delivery_mode,provider,participants"
    )
    lines = [header]
    span = (c.last - c.first).days
    for i in range(n):
        day = c.first + dt.timedelta(days=rng.randint(0, span))
        topic = rng.choice(c.topics).replace(",", " ")
        status = rng.choice(["approved", "in_progress", "completed"])
        started = day + dt.timedelta(days=5) if status != "approved" else ""
        done = day + dt.timedelta(days=40) if status == "completed" else ""
        lines.append(
            f"LOADTEST-{i:06d},{rng.choice(c.agency_ids)},{day},{status},training,{topic},"
            f"{started},{done},virtual,IACP,{rng.randint(1, 40)}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the browser -----------------------------------------------------------------------------------


def chromium_wrapper(folder: Path, chromium: str, nice: int) -> Path:
    """Chromium started at a lower CPU priority, so that the browsers, which share this machine's
    cores with the server, do not starve it (real users' browsers run on their own machines)."""
    if nice <= 0:
        return Path(chromium)
    wrapper = folder / "chromium-nice"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(nice)} "{chromium}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


# -- sessions --------------------------------------------------------------------------------------


async def settle(page, timeout: float) -> tuple[dict[str, str], float]:
    """Wait until the KPI tiles (or the empty state) hold still; return them and the wall-clock
    time (``time.time()``) they first showed those values."""
    handle = await page.wait_for_function(
        SETTLED_KPIS_JS, arg=SETTLE_S * 1000, polling=50, timeout=timeout * 1000
    )
    result = await handle.json_value()
    return result["shown"], result["firstSeen"] / 1000


def compare(shown: dict[str, str], expected: dict[str, str]) -> bool:
    if "__empty__" in expected:
        return "__empty__" in shown and not any(k in shown for k in KPI_LABELS)
    return all(shown.get(k) == v for k, v in expected.items())


async def session(
    index: int, context, base: str, c: Choices, run: Run, oracle: Oracle, stop_at: float, seed: int
) -> None:
    rng = random.Random(seed + index)
    page = await context.new_page()
    while time.monotonic() < stop_at:
        filters = random_filters(rng, c)
        query = urllib.parse.urlencode(filters.to_query_params(), doseq=True)
        url = base + ("?" + query if query else "")
        started, started_wall = time.monotonic(), time.time()
        try:
            await page.goto(url, wait_until="commit", timeout=120_000)
            shown, first_seen = await settle(page, timeout=180)
        except Exception as exc:  # a timeout or a dropped connection is an error of the run
            run.errors.append(f"session {index}: {type(exc).__name__}: {str(exc)[:200]} ({url})")
            continue
        finished = time.monotonic()
        if shown.get("__exception__"):
            text = " ".join(shown["__exception__"].split())
            run.errors.append(f"session {index}: the app showed an exception: {text} ({url})")
            continue
        phase = run.phase(started, finished)
        old = await asyncio.to_thread(oracle.expected, "old", filters)
        if phase == "before":
            allowed = [old]
        else:
            while "new" not in oracle.cons:  # the import has returned but the oracle copy is not in
                await asyncio.sleep(0.05)
            new = await asyncio.to_thread(oracle.expected, "new", filters)
            allowed = [new] if phase == "after" else [old, new]
        changed = phase != "before" and allowed[0] != old
        ok = any(compare(shown, e) for e in allowed)
        detail = "" if ok else f"shown {shown}, expected one of {allowed}"
        if not ok and phase == "after" and compare(shown, old):
            detail = "stale: " + detail
        run.interactions.append(
            Interaction(
                index,
                url,
                started,
                finished,
                phase,
                first_seen - started_wall,
                shown,
                ok,
                detail,
                changed,
            )
        )
    await page.close()


async def do_import(run: Run, served: Path, csv_path: Path, oracle: Oracle, folder: Path, log):
    log("import: starting")
    run.import_started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        PY, "-m", "critac_metrics", "ingest", "--db", str(served), str(csv_path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    run.import_pids.add(proc.pid)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:  # the hard timeout: do not leave the import running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    run.import_finished = time.monotonic()
    run.import_rc = proc.returncode
    run.import_output = out.decode().strip()
    # The oracle's "new" version: a copy of what was just published (read in this process under a
    # path of its own, so DuckDB cannot hand back the old snapshot).
    new_copy = folder / "oracle_new.duckdb"
    await asyncio.to_thread(shutil.copyfile, served, new_copy)
    oracle.add_new(new_copy)
    log(f"import: rc={proc.returncode} in {run.import_finished - run.import_started:.1f}s: "
        f"{run.import_output.splitlines()[0] if run.import_output else ''}")  # fmt: skip


async def monitor(run: Run, server_pid: int, stop_at: float) -> None:
    """Memory and CPU while the sessions run. Browser CPU = every process this script started
    (Playwright driver, Chromium, helpers) except the server and the import."""
    me = os.getpid()
    baseline = {pid: cpu_seconds(pid) for pid in descendants(me)}
    while time.monotonic() < stop_at or any(not t.done() for t in run.sessions):
        run.peak_used_mb = max(run.peak_used_mb, used_memory_mb())
        run.server_peak_rss_mb = max(run.server_peak_rss_mb, rss_mb(server_pid))
        for pid in descendants(me) - {server_pid} - descendants(server_pid):
            if pid in run.import_pids:
                continue
            used = cpu_seconds(pid) - baseline.get(pid, 0.0)
            run.browser_cpu[pid] = max(run.browser_cpu.get(pid, 0.0), used)
        await asyncio.sleep(1)


async def drive(args, folder: Path, served: Path, c: Choices, oracle: Oracle, run: Run, log):
    from playwright.async_api import async_playwright

    csv_path = write_new_engagements(folder / "engagements_loadtest.csv", c, args.new, args.seed)
    home = folder / "home"
    home.mkdir()
    server_log = folder / "server.log"
    server, url = start_app(served, home, server_log, port=args.port or None)
    try:
        await asyncio.to_thread(wait_healthy, server, url, server_log)
        base = f"{url}/"
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=str(chromium_wrapper(folder, args.chromium, args.browser_nice)),
                args=CHROMIUM_ARGS,
                env={**os.environ, "HOME": str(home)},
            )
            try:
                contexts = [await browser.new_context() for _ in range(args.sessions)]
                if args.block_charts:
                    for ctx in contexts:  # charts are not drawn; the server still builds them
                        await ctx.route("**/critac/plotly-*.js", lambda route: route.abort())
                # Warm-up (not measured): every context loads the app once, a few at a time, so
                # that the measured window sees sessions of an open app (front-end bundle cached
                # per context), not 20 cold browser starts at once.
                log(f"warming up {args.sessions} browser contexts ...")
                gate = asyncio.Semaphore(4)

                async def warm_up(ctx) -> None:
                    async with gate:
                        page = await ctx.new_page()
                        await page.goto(base, wait_until="commit", timeout=120_000)
                        await settle(page, timeout=300)
                        await page.close()

                await asyncio.gather(*(warm_up(ctx) for ctx in contexts))
                run.base_used_mb = used_memory_mb()
                run.load_before = os.getloadavg()[0]
                cpu0, (busy0, total0) = cpu_seconds(server.pid), machine_busy_seconds()
                run.started = time.monotonic()
                stop_at = run.started + args.seconds
                log(f"{args.sessions} sessions for {args.seconds}s against {base} ...")
                run.sessions = [
                    asyncio.create_task(session(i, ctx, base, c, run, oracle, stop_at, args.seed))
                    for i, ctx in enumerate(contexts)
                ]
                tasks = [
                    *run.sessions,
                    asyncio.create_task(monitor(run, server.pid, stop_at)),
                ]
                await asyncio.sleep(args.seconds * args.import_at)
                await do_import(run, served, csv_path, oracle, folder, log)
                await asyncio.gather(*tasks)
                run.duration = time.monotonic() - run.started
                run.server_cpu_s = cpu_seconds(server.pid) - cpu0
                busy1, total1 = machine_busy_seconds()
                run.machine_busy_pct = 100 * (busy1 - busy0) / max(total1 - total0, 1e-9)
            finally:
                await browser.close()
    finally:
        stop(server)


# -- report ----------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(args, run: Run, c: Choices, engagements: int) -> tuple[str, dict]:
    by_phase = {
        p: [i for i in run.interactions if i.phase == p] for p in ("before", "swap", "after")
    }
    mismatches = [i for i in run.interactions if not i.ok]
    stale = [i for i in mismatches if i.detail.startswith("stale")]
    changed_after = [i for i in by_phase["after"] if i.changed]

    def lat(items):
        values = [i.latency for i in items]
        if not values:
            return "–"
        return f"{statistics.median(values):.2f} / {pct(values, 0.95):.2f} / {max(values):.2f}"

    wall = max(run.duration, 1e-9)
    summary = {
        "sessions": args.sessions,
        "seconds": round(run.duration, 1),
        "engagements": engagements,
        "interactions": len(run.interactions),
        "errors": len(run.errors),
        "mismatches": len(mismatches),
        "stale_after_import": len(stale),
        "import_seconds": None
        if run.import_finished is None or run.import_started is None
        else round(run.import_finished - run.import_started, 2),
        "import_rc": run.import_rc,
        "latency_all_s": [statistics.median([i.latency for i in run.interactions] or [0]),
                          pct([i.latency for i in run.interactions], 0.95),
                          max([i.latency for i in run.interactions] or [0])],
        "nproc": os.cpu_count(),
        "memory_gb": round(total_memory_gb(), 1),
        "peak_used_mb": round(run.peak_used_mb),
        "base_used_mb": round(run.base_used_mb),
        "server_peak_rss_mb": round(run.server_peak_rss_mb),
        "server_cpu_cores": round(run.server_cpu_s / wall, 2),
        "browser_cpu_cores": round(sum(run.browser_cpu.values()) / wall, 2),
        "machine_busy_pct": round(run.machine_busy_pct),
        "load_before": round(run.load_before, 1),
    }  # fmt: skip
    rows = [
        ("sessions × duration", f"{args.sessions} × {summary['seconds']} s"),
        ("demo engagements (+ imported)", f"{engagements:,} (+ {args.new:,})"),
        ("interactions (before / swap / after)",
         f"{len(run.interactions)} ({len(by_phase['before'])} / {len(by_phase['swap'])} / {len(by_phase['after'])})"),
        ("errors", str(len(run.errors))),
        ("mismatches", f"{len(mismatches)} (stale old figure after the import: {len(stale)})"),
        ("after import: pages whose figures changed / showed the new figures",
         f"{len(changed_after)} / {sum(i.ok for i in changed_after)}"),
        ("latency p50 / p95 / max, all (s)", lat(run.interactions)),
        ("latency p50 / p95 / max, before import (s)", lat(by_phase["before"])),
        ("latency p50 / p95 / max, during swap (s)", lat(by_phase["swap"])),
        ("latency p50 / p95 / max, after import (s)", lat(by_phase["after"])),
        ("import (CLI) duration", f"{summary['import_seconds']} s, exit {run.import_rc}"),
        ("machine", f"{summary['nproc']} cores, {summary['memory_gb']} GB RAM"),
        ("memory used: idle → peak (MB)", f"{summary['base_used_mb']:,} → {summary['peak_used_mb']:,}"),
        ("Streamlit server peak RSS (MB)", f"{summary['server_peak_rss_mb']:,}"),
        ("CPU used, cores: server / browsers / whole machine",
         f"{run.server_cpu_s / wall:.2f} / {sum(run.browser_cpu.values()) / wall:.2f} / "
         f"{run.machine_busy_pct / 100 * (os.cpu_count() or 1):.2f} of {os.cpu_count()}"),
        ("1-min load average when the sessions started", f"{run.load_before:.1f}"),
    ]  # fmt: skip
    lines = ["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--engagements", type=int, default=20_000, help="demo database size")
    parser.add_argument("--new", type=int, default=500, help="engagements the mid-run import adds")
    parser.add_argument("--import-at", type=float, default=0.5, help="fraction of --seconds")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds after the import returns")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--block-charts",
        action="store_true",
        help="do not load Plotly in the browsers (the server still builds every chart); use it "
        "when the browsers and the server share too few cores",
    )
    parser.add_argument(
        "--browser-nice", type=int, default=0, help="run Chromium under nice -n N (0: not)"
    )
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument("--hard-timeout", type=float, help="seconds (default: --seconds + 600)")
    parser.add_argument("--json", type=Path, help="also write the summary and failures here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server log, DBs)")
    args = parser.parse_args(argv)
    hard_timeout = args.hard_timeout or args.seconds + 600

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    folder = Path(tempfile.mkdtemp(prefix="critac-load-"))
    run = Run(grace=args.grace)
    oracle = None
    try:
        served = build_database(folder, args.engagements, log)
        c = choices(served)
        old_copy = folder / "oracle_old.duckdb"
        shutil.copyfile(served, old_copy)
        oracle = Oracle(old_copy)
        try:
            asyncio.run(
                asyncio.wait_for(drive(args, folder, served, c, oracle, run, log), hard_timeout)
            )
        except TimeoutError:
            run.errors.append(f"hard timeout of {hard_timeout:.0f}s reached")
        table, summary = report(args, run, c, args.engagements)
        print(table)
        failures = [i.__dict__ for i in run.interactions if not i.ok]
        for line in run.errors[:20]:
            log("error: " + line)
        for item in failures[:10]:
            log(f"mismatch ({item['phase']}): {item['url']} {item['detail']}")

        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - run.started, 2)

        if args.json:
            args.json.write_text(
                json.dumps({"summary": summary, "errors": run.errors, "mismatches": failures,
                            "import_window_s": [rel(run.import_started), rel(run.import_finished)],
                            "interactions": [
                                {"session": i.session, "phase": i.phase, "ok": i.ok,
                                 "start_s": rel(i.started), "end_s": rel(i.finished),
                                 "latency_s": round(i.latency, 2), "url": i.url}
                                for i in run.interactions]},
                           indent=2, default=str)
            )  # fmt: skip
        if args.keep:
            log(f"kept {folder}")
        return 0 if not run.errors and not failures and run.import_rc == 0 else 1
    finally:
        if oracle is not None:
            oracle.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
