"""Measured what-ifs for the optimiser: current library calls vs a rewritten query, same numbers.

Nothing here changes the library. Each experiment runs the current ``critac_metrics.metrics`` call
and a proposed SQL rewrite on the same connection (an in-memory copy of the database, so that the
integer-key variant can be compared like for like), checks that both give the same figures, and
reports the median of both.

    python benchmarks/experiments.py --db PATH [--rounds 5]
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import pages_workload as workload  # noqa: E402
from common import FILTER_SETS, median  # noqa: E402

from critac_metrics import db, metrics, schema  # noqa: E402
from critac_metrics.filters import Filters  # noqa: E402

CONFIG = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def in_memory_copy(path: Path, integer_keys: bool) -> duckdb.DuckDBPyConnection:
    """The tables the metrics read, copied into memory; optionally with integer id columns."""
    con = duckdb.connect(":memory:", config=CONFIG)
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{path}' as src (read_only)")
    if integer_keys:
        con.execute(
            "create table engagement_facts as select * replace ("
            " cast(substr(engagement_id, 2) as bigint) as engagement_id,"
            " cast(substr(agency_id, 3) as bigint) as agency_id) from src.engagement_facts"
        )
        for table in ("survey_rollup", "survey_responses"):
            con.execute(
                f"create table {table} as select * replace ("  # noqa: S608
                f" cast(substr(engagement_id, 2) as bigint) as engagement_id) from src.{table}"
            )
    else:
        for table in ("engagement_facts", "survey_rollup", "survey_responses"):
            con.execute(f"create table {table} as select * from src.{table}")  # noqa: S608
    for table in ("engagements", "topics", "imports"):
        con.execute(f"create table {table} as select * from src.{table}")  # noqa: S608
    con.execute(
        "create table engagement_topics as select engagement_id, unnest(topics) as topic"
        " from engagement_facts"
    )
    con.execute("detach src")
    return con


def timed(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times)


def on_cursor(con, fn, *args, **kwargs):
    cursor = con.cursor()
    try:
        return fn(cursor, *args, **kwargs)
    finally:
        cursor.close()


# -- E1: all KPI tiles (current and previous period) in one query -------------------------------

_N = " + ".join(f"{i}_{a}" for i in schema.SURVEY_ITEMS for a in range(1, 6))
_TOP2 = " + ".join(f"{i}_{a}" for i in schema.SURVEY_ITEMS for a in (4, 5))


def kpi_block(con, filters: Filters) -> dict:
    prev = filters.previous_period()
    scope = filters.replace(start=prev.start) if prev else filters
    where, params = scope.where()
    current = "requested_on >= ?" if prev else "true"
    rows = con.execute(
        f"""
        with f as (
            select engagement_id, agency_id, state, participants, is_engagement, is_completed,
                requested_on, {current} as is_current
            from engagement_facts where {where}),
        r as (
            select engagement_id, sum(responses) as responses,
                sum(case when wave = 'post' then {_N} end) as post_n,
                sum(case when wave = 'post' then {_TOP2} end) as post_top2
            from survey_rollup
            where engagement_id in (select engagement_id from f where is_engagement)
            group by engagement_id)
        select is_current, count(*) as requests,
            count(*) filter (where is_engagement) as engagements,
            count(*) filter (where is_completed) as completed,
            count(distinct agency_id) filter (where is_engagement) as agencies_served,
            count(distinct state) filter (where is_engagement) as states_reached,
            coalesce(sum(participants) filter (where is_engagement), 0) as participants,
            coalesce(sum(r.responses) filter (where is_engagement), 0) as survey_responses,
            count(*) filter (where is_completed and r.responses > 0) as responded_engagements,
            coalesce(sum(r.post_n) filter (where is_engagement), 0) as post_n,
            coalesce(sum(r.post_top2) filter (where is_engagement), 0) as post_top2,
            date_diff('day', min(requested_on), max(requested_on)) as span_days
        from f left join r using (engagement_id) group by is_current
    """,  # noqa: S608 - fixed clause shapes only
        ([filters.start] if prev else []) + params,
    ).fetchall()
    names = [d[0] for d in con.description]
    return {bool(r[0]): dict(zip(names[1:], r[1:], strict=True)) for r in rows}


def kpis_proposed(con, filters: Filters):
    block = kpi_block(con, filters)
    now = block.get(True, {})
    grain = "month" if (now.get("span_days") or 0) <= 1100 else "quarter"
    metrics.kpi_series(con, filters, grain)
    return block


def kpis_current(con, filters: Filters):
    """What the overview page runs for its KPI row: headline, positive_outcome, kpis_with_comparison."""
    head = on_cursor(con, metrics.headline, filters)
    pos = on_cursor(con, metrics.positive_outcome, filters)
    on_cursor(con, metrics.kpis_with_comparison, filters)
    return head, pos


def check_kpis(con, filters: Filters) -> bool:
    block = kpi_block(con, filters)
    head, pos = (
        metrics.headline(con.cursor(), filters),
        metrics.positive_outcome(con.cursor(), filters),
    )
    now = block.get(True)
    if now is None:
        return head["requests"] == 0
    keys = ["requests", "engagements", "completed", "agencies_served", "states_reached",
            "participants", "survey_responses", "responded_engagements"]  # fmt: skip
    same = all(int(now[k]) == int(head[k]) for k in keys) and int(now["post_n"]) == pos["n"]
    prev = filters.previous_period()
    if prev and False in block:
        ph = metrics.headline(con.cursor(), prev)
        same &= all(int(block[False][k]) == int(ph[k]) for k in keys)
    return bool(same)


# -- E3: topic filter as a semi-join on an (engagement, topic) table ------------------------------


def topic_filter_current(con, filters: Filters):
    where, params = filters.where()
    return con.execute(
        f"select count(*), count(distinct agency_id) from engagement_facts where {where}",  # noqa: S608
        params,
    ).fetchone()


def topic_filter_proposed(con, filters: Filters):
    where, params = filters.replace(topics=()).where()
    if filters.topics:
        where += " and engagement_id in (select engagement_id from engagement_topics where topic = any(?::varchar[]))"
        params = [*params, list(filters.topics)]
    return con.execute(
        f"select count(*), count(distinct agency_id) from engagement_facts where {where}",  # noqa: S608
        params,
    ).fetchone()


# -- E4: three breakdowns in one GROUPING SETS query ---------------------------------------------


def breakdowns_current(con, filters: Filters):
    return (
        on_cursor(con, metrics.breakdown, filters, "agency_type"),
        on_cursor(con, metrics.breakdown, filters, "size_band"),
        on_cursor(con, metrics.engagements_by_state, filters),
    )


def breakdowns_proposed(con, filters: Filters):
    where, params = filters.where()
    return con.execute(
        f"""
        select agency_type, size_band, state, count(*) as requests,
            count(*) filter (where is_engagement) as engagements,
            count(*) filter (where is_completed) as completed,
            count(distinct agency_id) filter (where is_engagement) as agencies
        from engagement_facts where {where}
        group by grouping sets ((agency_type), (size_band), (state))
    """,  # noqa: S608
        params,
    ).df()


def check_breakdowns(con, filters: Filters) -> bool:
    types, sizes, states = breakdowns_current(con, filters)
    got = breakdowns_proposed(con, filters)
    ok = True
    for frame, dim in ((types, "agency_type"), (sizes, "size_band")):
        part = got[got[dim].notna()].set_index(dim)
        for row in frame.itertuples():
            key = getattr(row, dim)
            ok &= int(part.loc[key, "engagements"]) == row.engagements
            ok &= int(part.loc[key, "agencies"]) == row.agencies
    part = got[got["state"].notna()].set_index("state")
    for row in states.itertuples():
        if row.engagements:
            ok &= int(part.loc[row.state, "engagements"]) == row.engagements
    return bool(ok)


# -- E5: milestones from daily counts (sort only the days that hold a milestone) ----------------


def milestones_proposed(con, filters: Filters):
    where, params = filters.where()
    return con.execute(
        f"""
        with f as (select engagement_id, agency_name, requested_on from engagement_facts
                   where {where} and is_engagement),
        daily as (select requested_on, count(*) as c from f group by requested_on),
        cum as (select requested_on, sum(c) over (order by requested_on) as upto, c from daily),
        hits as (select m.n, d.requested_on, m.n - (d.upto - d.c) as k
                 from (select unnest(?::bigint[]) as n) m
                 join cum d on m.n > d.upto - d.c and m.n <= d.upto),
        ranked as (select engagement_id, agency_name, requested_on,
                       row_number() over (partition by requested_on order by engagement_id) as k
                   from f where requested_on in (select requested_on from hits))
        select h.n as milestone, h.requested_on, r.engagement_id, r.agency_name
        from hits h join ranked r using (requested_on, k) order by h.n
    """,  # noqa: S608
        [*params, list(metrics.MILESTONES)],
    ).df()


def check_milestones(con, filters: Filters) -> bool:
    a = metrics.milestones(con.cursor(), filters)
    b = milestones_proposed(con, filters)
    return list(a["milestone"]) == list(b["milestone"]) and list(
        a["engagement_id"].astype(str)
    ) == list(b["engagement_id"].astype(str))


# -- E6: backlog by counting requests and completions per month (no range join) ------------------


def backlog_proposed(con, filters: Filters):
    where, params = filters.where()
    return con.execute(
        f"""
        with spans as (select requested_on, completed_on from engagement_facts
                       where {where} and is_engagement),
        months as (
            select unnest(generate_series(
                date_trunc('month', min(requested_on)),
                date_trunc('month', greatest(max(requested_on), max(coalesce(completed_on, requested_on)))),
                interval 1 month))::date as month_start
            from spans),
        req as (select date_trunc('month', requested_on)::date as m, count(*) as c from spans group by 1),
        done as (select date_trunc('month', completed_on)::date as m, count(*) as c from spans
                 where completed_on is not null group by 1)
        select month_start, (month_start + interval 1 month - interval 1 day)::date as month_end,
            (sum(coalesce(req.c, 0)) over w - sum(coalesce(done.c, 0)) over w)::bigint as open_requests
        from months left join req on req.m = month_start left join done on done.m = month_start
        window w as (order by month_start)
        order by month_start
    """,  # noqa: S608
        params,
    ).df()


def check_backlog(con, filters: Filters) -> bool:
    a = metrics.backlog_series(con.cursor(), filters)
    b = backlog_proposed(con, filters)
    return len(a) == len(b) and [int(x) for x in a["open_requests"]] == [
        int(x) for x in b["open_requests"]
    ]


# -- E8: plotly shapes one by one vs all at once -------------------------------------------------


def shapes_experiment(rounds: int) -> dict:
    import plotly.graph_objects as go

    shapes = [
        dict(type="rect", x0=i % 12, x1=i % 12 + 0.9, y0=i // 12, y1=i // 12 + 0.9,
             fillcolor="#cccccc", line={"width": 0}, layer="below")
        for i in range(56)
    ]  # fmt: skip

    def one_by_one():
        fig = go.Figure()
        for s in shapes:
            fig.add_shape(**s)
        return fig

    def all_at_once():
        fig = go.Figure()
        fig.update_layout(shapes=shapes)
        return fig

    return {
        "current_s": timed(one_by_one, rounds),
        "proposed_s": timed(all_at_once, rounds),
        "equal": one_by_one().to_json() == all_at_once().to_json(),
    }


def run(path: Path, rounds: int) -> dict:
    out: dict = {}
    fsets = {k: FILTER_SETS[k] for k in ("typical", "none")}

    started = time.perf_counter()
    mem = in_memory_copy(path, integer_keys=False)
    mem_int = in_memory_copy(path, integer_keys=True)
    out["copy_s"] = time.perf_counter() - started

    def record(name: str, description: str, current, proposed, check=None, con=mem, sets=fsets):
        rows = {}
        for fs, filters in sets.items():
            rows[fs] = {
                "current_s": timed(lambda f=filters: current(con, f), rounds),
                "proposed_s": timed(lambda f=filters: proposed(con, f), rounds),
                "equal": None if check is None else check(con, filters),
            }
        out[name] = {"description": description, "sets": rows}
        print(f"  experiment {name}: " + "; ".join(
            f"{fs} {r['current_s'] * 1000:.0f} -> {r['proposed_s'] * 1000:.0f} ms (equal={r['equal']})"
            for fs, r in rows.items()), file=sys.stderr, flush=True)  # fmt: skip

    record(
        "kpi_row_one_query",
        "Overview KPI row: headline + positive_outcome + kpis_with_comparison (9 statements: "
        "headline and positive outcome twice each for the current period, once each for the "
        "previous, span, sparkline series) vs one query for both periods + kpi_series",
        kpis_current,
        kpis_proposed,
        check_kpis,
    )
    record(
        "integer_keys_overview",
        "The whole overview page on the same data with VARCHAR ids ('E000123', 'AG00001') vs "
        "BIGINT ids (engagement_id, agency_id) in engagement_facts and survey_rollup",
        lambda con, f: workload.run_page(mem, "overview", f, trace=False),
        lambda con, f: workload.run_page(mem_int, "overview", f, trace=False),
    )
    record(
        "integer_keys_outcomes",
        "The whole outcomes page, VARCHAR vs BIGINT ids",
        lambda con, f: workload.run_page(mem, "outcomes", f, trace=False),
        lambda con, f: workload.run_page(mem_int, "outcomes", f, trace=False),
    )
    record(
        "topic_filter_semijoin",
        "The filter scan alone (count, distinct agencies): list_has_any(topics, ?) vs "
        "engagement_id in (select ... from engagement_topics where topic = any(?))",
        topic_filter_current,
        topic_filter_proposed,
        lambda con, f: topic_filter_current(con, f) == topic_filter_proposed(con, f),
        sets={"typical": FILTER_SETS["typical"]},
    )
    record(
        "breakdowns_grouping_sets",
        "Agencies page: breakdown(agency_type) + breakdown(size_band) + engagements_by_state "
        "(3 queries) vs one GROUPING SETS query",
        breakdowns_current,
        breakdowns_proposed,
        check_breakdowns,
    )
    record(
        "milestones_from_daily_counts",
        "milestones: row_number() over every engagement vs daily counts + row_number() only "
        "within the days that hold a milestone",
        lambda con, f: on_cursor(con, metrics.milestones, f),
        milestones_proposed,
        check_milestones,
    )
    record(
        "backlog_without_range_join",
        "backlog_series: months × engagements range join vs cumulative requests − completions "
        "per month",
        lambda con, f: on_cursor(con, metrics.backlog_series, f),
        backlog_proposed,
        check_backlog,
    )

    # Threads: the overview page on the file database with 1 vs 2 DuckDB threads.
    file_con = db.connect(path, read_only=True)
    file_con.execute("set enable_progress_bar = false")
    rows = {}
    for fs, filters in fsets.items():
        file_con.execute("set threads = 2")
        two = timed(
            lambda f=filters: workload.run_page(file_con, "overview", f, trace=False), rounds
        )
        file_con.execute("set threads = 1")
        one = timed(
            lambda f=filters: workload.run_page(file_con, "overview", f, trace=False), rounds
        )
        rows[fs] = {"current_s": two, "proposed_s": one, "equal": None}
    file_con.close()
    out["threads_1_vs_2"] = {
        "description": "Overview page on the file database: 2 DuckDB threads (current, = cores) "
        "vs 1 thread",
        "sets": rows,
    }
    out["plotly_shapes_at_once"] = {
        "description": "state_map's 56 tiles: fig.add_shape() 56 times (current) vs one "
        "fig.update_layout(shapes=[...]) (same figure JSON)",
        "sets": {"(no data)": shapes_experiment(rounds)},
    }
    mem.close()
    mem_int.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.rounds), default=str))


if __name__ == "__main__":
    main()
