"""The metric catalogue: named queries over ``engagement_facts`` (one row per engagement).

Every function takes a DuckDB connection (or cursor) and a ``Filters`` value and returns a small
DataFrame or dict. Filter values only ever reach SQL as bound parameters: the only text spliced into
SQL is ``Filters.where()``'s fixed clause shape and names from the closed sets declared below.

Each query reads ``engagement_facts`` directly (no ``select *`` subquery: binding its ~90 columns
costs more than a small query's whole run) and names only the columns it needs. By topic, sums add
up per topic set (``_summed_sql``) and other figures join ``fact_topics``; no query unnests the
topic lists. Distinct agencies and states are counted with the store's ``distinct_agencies`` and
``distinct_states`` macros. The derived tables are described in ``db.rebuild_derived``.
"""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd

from . import db, field, registry, schema
from .comparison import Comparison, compare
from .filters import Filters, fiscal_year_bounds, fiscal_year_of, year_before

DEFAULT_MIN_N = 5
# Completion within this many days of the request, among requests at least this old on the last
# day of data: a completion rate that recent periods are not penalised on (right-censoring).
COMPLETION_WINDOW_DAYS = registry.COMPLETION_WINDOW_DAYS
GRAINS = ("month", "quarter", "fiscal_year")
MILESTONES = (1, 100, 250, 500, 1000, 1500, 2000, 2500, 5000, 10_000, 100_000, 1_000_000)

# Dimension name -> expression over engagement_facts. The list-valued ones (topic, topic_group)
# read a bridge table that the query joins as ``d`` (_selection and _summed_sql do).
DIMENSION_SQL = {
    "topic": "d.topic",
    "primary_topic": "primary_topic",
    "topic_group": "d.topic_group",
    "agency_type": "agency_type",
    "size_band": "size_band",
    "state": "state",
    "region": "region",
    "assistance_type": "assistance_type",
    "delivery_mode": "coalesce(delivery_mode, 'unknown')",
    "provider": "coalesce(provider, 'Unknown')",
    "status": "status",
}
DIMENSION_ORDER = {
    "size_band": schema.SIZE_BANDS,
    "status": schema.STATUSES,
    "agency_type": schema.AGENCY_TYPES,
    "assistance_type": schema.ASSISTANCE_TYPES,
}

# The KPI tile's survey figure is the reaction level: post-engagement satisfaction (one answer
# per respondent, so its answers are its respondents).
_TILE_ANSWERS = " + ".join(db.answer_column("post", "satisfaction", a) for a in range(1, 6))
_TILE_TOP2 = " + ".join(db.answer_column("post", "satisfaction", a) for a in (4, 5))

BRIDGES = {"topic": "fact_topics", "topic_group": "fact_topic_groups"}
SET_BRIDGES = {"topic": "set_topics", "topic_group": "set_topic_groups"}

Connection = duckdb.DuckDBPyConnection


def query(con: Connection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _fetch(con: Connection, sql: str, params: list) -> tuple[list[tuple], list[tuple]]:
    """The rows ``sql`` returns and its column descriptions (name, type, ...)."""
    rows = con.execute(sql, params).fetchall()
    return rows, con.description


# The dtype ``.df()`` gives a column of each DuckDB type the small queries below return.
_NUMPY_DTYPES = {
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "DATE": "datetime64[us]",
    "BOOLEAN": "bool",
}


def _frame(rows: list[tuple], description: list[tuple]) -> pd.DataFrame:
    """``rows`` as the DataFrame ``.df()`` returns (same columns and dtypes); for a small result,
    building it from ``fetchall()`` rows costs a fraction of ``.df()``."""
    columns = zip(*rows, strict=True) if rows else ((),) * len(description)
    return pd.DataFrame(
        {
            d[0]: _column(list(values), str(d[1]))
            for d, values in zip(description, columns, strict=True)
        }
    )


def _column(values: list, kind: str):
    if kind == "VARCHAR":  # pandas infers "str" as .df() does (object when empty or all NULL)
        return values if values else np.array([], dtype=object)
    if kind == "BIGINT" and None in values:
        return pd.array(values, dtype="Int64")
    return np.array(values, dtype=_NUMPY_DTYPES[kind])


def _record(con: Connection, sql: str, params: list) -> dict:
    """The one row ``sql`` returns, as a dict (no DataFrame for a single row)."""
    row = con.execute(sql, params).fetchone()
    if row is None or con.description is None:
        raise LookupError(f"no row from: {sql}")
    return dict(zip((d[0] for d in con.description), row, strict=True))


def _selection(filters: Filters, by: str | None = None) -> tuple[str, list]:
    """``from ... where ...`` over the engagements that match the filters; with a list-valued
    ``by`` dimension, joined to its bridge as ``d`` (one row per engagement and value)."""
    where, params = filters.where()
    join = f" join {BRIDGES[by]} d using (row_id)" if by in BRIDGES else ""
    return f"from engagement_facts{join} where {where}", params


def _summed_sql(
    filters: Filters,
    by: str | None,
    measures: dict[str, str],
    keys: dict[str, str] | None = None,
    where: str = "true",
    having: str = "true",
) -> tuple[str, list]:
    """SQL for additive ``measures`` (name -> aggregate over engagement rows) per ``value`` of
    ``by`` and per ``keys`` (name -> expression), with ``where`` and ``having`` applied.

    A list-valued ``by`` (topics) adds up per topic set first (35k sets at 1M engagements) and then
    spreads each set's sums over its topics: the same totals as joining every engagement to its
    topics, at a fraction of the rows. Only sums and counts add up this way; distinct counts and
    medians by topic join ``fact_topics`` instead (``_selection``)."""
    source, params = _selection(filters)
    inner = ", ".join(f"{aggregate} as {name}" for name, aggregate in measures.items())
    outer = ", ".join(f"sum({name})::bigint as {name}" for name in measures)
    keys = keys or {}
    key_inner = "".join(f", {expression} as {name}" for name, expression in keys.items())
    key_list = "".join(f", {name}" for name in keys)
    if by in SET_BRIDGES:
        per_set = f"select topic_set_id{key_inner}, {inner} {source} and {where} group by all"
        rows, value = f"({per_set}) g join {SET_BRIDGES[by]} d using (topic_set_id)", f"d.{by}"
    else:
        dimension = _dimension(by) if by else "'All'"
        grouped = (
            f"select {dimension} as value{key_inner}, {inner} {source} and {where} group by all"
        )
        rows, value = f"({grouped}) g", "g.value"
    sql = f"select {value} as value{key_list}, {outer} from {rows} group by all having {having}"
    return sql, params


def _dimension(name: str) -> str:
    if name not in DIMENSION_SQL:
        raise ValueError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSION_SQL)}")
    return DIMENSION_SQL[name]


