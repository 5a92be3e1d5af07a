"""The issue-15 table: what a viewer waits for, measured end to end (``run.py --viewer-only``).

Runs, against one demo database (100k by default):

- ``viewer.py`` (headless Chromium): first page after a restart, a shared link in a new session,
  a filter change, page switches, the Report page's deck (first and later), Chrome's time per chart;
- ``apptest_pages.py``: the server-side rerun after a filter change (several new selections a page);
- ``python -m critac_metrics report --format pptx`` and ``--format html`` (time, file size);
- ``viewers_load.py`` (optional): 20/50/100 protocol-level viewers, each changing a filter every 10 s;
- ``st_protocol.Viewer``: the websocket bytes of each page's run, by element kind;
- ``floor.py``: the floor under the first rows, a Streamlit page with an ``st.title`` only
  (and one with one small Plotly chart) opened the same ways, alternating with the Overview, and
  the Overview's four charts alone redrawn after a filter change.

With ``--baseline REV`` the same steps run first on ``git archive REV`` (the code before a change,
unpacked in a temp dir) so the report shows before, after and the ratio from one run.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BENCH, FY2024, PYTHON, ROOT, median, ms  # noqa: E402

# Targets from issue 15 (seconds, bytes).
TARGETS = {
    "link_new_session_s": 0.7,
    "floor_link_title_s": 0.7,
    "floor_link_chart_s": 0.7,
    "filter_change_s": 0.3,
    "floor_filter_change_s": 0.3,
    "page_switch_s": 0.5,
    "restart_first_page_s": 2.5,
    "floor_restart_title_s": 2.5,
    "floor_restart_chart_s": 2.5,
    "deck_first_s": 3.0,
    "deck_later_s": 3.0,
    "deck_other_filters_s": 3.0,
    "cli_pptx_s": 4.0,
    "html_bytes": 1.5e6,
    "apptest_filter_change_s": 0.080,
    "load_p95_50_s": 1.0,
}
ROWS = (
    ("link_new_session_s", "shared link opened in a new session → all charts drawn"),
    (
        "link_same_tab_s",
        "the same, in a tab that had the page (HTTP cache warm; the old benchmark)",
    ),
    (
        "link_slow_network_s",
        "the same over a 20 Mbit/s line, 40 ms latency (Chrome's throttling, HTTP only)",
    ),
    ("link_slow_network_bytes", "the bytes that link receives over HTTP"),
    ("floor_link_title_s", "floor: a shared link in a new session, a page with only `st.title`"),
    ("floor_link_chart_s", "floor: the same, a page with one small Plotly chart"),
    ("filter_change_s", "filter change → all charts re-rendered"),
    (
        "floor_overview_change_s",
        "the same in the floor run, alternating with the row below",
    ),
    (
        "floor_filter_change_s",
        "floor: the Overview's four charts alone, redrawn (nothing queried or built)",
    ),
    ("page_switch_s", "page switch → all charts drawn (first visit with those filters)"),
    ("restart_first_page_s", "first page after a server restart (demo DB exists), from goto"),
    ("restart_from_process_s", "the same, from the server process's start"),
    ("floor_restart_title_s", "floor: first page after a restart, from goto, `st.title` only"),
    ("floor_restart_chart_s", "floor: the same, one small Plotly chart"),
    ("deck_first_s", "Report page: build the deck, first"),
    ("deck_later_s", "Report page: build the deck again, same filters"),
    ("deck_other_filters_s", "Report page: build the deck, later, other filters"),
    ("cli_pptx_s", "`report --format pptx` from the CLI"),
    ("html_bytes", "HTML report size (every section)"),
    ("apptest_filter_change_s", "server-side rerun after a filter change (AppTest), slowest page"),
    ("load_p95_50_s", "50 viewers, a filter change each every 10 s (new selections): p95"),
    ("load_cpu_50_s", "the same: server CPU per rerun"),
)
PAGES = ("overview", "topics", "agencies", "outcomes", "pipeline")


def export(rev: str, into: Path) -> Path:
    """The project at ``rev`` (``git archive``), unpacked into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def cli_report(db: Path, root: Path, fmt: str, rounds: int) -> dict:
    times, size = [], None
    with tempfile.TemporaryDirectory(prefix="critac-bench-report-") as tmp:
        for k in range(rounds):
            out = Path(tmp) / f"r{k}.{fmt}"
            t0 = time.perf_counter()
            subprocess.run(
                [PYTHON, "-m", "critac_metrics", "report", "--db", str(db), "--format", fmt,
                 "--out", str(out), "--start", FY2024[0].isoformat(),
                 "--end", FY2024[1].isoformat()],
                cwd=root, check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            times.append(time.perf_counter() - t0)
            size = out.stat().st_size
    return {"times_s": times, "median_s": median(times), "bytes": size}


def websocket_sizes(db: Path, root: Path) -> dict:
    """One run per page with FY2024 through the websocket protocol: bytes by element kind."""
    from st_protocol import Viewer

    from tests.browser_support import running_app

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="critac-bench-ws-") as tmp:
        home = Path(tmp)
        with running_app(db, home, home / "streamlit.log", root, timeout=120) as (_, url):

            async def go() -> None:
                async with Viewer(url) as viewer:
                    query = f"start={FY2024[0]}&end={FY2024[1]}"
                    await viewer.rerun(query)  # first run: imports, connection
                    for page in ("", "topics", "agencies", "outcomes", "pipeline", "data"):
                        for _ in range(2):  # the second is warm (cache hits): the drawing only
                            run = await viewer.rerun(query, page)
                        out[page or "overview"] = {
                            "bytes": run.bytes,
                            "frames": run.frames,
                            "chart_bytes": run.chart_bytes,
                            "charts": run.charts,
                            "warm_rerun_s": run.seconds,
                            "by_kind": dict(
                                sorted(run.sizes_by_kind.items(), key=lambda kv: -kv[1])
                            ),
                        }

            asyncio.run(go())
    return out


