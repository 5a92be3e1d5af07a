"""Reach: the agencies served, first-time and repeat, against the whole field (BJS census), per
period, the table of agencies served, and the engagement rows behind every figure."""

from __future__ import annotations

import pandas as pd

from .. import field, schema
from ..filters import Filters
from .periods import _DATA_THROUGH, _fill_periods, _period_sql
from .results import Connection, _fetch, _pct, _record, query
from .selection import _selection


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
