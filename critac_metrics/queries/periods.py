"""Series over time: the SQL of a period's start by grain and date basis, every period between
the first and last filled in (counts 0, rates empty), the period still in progress marked
(``is_partial``), and the year-over-year overlay by fiscal month."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .. import dimensions, registry
from ..filters import Filters, fiscal_year_bounds, fiscal_year_of, year_before
from .results import Connection, Description, Params, Row, _as_date, _fetch, _frame, data_through
from .selection import _selection, _summed_sql

GRAINS = tuple(dimensions.GRAINS)


def _period_sql(grain: str, column: str = "requested_on") -> str:
    """The SQL expression for the start date of the period of ``column`` (the date basis)."""
    if grain == "month":
        return f"date_trunc('month', {column})"
    if grain == "quarter":
        return f"date_trunc('quarter', {column})"
    if grain == "fiscal_year" and column == "requested_on":
        return "make_date(fiscal_year - 1, 10, 1)"
    if grain == "fiscal_year":
        return f"make_date(year({column}) + (month({column}) >= 10)::int - 1, 10, 1)"
    raise ValueError(f"unknown grain {grain!r}; choose from {', '.join(GRAINS)}")


def period_label(start: dt.date, grain: str) -> str:
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"FY{start.year + 1}"


PERIOD_MONTHS = {g.name: g.months for g in dimensions.GRAINS.values()}


_ONE_DAY = dt.timedelta(days=1)


def _aged(start: dt.date, months: int, cutoff: dt.date | None) -> bool:
    """Whether every request of the period starting ``start`` was made by ``cutoff``."""
    try:
        return cutoff is not None and _months_later(start, months) - _ONE_DAY <= cutoff
    except (ValueError, OverflowError):  # a period running past 9999
        return False


def _grain_months(series: pd.DataFrame) -> int:
    """The months per period of a filled series (read from its labels: 2024-03, 2024-Q1)."""
    label = str(series["period"].iloc[0]) if len(series) else ""
    return 3 if "-Q" in label else 12 if label.startswith("FY") else 1


def _by_period(
    con: Connection,
    filters: Filters,
    grain: str,
    measures: str,
    where: str = "true",
    measure_params: Params | None = None,
) -> pd.DataFrame:
    """Measures per period of ``grain`` (by the date basis) over the selection, with every
    period between the first and last present (missing counts are 0; missing rates stay
    empty). ``measure_params`` are the measures' bound parameters."""
    period = _period_sql(grain, filters.date_column)
    source, params = _selection(filters)
    params = [*(measure_params or []), *params]
    rows, description = _fetch(
        con,
        f"""
        select {period}::date as period_start, {measures}, {_DATA_THROUGH}
        {source} and {where} group by all order by period_start
    """,
        params,
    )
    return _fill_periods(rows, description, grain)


# The last day the data covers (the latest request or completion date, kept in store_meta by
# every import), carried along with a series' own rows instead of costing a statement of its own.
_DATA_THROUGH = "(select data_through from store_meta) as data_through"


def _fill_periods(
    rows: list[Row], description: Description, grain: str, by: str | None = None
) -> pd.DataFrame:
    """Every period between the first and last of ``rows`` (and, with ``by``, every value in every
    period), in order, with the counts of the periods (and values) without rows at 0 and their
    rates empty.

    ``rows`` start with period_start (and ``by``) and end with ``data_through`` (see
    _DATA_THROUGH); ``is_partial`` marks a period that runs past the last day of data (still in
    progress)."""
    if not rows:
        return _no_periods(description)
    width = 1 if by is None else 2  # the key columns: period_start (and by)
    measures = [d[0] for d in description[width:-1]]
    found = {row[:width]: row[width:-1] for row in rows}
    starts = _period_starts(min(r[0] for r in rows), max(r[0] for r in rows), grain)
    keys: list[tuple[dt.date, ...]]
    if by is None:
        keys = [(start,) for start in starts]
    else:
        keys = [(start, value) for start in starts for value in sorted({r[1] for r in rows})]
    missing = (None,) * len(measures)
    values = [found.get(key, missing) for key in keys]
    columns = {
        "period": [period_label(key[0], grain) for key in keys],
        "period_start": np.array([key[0] for key in keys], dtype="datetime64[us]"),
    }
    if by is not None:
        columns[by] = [key[1] for key in keys]
    for i, name in enumerate(measures):
        column = [row[i] for row in values]
        if name.endswith("_rate"):
            columns[name] = np.array(column, dtype="float64")  # None (no rows) becomes NaN
        else:
            columns[name] = np.array([v or 0 for v in column], dtype="int64")
    columns["is_partial"] = _is_partial([key[0] for key in keys], rows[0][-1], grain)
    return pd.DataFrame(columns)


def _no_periods(description: Description) -> pd.DataFrame:
    """The empty series: the columns of a filled one, typed as ``.df()`` types an empty result."""
    frame = _frame([], description).drop(columns="data_through")
    frame = frame.assign(period=pd.Series(dtype="str"), is_partial=pd.Series(dtype="bool"))
    return frame[["period", *frame.columns[:-2], "is_partial"]]