def measure(db: Path, root: Path, args, log, load: bool = False) -> dict:
    """Every step of the table for the project copy at ``root`` (``load``: and 50 viewers)."""
    res: dict = {"root": str(root), "baseline_load": load and not args.skip_viewers_load}
    log(f"  viewer (Chromium) from {root} ...")
    try:
        res["browser"] = common.run_json(
            [PYTHON, str(BENCH / "viewer.py"), "--db", str(db), "--rounds",
             str(args.browser_rounds), "--app-root", str(root)],
            timeout=1800,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - recorded
        res["browser_error"] = repr(exc)[-2000:]
    log("  AppTest filter changes ...")
    try:
        res["apptest"] = common.run_json(
            [PYTHON, str(BENCH / "apptest_pages.py"), "--db", str(db), "--pages",
             ",".join(PAGES), "--filter-rounds", str(args.browser_rounds),
             "--app-root", str(root)],
            timeout=1800,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001
        res["apptest_error"] = repr(exc)[-2000:]
    if res.get("baseline_load"):
        log("  many viewers, 50 ...")
        try:
            res["load"] = common.run_json(
                [PYTHON, str(BENCH / "viewers_load.py"), "--db", str(db), "--viewers", "50",
                 "--seconds", str(args.viewers_seconds), "--app-root", str(root)],
                timeout=3600,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            res["load_error"] = repr(exc)[-2000:]
    log("  CLI reports ...")
    try:
        res["cli_pptx"] = cli_report(db, root, "pptx", 2)
        res["cli_html"] = cli_report(db, root, "html", 1)
    except Exception as exc:  # noqa: BLE001
        res["cli_error"] = repr(exc)[-2000:]
    return res


def summary(res: dict) -> dict:
    """The table's numbers from one ``measure`` result."""
    b = (res.get("browser") or {}).get("medians", {})
    out = {
        "link_new_session_s": b.get("link_new_session_s"),
        "link_same_tab_s": b.get("link_same_tab_s"),
        "link_slow_network_s": b.get("link_slow_network_s"),
        "link_slow_network_bytes": b.get("link_slow_network_bytes"),
        "filter_change_s": b.get("filter_change_s"),
        "page_switch_s": b.get("page_switch_s"),
        "restart_first_page_s": b.get("restart_first_page_s"),
        "restart_from_process_s": (res.get("browser") or {}).get(
            "restart_first_page_from_process_s"
        ),
        "deck_first_s": b.get("deck_first_s"),
        "deck_later_s": b.get("deck_later_s"),
        "deck_other_filters_s": b.get("deck_other_filters_s"),
        "cli_pptx_s": (res.get("cli_pptx") or {}).get("median_s"),
        "html_bytes": (res.get("cli_html") or {}).get("bytes"),
    }
    floor = (res.get("floor") or {}).get("medians", {})
    for app in ("title", "chart"):
        out[f"floor_link_{app}_s"] = floor.get(f"new_context_{app}_s")
        out[f"floor_restart_{app}_s"] = floor.get(f"restart_{app}_s")
    out["floor_overview_change_s"] = floor.get("filter_change_overview_s")
    out["floor_filter_change_s"] = floor.get("filter_change_charts_s")
    app = (res.get("apptest") or {}).get("pages", {})
    per_page = {
        page: median([row.get("filter_change_s"), *row.get("filter_change_rounds_s", [])])
        for page, row in app.items()
    }
    if per_page:
        worst = max(per_page, key=lambda page: per_page[page] or 0.0)
        out["apptest_filter_change_s"] = per_page[worst]
        out["apptest_worst_page"] = worst
        out["apptest_per_page_s"] = per_page
    load = res.get("load") or {}
    for level in load.get("levels", []):
        if level["viewers"] == 50:
            out["load_p95_50_s"] = level["p95_s"]
            out["load_cpu_50_s"] = (level["cpu_ms_per_rerun"] or 0) / 1000
    return out


def _fmt(key: str, value) -> str:
    if value is None:
        return "–"
    if key in ("html_bytes", "link_slow_network_bytes"):
        return f"{value / 1e6:.2f} MB"
    return ms(value)


def floor_text(floor: dict) -> str:
    """The floor run's Overview beside its floor pages, and where the browser's time went."""
    m, t = floor["medians"], floor["timeline_medians"]

    def steps(step: str) -> str:
        return " / ".join(ms(m[f"{step}_{app}_s"]) for app in ("title", "chart", "overview"))

    def timeline(key: str) -> str:
        x = t[key]
        return (
            f"{x['js_files']} JS files, {x['js_bytes'] / 1e6:.1f} MB, the last arrived at "
            f"{x['js_last_arrived']:.0f} ms; websocket open {x['ws_open']:.0f} ms, first delta "
            f"{x.get('ws_first_delta', 0):.0f} ms, `script_finished` "
            f"{x.get('ws_script_finished', 0):.0f} ms, drawn {x['drawn']:.0f} ms; Chrome's "
            f"scripting {x['chrome_ms']['ScriptDuration']:.0f} ms"
        )

    return (
        f"Floor (`floor.py`, {floor['rounds']} rounds alternating between the three pages; load "
        f"average {' → '.join(' / '.join(a) for a in floor['loadavg'])}), `st.title` only / one "
        f"small Plotly chart / the Overview: shared link in a new context {steps('new_context')}, "
        f"first page after a restart from goto {steps('restart')}. In the page's clock, from the "
        f"navigation's start (medians), new context: `st.title` only: "
        f"{timeline('new_context_title')}; one Plotly chart: {timeline('new_context_chart')}; "
        f"the Overview: {timeline('new_context_overview')}; the Overview after a restart: "
        f"{timeline('restart_overview')}."
    )


def render(section: dict) -> list[str]:
    lines: list[str] = []
    add = lines.append
    now = summary(section["now"])
    before = summary(section["before"]) if section.get("before") else None
    meta = section["meta"]
    add(f"## What a viewer waits for (issue 15), {common.describe_size(section['n'])}")
    add("")
    add(
        f"{meta['date']}; {meta['machine'].get('nproc')} cores, {meta['machine'].get('cpu')}; "
        f"load average {' / '.join(meta['loadavg_start'])} at the start, "
        f"{' / '.join(meta['loadavg_end'])} at the end. Medians of "
        f"{section['rounds']} rounds (deck: first press, the median of the next two, one more "
        f"with other filters; CLI pptx: median of 2). Filters: FY2024 (links and switches add one state each round)."
    )
    add("")
    if before:
        add(f"| step | before ({section['baseline']}) | now | now / before | target |")
        add("|---|---|---|---|---|")
    else:
        add("| step | now | target |")
        add("|---|---|---|")
    for key, label in ROWS:
        target = TARGETS.get(key)
        value = now.get(key)
        verdict = common.verdict(value, target) if target is not None else ""
        tgt = f"≤ {_fmt(key, target)} {verdict}" if target is not None else ""
        if key == "apptest_filter_change_s" and now.get("apptest_worst_page"):
            label += f" ({now['apptest_worst_page']})"
        if before:
            old = before.get(key)
            ratio = f"{value / old:.2f}" if value and old else "–"
            add(f"| {label} | {_fmt(key, old)} | {_fmt(key, value)} | {ratio} | {tgt} |")
        else:
            add(f"| {label} | {_fmt(key, value)} | {tgt} |")
    add("")
    app_now = now.get("apptest_per_page_s") or {}
    if app_now:
        app_before = (before or {}).get("apptest_per_page_s") or {}
        add("Server-side rerun after a filter change (AppTest), median per page:")
        add("")
        add("| page | " + ("before | " if app_before else "") + "now |")
        add("|---|" + ("---|" if app_before else "") + "---|")
        for page, value in app_now.items():
            old = f"{ms(app_before.get(page))} | " if app_before else ""
            add(f"| {page} | {old}{ms(value)} |")
        add("")
    browser = section["now"].get("browser") or {}
    if browser.get("browser_ms_per_chart"):
        per = browser["browser_ms_per_chart"]
        add(
            "Chrome's own time per chart redrawn after a filter change (Performance.getMetrics, "
            f"Overview, {browser.get('charts_on_overview')} charts): scripting "
            f"{per['ScriptDuration']:.0f} ms, layout {per['LayoutDuration']:.0f} ms, style "
            f"{per['RecalcStyleDuration']:.0f} ms, all main-thread tasks {per['TaskDuration']:.0f} ms."
        )
        add("")
        switches = browser.get("page_switch_s") or {}
        if switches:
            add(
                "Page switches, median per page: "
                + ", ".join(f"{name} {ms(median(v))}" for name, v in switches.items())
                + "."
            )
            add("")
    floor = section["now"].get("floor")
    if floor:
        add(floor_text(floor))
        add("")
    ws = section["now"].get("websocket")
    if ws:
        add("Websocket bytes of one warm run per page (FY2024), by element kind:")
        add("")
        add("| page | frames | bytes | charts (bytes) | largest kinds | warm rerun |")
        add("|---|---|---|---|---|---|")
        for page, r in ws.items():
            kinds = ", ".join(f"{k} {v / 1000:.1f} kB" for k, v in list(r["by_kind"].items())[:4])
            add(
                f"| {page} | {r['frames']} | {r['bytes'] / 1000:.1f} kB | {r['charts']} "
                f"({r['chart_bytes'] / 1000:.1f} kB) | {kinds} | {ms(r['warm_rerun_s'])} |"
            )
        add("")
    load = section["now"].get("load")
    if load:
        add(
            "Many viewers (`viewers_load.py`: protocol-level sessions, no browsers; Overview). "
            "*new* = every filter change a selection nobody asked for before (every metric and "
            "figure a cache miss); *popular* = the viewers choose among 20 selections (hits after "
            "the first round):"
        )
        add("")
        add(
            "| viewers | filter changes | reruns/s | server cores used | CPU per rerun | "
            "reruns per CPU-second | p50 | p95 | max | errors | empty pages | server RSS |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|---|")
        popular = (section["now"].get("load_popular") or {}).get("levels", [])
        rows = [("new", lv) for lv in load["levels"]] + [("popular", lv) for lv in popular]
        for kind, lv in rows:
            add(
                f"| {lv['viewers']} ({kind}) | {lv['filter_changes']} | {lv['reruns_per_s']:.1f} | "
                f"{lv['server_cores_used']:.2f} | {ms((lv['cpu_ms_per_rerun'] or 0) / 1000)} | "
                f"{lv['reruns_per_cpu_s'] or 0:.1f} | {ms(lv['p50_s'])} | {ms(lv['p95_s'])} | "
                f"{ms(lv['max_s'])} | {lv['error_count']} | {lv.get('empty_selections', 0)} | "
                f"{lv.get('server_rss_mb') or 0:.0f} MB |"
            )
        add("")
    return lines


def run(db: Path, n: int, args, log) -> dict:
    section: dict = {
        "n": n,
        "rounds": args.browser_rounds,
        "meta": {
            "date": common.now(),
            "machine": common.machine_info(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
    }
    if args.baseline:
        with tempfile.TemporaryDirectory(prefix="critac-bench-baseline-") as tmp:
            root = export(args.baseline, Path(tmp) / "project")
            log(f"baseline {args.baseline} in {root}")
            section["baseline"] = args.baseline
            section["before"] = measure(db, root, args, log, load=True)
    section["now"] = measure(db, ROOT, args, log)
    log("  the floor (an empty Streamlit page, Chromium) ...")
    try:
        section["now"]["floor"] = common.run_json(
            [PYTHON, str(BENCH / "floor.py"), "--db", str(db), "--rounds",
             str(args.browser_rounds)],
            timeout=1800,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001
        section["now"]["floor_error"] = repr(exc)[-2000:]
    log("  websocket sizes ...")
    try:
        section["now"]["websocket"] = websocket_sizes(db, ROOT)
    except Exception as exc:  # noqa: BLE001
        section["now"]["websocket_error"] = repr(exc)[-2000:]
    if not args.skip_viewers_load:
        log("  many viewers (protocol-level) ...")
        try:
            section["now"]["load"] = common.run_json(
                [PYTHON, str(BENCH / "viewers_load.py"), "--db", str(db), "--viewers",
                 args.viewers, "--seconds", str(args.viewers_seconds)],
                timeout=3600,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            section["now"]["load_error"] = repr(exc)[-2000:]
        log("  many viewers, popular selections ...")
        try:
            section["now"]["load_popular"] = common.run_json(
                [PYTHON, str(BENCH / "viewers_load.py"), "--db", str(db), "--viewers", "50",
                 "--seconds", str(args.viewers_seconds), "--popular", "20"],
                timeout=3600,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            section["now"]["load_popular_error"] = repr(exc)[-2000:]
    section["meta"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    return section
