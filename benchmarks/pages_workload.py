"""The metric calls behind each dashboard page, run directly on the library (no Streamlit cache).

Each page function below makes exactly the ``data.metric(...)`` calls its file in ``views/`` makes on a
first visit with the default widget values (grain = fiscal year, wave = post, item = satisfaction,
empty searches), including the early exit when the selection is empty. Every metric call gets a fresh
``cursor()`` of one read-only connection, as ``dashboard/data.py`` does.

Queries are traced: a thin wrapper around the cursor times every SQL statement a metric runs (including
the ones nested inside e.g. ``kpis_with_comparison``) and names it by its call chain inside
``critac_metrics.metrics`` (its functions live in ``critac_metrics.queries``). The wrapper adds a few microseconds per statement.

Run on its own (a fresh process, for peak memory):
    python benchmarks/pages_workload.py --db PATH [--page overview|...|all] [--filters none] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FILTER_SETS, median  # noqa: E402

from critac_metrics import charts, db, metrics, queries, report, schema  # noqa: E402
from critac_metrics.filters import Filters  # noqa: E402

# -- tracing ----------------------------------------------------------------------------------------

_METRICS_PACKAGE = queries.__name__ + "."  # the modules behind critac_metrics.metrics


def _chain() -> str:
    """Names of the critac_metrics.metrics functions on the stack, outermost first."""
    names = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(_METRICS_PACKAGE) and frame.f_code.co_name not in (
            "query",
            "_fetch",
        ):
            names.append(frame.f_code.co_name)
        frame = frame.f_back
    return ">".join(reversed(names)) or "(outside metrics)"


class _Pending:
    def __init__(self, owner: TracingCursor, sql: str, params, chain: str, started: float):
        self._owner, self._sql, self._params, self._chain, self._started = (
            owner,
            sql,
            params,
            chain,
            started,
        )

    def _finish(self, value):
        self._owner.log.append(
            {
                "chain": self._chain,
                "seconds": time.perf_counter() - self._started,
                "sql": self._sql,
                "params": self._params,
            }
        )
        return value

    def df(self):
        return self._finish(self._owner.cursor.df())

    def fetchone(self):
        return self._finish(self._owner.cursor.fetchone())

    def fetchall(self):
        return self._finish(self._owner.cursor.fetchall())

    def fetchdf(self):
        return self._finish(self._owner.cursor.fetchdf())


class TracingCursor:
    """Wraps a DuckDB cursor; ``execute(...).df()/.fetchone()/.fetchall()`` are timed end to end."""

    def __init__(self, cursor, log: list):
        self.cursor = cursor
        self.log = log

    def execute(self, sql: str, params=None):
        chain = _chain()
        started = time.perf_counter()
        self.cursor.execute(sql, params if params is not None else [])
        return _Pending(self, sql, params, chain, started)

    def __getattr__(self, name):
        return getattr(self.cursor, name)


# -- the pages --------------------------------------------------------------------------------------


class Caller:
    """``call(label, metric_name, **kwargs)``: one metric on a fresh cursor, timed."""

    def __init__(self, con, filters: Filters, trace: bool = True):
        self.con, self.filters, self.trace = con, filters, trace
        self.calls: list[tuple[str, float]] = []
        self.statements: list[dict] = []

    def __call__(self, label: str, name: str | Callable, **kwargs):
        fn = getattr(metrics, name) if isinstance(name, str) else name
        started = time.perf_counter()
        cursor = self.con.cursor()
        try:
            target = TracingCursor(cursor, self.statements) if self.trace else cursor
            result = fn(target, self.filters, **kwargs)
        finally:
            cursor.close()
        self.calls.append((label, time.perf_counter() - started))
        return result


def overview(call: Caller) -> None:
    if not call("has_requests", "has_requests"):
        return
    call("kpis_with_comparison", "kpis_with_comparison")  # carries the positive outcome's n
    call("volume_series(fiscal_year)", "volume_series", grain="fiscal_year")
    call("cumulative_engagements", "cumulative_engagements")
    call("milestones", "milestones")
    call("breakdown(topic)", "breakdown", dimension="topic")
    call("engagements_by_state", "engagements_by_state")


def topics(call: Caller) -> None:
    by_topic = call("breakdown(topic)", "breakdown", dimension="topic")
    if by_topic.empty:
        return
    ranked = list(by_topic["topic"])
    compare = [t for t in call.filters.topics if t in ranked] or ranked[:5]
    call(
        "series_by(fiscal_year, topic)",
        "series_by",
        grain="fiscal_year",
        dimension="topic",
        only=tuple(compare),
    )
    call("topic_by_agency_type", "topic_by_agency_type")
    call("outcomes_by(topic, satisfaction)", "outcomes_by", by="topic", item=schema.SURVEY_ITEMS[0])


def agencies(call: Caller) -> None:
    reach = call("reach", "reach")
    if reach["agencies_served"] == 0:
        return
    call("breakdown(agency_type)", "breakdown", dimension="agency_type")
    call("breakdown(size_band)", "breakdown", dimension="size_band")
    call("first_time_vs_repeat", "first_time_vs_repeat")
    call("engagements_by_state", "engagements_by_state")
    call("agency_table", "agency_table", search="")


def outcomes(call: Caller) -> None:
    head = call("headline", "headline")
    if head["engagements"] == 0:
        return
    call("post_vs_follow_up", "post_vs_follow_up")  # the page takes item_outcomes(post) from it
    call(
        "outcomes_by(topic, post, satisfaction)",
        "outcomes_by",
        by="topic",
        wave="post",
        item=schema.SURVEY_ITEMS[0],
    )
    call("comments", "comments", search="")


def pipeline(call: Caller) -> None:
    funnel = call("status_funnel", "status_funnel")
    if funnel["requests"].iloc[0] == 0:
        return
    call("timeliness(assistance_type)", "timeliness", by="assistance_type")
    call("backlog_series", "backlog_series")


def data_page(call: Caller) -> None:
    # The page shows the first 1,000 rows and a count; the downloads are built only on a click.
    call("headline", "headline")
    call("filtered_engagements(limit 1000)", "filtered_engagements", limit=1000)


def report_build(call: Caller) -> None:
    """Not a page render: what the Report page's "Build the report" button runs (metrics + figures)."""
    call("report.collect(all sections)", lambda con, filters: report.collect(con, filters))


