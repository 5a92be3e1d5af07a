"""Filters: URL parameters -> Filters -> SQL + params, the round trip, and the caption sentence."""

from __future__ import annotations

import datetime as dt

import pytest

from critac_metrics.filters import Filters, fiscal_year_bounds

D = dt.date
TOPICS = ["De-escalation", "School Safety", "Officer Safety and Wellness"]

WHERE_CASES = [
    (Filters(), "true", []),
    (Filters(start=D(2023, 10, 1)), "true and requested_on >= ?", [D(2023, 10, 1)]),
    (
        Filters(start=D(2023, 10, 1), end=D(2024, 9, 30)),
        "true and requested_on >= ? and requested_on <= ?",
        [D(2023, 10, 1), D(2024, 9, 30)],
    ),
    (
        Filters(topics=("De-escalation",)),
        "true and row_id in (select row_id from fact_topics where topic = any(?::varchar[]))",
        [["De-escalation"]],
    ),
    (
        Filters(agency_types=("tribal", "campus")),
        "true and agency_type in (?, ?)",
        ["campus", "tribal"],
    ),
    (
        Filters(states=("ID",), assistance_types=("training",), delivery_modes=("virtual",)),
        "true and state in (?) and assistance_type in (?) and delivery_mode in (?)",
        ["ID", "training", "virtual"],
    ),
    (
        Filters(topics=("x'; drop table engagements; --",)),
        "true and row_id in (select row_id from fact_topics where topic = any(?::varchar[]))",
        [["x'; drop table engagements; --"]],
    ),
]


@pytest.mark.parametrize(("filters", "sql", "params"), WHERE_CASES)
def test_where_clause_binds_every_value(filters, sql, params):
    assert filters.where() == (sql, params)


PARAM_CASES = [
    ({}, Filters(), []),
    (
        {"start": "2023-10-01", "end": "2024-09-30"},
        Filters(start=D(2023, 10, 1), end=D(2024, 9, 30)),
        [],
    ),
    ({"agency_type": ["tribal", "campus"]}, Filters(agency_types=("campus", "tribal")), []),
    ({"agency_type": "TRIBAL"}, Filters(agency_types=("tribal",)), []),
    (
        {"topic": ["de-escalation", "School Safety"]},
        Filters(topics=("De-escalation", "School Safety")),
        [],
    ),
    ({"state": ["id", "GU"]}, Filters(states=("GU", "ID")), []),
    ({"start": "2024-13-01"}, Filters(), ["Ignored start='2024-13-01': not a date (YYYY-MM-DD)."]),
    (
        {"agency_type": ["tribal", "martian"]},
        Filters(agency_types=("tribal",)),
        ["Ignored agency_type='martian': not a known value."],
    ),
    ({"topic": "1 OR 1=1"}, Filters(), ["Ignored topic='1 OR 1=1': not a known value."]),
    ({"colour": "red", "_present": "1"}, Filters(), ["Ignored unknown parameter 'colour'."]),
    (
        {"start": "2024-02-01", "end": "2024-01-01"},
        Filters(),
        ["Ignored the dates: start is after end."],
    ),
    ({"state": ["ID"] * 101}, Filters(), ["Ignored state: more than 100 values."]),
    ({"topic": "x" * 5000}, Filters(), ["Ignored topic='" + "x" * 40 + "…': not a known value."]),
]


@pytest.mark.parametrize(("params", "expected", "notices"), PARAM_CASES)
def test_query_params_parse_with_notices(params, expected, notices):
    assert Filters.from_query_params(params, TOPICS) == (expected, notices)


ROUND_TRIP = [
    Filters(),
    Filters(start=D(2018, 3, 15)),
    Filters(end=D(2020, 3, 14), topics=("De-escalation",)),
    Filters(
        *fiscal_year_bounds(2024),
        agency_types=("tribal", "campus"),
        states=("AZ", "PR"),
        assistance_types=("training", "policy_review"),
        delivery_modes=("hybrid",),
        topics=tuple(TOPICS),
    ),
]


@pytest.mark.parametrize("filters", ROUND_TRIP)
def test_query_string_round_trip(filters):
    assert Filters.from_query_params(filters.to_query_params(), TOPICS) == (filters, [])


def test_list_filters_repeat_the_key():
    params = Filters(agency_types=("tribal", "campus")).to_query_params()
    assert params == {"agency_type": ["campus", "tribal"]}


DESCRIBE = [
    (Filters(), "Engagements requested at any time"),
    (
        Filters(
            *fiscal_year_bounds(2024), agency_types=("tribal", "campus"), topics=("De-escalation",)
        ),
        "Engagements requested in FY2024 by campus and tribal agencies on De-escalation",
    ),
    (
        Filters(start=D(2024, 1, 1), end=D(2024, 12, 31), states=("ID", "GU")),
        "Engagements requested in 2024 in Guam or Idaho",
    ),
    (
        Filters(start=D(2024, 2, 1), end=D(2024, 3, 31), assistance_types=("policy_review",)),
        "Engagements requested 1 Feb 2024 – 31 Mar 2024 through policy review",
    ),
    (
        Filters(start=D(2022, 3, 18), delivery_modes=("onsite", "hybrid")),
        "Engagements requested since 18 Mar 2022 delivered hybrid or on site",
    ),
    (
        Filters(end=D(2020, 3, 14), topics=("A", "B", "C")),
        "Engagements requested through 14 Mar 2020 on A, B or C",
    ),
]


@pytest.mark.parametrize(("filters", "sentence"), DESCRIBE)
def test_describe_is_one_plain_sentence(filters, sentence):
    assert filters.describe() == sentence


def test_requests_are_described_as_made_not_requested():
    assert Filters().describe("Requests") == "Requests made at any time"
    assert Filters(*fiscal_year_bounds(2024)).describe("Requests") == "Requests made in FY2024"


def test_fiscal_year_bounds():
    assert fiscal_year_bounds(2024) == (D(2023, 10, 1), D(2024, 9, 30))


PREVIOUS = [
    ((D(2024, 1, 1), D(2024, 3, 31)), (D(2023, 10, 1), D(2023, 12, 31))),  # a quarter
    (fiscal_year_bounds(2024), fiscal_year_bounds(2023)),  # FY2024 (366 days) vs FY2023
    ((D(2024, 3, 1), D(2024, 3, 31)), (D(2024, 2, 1), D(2024, 2, 29))),  # months, not days
    ((D(2024, 1, 10), D(2024, 1, 19)), (D(2023, 12, 31), D(2024, 1, 9))),  # 10 days before
]


@pytest.mark.parametrize(("current", "previous"), PREVIOUS)
def test_previous_period(current, previous):
    filters = Filters(*current, topics=("De-escalation",))
    assert filters.previous_period() == Filters(*previous, topics=("De-escalation",))


def test_no_previous_period_without_both_dates():
    assert Filters(start=D(2024, 1, 1)).previous_period() is None


def test_filters_are_frozen_and_hashable():
    f = Filters(topics=("b", "a", "a"))
    assert f.topics == ("a", "b")
    assert hash(f) == hash(Filters(topics=("a", "b")))
    with pytest.raises(AttributeError):
        f.start = D(2024, 1, 1)


@pytest.mark.parametrize(
    ("filters", "text"),
    [
        (Filters(), "any time"),
        (Filters(*fiscal_year_bounds(2023)), "FY2023"),
        (Filters(start=D(2024, 2, 1), end=D(2024, 3, 31)), "1 Feb 2024 – 31 Mar 2024"),
    ],
)
def test_period_text(filters, text):
    assert filters.period_text() == text
