"""Cumulative engagements, the milestones reached (1st, 100th, ... engagement) and when the next
one is expected at the recent rate, with its Poisson interval."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import pandas as pd

from ..filters import Filters
from .periods import _ONE_DAY, _months_later
from .results import Connection, _record, data_through, query
from .selection import _selection

MILESTONES = (1, 100, 250, 500, 1000, 1500, 2000, 2500, 5000, 10_000, 100_000, 1_000_000)


def cumulative_engagements(con: Connection, filters: Filters) -> pd.DataFrame:
    """Running count of engagements by request date (one row per day with engagements)."""
    source, params = _selection(filters)
    return query(
        con,
        f"""
        select requested_on, count(*) as engagements,
            sum(count(*)) over (order by requested_on)::bigint as cumulative
        {source} and is_engagement group by requested_on order by requested_on
    """,
        params,
    )


def milestones(con: Connection, filters: Filters) -> pd.DataFrame:
    """The dates on which the 1st, 100th, 500th, 1,000th, ... engagement was requested.

    Counted per day first; only the days that hold a milestone are ranked row by row (ties within a
    day go by engagement id)."""
    source, params = _selection(filters)
    return query(
        con,
        f"""
        with days as (
            select requested_on, count(*) as n {source} and is_engagement group by requested_on
        ),
        hits as (
            select m.milestone, d.requested_on, m.milestone - d.before as k
            from (select requested_on, n, sum(n) over (order by requested_on) - n as before
                  from days) d
            join unnest(?::bigint[]) as m(milestone)
                on m.milestone > d.before and m.milestone <= d.before + d.n
        ),
        ranked as (
            select requested_on, engagement_id, agency_name,
                row_number() over (partition by requested_on order by engagement_id) as k
            {source} and is_engagement and requested_on in (select requested_on from hits)
        )
        select h.milestone, h.requested_on, r.engagement_id, r.agency_name
        from hits h join ranked r using (requested_on, k) order by h.milestone
    """,
        [*params, list(MILESTONES), *params],
    )


PROJECTION_WINDOW_MONTHS = 12  # the recent rate: the last 12 complete months of data


PROJECTION_MIN_DAYS = 90  # a shorter window (a selection starting lately) gives no projection


PROJECTION_HORIZON_YEARS = 10  # beyond this a projection is reported as "too far away"


PROJECTION_LEVEL = 0.90


DAYS_PER_MONTH = 365.25 / 12


def poisson_rate_interval(count: int, level: float = PROJECTION_LEVEL) -> tuple[float, float]:
    """Bounds for the mean of a Poisson count (over the same exposure): the exact (Garwood)
    interval, found by bisection on the Poisson distribution up to 200 events, and Byar's
    approximation to it above (within 0.1% there)."""
    tail = (1 - level) / 2
    if count <= 0:
        return 0.0, -math.log(tail)
    if count <= 200:

        def cdf(k: int, mu: float) -> float:
            return sum(math.exp(i * math.log(mu) - mu - math.lgamma(i + 1)) for i in range(k + 1))

        def solve(too_low: Callable[[float], bool]) -> float:
            lo, hi = 0.0, 2.0 * count + 20
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if too_low(mid) else (lo, mid)
            return (lo + hi) / 2

        return (
            solve(lambda mu: 1 - cdf(count - 1, mu) < tail),
            solve(lambda mu: cdf(count, mu) > tail),
        )
    z = _normal_z(level)
    low = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    up = count + 1
    return low, up * (1 - 1 / (9 * up) + z / (3 * math.sqrt(up))) ** 3


def _normal_z(level: float) -> float:
    """The two-sided normal quantile for ``level`` (1.645 for 90%)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def _last_complete_month_end(day: dt.date) -> dt.date:
    """``day`` if it ends its month, else the last day of the month before."""
    if (day + _ONE_DAY).month != day.month:
        return day
    return day.replace(day=1) - _ONE_DAY


def milestone_projection(con: Connection, filters: Filters) -> dict[str, Any]:
    """When the next milestone (``MILESTONES``) of engagements in the selection is expected.

    The rate is the selection's engagements requested in the last 12 complete months of data (the
    months up to the data date; a selection that starts later shortens the window), taken as a
    Poisson rate per day. The expected date is the data date plus the engagements still to come
    over that rate; the 90% interval uses the rate's 90% Poisson interval (``poisson_rate_interval``),
    so it shows how uncertain the recent rate is, assuming it holds. ``status`` says why there is
    no projection: ``no_data`` (empty selection or no data date), ``ended`` (the selection ends
    before the data date), ``short`` (under 90 days of recent data), ``zero_rate`` (no engagements
    in the window), ``no_milestone`` (past the last milestone), ``too_far`` (more than 10 years
    away at the recent rate); ``ok`` otherwise."""
    through = data_through(con)
    source, params = _selection(filters)
    out: dict[str, Any] = {"status": "no_data", "milestone": None, "current": 0, "through": through}
    if through is None:
        return out
    window_end = _last_complete_month_end(through)
    window_start = _months_later(window_end + _ONE_DAY, -PROJECTION_WINDOW_MONTHS)
    if filters.start and filters.start > window_start:
        window_start = filters.start
    row = _record(
        con,
        f"""
        select count(*) filter (where requested_on <= ?) as current,
            count(*) filter (where requested_on between ? and ?) as recent
        {source} and is_engagement
    """,
        [through, window_start, window_end, *params],
    )
    current, recent = int(row["current"]), int(row["recent"])
    days = (window_end - window_start).days + 1
    out.update(
        current=current,
        window_start=window_start,
        window_end=window_end,
        window_days=max(days, 0),
        window_engagements=recent,
        rate_per_month=recent / days * DAYS_PER_MONTH if days > 0 else None,
    )
    if current == 0:
        return out
    if filters.end is not None and filters.end < through:
        return {**out, "status": "ended"}
    if days < PROJECTION_MIN_DAYS:
        return {**out, "status": "short"}
    following = [m for m in MILESTONES if m > current]
    if not following:
        return {**out, "status": "no_milestone"}
    milestone = following[0]
    out["milestone"] = milestone
    if recent == 0:
        return {**out, "status": "zero_rate"}
    remaining = milestone - current
    low, high = poisson_rate_interval(recent)
    horizon = PROJECTION_HORIZON_YEARS * 365.25

    def after(count_per_window: float) -> dt.date | None:
        wait = remaining / count_per_window * days
        return through + dt.timedelta(days=math.ceil(wait)) if wait <= horizon else None

    expected = after(recent)
    out.update(
        remaining=remaining,
        expected=expected,
        earliest=after(high),
        latest=after(low) if low > 0 else None,
        status="ok" if expected is not None else "too_far",
    )
    return out