# -- headline figures ---------------------------------------------------------------------------


def headline(con: Connection, filters: Filters) -> dict[str, Any]:
    """All KPI counts in one scan of the selection."""
    source, params = _selection(filters)
    row = _record(
        con,
        f"""
        select
            count(*) as requests,
            count(*) filter (where is_engagement) as engagements,
            count(*) filter (where is_completed) as completed,
            distinct_agencies(case when is_completed then agency_key end) as agencies_served,
            distinct_states(case when is_completed then state_key end) as states_reached,
            coalesce(sum(participants) filter (where is_engagement), 0) as participants,
            coalesce(sum(responses) filter (where is_engagement), 0) as survey_responses,
            count(*) filter (where is_completed and responses > 0) as responded_engagements,
            {_WAVE_COUNTS},
            coalesce(sum(late_responses) filter (where is_engagement), 0) as late_responses
        {source}
    """,
        params,
    )
    counts = {k: int(v) for k, v in row.items()}
    out: dict[str, float | int | None] = dict(counts)
    out["completion_rate"] = _pct(counts["completed"], counts["engagements"])
    out["response_rate"] = _pct(counts["responded_engagements"], counts["completed"])
    for wave in schema.WAVES:
        out[f"{wave}_response_rate"] = _pct(
            counts[f"{wave}_responded_engagements"], counts["completed"]
        )
    return out


# Per wave: responses, respondents (responses answering at least one item) and completed
# engagements with a response in that wave.
_WAVE_COUNTS = ",\n".join(
    f"coalesce(sum({w}_responses) filter (where is_engagement), 0) as {w}_responses, "
    f"coalesce(sum({w}_respondents) filter (where is_engagement), 0) as {w}_respondents, "
    f"count(*) filter (where is_completed and {w}_responses > 0) as {w}_responded_engagements"
    for w in schema.WAVES
)


