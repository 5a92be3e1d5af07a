"""Figures per value of a dimension: a breakdown (in the dimension's natural order where it has
one), topic by agency type, and every state and territory for the map."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema
from ..filters import Filters
from .results import Connection, Description, Row, _fetch, _frame
from .selection import _dimension, _selection, _sql, _summed_sql


def breakdown(con: Connection, filters: Filters, dimension: str) -> pd.DataFrame:
    """Requests, engagements, completed and agencies per value of a dimension."""
    return _frame(*_breakdown_rows(con, filters, dimension))


def _breakdown_rows(
    con: Connection, filters: Filters, dimension: str
) -> tuple[list[Row], Description]:
    """``breakdown``'s rows (value, requests, engagements, completed, agencies) and columns."""
    value = _sql(dimension)
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


def _ordered(rows: list[Row], dimension: str) -> list[Row]:
    """``rows`` (the dimension's value first) in the dimension's own order where it has one
    (values outside it last, in the order they came)."""
    known = _dimension(dimension)
    if not known.ordered:
        return rows
    return sorted(rows, key=lambda row: known.rank(row[0]))


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
