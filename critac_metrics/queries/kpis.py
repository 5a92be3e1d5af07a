"""The headline figures: the KPI counts in one scan, response rates, the ``summary --json``
contract, and the KPI tiles' change against the previous period with their sparklines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from .. import registry, schema
from ..comparison import Comparison, compare
from ..filters import Filters
from .breakdowns import breakdown
from .outcomes import _TILE_ANSWERS, _TILE_TOP2, _top2_pct, item_outcomes
from .periods import _aged, _grain_months, kpi_series
from .results import Connection, _as_date, _fetch, _none, _pct, _record, data_through
from .selection import _selection
from .survey_statistics import DEFAULT_MIN_N

# Completion within this many days of the request, among requests at least this old on the last
# day of data: a completion rate that recent periods are not penalised on (right-censoring).
COMPLETION_WINDOW_DAYS = registry.COMPLETION_WINDOW_DAYS


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


def response_rates(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict[str, Any]:
    """Completed engagements with a survey response, as a % of completed engagements: any wave,
    right after and at follow-up apart, with the responses and respondents behind them. The
    rates are suppressed (None) below ``min_n`` responses, as every survey figure is.
    ``late_responses``: responses submitted after the last day of engagement data; they are
    counted with their engagements (and said so on the page)."""
    return rates_of(headline(con, filters), data_through(con), min_n)


def rates_of(
    head: dict[str, Any], through: dt.date | None, min_n: int = DEFAULT_MIN_N
) -> dict[str, Any]:
    """``response_rates`` from the selection's ``headline`` and the last day of data
    (``store_meta.data_through``), without another scan (a page that has the headline)."""
    names = ["survey_responses", "responded_engagements", "completed", "late_responses"]
    for wave in schema.WAVES:
        names += [f"{wave}_responses", f"{wave}_respondents", f"{wave}_responded_engagements"]
    out = {name: head[name] for name in names}
    out["survey_respondents"] = sum(head[f"{w}_respondents"] for w in schema.WAVES)
    for rate in ("response_rate", *(f"{w}_response_rate" for w in schema.WAVES)):
        out[rate] = None if head["survey_responses"] < min_n else head[rate]
    out["data_through"] = through.isoformat() if through else None  # JSON-ready
    return out


def has_requests(con: Connection, filters: Filters) -> bool:
    """Whether any request matches the filters (the scan stops at the first one)."""
    source, params = _selection(filters)
    return con.execute(f"select 1 {source} limit 1", params).fetchone() is not None


def has_engagements(con: Connection, filters: Filters) -> bool:
    """Whether any engagement (a request not declined or withdrawn) matches the filters:
    ``headline(...)["engagements"] > 0`` for a page that needs nothing else of the headline (the
    scan stops at the first one)."""
    source, params = _selection(filters)
    return (
        con.execute(f"select 1 {source} and is_engagement limit 1", params).fetchone() is not None
    )


def summary(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> dict[str, Any]:
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


def _outcome_dict(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        row.item: {
            "n": int(row.n),
            "top2_pct": _none(row.top2_pct),
            "mean": _none(row.mean),
            "suppressed": bool(row.suppressed),
        }
        for row in frame.itertuples()
    }


def _store_days(con: Connection) -> tuple[dt.date | None, dt.date | None]:
    """The last day of data (store_meta.data_through) and the first request date."""
    row = con.execute(
        "select (select data_through from store_meta),"
        " (select min(requested_on) from engagement_facts)"
    ).fetchone()
    return (_as_date(row[0]), _as_date(row[1])) if row else (None, None)


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


def comparison_summary(
    con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N
) -> dict[str, Any]:
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
) -> dict[bool, dict[str, Any]]:
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
    column_params: list[object] = list(key_params)
    delivered, responded = "is_completed", "is_completed and responses > 0"
    if previous_as_of is not None:
        # A correlated subquery DuckDB turns into one join; only the comparison scan pays for it.
        columns += (
            ", ?::date as previous_as_of, (select min(s.submitted_on) from survey_responses s"
            " where s.engagement_id = engagement_facts.engagement_id) as first_response_on"
        )
        column_params.append(previous_as_of)
        delivered = "is_completed and (is_current or completed_on <= previous_as_of)"
        responded = (
            f"{delivered} and responses > 0 and (is_current or first_response_on <= previous_as_of)"
        )
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
        [cutoff, cutoff, window, *column_params, *params],
    )
    names = [d[0] for d in description]
    return {bool(row[0]): dict(zip(names, row, strict=True)) for row in rows if row[0] is not None}


def _kpi_values(counts: dict[str, Any], min_n: int) -> dict[str, float | None]:
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