def response_rates(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict:
    """Completed engagements with a survey response, as a % of completed engagements: any wave,
    right after and at follow-up apart, with the responses and respondents behind them. The
    rates are suppressed (None) below ``min_n`` responses, as every survey figure is.
    ``late_responses``: responses submitted after the last day of engagement data; they are
    counted with their engagements (and said so on the page)."""
    head = headline(con, filters)
    names = ["survey_responses", "responded_engagements", "completed", "late_responses"]
    for wave in schema.WAVES:
        names += [f"{wave}_responses", f"{wave}_respondents", f"{wave}_responded_engagements"]
    out = {name: head[name] for name in names}
    out["survey_respondents"] = sum(head[f"{w}_respondents"] for w in schema.WAVES)
    for rate in ("response_rate", *(f"{w}_response_rate" for w in schema.WAVES)):
        out[rate] = None if head["survey_responses"] < min_n else head[rate]
    through = db.scalar(con, "select data_through from store_meta")
    out["data_through"] = through.isoformat() if through else None  # JSON-ready
    return out


def has_requests(con: Connection, filters: Filters) -> bool:
    """Whether any request matches the filters (the scan stops at the first one)."""
    source, params = _selection(filters)
    return con.execute(f"select 1 {source} limit 1", params).fetchone() is not None


def _pct(part: float, whole: float) -> float | None:
    return part / whole * 100 if whole else None


def summary(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict:
    """The `summary --json` contract."""
    head = headline(con, filters)
    return {
        "requests": head["requests"],
        "engagements": head["engagements"],
        "completed": head["completed"],
        "completion_rate": head["completion_rate"],
        "agencies_served": head["agencies_served"],
        "states_reached": head["states_reached"],
        "survey_responses": head["survey_responses"],
        "response_rate": None if head["survey_responses"] < min_n else head["response_rate"],
        "responded_engagements": head["responded_engagements"],
        "outcomes": _outcome_dict(item_outcomes(con, filters, "post", min_n)),
        "follow_up_outcomes": _outcome_dict(item_outcomes(con, filters, "follow_up", min_n)),
        "by_topic": _counts(breakdown(con, filters, "topic"), "topic"),
        "by_agency_type": _counts(breakdown(con, filters, "agency_type"), "agency_type"),
        "response_rates": response_rates(con, filters, min_n),
    }


def _counts(frame: pd.DataFrame, key: str) -> dict[str, int]:
    frame = frame[frame["engagements"] > 0].sort_values(
        ["engagements", key], ascending=[False, True]
    )
    return {str(k): int(v) for k, v in zip(frame[key], frame["engagements"], strict=True)}


def _outcome_dict(frame: pd.DataFrame) -> dict[str, dict]:
    return {
        row.item: {
            "n": int(row.n),
            "top2_pct": _none(row.top2_pct),
            "mean": _none(row.mean),
            "suppressed": bool(row.suppressed),
        }
        for row in frame.itertuples()
    }


def _none(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _store_days(con: Connection) -> tuple[dt.date | None, dt.date | None]:
    """The last day of data (store_meta.data_through) and the first request date."""
    row = con.execute(
        "select (select data_through from store_meta),"
        " (select min(requested_on) from engagement_facts)"
    ).fetchone()
    return (_as_date(row[0]), _as_date(row[1])) if row else (None, None)


def _as_date(value) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return value if type(value) is dt.date else pd.Timestamp(value).date()


def comparison(con: Connection, filters: Filters) -> Comparison:
    """What the KPI changes compare for ``filters`` (see critac_metrics.comparison)."""
    return compare(filters, *_store_days(con))


def _cutoff(through: dt.date | None, window: int) -> dt.date | None:
    """The last request date at least ``window`` days before the last day of data."""
    try:
        return None if through is None else through - dt.timedelta(days=window)
    except OverflowError:
        return None


def kpis_with_comparison(
    con: Connection,
    filters: Filters,
    min_n: int = DEFAULT_MIN_N,
    window: int = COMPLETION_WINDOW_DAYS,
) -> pd.DataFrame:
    """Headline figures with their change against the previous period (``comparison``: the
    same days of the period before, or for all time the last complete fiscal year against the
    one before), a sparkline, and for the positive-outcome rate the answers behind it (``n``).

    ``value`` is the selection's figure; ``compared`` the figure of the span the change is
    measured on (the same as ``value`` except for all time); ``change`` = compared - previous."""
    through, first_day = _store_days(con)
    cmp = compare(filters, through, first_day)
    cutoff = _cutoff(through, window)
    if cmp.current is None or cmp.previous is None:
        current = _kpi_counts(con, filters, cutoff, window).get(True, _NO_COUNTS)
        compared = previous = None
    elif cmp.current.start == filters.start:  # one scan of the selection and the period before
        both = _kpi_counts(
            con,
            filters.replace(start=cmp.previous.start),
            cutoff,
            window,
            split=(filters.start, cmp.previous.end),
            previous_as_of=cmp.previous_as_of,
        )
        current = compared = both.get(True, _NO_COUNTS)
        previous = both.get(False, _NO_COUNTS)
    else:  # all time: the selection, then its last two complete fiscal years
        current = _kpi_counts(con, filters, cutoff, window).get(True, _NO_COUNTS)
        both = _kpi_counts(
            con,
            filters.replace(start=cmp.previous.start, end=cmp.current.end),
            cutoff,
            window,
            split=(cmp.current.start, cmp.previous.end),
            previous_as_of=cmp.previous_as_of,
        )
        compared, previous = both.get(True, _NO_COUNTS), both.get(False, _NO_COUNTS)
    values = _kpi_values(current, min_n)
    compared_values = _kpi_values(compared, min_n) if compared is not None else {}
    previous_values = _kpi_values(previous, min_n) if previous is not None else {}
    span_days = int(current.get("span_days") or 0)
    spark = kpi_series(con, filters, "month" if span_days <= 1100 else "quarter", window)
    rows = []
    for name, value in values.items():
        now, before = compared_values.get(name), previous_values.get(name)
        change = None if now is None or before is None else now - before
        rows.append(
            {
                "metric": name,
                "value": value,
                "compared": now,
                "previous": before,
                "change": change,
                "change_pct": _pct(change, before) if change is not None and before else None,
                "sparkline": _sparkline(spark, name, cutoff, filters.date_basis),
                "n": int(current["respondents"]) if name == "positive_outcome_pct" else None,
            }
        )
    return pd.DataFrame(rows)


def comparison_summary(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict:
    """The KPI changes as plain data (``summary --compare``): what is compared, and per KPI its
    value, the compared and previous figures, the change and the change as shown."""
    cmp = comparison(con, filters)

    def day(f: Filters | None, which: str) -> str | None:
        return getattr(f, which).isoformat() if f is not None else None

    frame = kpis_with_comparison(con, filters, min_n)
    return {
        "sentence": cmp.sentence,
        "current": cmp.current_text or None,
        "previous": cmp.previous_text or None,
        "current_start": day(cmp.current, "start"),
        "current_end": day(cmp.current, "end"),
        "previous_start": day(cmp.previous, "start"),
        "previous_end": day(cmp.previous, "end"),
        "figures": {
            row["metric"]: {
                "value": _none(row["value"]),
                "compared": _none(row["compared"]),
                "previous": _none(row["previous"]),
                "change": _none(row["change"]),
                "change_text": registry.METRICS[row["metric"]].change(_none(row["change"])),
            }
            for row in frame.to_dict("records")
        },
    }


_NO_COUNTS = dict.fromkeys(
    (
        "engagements",
        "agencies_served",
        "completed",
        "states_reached",
        "answers",
        "top2",
        "respondents",
        "responses",
        "responded",
        "aged",
        "timely",
        "span_days",
    ),
    0,
)


def _kpi_counts(
    con: Connection,
    filters: Filters,
    cutoff: dt.date | None,
    window: int,
    split: tuple[dt.date | None, dt.date | None] | None = None,
    previous_as_of: dt.date | None = None,
) -> dict[bool, dict]:
    """The KPI counts of the selection in one scan; with ``split`` = (current start, previous
    end), those of the current span (True) and of the previous one (False), by the date basis.
    With ``previous_as_of``, the previous span's deliveries (and the agencies they served) and
    survey responses count only up to that day (see comparison._as_of: right-censoring)."""
    column = filters.date_column
    source, params = _selection(filters)
    key, key_params = "true", []
    if split is not None:
        key = f"case when {column} >= ? then true when {column} <= ? then false end"
        key_params = list(split)
    columns = f"*, {key} as is_current"
    delivered, responded = "is_completed", "is_completed and responses > 0"
    as_of_params: list[object] = []
    if previous_as_of is not None:
        # A correlated subquery DuckDB turns into one join; only the comparison scan pays for it.
        columns += (
            ", (select min(s.submitted_on) from survey_responses s"
            " where s.engagement_id = engagement_facts.engagement_id) as first_response_on"
        )
        delivered = "is_completed and (is_current or completed_on <= ?::date)"
        responded = (
            f"{delivered} and responses > 0 and (is_current or first_response_on <= ?::date)"
        )
        as_of_params = [previous_as_of] * 5  # in the order the placeholders appear below
    rows, description = _fetch(
        con,
        f"""
        select is_current,
            count(*) filter (where is_engagement) as engagements,
            distinct_agencies(case when {delivered} then agency_key end) as agencies_served,
            count(*) filter (where {delivered}) as completed,
            distinct_states(case when {delivered} then state_key end) as states_reached,
            coalesce(sum({_TILE_ANSWERS}) filter (where is_engagement), 0) as answers,
            coalesce(sum({_TILE_TOP2}) filter (where is_engagement), 0) as top2,
            coalesce(sum({_TILE_ANSWERS}) filter (where is_engagement), 0) as respondents,
            coalesce(sum(responses) filter (where is_engagement), 0) as responses,
            count(*) filter (where {responded}) as responded,
            count(*) filter (where is_engagement and requested_on <= ?) as aged,
            count(*) filter (
                where is_engagement and requested_on <= ? and is_completed
                    and days_to_completion <= ?
            ) as timely,
            date_diff('day', min({column}), max({column})) as span_days
        from (select {columns} {source}) group by all
    """,
        [
            *as_of_params,
            cutoff,
            cutoff,
            window,
            *key_params,
            *params,
        ],
    )
    names = [d[0] for d in description]
    return {bool(row[0]): dict(zip(names, row, strict=True)) for row in rows if row[0] is not None}


def _kpi_values(counts: dict, min_n: int) -> dict[str, float | None]:
    responses = int(counts["responses"])
    return {  # the KPI tiles in their order, three to a row (delivered headlines)
        "completed": int(counts["completed"]),
        "engagements": int(counts["engagements"]),
        "agencies_served": int(counts["agencies_served"]),
        "timely_completion_rate": _pct(int(counts["timely"]), int(counts["aged"])),
        "positive_outcome_pct": _top2_pct(
            int(counts["top2"]), int(counts["answers"]), int(counts["respondents"]), min_n
        ),
        # a survey figure too: suppressed below min_n responses (no survey % for a tiny selection)
        "response_rate": None
        if responses < min_n
        else _pct(int(counts["responded"]), int(counts["completed"])),
    }


# Figures of a request-date period that keep rising while its work finishes (right-censoring).
_STILL_FINISHING = frozenset({"completed", "agencies_served"})


def _sparkline(
    series: pd.DataFrame, name: str, cutoff: dt.date | None = None, basis: str = "requested"
) -> list[float]:
    """The metric per period, leaving out the period still in progress (its part-period value
    would read as a drop) and, for a rate, the periods without engagements (no rate, not 0%);
    completion within the window, and by request date deliveries and agencies served, only for
    periods whose requests are all at least the window old (recent ones are still finishing)."""
    if name not in series:
        return []
    keep = ~series["is_partial"]
    if name == "timely_completion_rate" or (basis == "requested" and name in _STILL_FINISHING):
        months = _grain_months(series)
        keep &= np.array([_aged(s.date(), months, cutoff) for s in series["period_start"]], bool)
    values = series.loc[keep, name]
    if name.endswith("_rate"):
        values = values.dropna()
    return [float(v) for v in values]


# -- volume and trend ---------------------------------------------------------------------------


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


PERIOD_MONTHS = {"month": 1, "quarter": 3, "fiscal_year": 12}
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
    measure_params: list | None = None,
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
    rows: list[tuple], description: list[tuple], grain: str, by: str | None = None
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


def _no_periods(description: list[tuple]) -> pd.DataFrame:
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
    con: Connection, filters: Filters, grain: str = "month", window: int = COMPLETION_WINDOW_DAYS
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
    through = _as_date(_fetch(con, "select data_through from store_meta", [])[0][0][0])
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


# -- milestone projection -----------------------------------------------------------------------

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

        def solve(too_low) -> float:
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


def milestone_projection(con: Connection, filters: Filters) -> dict:
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
    through_row = con.execute("select data_through from store_meta").fetchone()
    through = pd.Timestamp(through_row[0]).date() if through_row and through_row[0] else None
    source, params = _selection(filters)
    out: dict = {"status": "no_data", "milestone": None, "current": 0, "through": through}
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


# -- breakdowns ---------------------------------------------------------------------------------


def breakdown(con: Connection, filters: Filters, dimension: str) -> pd.DataFrame:
    """Requests, engagements, completed and agencies per value of a dimension."""
    return _frame(*_breakdown_rows(con, filters, dimension))


def _breakdown_rows(
    con: Connection, filters: Filters, dimension: str
) -> tuple[list[tuple], list[tuple]]:
    """``breakdown``'s rows (value, requests, engagements, completed, agencies) and columns."""
    value = _dimension(dimension)
    source, params = _selection(filters, dimension)
    rows, description = _fetch(
        con,
        f"""
        select {value} as {dimension}, count(*) as requests,
            count(*) filter (where is_engagement) as engagements,
            count(*) filter (where is_completed) as completed,
            distinct_agencies(case when is_completed then agency_key end) as agencies
        {source} group by 1
        order by engagements desc, 1
    """,
        params,
    )
    return _ordered(rows, dimension), description


def _ordered(rows: list[tuple], dimension: str) -> list[tuple]:
    """``rows`` (the dimension's value first) in the dimension's own order where it has one
    (values outside it last, in the order they came)."""
    order = DIMENSION_ORDER.get(dimension)
    if not order:
        return rows
    rank = {v: i for i, v in enumerate(order)}
    return sorted(rows, key=lambda row: rank.get(row[0], len(rank)))


def topic_by_agency_type(con: Connection, filters: Filters) -> pd.DataFrame:
    """Engagements per topic (rows) and agency type (columns); topics ordered by total."""
    summed, params = _summed_sql(
        filters,
        "topic",
        {"engagements": "count(*)"},
        {"agency_type": "agency_type"},
        where="is_engagement",
    )
    rows = con.execute(
        f"select value as topic, agency_type, engagements from ({summed})", params
    ).fetchall()
    if not rows:
        return pd.DataFrame(columns=["topic", *schema.AGENCY_TYPES])
    counts: dict[str, dict[str, int]] = {}
    for topic, agency_type, engagements in rows:
        per_type = counts.setdefault(topic, {})
        per_type[agency_type] = per_type.get(agency_type, 0) + engagements
    types = [t for t in schema.AGENCY_TYPES if any(t in per_type for per_type in counts.values())]
    total = {topic: sum(per_type.get(t, 0) for t in types) for topic, per_type in counts.items()}
    topics = sorted(sorted(counts), key=total.__getitem__, reverse=True)  # ties by name
    return pd.DataFrame(
        {
            "topic": topics,
            **{
                t: np.array([counts[topic].get(t, 0) for topic in topics], dtype="int64")
                for t in types
            },
        }
    )


# -- reach --------------------------------------------------------------------------------------


def reach(con: Connection, filters: Filters) -> dict[str, float | int | None]:
    """Agencies served (with a delivered engagement in the selection), split by whether their
    first delivered engagement ever is in the selection (first-time) or before it (repeat); the
    states, sizes and participants of the agencies served."""
    source, params = _selection(filters)
    row = _record(
        con,
        f"""
        with served as (
            select agency_key, any_value(state) as state, any_value(sworn_officers) as sworn,
                min(agency_delivery_seq) as first_delivery_here,
                sum(participants) as participants
            {source} and is_completed group by agency_key
        )
        select count(*) as agencies_served,
            count(*) filter (where first_delivery_here = 1) as first_time_agencies,
            count(*) filter (where first_delivery_here > 1) as repeat_agencies,
            count(distinct state) as states_reached,
            count(distinct state) filter (where state = any(?::varchar[])) as territories_reached,
            count(*) filter (where sworn < 50) as small_agencies,
            count(sworn) as agencies_with_size,
            coalesce(sum(participants), 0) as participants
        from served
    """,
        [*params, list(schema.TERRITORIES)],
    )
    counts = {k: int(v) for k, v in row.items()}
    out: dict[str, float | int | None] = dict(counts)
    out["small_agency_share"] = _pct(counts["small_agencies"], counts["agencies_with_size"])
    return out


def field_reach(con: Connection, filters: Filters) -> pd.DataFrame:
    """Agencies served as a share of all US state and local law-enforcement agencies (BJS CSLLEA
    2018, ``field.census``), overall and by census category; agencies of the territorial type or
    in a territory are left out (the census counts the states' and DC's). A category's count is
    published only as a whole-percent share of the total, so its share served comes with the range
    that rounding allows (``share_low`` to ``share_high``); the overall count is exact."""
    source, params = _selection(filters)
    rows = _fetch(
        con,
        f"""
        select agency_type, count(distinct agency_key) as served
        {source} and is_completed and not (state = any(?::varchar[]))
        group by agency_type
    """,
        [*params, list(field.OUTSIDE_STATES)],
    )[0]
    by_type = {agency_type: int(n) for agency_type, n in rows}
    census = field.census()
    served = {c: 0 for c in ("all", *field.CATEGORIES)}
    for agency_type, n in by_type.items():
        category = field.BJS_CATEGORY.get(agency_type)
        if category is not None:
            served[category] += n
            served["all"] += n
    total = census["all"].agencies or 0
    records = []
    for category, n in served.items():
        d = census[category]
        estimate = float(d.agencies) if d.agencies is not None else d.share_pct / 100 * total
        records.append(
            {
                "category": category,
                "label": d.label,
                "agency_types": ", ".join(
                    t for t in schema.AGENCY_TYPES if field.BJS_CATEGORY[t] == category
                )
                or "all but territorial",
                "agencies_served": n,
                "field_agencies": estimate,
                "field_low": d.low,
                "field_high": d.high,
                "share_pct": 100 * n / estimate,
                "share_low": 100 * n / d.high,
                "share_high": 100 * n / d.low,
                "exact": d.agencies is not None,
            }
        )
    return pd.DataFrame(records)


def first_time_vs_repeat(
    con: Connection, filters: Filters, grain: str = "fiscal_year"
) -> pd.DataFrame:
    """Agencies served per period (each counted once a period), split into first-time agencies
    (their first delivered engagement ever is in the period, even if they came back within it)
    and repeat agencies (served before the period). Summed over the periods, the first-time
    agencies are ``reach``'s; a repeat agency counts in every period it was served in."""
    period = _period_sql(grain)
    source, params = _selection(filters)
    rows, description = _fetch(
        con,
        f"""
        select period_start,
            count(*) filter (where first_delivery_here = 1) as first_time_agencies,
            count(*) filter (where first_delivery_here > 1) as repeat_agencies,
            {_DATA_THROUGH}
        from (
            select {period}::date as period_start, min(agency_delivery_seq) as first_delivery_here
            {source} and is_completed group by period_start, agency_key
        )
        group by all order by period_start
    """,
        params,
    )
    return _fill_periods(rows, description, grain)


def engagements_by_state(con: Connection, filters: Filters) -> pd.DataFrame:
    """Every state, DC and territory (zero where none), with engagements and agencies served."""
    rows, _ = _breakdown_rows(con, filters, "state")
    found = {row[0]: row for row in rows}  # state, requests, engagements, completed, agencies
    none = (None, 0, 0, 0, 0)
    per_state = [found.get(state, none) for state in schema.STATES]
    return pd.DataFrame(
        {
            "state": schema.STATES,
            "state_name": [schema.STATE_NAMES.get(state) for state in schema.STATES],
            "region": [schema.STATE_REGION.get(state) for state in schema.STATES],
            "engagements": np.array([row[2] for row in per_state], dtype="int64"),
            "agencies": np.array([row[4] for row in per_state], dtype="int64"),
        }
    )


def agency_table(con: Connection, filters: Filters, search: str = "") -> pd.DataFrame:
    """One row per agency served (with a delivered engagement in the selection): name, type,
    state, size, accepted and delivered engagements, first and last request."""
    source, params = _selection(filters)
    return query(
        con,
        f"""
        select any_value(agency_name) as agency_name, any_value(agency_type) as agency_type,
            any_value(state) as state, any_value(sworn_officers) as sworn_officers,
            any_value(size_band) as size_band,
            count(*) as engagements, count(*) filter (where is_completed) as completed,
            min(requested_on) as first_request, max(requested_on) as last_request,
            any_value(agency_id) as agency_id
        {source} and is_engagement and (? = '' or contains(lower(agency_name), lower(?)))
        group by agency_key having bool_or(is_completed)
        order by engagements desc, agency_name, agency_id
    """,
        [*params, search, search],
    )


# -- pipeline -----------------------------------------------------------------------------------

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
    value = _dimension(by) if by else "'All'"
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


# -- outcomes -----------------------------------------------------------------------------------


class _AnswerCounts(NamedTuple):
    """How many of a segment's answers to an item in a wave were 1..5, the segment's completed
    and responded engagements, and the sums over engagements (clusters) that a cluster-robust
    interval needs: per engagement, y = positive answers and m = answers to the item."""

    segment: str | None
    wave: str | None
    item: str
    answers: tuple[int, ...]  # answers 1..5
    completed: int
    responded_engagements: int
    engagements: int = 0  # engagements with a response in the wave (matched: in both)
    clusters: int = 0  # engagements with an answer to the item
    yy: int = 0  # sum of y squared
    ym: int = 0  # sum of y * m
    mm: int = 0  # sum of m squared


# Engagements answered in both waves: the matched post vs follow-up comparison.
MATCHED = "post_responses > 0 and follow_up_responses > 0"


def _answer_counts(
    con: Connection,
    filters: Filters,
    waves: tuple[str | None, ...],
    by: str | None,
    items: tuple[str, ...] = schema.SURVEY_ITEMS,
    only: str | None = None,
) -> list[_AnswerCounts]:
    """Per segment, wave and item: the answers 1..5 summed over the selected engagements'
    responses, for each of ``waves`` (None: all waves added up) in one scan; a segment without a
    response in a wave is left out of that wave. With ``by``, also each segment's completed and
    responded engagements (for response rates). ``only`` (a fixed condition, e.g. ``MATCHED``)
    narrows the engagements further."""
    for wave in waves:
        if wave is not None and wave not in schema.WAVES:
            raise ValueError(f"unknown wave {wave!r}; choose from {', '.join(schema.WAVES)}")
    for item in items:  # item names become column names below: only the known ones
        if item not in schema.SURVEY_ITEMS:
            raise ValueError(f"unknown item {item!r}; choose from {', '.join(schema.SURVEY_ITEMS)}")
    if only not in (None, MATCHED):
        raise ValueError("unknown engagement condition")

    def total(wave: str | None, column) -> str:
        return " + ".join(column(w) for w in ((wave,) if wave else schema.WAVES))

    def answered(wave: str | None, item: str, answers) -> str:
        parts = (total(wave, lambda w, a=a: db.answer_column(w, item, a)) for a in answers)
        return "(" + " + ".join(parts) + ")"

    measures = {
        f"w{n}_c{a}_{item}": f"sum({total(wave, lambda w, i=item, a=a: db.answer_column(w, i, a))})"
        for n, wave in enumerate(waves)
        for item in items
        for a in range(1, 6)
    }
    for n, wave in enumerate(waves):
        measures[f"w{n}_responses"] = f"sum({total(wave, lambda w: f'{w}_responses')})"
        measures[f"w{n}_engagements"] = (
            f"count(*) filter (where {total(wave, lambda w: f'{w}_responses')} > 0)"
        )
        for item in items:
            y, m = answered(wave, item, (4, 5)), answered(wave, item, range(1, 6))
            measures[f"w{n}_k_{item}"] = f"count(*) filter (where {m} > 0)"
            measures[f"w{n}_yy_{item}"] = f"sum({y} * {y})"
            measures[f"w{n}_ym_{item}"] = f"sum({y} * {m})"
            measures[f"w{n}_mm_{item}"] = f"sum({m} * {m})"
    measures["completed"] = "count(*) filter (where is_completed)"
    measures["responded_engagements"] = "count(*) filter (where is_completed and responses > 0)"
    having = " or ".join(f"sum(w{n}_responses) > 0" for n in range(len(waves)))
    where = "is_engagement" if only is None else f"is_engagement and {only}"
    summed, params = _summed_sql(filters, by, measures, where=where, having=having)
    rows, description = _fetch(
        con, f"select * rename (value as segment) from ({summed}) order by segment", params
    )
    column = {d[0]: i for i, d in enumerate(description)}
    return [
        _AnswerCounts(
            segment=row[column["segment"]],
            wave=wave,
            item=item,
            answers=tuple(int(row[column[f"w{n}_c{a}_{item}"]]) for a in range(1, 6)),
            completed=int(row[column["completed"]]),
            responded_engagements=int(row[column["responded_engagements"]]),
            engagements=int(row[column[f"w{n}_engagements"]]),
            **{
                field: int(row[column[f"w{n}_{key}_{item}"]])
                for field, key in (("clusters", "k"), ("yy", "yy"), ("ym", "ym"), ("mm", "mm"))
            },
        )
        for row in rows
        for n, wave in enumerate(waves)
        if row[column[f"w{n}_responses"]] > 0
        for item in items
    ]


OUTCOME_FIGURES = (
    "top2_pct",
    "top2_low",
    "top2_high",
    "bottom2_pct",
    "mean",
    *(f"pct_{a}" for a in range(1, 6)),
)
Z95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion, in percent (``n`` may be an effective n)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half) * 100, min(1.0, centre + half) * 100)


def effective_n(positive: int, n: int, clusters: int, yy: float, ym: float, mm: float) -> float:
    """The number of independent answers that ``n`` answers clustered in ``clusters``
    engagements are worth for the proportion positive/n: n divided by the design effect, the
    cluster-robust (sandwich) variance of the ratio estimator over the simple-random-sample one,
    taken as at least 1. ``yy``, ``ym``, ``mm``: sums over engagements of y², y·m and m² (y:
    positive answers, m: answers). With one engagement, 1; when every answer is positive (or
    none is) the variance cannot be estimated and the number of engagements is used."""
    if n == 0:
        return 0.0
    if clusters < 2:
        return 1.0
    p = positive / n
    simple = p * (1 - p) / n
    if simple == 0:
        return float(clusters)
    spread = max(0.0, yy - 2 * p * ym + p * p * mm)
    robust = clusters / (clusters - 1) * spread / (n * n)
    return n / max(1.0, robust / simple)


def clustered_interval(
    count: list[int], clusters: int, yy: float, ym: float, mm: float
) -> tuple[float, float]:
    """95% Wilson interval at the effective n of answers clustered by engagement (percent)."""
    c = list(count)
    positive, n = c[3] + c[4], sum(c)
    if n == 0:
        return (math.nan, math.nan)
    n_eff = effective_n(positive, n, clusters, yy, ym, mm)
    return wilson_interval(positive / n * n_eff, n_eff)  # the same proportion at n_eff


def _outcome_figures(counts: list[_AnswerCounts], keys: dict[str, str], min_n: int) -> pd.DataFrame:
    """The answers added up per ``keys`` (fields of the counts -> column names) into n,
    top/bottom-2-box, interval (clustered by engagement), mean, with suppression; one row per
    key, in order of first appearance (counts without a key value are left out, as a groupby
    leaves them)."""
    totals: dict[tuple, list[int]] = {}
    for count in counts:
        key = tuple(getattr(count, field) for field in keys)
        if None in key:
            continue
        total = totals.setdefault(key, [0] * 9)
        for a, answered in enumerate(count.answers):
            total[a] += answered
        for i, extra in enumerate((count.clusters, count.yy, count.ym, count.mm)):
            total[5 + i] += extra
    rows = [
        {**dict(zip(keys.values(), key, strict=True)), **_answer_figures(c[:5], min_n, c[5:])}
        for key, c in totals.items()
    ]
    return pd.DataFrame(rows, columns=[*keys.values(), "n", *OUTCOME_FIGURES, "suppressed"])


def _answer_figures(c: list[int], min_n: int, cluster: list[int] | None = None) -> dict:
    """n, the OUTCOME_FIGURES and whether they are suppressed, from the answers 1..5 ``c`` (and
    the cluster sums: engagements, yy, ym, mm)."""
    n = sum(c)
    suppressed = n < min_n
    clusters, yy, ym, mm = cluster or (n, c[3] + c[4], c[3] + c[4], n)
    low, high = clustered_interval(c, clusters, yy, ym, mm)
    figures = {
        "top2_pct": _pct(c[3] + c[4], n),
        "top2_low": low,
        "top2_high": high,
        "bottom2_pct": _pct(c[0] + c[1], n),
        "mean": sum((a + 1) * c[a] for a in range(5)) / n if n else None,
        **{f"pct_{a}": _pct(c[a - 1], n) for a in range(1, 6)},
    }
    if suppressed:
        figures = dict.fromkeys(figures, math.nan)
    return {"n": n, **figures, "suppressed": suppressed}


def item_outcomes(
    con: Connection, filters: Filters, wave: str = "post", min_n: int = DEFAULT_MIN_N
) -> pd.DataFrame:
    """Per survey item: n, % answering 1..5, top-2-box with Wilson 95% interval, bottom-2, mean."""
    return _item_figures(_answer_counts(con, filters, (wave,), None), min_n)


def _item_figures(counts: list[_AnswerCounts], min_n: int) -> pd.DataFrame:
    """Outcome figures per item, in the catalogue's item order (every item at n = 0 without
    counts)."""
    if not counts:
        counts = [_AnswerCounts(None, None, item, (0,) * 5, 0, 0) for item in schema.SURVEY_ITEMS]
    rank = {item: i for i, item in enumerate(schema.SURVEY_ITEMS)}
    in_order = sorted(counts, key=lambda count: rank.get(count.item, len(rank)))
    return _outcome_figures(in_order, {"item": "item"}, min_n)


def positive_outcome(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict:
    """The KPI tile: % positive at the reaction level (post-engagement satisfaction, 4 or 5),
    one level of evidence, not the items of every level pooled (see ``evidence_levels``).

    ``n`` counts respondents (each answers the item once), and the figure is suppressed below
    ``min_n`` respondents. ``answers`` equals n for this one item."""
    source, params = _selection(filters)
    row = _record(
        con,
        f"""
        select coalesce(sum({_TILE_ANSWERS}), 0) as answers,
            coalesce(sum({_TILE_TOP2}), 0) as top2,
            coalesce(sum({_TILE_ANSWERS}), 0) as respondents
        {source} and is_engagement
    """,
        params,
    )
    n = int(row["respondents"])
    return {
        "n": n,
        "answers": int(row["answers"]),
        "top2_pct": _top2_pct(int(row["top2"]), int(row["answers"]), n, min_n),
        "suppressed": n < min_n or n == 0,
    }


def _top2_pct(top2: int, answers: int, respondents: int, min_n: int) -> float | None:
    """The positive-outcome rate of ``answers``, or None when suppressed (fewer than ``min_n``
    respondents gave them)."""
    return None if respondents < min_n or respondents == 0 else _pct(top2, answers)


def outcomes_by(
    con: Connection,
    filters: Filters,
    by: str,
    wave: str = "post",
    min_n: int = DEFAULT_MIN_N,
    item: str | None = None,
) -> pd.DataFrame:
    """Outcome figures per segment and item (or just ``item``), with each segment's response rate
    beside them (empty for a segment without completed engagements)."""
    items = schema.SURVEY_ITEMS if item is None else (item,)
    counts = _answer_counts(con, filters, (wave,), by, items)
    # figures of every cell first (min_n 0), then the one suppression rule over the breakdown
    frame = protect_breakdown(_outcome_figures(counts, {"segment": by, "item": "item"}, 0), min_n)
    if not counts:
        rates = ["completed", "responded_engagements", "response_rate"]
        return pd.DataFrame(columns=[*frame.columns, *rates])
    # segment -> its first counts (each carries the segment's engagements)
    first: dict[str | None, _AnswerCounts] = {}
    for count in counts:
        first.setdefault(count.segment, count)
    segments = [first[segment] for segment in frame[by]]
    # None: no rate (no completed engagements, or a suppressed row: no survey % at all there)
    rated = [
        count if count.completed > 0 and not hidden else None
        for count, hidden in zip(segments, frame["suppressed"], strict=True)
    ]
    frame["completed"] = _gapped([c.completed if c else None for c in rated])
    frame["responded_engagements"] = _gapped(
        [c.responded_engagements if c else None for c in rated]
    )
    frame["response_rate"] = np.array(
        [c.responded_engagements / c.completed * 100 if c else None for c in rated],
        dtype="float64",
    )
    return frame


def complementary_suppression(
    ns: list[int], min_n: int, positives: list[int] | None = None
) -> list[bool]:
    """Which cells of one breakdown to suppress, given each cell's respondents ``ns`` (and how
    many of them answered 4 or 5, ``positives``), for cells that add up to a total shown
    elsewhere. The one rule every output uses (pages, chart CSVs, deck, HTML report, CLI).

    Primary: every cell below ``min_n``. Complementary: while any cell is suppressed, also
    suppress the next smallest shown cell (ties: the first) until the suppressed cells are at
    least two, hold at least ``min_n`` respondents together, more respondents than cells (else
    each would hold exactly one) and, together, some positive and some other answers (else each
    cell's positive count, 0, or its rate, 100%, would follow). Then no suppressed cell's n or
    positive count can be worked out from the shown cells and the total. Only when every cell is
    suppressed can a condition still fail (the total, shown or suppressed on its own, is all
    there is)."""
    hidden = [n < min_n for n in ns]
    if not any(hidden):
        return hidden

    def protected() -> bool:
        count = sum(hidden)
        together = sum(n for n, h in zip(ns, hidden, strict=True) if h)
        enough = count >= 2 and together >= min_n and together > count
        if positives is None:  # only the n is to be protected
            return enough
        top = sum(p for p, h in zip(positives, hidden, strict=True) if h)
        return enough and 0 < top < together

    while not protected() and not all(hidden):
        smallest = min((n, i) for i, (n, h) in enumerate(zip(ns, hidden, strict=True)) if not h)
        hidden[smallest[1]] = True
    return hidden


def protect_breakdown(frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """An outcome breakdown (one row per segment and item, figures not yet suppressed) with
    ``complementary_suppression`` applied per item: suppressed rows lose every figure and their n
    (shown as empty)."""
    if frame.empty:
        return frame
    hidden = np.zeros(len(frame), dtype=bool)
    positives = (frame["pct_4"].fillna(0) + frame["pct_5"].fillna(0)) * frame["n"] / 100
    for _, rows in frame.groupby("item", sort=False).groups.items():
        positions = frame.index.get_indexer(rows)
        hidden[positions] = complementary_suppression(
            [int(n) for n in frame["n"].iloc[positions]],
            min_n,
            [round(p) for p in positives.iloc[positions]],
        )
    out = frame.copy()
    if hidden.any():
        out.loc[hidden, list(OUTCOME_FIGURES)] = math.nan
        out["n"] = out["n"].astype("float64")
        out.loc[hidden, "n"] = math.nan
    out["suppressed"] = hidden
    return out


def _gapped(values: list[int | None]) -> np.ndarray:
    """Counts with gaps (None): int64 without any, else float64 with NaN in them."""
    return np.array(values, dtype="float64" if None in values else "int64")


def post_vs_follow_up(
    con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N, matched: bool = True
) -> pd.DataFrame:
    """Item outcomes for both waves side by side (long: wave, item, ...), in one scan.

    ``matched`` (the default): only engagements with responses in both waves, so the two waves
    describe the same engagements. Unmatched: every answer of each wave (different engagements
    behind each). ``engagements``: the engagements behind each wave's figures."""
    counts = _answer_counts(con, filters, schema.WAVES, None, only=MATCHED if matched else None)
    frames = []
    for wave in schema.WAVES:
        part = [c for c in counts if c.wave == wave]
        figures = _item_figures(part, min_n).assign(wave=wave)
        frames.append(
            figures.assign(engagements=part[0].engagements if part else 0, matched=matched)
        )
    return pd.concat(frames, ignore_index=True)


# Levels of evidence (after Kirkpatrick): name -> (wave, survey item). Reaction and learning
# are asked right after an engagement; behaviour and results are self-reported months later.
EVIDENCE_LEVELS = {
    "reaction": ("post", "satisfaction"),
    "learning": ("post", "knowledge_gain"),
    "behaviour": ("follow_up", "operations_change"),
    "results": ("follow_up", "service_delivery"),
}


def evidence_levels(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """% positive at each level of evidence, each from its own wave and item (never pooled)."""
    return levels_of(post_vs_follow_up(con, filters, min_n, matched=False))


def levels_of(both_waves: pd.DataFrame) -> pd.DataFrame:
    """``evidence_levels`` taken from an unmatched ``post_vs_follow_up`` frame (no second query):
    one row per level with its wave, item, n (respondents), figures and the engagements of the
    wave."""
    rows = []
    for level, (wave, item) in EVIDENCE_LEVELS.items():
        match = both_waves[(both_waves["wave"] == wave) & (both_waves["item"] == item)]
        if match.empty:
            continue
        rows.append({"level": level, **match.iloc[0].to_dict()})
    columns = ["level", "wave", "item", "n", *OUTCOME_FIGURES, "suppressed", "engagements"]
    frame = pd.DataFrame(rows)
    return frame[columns] if rows else pd.DataFrame(columns=columns)


def one_wave(both_waves: pd.DataFrame, wave: str) -> pd.DataFrame:
    """``item_outcomes(wave)`` taken from an unmatched ``post_vs_follow_up`` frame (no second
    query)."""
    frame = both_waves[both_waves["wave"] == wave]
    frame = frame.drop(columns=["wave", "engagements", "matched"], errors="ignore")
    return frame.reset_index(drop=True)


def comments(
    con: Connection,
    filters: Filters,
    limit: int = 200,
    search: str = "",
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """Survey comments on the selected engagements, newest first (text only; render as text).

    None at all unless the selection has at least ``min_n`` respondents (survey responses, all
    waves): with fewer, a comment points at a person. A comment's score (satisfaction) and role
    are blank when its engagement has fewer than ``min_n`` respondents."""
    where, params = filters.where()
    source, selection_params = _selection(filters)
    return query(
        con,
        f"""
        select submitted_on, comment,
            case when engagement_responses >= ? then satisfaction end as satisfaction,
            wave,
            case when engagement_responses >= ? then respondent_role end as respondent_role,
            agency_name, agency_type, state, primary_topic, assistance_type, response_id
        from comment_facts
        where {where} and (? = '' or contains(lower(comment), lower(?)))
            and (select coalesce(sum(responses), 0) {source} and is_engagement) >= ?
        order by submitted_on desc, response_id
        limit ?
    """,
        [min_n, min_n, *params, search, search, *selection_params, min_n, int(limit)],
    )


# -- rows for download --------------------------------------------------------------------------


def filtered_engagements(
    con: Connection, filters: Filters, limit: int | None = None
) -> pd.DataFrame:
    """The engagement rows behind every figure, for download (topics joined back with '; ');
    ``limit`` keeps just the first rows (a preview)."""
    source, params = _selection(filters)
    return query(
        con,
        f"""
        select engagement_id, agency_id, agency_name, agency_type, state, sworn_officers,
            requested_on, fiscal_year, status, assistance_type,
            array_to_string(topics, '; ') as topics, delivery_mode, provider, participants,
            started_on, completed_on
        {source} order by row_id
        limit ?
    """,
        [*params, limit],
    )
