"""The benchmark suite in one command; prints a markdown report and writes it to --out.

    python benchmarks/run.py [--sizes 10000,100000,1000000] [--with-10m] [--rounds 7]
                             [--skip-browser] [--out benchmarks/results.md]

Demo databases are built once with ``python -m critac_metrics demo --db PATH --engagements N`` and
kept in --cache-dir (default /tmp/critac-bench-cache), together with the CSV/Parquet files the
import benchmark loads. See docs/benchmarks.md for what every row means.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import pages_workload as workload  # noqa: E402
import viewer_table  # noqa: E402
from common import (  # noqa: E402
    BENCH,
    DEFAULT_CACHE,
    FILTER_LABELS,
    FILTER_SETS,
    PYTHON,
    describe_size,
    median,
    ms,
    verdict,
)

from critac_metrics import db  # noqa: E402

# Targets, in seconds.
PAGE_TARGET_FILTERED = {10_000: 0.015, 100_000: 0.030, 1_000_000: 0.100, 10_000_000: 0.600}
PAGE_TARGET_UNFILTERED = {1_000_000: 0.200}
RERUN_TARGET = 0.300  # every page's server-side rerun at 100k
BROWSER_TARGET = 1.0  # filter change to updated charts at 100k
IMPORT_TARGET = 30.0  # 1M engagements from Parquet
MEMORY_TARGET_MB = 600  # at 1M
FILTERED = ("typical", "state")

STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


def connect(path: Path):
    con = db.connect(path, read_only=True)
    con.execute("set enable_progress_bar = false")
    return con


def rounds_for(n: int, args) -> int:
    if n >= 10_000_000:
        return max(1, min(args.rounds, args.large_rounds, 2))
    if n >= 1_000_000:
        return max(1, min(args.rounds, args.large_rounds))
    return args.rounds


# -- sections ---------------------------------------------------------------------------------------


def bench_metrics(path: Path, n: int, args, results: dict) -> None:
    con = connect(path)
    rounds = rounds_for(n, args)
    out: dict = {"rounds": rounds, "sets": {}, "rows_selected": {}}
    for name, filters in FILTER_SETS.items():
        out["rows_selected"][name] = con.execute(
            "select count(*) from engagement_facts where " + filters.where()[0],  # noqa: S608
            filters.where()[1],
        ).fetchone()[0]
        per_page = {}
        for page in workload.PAGES:
            res = workload.bench_page(con, page, filters, rounds)
            res.pop("_last_statements")
            per_page[page] = res
            log(f"  {describe_size(n)} {name:7s} {page:9s} {ms(res['total'])}")
        out["sets"][name] = per_page
    # What the Report page's "Build" button runs: informational, one cold-ish round.
    try:
        res = workload.bench_page(con, "report_build", FILTER_SETS["typical"], 1, warmup=0)
        res.pop("_last_statements")
        out["report_build"] = res
        log(f"  {describe_size(n)} report_build (typical) {ms(res['total'])}")
    except Exception as exc:  # noqa: BLE001
        out["report_build_error"] = repr(exc)
    # Columns each page scans (from one traced unfiltered round) and their size.
    try:
        sizes = {table: workload.column_bytes(con, table) for table in workload.SCANNED_TABLES}
        scan = {}
        for page in workload.PAGES:
            statements = workload.run_page(con, page, FILTER_SETS["none"])["statements"]
            per_stmt = workload.scanned_columns(con, statements)
            distinct: dict[str, set] = {}
            queried = 0.0
            for cols in per_stmt:
                for table, names in cols.items():
                    if table not in sizes:
                        continue
                    rows, widths = sizes[table]
                    queried += sum(rows * widths.get(c, 8) for c in names)
                    distinct.setdefault(table, set()).update(names)
            distinct_bytes = sum(
                sizes[t][0] * sizes[t][1].get(c, 8) for t, names in distinct.items() for c in names
            )
            scan[page] = {
                "columns": {t: sorted(c) for t, c in distinct.items()},
                "distinct_bytes": distinct_bytes,
                "queried_bytes": queried,
                "statements": len(statements),
            }
        out["scan"] = scan
        out["table_rows"] = {table: rows for table, (rows, _) in sizes.items()}
    except Exception as exc:  # noqa: BLE001
        out["scan_error"] = repr(exc)
    results["metrics"][str(n)] = out
    con.close()


def bench_pandas(path: Path, n: int, args, results: dict) -> None:
    import pandas_baseline as pb

    con = connect(path)
    rounds = rounds_for(n, args)
    base = pb.Baseline(con)
    out: dict = {"read_s": base.read_s, "prep_s": base.prep_s, "rounds": rounds, "sets": {}}
    log(f"  {describe_size(n)} pandas load {base.read_s:.1f} s + prep {base.prep_s:.1f} s")
    for name, filters in FILTER_SETS.items():
        checks = pb.check(con, base, filters)

        def duck_overview(filters=filters):
            workload.run_page(con, "overview", filters, trace=False)

        def duck_core(filters=filters):
            for _, fn in pb.CORE_DUCKDB:
                cursor = con.cursor()
                fn(cursor, filters)
                cursor.close()

        def pandas_overview(filters=filters):
            base.overview_page(filters)

        def pandas_core(filters=filters):
            for _, fn in pb.CORE:
                fn(base, filters)

        row: dict[str, Any] = {"checks": checks}
        for label, fn in (
            ("overview_duckdb", duck_overview),
            ("overview_pandas", pandas_overview),
            ("core_duckdb", duck_core),
            ("core_pandas", pandas_core),
        ):
            fn()  # warm-up
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            row[label] = median(times)
        out["sets"][name] = row
        failed = [k for k, v in checks.items() if v]
        log(
            f"  {describe_size(n)} pandas {name:7s} overview {ms(row['overview_pandas'])} vs "
            f"{ms(row['overview_duckdb'])}; checks {len(checks) - len(failed)}/{len(checks)} equal"
        )
    results["pandas"][str(n)] = out
    base = None  # type: ignore[assignment]  # free the frames before the next size
    gc.collect()
    con.close()


def bench_downloads_and_charts(path: Path, n: int, results: dict, charts: bool) -> None:
    con = connect(path)
    try:
        results["downloads"][str(n)] = workload.download_costs(
            con, FILTER_SETS["none"], excel_max_rows=5000
        )
        log(f"  {describe_size(n)} data-page downloads {results['downloads'][str(n)]}")
        if charts:
            results["charts"] = {
                "n": n,
                "filters": "none",
                **workload.chart_costs(con, FILTER_SETS["none"]),
            }
            log(f"  {describe_size(n)} chart costs measured")
    finally:
        con.close()


def bench_apptest(path: Path, n: int, profile: bool, results: dict) -> None:
    command = [PYTHON, str(BENCH / "apptest_pages.py"), "--db", str(path)]
    if profile:
        command += ["--profile", "--profile-skip", "data"]
    log(f"  {describe_size(n)} AppTest (subprocess) ...")
    results["apptest"][str(n)] = common.run_json(command, timeout=3600)


def bench_memory(path: Path, n: int, results: dict) -> None:
    out = {}
    for page in [*workload.PAGES, "all"]:
        res = common.time_v(
            [
                PYTHON,
                str(BENCH / "pages_workload.py"),
                "--db",
                str(path),
                "--page",
                page,
                "--filters",
                "none",
            ],
            timeout=1800,
        )
        out[page] = {
            "max_rss_mb": res["max_rss_mb"],
            "wall_s": res["wall_s"],
            "ok": res["returncode"] == 0,
        }
        log(f"  {describe_size(n)} fresh process {page}: max RSS {res['max_rss_mb'] or 0:.0f} MB")
    # The baseline of such a process: python + duckdb + pandas + critac_metrics imported.
    res = common.time_v(
        [PYTHON, "-c", "import duckdb, pandas, critac_metrics.metrics, critac_metrics.report"]
    )
    out["_imports_only"] = {"max_rss_mb": res["max_rss_mb"], "wall_s": res["wall_s"], "ok": True}
    results["memory"][str(n)] = out


# -- report -----------------------------------------------------------------------------------------


def _cell(value, target) -> str:
    if value is None:
        return "–"
    text = ms(value)
    if target is None:
        return text
    return f"{text} {verdict(value, target)} (≤ {ms(target)})"


def render(results: dict, args) -> str:
    sizes = [int(s) for s in results["metrics"]]
    meta = results["meta"]
    lines: list[str] = []
    add = lines.append
    add(f"# CRI-TAC dashboard benchmarks ({meta['date']})")
    add("")
    add(
        "One run on a shared, noisy machine: medians over repeated rounds, single figures for "
        "one-off measurements. Other processes were running (load average "
        f"{' / '.join(meta['machine'].get('loadavg_at_start', []))} at the start, "
        f"{' / '.join(meta.get('loadavg_at_end', []))} at the end)."
    )
    add("")
    m = meta["machine"]
    v = meta["versions"]
    add(
        f"**Machine:** {m.get('nproc')} cores, {m.get('memory_gib')} GiB, {m.get('cpu')}; "
        f"{m.get('platform')}. **Memory bandwidth** (numpy copy, single thread, bytes read + "
        f"written): best {meta['bandwidth']['best_gb_s']:.1f} GB/s, median "
        f"{meta['bandwidth']['median_gb_s']:.1f} GB/s."
    )
    add("")
    add("**Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items()))
    add("")
    rounds = int(meta["args"].get("rounds", args.rounds))
    large = int(meta["args"].get("large_rounds", args.large_rounds))
    add(
        f"Rounds: {rounds} (after one warm-up round) below 1M, "
        f"{min(rounds, large)} at 1M. Filter sets: "
        + "; ".join(f"**{k}** = {FILTER_LABELS[k]}" for k in FILTER_SETS)
        + ". Total run time "
        f"{meta.get('run_s', 0) / 60:.1f} min."
    )
    add("")

    # -- summary of targets
    add("## Targets")
    add("")
    add("| target | measured | result |")
    add("|---|---|---|")
    for n in sizes:
        target = PAGE_TARGET_FILTERED.get(n)
        sets = results["metrics"][str(n)]["sets"]
        vals = [(sets[f][p]["total"], p, f) for f in FILTERED for p in sets[f]]
        if target is None or not vals:
            continue
        worst: tuple[Any, ...] = max(vals)
        passing = sum(1 for t, _, _ in vals if t <= target)
        add(
            f"| page's worth of metrics with filters, warm, {describe_size(n)} ≤ {ms(target)} "
            f"| slowest {worst[1]} ({worst[2]}) {ms(worst[0])}; {passing}/{len(vals)} page × "
            f"filter runs within | {verdict(worst[0], target)} |"
        )
    for n, target in PAGE_TARGET_UNFILTERED.items():
        if str(n) in results["metrics"]:
            sets = results["metrics"][str(n)]["sets"]["none"]
            worst = max((r["total"], p) for p, r in sets.items())
            passing = sum(1 for r in sets.values() if r["total"] <= target)
            add(
                f"| page's worth of metrics, no filters, warm, {describe_size(n)} ≤ {ms(target)} "
                f"| slowest {worst[1]} {ms(worst[0])}; {passing}/{len(sets)} pages within "
                f"| {verdict(worst[0], target)} |"
            )
    app = results["apptest"].get("100000")
    if app:
        for key, label in (
            ("warm_s", "server-side rerun (AppTest, nothing changed)"),
            ("filter_change_s", "server-side rerun after a filter change (AppTest)"),
        ):
            worst = max((r[key], p) for p, r in app["pages"].items())
            passing = sum(1 for r in app["pages"].values() if r[key] <= RERUN_TARGET)
            add(
                f"| every page's {label}, 100k ≤ {ms(RERUN_TARGET)} | slowest {worst[1]} "
                f"{ms(worst[0])}; {passing}/{len(app['pages'])} pages within "
                f"| {verdict(worst[0], RERUN_TARGET)} |"
            )
    br = results.get("browser")
    if br and "multiselect_charts_median_s" in br:
        add(
            f"| filter change to updated charts in Chromium, 100k ≤ {ms(BROWSER_TARGET)} "
            f"| multiselect: KPI {ms(br['multiselect_kpi_median_s'])}, all charts "
            f"{ms(br['multiselect_charts_median_s'])}; new URL: charts "
            f"{ms(br['url_charts_median_s'])} | {verdict(br['multiselect_charts_median_s'], BROWSER_TARGET)} |"
        )
    imp = results["imports"].get("1000000")
    if imp and "parquet" in imp:
        add(
            f"| import 1M engagements (+{imp['files']['rows']['survey_responses']:,} responses) "
            f"from Parquet ≤ {IMPORT_TARGET:.0f} s | {imp['parquet']['wall_s']:.1f} s "
            f"(CSV {imp['csv']['wall_s']:.1f} s) | {verdict(imp['parquet']['wall_s'], IMPORT_TARGET)} |"
        )
        rss = max(imp[f]["max_rss_mb"] or 0 for f in ("csv", "parquet"))
        add(
            f"| peak memory of the 1M import ≤ {MEMORY_TARGET_MB} MB | Parquet "
            f"{imp['parquet']['max_rss_mb']:.0f} MB, CSV {imp['csv']['max_rss_mb']:.0f} MB "
            f"| {verdict(rss, MEMORY_TARGET_MB)} |"
        )
    mem = results["memory"].get("1000000")
    if mem:
        pages = {p: r for p, r in mem.items() if not p.startswith("_") and p != "all"}
        worst = max((r["max_rss_mb"] or 0, p) for p, r in pages.items())
        add(
            f"| peak memory of a page's worth of metrics at 1M (fresh process, no filters) ≤ "
            f"{MEMORY_TARGET_MB} MB | largest {worst[1]} {worst[0]:.0f} MB | "
            f"{verdict(worst[0], MEMORY_TARGET_MB)} |"
        )
    add("")

    if results.get("viewer"):
        lines.extend(viewer_table.render(results["viewer"]))
        add("")

    # -- page's worth of metrics
    add("## Page's worth of metrics (DuckDB, warm, one connection, a cursor per metric call)")
    add("")
    add(
        "Median wall time of all the metric calls a page makes (see benchmarks/pages_workload.py), "
        "called directly (no Streamlit cache). *calls/SQL* = metric calls / SQL statements run."
    )
    add("")
    add("| page | filters | calls/SQL | " + " | ".join(describe_size(n) for n in sizes) + " |")
    add("|---|---|---|" + "---|" * len(sizes))
    first = results["metrics"][str(sizes[0])]["sets"]
    for page in workload.PAGES:
        for fs in FILTER_SETS:
            cells = []
            for n in sizes:
                r = results["metrics"][str(n)]["sets"][fs][page]
                target = (
                    PAGE_TARGET_FILTERED.get(n) if fs in FILTERED else PAGE_TARGET_UNFILTERED.get(n)
                )
                cells.append(_cell(r["total"], target))
            stats = first[fs][page]
            add(
                f"| {page} | {fs} | {stats['n_calls']}/{stats['n_statements']} | "
                + " | ".join(cells)
                + " |"
            )
    rb = [(n, results["metrics"][str(n)].get("report_build")) for n in sizes]
    if any(r for _, r in rb):
        add(
            "| *report build (button; queries + figures; 1 round)* | typical | – | "
            + " | ".join(ms(r["total"]) if r else "–" for _, r in rb)
            + " |"
        )
    add("")
    add(
        "Rows selected (requests): "
        + "; ".join(
            f"{describe_size(n)}: "
            + ", ".join(
                f"{fs} {c:,}" for fs, c in results["metrics"][str(n)]["rows_selected"].items()
            )
            for n in sizes
        )
        + "."
    )
    add("")

    # -- pandas
    if results["pandas"]:
        add("## pandas baseline vs DuckDB")
        add("")
        add(
            "pandas: the three tables loaded once (load + prep below, not in the per-call times), "
            "then a mask and groupby per call (benchmarks/pandas_baseline.py). *overview* = the "
            "overview page's calls (the same as views/overview.py); *core* = headline, breakdown(topic), breakdown(agency_type), "
            "volume_series(month), item_outcomes(post). *checks* = figures compared equal "
            "(headline, positive outcome, breakdowns by topic/agency type/state, volume series by "
            "month and FY, item outcomes both waves, KPIs with comparison and sparklines, cumulative, "
            "milestones, by state)."
        )
        add("")
        add(
            "| N | filters | overview DuckDB | overview pandas | pandas/DuckDB | core DuckDB "
            "| core pandas | pandas/DuckDB | checks equal |"
        )
        add("|---|---|---|---|---|---|---|---|---|")
        for n_text, out in results["pandas"].items():
            for fs, row in out["sets"].items():
                failed = [k for k, val in row["checks"].items() if val]
                checks = f"{len(row['checks']) - len(failed)}/{len(row['checks'])}"
                if failed:
                    checks += " (differ: " + ", ".join(failed) + ")"
                add(
                    f"| {describe_size(int(n_text))} | {fs} | {ms(row['overview_duckdb'])} | "
                    f"{ms(row['overview_pandas'])} | "
                    f"{row['overview_pandas'] / row['overview_duckdb']:.2f} | "
                    f"{ms(row['core_duckdb'])} | {ms(row['core_pandas'])} | "
                    f"{row['core_pandas'] / row['core_duckdb']:.2f} | {checks} |"
                )
        add("")
        add(
            "pandas load (read the three tables from DuckDB) + prep (join, flags, topic table): "
            + "; ".join(
                f"{describe_size(int(k))} {o['read_s']:.1f} s + {o['prep_s']:.1f} s"
                for k, o in results["pandas"].items()
            )
            + "."
        )
        add("")
        for k, val in results["pandas"].items():
            for fs, row in val["sets"].items():
                for name, problem in row["checks"].items():
                    if problem:
                        add(f"- {describe_size(int(k))} {fs} {name}: {problem}")

    # -- AppTest
    if results["apptest"]:
        add("## Server-side page runs (AppTest)")
        add("")
        add(
            "Per page: *cold* = first run with empty st.cache_data/cache_resource (modules already "
            "imported); *warm* = rerun, nothing changed (all metrics cached: drawing only); *filter "
            f"change* = rerun with new filters via the URL (typical set; metrics miss the cache). "
            f"Target for reruns at 100k: ≤ {ms(RERUN_TARGET)}."
        )
        add("")
        add("| page | N | cold | warm rerun | filter-change rerun | charts | exceptions |")
        add("|---|---|---|---|---|---|---|")
        for n_text, out in results["apptest"].items():
            n = int(n_text)
            target = RERUN_TARGET if n == 100_000 else None
            for page, row in out["pages"].items():
                add(
                    f"| {page} | {describe_size(n)} | {ms(row['cold_s'])} | "
                    f"{_cell(row['warm_s'], target)} | {_cell(row['filter_change_s'], target)} | "
                    f"{row['charts']} | {len(row['exceptions'])} |"
                )
        add("")
        add(
            "First run in a fresh process (imports included): "
            + "; ".join(
                f"{describe_size(int(k))} {ms(o['first_run_in_process_s'])} "
                f"(+ {ms(o['import_streamlit_s'])} to import streamlit)"
                for k, o in results["apptest"].items()
            )
            + "."
        )
        add("")

    # -- browser
    if br:
        add(
            "## Browser: filter change to updated charts (headless Chromium, 100k, Overview, FY2024)"
        )
        add("")
        if "error" in br:
            add(f"Failed: {br['error']}")
        else:
            add("| measure | median | rounds | target |")
            add("|---|---|---|---|")
            add(f"| cold load: first KPI | {ms(br['cold_first_kpi_s'])} | 1 | |")
            add(
                f"| cold load: all {br['charts_on_page']} charts drawn | {ms(br['cold_charts_s'])} | 1 | |"
            )
            add(
                f"| Agency types multiselect → first KPI changed | {ms(br['multiselect_kpi_median_s'])} "
                f"| {', '.join(ms(x) for x in br['multiselect_kpi_s'])} | |"
            )
            add(
                f"| Agency types multiselect → all charts re-rendered, run finished | "
                f"{ms(br['multiselect_charts_median_s'])} | "
                f"{', '.join(ms(x) for x in br['multiselect_charts_s'])} | "
                f"≤ {ms(BROWSER_TARGET)} {verdict(br['multiselect_charts_median_s'], BROWSER_TARGET)} |"
            )
            add(
                f"| new URL (other state) → first KPI | {ms(br['url_kpi_median_s'])} | "
                f"{', '.join(ms(x) for x in br['url_kpi_s'])} | |"
            )
            add(
                f"| new URL (other state) → all charts drawn, run finished | "
                f"{ms(br['url_charts_median_s'])} | {', '.join(ms(x) for x in br['url_charts_s'])} "
                f"| ≤ {ms(BROWSER_TARGET)} {verdict(br['url_charts_median_s'], BROWSER_TARGET)} |"
            )
        add("")

    # -- imports
    if results["imports"]:
        add("## Import (`python -m critac_metrics ingest`, subprocess, `/usr/bin/time -v`)")
        add("")
        add("| engagements | responses | format | files | wall | max RSS | database | target |")
        add("|---|---|---|---|---|---|---|---|")
        for n_text, row in results["imports"].items():
            n = int(n_text)
            for fmt in ("csv", "parquet"):
                if fmt not in row:
                    continue
                r = row[fmt]
                target_text = ""
                if n == 1_000_000:
                    parts = [
                        f"RSS ≤ {MEMORY_TARGET_MB} MB {verdict(r['max_rss_mb'], MEMORY_TARGET_MB)}"
                    ]
                    if fmt == "parquet":
                        parts.insert(
                            0, f"≤ {IMPORT_TARGET:.0f} s {verdict(r['wall_s'], IMPORT_TARGET)}"
                        )
                    target_text = "; ".join(parts)
                add(
                    f"| {n:,} | {row['files']['rows']['survey_responses']:,} | {fmt} | "
                    f"{row['files']['bytes'][fmt] / 1e6:.1f} MB | {r['wall_s']:.1f} s | "
                    f"{(r['max_rss_mb'] or 0):.0f} MB | "
                    f"{(r['db_bytes'] or 0) / 1e6:.1f} MB | {target_text}{'' if r['ok'] else ' FAILED'} |"
                )
        add("")

    # -- memory
    for n_text, mem in results["memory"].items():
        add(
            f"## Peak memory of a page's worth of metrics, {describe_size(int(n_text))}, fresh process"
        )
        add("")
        add(
            "`/usr/bin/time -v python benchmarks/pages_workload.py --page P --filters none`: open the "
            "database, run the page's metrics once. *all* = every page in one process."
        )
        add("")
        add("| page | max RSS | wall | target |")
        add("|---|---|---|---|")
        for page, r in mem.items():
            label = "(imports only)" if page == "_imports_only" else page
            target_text = (
                ""
                if page.startswith("_")
                else (f"≤ {MEMORY_TARGET_MB} MB {verdict(r['max_rss_mb'], MEMORY_TARGET_MB)}")
            )
            add(
                f"| {label} | {(r['max_rss_mb'] or 0):.0f} MB | {r['wall_s']:.1f} s | {target_text} |"
            )
        add("")

    # -- scan bound
    add("## Memory-bandwidth lower bound (no filters)")
    add("")
    bw = meta["bandwidth"]["best_gb_s"] * 1e9
    add(
        f"Bytes = rows × width of each column the page's SQL reads (from `EXPLAIN (FORMAT JSON)` "
        f"scan projections and filters), in DuckDB's in-memory vector format (BOOLEAN 1, DATE 4, "
        f"BIGINT 8, VARCHAR 16 + characters beyond 12, lists 16 + elements). *distinct* = each "
        f"column once (one pass over the data); *as queried* = summed over the page's statements. "
        f"Bound = bytes / {bw / 1e9:.1f} GB/s (best single-thread copy bandwidth)."
    )
    add("")
    add(
        "| page | N | columns read | distinct | bound | as queried | bound | measured | measured / distinct bound |"
    )
    add("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        scan = results["metrics"][str(n)].get("scan") or {}
        for page, s in scan.items():
            measured = results["metrics"][str(n)]["sets"]["none"][page]["total"]
            cols = s["columns"]
            colstext = ", ".join(f"{table} {len(names)}" for table, names in sorted(cols.items()))
            add(
                f"| {page} | {describe_size(n)} | {colstext} | {s['distinct_bytes'] / 1e6:.1f} MB | "
                f"{ms(s['distinct_bytes'] / bw)} | {s['queried_bytes'] / 1e6:.1f} MB | "
                f"{ms(s['queried_bytes'] / bw)} | {ms(measured)} | "
                f"{measured / (s['distinct_bytes'] / bw):,.0f}× |"
            )
    add("")

    # -- where the time goes
    big = str(sizes[-1])
    sets = results["metrics"][big]["sets"]
    add(f"## Where the time goes at {describe_size(int(big))}: per metric call (median)")
    add("")
    for page in workload.PAGES:
        order = sets["none"][page]["call_order"] or sets["typical"][page]["call_order"]
        add(f"**{page}**")
        add("")
        add("| metric call | " + " | ".join(FILTER_SETS) + " |")
        add("|---|" + "---|" * len(FILTER_SETS))
        for label in order:
            add(
                f"| {label} | "
                + " | ".join(ms(sets[fs][page]["calls"].get(label)) for fs in FILTER_SETS)
                + " |"
            )
        add(
            "| **total** | "
            + " | ".join(f"**{ms(sets[fs][page]['total'])}**" for fs in FILTER_SETS)
            + " |"
        )
        add("")
    add(
        f"### SQL statements at {describe_size(int(big))} (median per statement chain, summed per page)"
    )
    add("")
    add("| page | statement (call chain in metrics.py) | " + " | ".join(FILTER_SETS) + " |")
    add("|---|---|" + "---|" * len(FILTER_SETS))
    for page in workload.PAGES:
        chains = sorted(
            set().union(*(sets[fs][page]["statements"] for fs in FILTER_SETS)),
            key=lambda c: -max(sets[fs][page]["statements"].get(c, 0) for fs in FILTER_SETS),
        )
        for chain in chains:
            add(
                f"| {page} | `{chain}` | "
                + " | ".join(ms(sets[fs][page]["statements"].get(chain)) for fs in FILTER_SETS)
                + " |"
            )
    add("")

    # -- drawing side
    charts = results.get("charts")
    if charts:
        add(
            f"## Drawing: chart builders at {describe_size(charts['n'])} (no filters, median of 3; "
            "queries not included)"
        )
        add("")
        add("| page:chart | build figure | fig.to_json() | CSV under the chart |")
        add("|---|---|---|---|")
        for key, r in charts.items():
            if isinstance(r, dict):
                add(f"| {key} | {ms(r['build_s'])} | {ms(r['to_json_s'])} | {ms(r['csv_s'])} |")
        add("")
    for n_text, out in results["apptest"].items():
        profiled = {p: r["profile"] for p, r in out["pages"].items() if "profile" in r}
        if not profiled:
            continue
        add(
            f"## Server-side rerun profile at {describe_size(int(n_text))} (cProfile self time by where the code lives)"
        )
        add("")
        add(
            "cProfile inflates Python-heavy code (plotly validation) more than C code; read it as shares."
        )
        add("")
        add("| page | rerun | wall (profiled) | top buckets |")
        add("|---|---|---|---|")
        for page, prof in profiled.items():
            for kind, p in prof.items():
                top = ", ".join(f"{k} {ms(val)}" for k, val in list(p["buckets"].items())[:5])
                add(f"| {page} | {kind} | {ms(p['wall_s'])} | {top} |")
        add("")
        add("Top app functions by cumulative time (warm rerun):")
        add("")
        for page, prof in profiled.items():
            top = ", ".join(
                f"`{name}` {ms(cum)}"
                for name, cum in prof["warm"]["top_project_functions"][:6]
                if not name.startswith("views/")
            )
            add(f"- {page}: {top}")
        add("")
    if results["downloads"]:
        add("## Data page: download bytes built on every run (no filters)")
        add("")
        add("| N | rows | CSV bytes | Excel bytes (timed rows) | Excel, all rows (extrapolated) |")
        add("|---|---|---|---|---|")
        for n_text, d in results["downloads"].items():
            add(
                f"| {describe_size(int(n_text))} | {d['rows']:,} | {ms(d['csv_s'])} | "
                f"{ms(d['excel_s'])} ({d['excel_rows_timed']:,}) | {ms(d['excel_s_extrapolated'])} |"
            )
        add("")
    if results["errors"]:
        add("## Errors")
        add("")
        for e in results["errors"]:
            add(f"- {e}")
        add("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--with-10m", action="store_true", help="add 10,000,000 engagements")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--large-rounds", type=int, default=3, help="rounds at 1M (and ≤ 2 at 10M)")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-apptest", action="store_true")
    parser.add_argument("--skip-imports", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--apptest-sizes", default="10000,100000")
    parser.add_argument("--import-sizes", default="10000,100000,1000000")
    parser.add_argument("--pandas-max", type=int, default=1_000_000, help="largest N for pandas")
    parser.add_argument("--browser-rounds", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    parser.add_argument(
        "--viewer-only",
        action="store_true",
        help="only the table of what a viewer waits for (issue 15), at --viewer-size; "
        "writes benchmarks/viewer_results.md (+ .json) unless --out is given",
    )
    parser.add_argument("--skip-viewer", action="store_true", help="leave that table out")
    parser.add_argument("--viewer-size", type=int, default=100_000)
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure that table on `git archive REV` first (before/after in one run)",
    )
    parser.add_argument("--skip-viewers-load", action="store_true", help="no many-viewers load")
    parser.add_argument("--viewers", default="20,50,100", help="concurrent viewers per level")
    parser.add_argument("--viewers-seconds", type=float, default=60, help="per level")
    parser.add_argument(
        "--render-only",
        type=Path,
        metavar="JSON",
        help="rewrite the markdown from a saved results .json (no measuring)",
    )
    args = parser.parse_args()
    if args.render_only:
        saved = json.loads(args.render_only.read_text())
        if "metrics" not in saved:  # a --viewer-only run
            report = "\n".join(viewer_table.render(saved["viewer"]))
            args.out.write_text(report + "\n", encoding="utf-8")
            print(report)
            return
        report = render(saved, args)
        args.out.write_text(report + "\n", encoding="utf-8")
        print(report)
        return

    if args.viewer_only:
        if args.out == BENCH / "results.md":  # keep the full run's report
            args.out = BENCH / "viewer_results.md"
        path = common.demo_db(args.cache_dir, args.viewer_size, log=log)
        section = viewer_table.run(path, args.viewer_size, args, log)
        section["versions"] = common.versions()
        report = "\n".join(viewer_table.render(section))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps({"viewer": section}, indent=1,
                                                            default=str))  # fmt: skip
        print(report)
        log(f"done in {(time.perf_counter() - STARTED) / 60:.1f} min; wrote {args.out}")
        return

    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    if args.with_10m:
        sizes.append(10_000_000)
    results: dict = {
        "meta": {
            "date": common.now(),
            "machine": common.machine_info(),
            "versions": common.versions(),
            "args": {k: str(v) for k, v in vars(args).items()},
        },
        "metrics": {},
        "pandas": {},
        "apptest": {},
        "browser": None,
        "imports": {},
        "memory": {},
        "downloads": {},
        "charts": None,
        "errors": [],
    }

    def guarded(label: str, fn, *a) -> None:
        try:
            fn(*a)
        except Exception as exc:  # noqa: BLE001 - record and carry on with the other sections
            log(f"{label} FAILED: {exc!r}")
            results["errors"].append(f"{label}: {exc!r}")
            traceback.print_exc(file=sys.stderr)

    log("memory bandwidth ...")
    results["meta"]["bandwidth"] = common.memory_bandwidth()
    paths = {}
    for n in sizes:
        paths[n] = common.demo_db(args.cache_dir, n, log=log)

    for n in sizes:
        log(f"metrics at {describe_size(n)} ({rounds_for(n, args)} rounds)")
        guarded(f"metrics {n}", bench_metrics, paths[n], n, args, results)
        if not args.skip_pandas and n <= args.pandas_max:
            log(f"pandas baseline at {describe_size(n)}")
            guarded(f"pandas {n}", bench_pandas, paths[n], n, args, results)
        if n <= 100_000:
            guarded(
                f"downloads {n}",
                bench_downloads_and_charts,
                paths[n],
                n,
                results,
                n == max(s for s in sizes if s <= 100_000),
            )

    if not args.skip_apptest:
        app_sizes = [n for n in sizes if str(n) in args.apptest_sizes.split(",")]
        for n in app_sizes:
            log(f"AppTest at {describe_size(n)}")
            guarded(f"apptest {n}", bench_apptest, paths[n], n, n == max(app_sizes), results)

    if not args.skip_browser:
        target = 100_000 if 100_000 in sizes else max(n for n in sizes if n <= 100_000)
        log(f"browser at {describe_size(target)}")
        try:
            results["browser"] = common.run_json(
                [PYTHON, str(BENCH / "browser.py"), "--db", str(paths[target]),
                 "--rounds", str(args.browser_rounds)],
                timeout=1200,
            )  # fmt: skip
            results["browser"]["n"] = target
        except Exception as exc:  # noqa: BLE001
            results["browser"] = {"error": repr(exc)[-2000:]}
            results["errors"].append(f"browser: {exc!r}"[:2000])

    if not args.skip_imports:
        import_sizes = [n for n in (int(s) for s in args.import_sizes.split(",")) if n in sizes]
        if import_sizes:
            log(f"imports at {', '.join(describe_size(n) for n in import_sizes)}")
            try:
                results["imports"] = common.run_json(
                    [PYTHON, str(BENCH / "imports.py"), "--cache-dir", str(args.cache_dir),
                     "--sizes", ",".join(map(str, import_sizes))],
                    timeout=3600,
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001
                results["errors"].append(f"imports: {exc!r}"[:2000])

    if not args.skip_memory:
        for n in [s for s in sizes if s >= 1_000_000][:1]:
            log(f"peak memory at {describe_size(n)}")
            guarded(f"memory {n}", bench_memory, paths[n], n, results)

    if not args.skip_viewer and args.viewer_size in paths:
        log(f"what a viewer waits for at {describe_size(args.viewer_size)}")
        try:
            results["viewer"] = viewer_table.run(
                paths[args.viewer_size], args.viewer_size, args, log
            )
        except Exception as exc:  # noqa: BLE001
            results["errors"].append(f"viewer: {exc!r}"[:2000])

    results["meta"]["loadavg_at_end"] = common.machine_info().get("loadavg_at_start", [])
    results["meta"]["run_s"] = time.perf_counter() - STARTED
    report = render(results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    print(report)
    log(f"done in {(time.perf_counter() - STARTED) / 60:.1f} min; wrote {args.out}")


if __name__ == "__main__":
    main()