PAGES: dict[str, Callable[[Caller], None]] = {
    "overview": overview,
    "topics": topics,
    "agencies": agencies,
    "outcomes": outcomes,
    "pipeline": pipeline,
    "data": data_page,
}
EXTRA_WORKLOADS = {"report_build": report_build}


def run_page(con, page: str, filters: Filters, trace: bool = True) -> dict:
    fn = PAGES.get(page) or EXTRA_WORKLOADS[page]
    call = Caller(con, filters, trace=trace)
    started = time.perf_counter()
    fn(call)
    total = time.perf_counter() - started
    return {"total": total, "calls": call.calls, "statements": call.statements}


def bench_page(con, page: str, filters: Filters, rounds: int, warmup: int = 1) -> dict:
    """Median page total and per-call / per-statement medians over ``rounds`` warm rounds."""
    for _ in range(warmup):
        run_page(con, page, filters)
    totals, per_call, per_chain = [], defaultdict(list), defaultdict(list)
    last: dict[str, Any] = {}
    for _ in range(rounds):
        last = run_page(con, page, filters)
        totals.append(last["total"])
        sums: defaultdict[str, float] = defaultdict(float)
        for label, seconds in last["calls"]:
            sums[label] += seconds
        for label, seconds in sums.items():
            per_call[label].append(seconds)
        chains: defaultdict[str, float] = defaultdict(float)
        for st in last["statements"]:
            chains[st["chain"]] += st["seconds"]
        for chain, seconds in chains.items():
            per_chain[chain].append(seconds)
    return {
        "total": median(totals),
        "totals": totals,
        "calls": {k: median(v) for k, v in per_call.items()},
        "call_order": list(dict.fromkeys(label for label, _ in last["calls"])),
        "statements": {k: median(v) for k, v in per_chain.items()},
        "n_statements": len(last["statements"]),
        "n_calls": len(last["calls"]),
        "_last_statements": last["statements"],
    }