def _period_starts(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    """The start dates of every period from ``first``'s to ``last``'s (both period starts)."""
    starts = [first]
    while starts[-1] < last:
        starts.append(_months_later(starts[-1], PERIOD_MONTHS[grain]))
    return starts


def _months_later(day: dt.date, months: int) -> dt.date:
    """``day`` (the first of a month) ``months`` months later."""
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _is_partial(starts: list[dt.date], through: dt.date | None, grain: str) -> np.ndarray:
    """Whether each period (by its start date) ends after ``through``, the last day of data."""
    months = PERIOD_MONTHS[grain]
    if through is None:
        return np.zeros(len(starts), dtype=bool)
    return np.array([_months_later(start, months) > through + _ONE_DAY for start in starts])


def volume_series(con: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Requests, engagements and completed per period, gaps between first and last filled with 0."""
    measures = """count(*) as requests, count(*) filter (where is_engagement) as engagements,
        count(*) filter (where is_completed) as completed"""
    return _by_period(con, filters, grain, measures)


def kpi_series(
    con: Connection,
    filters: Filters,
    grain: str = "month",
    window: int = registry.COMPLETION_WINDOW_DAYS,
) -> pd.DataFrame:
    """KPI values per period (for sparklines): delivered and accepted engagements, agencies
    served, states reached, completion rate and completion within ``window`` days among requests
    at least that old on the last day of data, gaps filled with zero."""
    aged = "requested_on <= (select data_through from store_meta) - ?::integer"
    measures = f"""count(*) filter (where is_completed) as completed, count(*) as engagements,
        distinct_agencies(case when is_completed then agency_key end) as agencies_served,
        distinct_states(case when is_completed then state_key end) as states_reached,
        count(*) filter (where is_completed) * 100.0 / count(*) as completion_rate,
        count(*) filter (where {aged} and is_completed and days_to_completion <= ?) * 100.0
            / nullif(count(*) filter (where {aged}), 0) as timely_completion_rate"""
    return _by_period(con, filters, grain, measures, "is_engagement", [window, window, window])


def series_by(
    con: Connection, filters: Filters, grain: str, dimension: str, only: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Engagements per period and dimension value (long format, zero-filled); ``only`` keeps
    just those values (e.g. the topics being compared)."""
    summed, params = _summed_sql(
        filters,
        dimension,
        {"engagements": "count(*)"},
        {"period_start": f"{_period_sql(grain, filters.date_column)}::date"},
        where="is_engagement",
    )
    rows, description = _fetch(
        con,
        f"""
        select period_start, value as {dimension}, engagements, {_DATA_THROUGH} from ({summed})
        where len(?::varchar[]) = 0 or value = any(?::varchar[])
        order by period_start, {dimension}
    """,
        [*params, list(only), list(only)],
    )
    return _fill_periods(rows, description, grain, by=dimension)


FISCAL_MONTHS = ("Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep")


def fiscal_month_of(day: dt.date) -> int:
    """The month of the federal fiscal year: October is 1, September is 12."""
    return (day.month - 10) % 12 + 1


def year_over_year(
    con: Connection, filters: Filters, dimension: str | None = None, only: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Engagements per fiscal month (October = 1) of the latest fiscal year in the selection and of
    the fiscal year before it, for a year-over-year overlay (by the date basis).

    The latest year keeps the selection's dates (a fiscal year in progress stops at the last
    month of data, which is marked ``is_partial``); the year before covers the same span a year
    earlier, whatever the date filter, so a link filtered to one fiscal year still shows the year
    it is compared with. Months in the span without engagements are 0. With ``dimension`` there
    is a row per value too (``only`` keeps just those values)."""
    column = filters.date_column
    source, params = _selection(filters)
    latest = _as_date(
        _fetch(con, f"select max({column}) {source} and is_engagement", params)[0][0][0]
    )
    through = data_through(con)
    columns = ["fiscal_year", "fiscal_month", "month", *([dimension] if dimension else [])]
    columns += ["engagements", "is_partial"]
    if latest is None:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    year = fiscal_year_of(latest)
    first, last = fiscal_year_bounds(year)
    current = (max(filters.start or first, first), min(filters.end or last, last))
    previous = (year_before(current[0]), year_before(current[1]))
    # Both spans in one scan: the dates between them are left out.
    both = filters.replace(start=previous[0], end=current[1])
    gap = f"not ({column} > ? and {column} < ?)"
    month = f"date_trunc('month', {column})::date"
    if dimension is None:
        source, params = _selection(both)
        sql = (
            f"select {month} as month_start, 'All' as value, count(*) as engagements "
            f"{source} and is_engagement and {gap} group by all"
        )
        params = [*params, previous[1], current[0]]
    else:
        summed, params = _summed_sql(
            both, dimension, {"engagements": "count(*)"}, {"month_start": month},
            where=f"is_engagement and {gap}",
        )  # fmt: skip
        sql = (
            f"select month_start, value, engagements from ({summed}) "
            "where len(?::varchar[]) = 0 or value = any(?::varchar[])"
        )
        params = [*params, previous[1], current[0], list(only), list(only)]
    found = {(row[0], row[1]): int(row[2]) for row in _fetch(con, sql, params)[0]}
    values = sorted({value for _, value in found}) if dimension else ["All"]
    records = []
    for fiscal_year, (start, end) in ((year - 1, previous), (year, current)):
        day = start.replace(day=1)
        while day <= end and (through is None or day <= through):
            partial = through is not None and _months_later(day, 1) > through + _ONE_DAY
            month_number = fiscal_month_of(day)
            for value in values:
                record = {
                    "fiscal_year": fiscal_year,
                    "fiscal_month": month_number,
                    "month": FISCAL_MONTHS[month_number - 1],
                    "engagements": found.get((day, value), 0),
                    "is_partial": partial,
                }
                if dimension:
                    record[dimension] = value
                records.append(record)
            day = _months_later(day, 1)
    return pd.DataFrame(records, columns=columns)
