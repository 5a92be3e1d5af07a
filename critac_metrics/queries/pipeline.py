"""The pipeline: the status funnel, days to start and to completion, open requests over time."""

from __future__ import annotations

import pandas as pd

from .. import schema
from ..filters import Filters
from .breakdowns import _ordered
from .results import Connection, _fetch, _frame, query
from .selection import _selection, _sql

FUNNEL_STAGES = (
    ("Requested", "true"),
    ("Approved", "status in ('approved', 'in_progress', 'completed')"),
    ("Started", "status in ('in_progress', 'completed')"),
    ("Completed", "status = 'completed'"),
)


def status_funnel(con: Connection, filters: Filters) -> pd.DataFrame:
    """Requests reaching each stage; declined and withdrawn requests leave after 'Requested'."""
    source, params = _selection(filters)
    counts = ", ".join(f"count(*) filter (where {cond})" for _, cond in FUNNEL_STAGES)
    row = con.execute(f"select {counts} {source}", params).fetchone()
    assert row is not None  # an aggregate without GROUP BY returns one row
    return pd.DataFrame({"stage": [s for s, _ in FUNNEL_STAGES], "requests": [int(v) for v in row]})


def timeliness(con: Connection, filters: Filters, by: str | None = None) -> pd.DataFrame:
    """Median and 90th percentile days to start and start to completion (per dimension value)."""
    value = _sql(by) if by else "'All'"
    source, params = _selection(filters, by)
    rows, description = _fetch(
        con,
        f"""
        select {value} as {by or "segment"},
            count(days_to_start) as started,
            quantile_cont(days_to_start, 0.5) as median_days_to_start,
            quantile_cont(days_to_start, 0.9) as p90_days_to_start,
            count(days_start_to_completion) as completed,
            quantile_cont(days_start_to_completion, 0.5) as median_days_start_to_completion,
            quantile_cont(days_start_to_completion, 0.9) as p90_days_start_to_completion
        {source} and is_engagement group by 1 order by started desc, 1
    """,
        params,
    )
    return _frame(_ordered(rows, by) if by else rows, description)


def backlog_series(con: Connection, filters: Filters) -> pd.DataFrame:
    """Open requests at each month end: requested by then (awaiting approval or accepted, not
    declined or withdrawn), not completed by then.

    Counted as requests so far minus completions so far (one pass, no range join)."""
    source, params = _selection(filters)
    pursued = f"status not in ({', '.join(repr(s) for s in schema.CLOSED_UNSERVED)})"
    return query(
        con,
        f"""
        with changes as (
            select date_trunc('month', requested_on)::date as month_start, 1 as change
            {source} and {pursued}
            union all
            select date_trunc('month', completed_on)::date, -1
            {source} and {pursued} and completed_on is not null
        ),
        monthly as (select month_start, sum(change) as change from changes group by month_start),
        months as (
            select unnest(generate_series(min(month_start), max(month_start), interval 1 month))::date
                as month_start
            from monthly
        )
        select m.month_start, (m.month_start + interval 1 month - interval 1 day)::date as month_end,
            sum(coalesce(c.change, 0)) over (order by m.month_start)::bigint as open_requests
        from months m left join monthly c using (month_start)
        order by m.month_start
    """,
        [*params, *params],
    )