def download_costs(con, filters: Filters, excel_max_rows: int = 20_000) -> dict:
    """What the Data page does besides the query on every run: CSV and Excel bytes of the rows."""
    from critac_metrics import downloads

    rows = metrics.filtered_engagements(con.cursor(), filters)
    out: dict[str, float] = {"rows": len(rows)}
    started = time.perf_counter()
    downloads.csv_bytes(rows)
    out["csv_s"] = time.perf_counter() - started
    sample = rows.head(excel_max_rows)
    started = time.perf_counter()
    downloads.excel_bytes(sample, "engagements")
    seconds = time.perf_counter() - started
    out["excel_rows_timed"] = len(sample)
    out["excel_s"] = seconds
    out["excel_s_per_1k_rows"] = seconds / max(len(sample), 1) * 1000
    out["excel_s_extrapolated"] = seconds / max(len(sample), 1) * len(rows)
    return out


# -- the drawing side of a page: chart builders, their JSON, the CSV under each chart -------------


def _compare(m):
    return tuple(m("breakdown", dimension="topic")["topic"][:5])


# page -> (chart, f(m) -> (figure, the table show.chart turns into CSV)); m(name, **kwargs) is a metric.
CHARTS = {
    "overview": (
        ("volume_trend", lambda m: _fig_table(charts.volume_trend, m("volume_series", grain="fiscal_year"), "fiscal_year")),
        ("cumulative", lambda m: (charts.cumulative(m("cumulative_engagements"), m("milestones")), m("cumulative_engagements"))),
        ("bar_breakdown(topic)", lambda m: (charts.bar_breakdown(m("breakdown", dimension="topic"), "topic", top=12), m("breakdown", dimension="topic"))),
        ("state_map", lambda m: _fig_table(charts.state_map, m("engagements_by_state"))),
    ),
    "topics": (
        ("series_by_dimension", lambda m: _fig_table(charts.series_by_dimension, m("series_by", grain="fiscal_year", dimension="topic", only=_compare(m)), "topic", "fiscal_year")),
        ("topic_heatmap", lambda m: _fig_table(charts.topic_heatmap, m("topic_by_agency_type"))),
        ("top2_by_segment(topic)", lambda m: _fig_table(charts.top2_by_segment, m("outcomes_by", by="topic", item=schema.SURVEY_ITEMS[0]), "topic")),
    ),
    "agencies": (
        ("bar_breakdown(agency_type)", lambda m: _fig_table(charts.bar_breakdown, m("breakdown", dimension="agency_type"), "agency_type")),
        ("bar_breakdown(size_band)", lambda m: (charts.bar_breakdown(m("breakdown", dimension="size_band"), "size_band", value="agencies"), m("breakdown", dimension="size_band"))),
        ("first_time_vs_repeat", lambda m: _fig_table(charts.first_time_vs_repeat, m("first_time_vs_repeat"))),
        ("state_map", lambda m: _fig_table(charts.state_map, m("engagements_by_state"))),
    ),
    "outcomes": (
        ("likert_diverging", lambda m: _fig_table(charts.likert_diverging, m("item_outcomes", wave="post"))),
        ("top2_by_segment(topic)", lambda m: _fig_table(charts.top2_by_segment, m("outcomes_by", by="topic", wave="post", item=schema.SURVEY_ITEMS[0]), "topic")),
        ("post_vs_follow_up", lambda m: _fig_table(charts.post_vs_follow_up, m("post_vs_follow_up"))),
    ),
    "pipeline": (
        ("funnel", lambda m: _fig_table(charts.funnel, m("status_funnel"))),
        ("timeliness", lambda m: _fig_table(charts.timeliness, m("timeliness", by="assistance_type"), "assistance_type")),
        ("backlog", lambda m: _fig_table(charts.backlog, m("backlog_series"))),
    ),
}  # fmt: skip


def _fig_table(builder, table, *args):
    return builder(table, *args), table


def chart_costs(con, filters: Filters, rounds: int = 3) -> dict:
    """Per chart a page draws: median seconds to build the figure, to serialise it (``to_json``, as
    ``st.plotly_chart`` does) and to build the CSV under it (``show.chart`` does on every run).
    Metric results are computed once up front and are not part of these times."""
    from critac_metrics import downloads

    memo: dict = {}

    def m(name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = getattr(metrics, name)(con.cursor(), filters, **kwargs)
        return memo[key]

    out: dict = {}
    for page, specs in CHARTS.items():
        for label, build in specs:
            build(m)  # fill the memo: queries are not timed here
            b, j, c = [], [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                fig, table = build(m)
                t1 = time.perf_counter()
                fig.to_json()
                t2 = time.perf_counter()
                downloads.csv_bytes(table)
                t3 = time.perf_counter()
                b.append(t1 - t0)
                j.append(t2 - t1)
                c.append(t3 - t2)
            out[f"{page}:{label}"] = {
                "build_s": median(b),
                "to_json_s": median(j),
                "csv_s": median(c),
            }
    return out


# -- which columns each page scans (from DuckDB's plans) -------------------------------------------


def _scans(plan) -> list[tuple[str, list[str], list[str]]]:
    out = []
    nodes = plan if isinstance(plan, list) else [plan]
    for node in nodes:
        extra = node.get("extra_info") or {}
        if "Table" in extra:
            proj = extra.get("Projections") or []
            filt = extra.get("Filters") or []
            out.append(
                (
                    extra["Table"].split(".")[-1],
                    [proj] if isinstance(proj, str) else list(proj),
                    [filt] if isinstance(filt, str) else list(filt),
                )
            )
        out += _scans(node.get("children") or [])
    return out


# The tables the metrics read (the store's derived tables; see db.rebuild_derived).
SCANNED_TABLES = (
    "engagement_facts",
    "fact_topics",
    "fact_topic_groups",
    "set_topics",
    "set_topic_groups",
    "comment_facts",
)


def scanned_columns(con, statements: list[dict]) -> list[dict[str, set[str]]]:
    """For each statement: {table: columns read} from ``EXPLAIN (FORMAT JSON)``."""
    known = {
        table: {r[0] for r in con.execute(f"describe {table}").fetchall()}  # noqa: S608
        for table in SCANNED_TABLES
    }
    out: list[dict[str, Any]] = []
    for st in statements:
        try:
            text = con.execute("explain (format json) " + st["sql"], st["params"] or []).fetchall()
            plan = json.loads(text[0][1])
        except Exception:  # noqa: BLE001 - a plan we cannot read only loses the bound for it
            out.append({})
            continue
        cols: dict[str, set[str]] = defaultdict(set)
        for table, proj, filt in _scans(plan):
            if table not in known:
                continue
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(proj + filt)))
            cols[table] |= words & known[table]
        out.append(dict(cols))
    return out


def column_bytes(con, table: str) -> tuple[int, dict[str, float]]:
    """Rows and bytes per row of each column in DuckDB's in-memory vector format.

    Fixed widths by type (BOOLEAN 1, DATE/INTEGER 4, BIGINT/DOUBLE 8); VARCHAR 16 bytes (string_t)
    plus the characters of strings longer than 12 (not inlined); VARCHAR[] 16 bytes per list entry plus
    16 (+ overflow) per element. Validity masks are ignored; compressed storage is smaller."""
    described = con.execute(f"describe {table}").fetchall()  # noqa: S608 - fixed names
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
    fixed = {"BOOLEAN": 1, "DATE": 4, "INTEGER": 4, "BIGINT": 8, "DOUBLE": 8, "TIMESTAMP": 8}
    widths: dict[str, float] = {}
    exprs = []
    for name, kind, *_ in described:
        if kind in fixed:
            widths[name] = fixed[kind]
        elif kind == "VARCHAR":
            exprs.append(
                (name, f"avg(case when strlen({name}) > 12 then strlen({name}) else 0 end)")
            )
        elif kind == "VARCHAR[]":
            exprs.append(
                (
                    name,
                    f"avg(coalesce(len({name}), 0) * 16 + coalesce(list_sum(list_transform({name}, "
                    f"lambda x: case when strlen(x) > 12 then strlen(x) else 0 end)), 0))",
                )
            )
        else:
            widths[name] = 8
    if exprs and rows:
        values = con.execute(
            "select " + ", ".join(e for _, e in exprs) + f" from {table}"  # noqa: S608
        ).fetchone()
        for (name, _), value in zip(exprs, values, strict=True):
            widths[name] = 16 + float(value or 0)
    return rows, widths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--page", default="all", help="a page name, or all")
    parser.add_argument("--filters", default="none", choices=list(FILTER_SETS))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    con = db.connect(args.db, read_only=True)
    opened = time.perf_counter() - started
    pages = list(PAGES) if args.page == "all" else [args.page]
    results = {}
    for page in pages:
        times = [
            run_page(con, page, FILTER_SETS[args.filters], trace=False)["total"]
            for _ in range(args.rounds)
        ]
        results[page] = times
    print(json.dumps({"open_s": opened, "pages": results}))


if __name__ == "__main__":
    main()
