"""Shared links with any date, and the app on 29 February: never a traceback.

A date the calendar holds (0001-01-01 to 9999-12-31) is a valid filter, shown in the sidebar's
picker and, outside the data, answered by the empty state; a date it can't hold (2023-02-30,
10000-01-01) is dropped with a notice like any other bad URL value. See docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from critac_metrics.filters import Filters, picker_bounds
from dashboard import sidebar
from dashboard.pages import PAGES

from .conftest import ROOT, run_cli, unescape

TIMEOUT = 60
EMPTY_STATE = "No engagements match these filters"

# (id, query parameters, the dates kept, whether the selection is outside the demo data)
DATE_LINKS = [
    ("before-the-picker", {"start": "2015-01-01"}, (dt.date(2015, 1, 1), None), False),
    ("before-the-data", {"start": "2015-01-01", "end": "2015-06-30"}, (dt.date(2015, 1, 1), dt.date(2015, 6, 30)), True),
    ("end-of-the-calendar", {"start": "2020-01-01", "end": "9999-12-31"}, (dt.date(2020, 1, 1), dt.date(9999, 12, 31)), False),
    ("start-of-the-calendar", {"start": "0001-01-01", "end": "0001-01-31"}, (dt.date(1, 1, 1), dt.date(1, 1, 31)), True),
    ("whole-calendar", {"start": "0001-01-01", "end": "9999-12-31"}, (dt.date(1, 1, 1), dt.date(9999, 12, 31)), False),
    ("last-quarter-of-the-calendar", {"start": "9999-10-01", "end": "9999-12-31"}, (dt.date(9999, 10, 1), dt.date(9999, 12, 31)), True),
    ("first-fiscal-year", {"start": "0001-10-01", "end": "0002-09-30"}, (dt.date(1, 10, 1), dt.date(2, 9, 30)), True),
    ("29-february", {"start": "2024-02-29", "end": "2028-02-29"}, (dt.date(2024, 2, 29), dt.date(2028, 2, 29)), False),
]  # fmt: skip
# (id, query parameters, the dates kept): each bad date gives one notice naming it
BAD_DATE_LINKS = [
    ("30-february", {"start": "2023-02-30"}, (None, None)),
    ("29-february-not-a-leap-year", {"start": "2023-02-29", "end": "2024-06-30"}, (None, dt.date(2024, 6, 30))),
    ("year-10000", {"start": "2020-01-01", "end": "10000-01-01"}, (dt.date(2020, 1, 1), None)),
    ("year-0", {"start": "0000-01-01"}, (None, None)),
    ("iso-week", {"end": "2024-W01-1"}, (None, None)),
]  # fmt: skip


# -- Filters: any calendar date ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "dates", "_"), [c[1:] for c in DATE_LINKS], ids=[c[0] for c in DATE_LINKS]
)
def test_a_calendar_date_in_a_link_is_kept_and_described(params, dates, _):  # fmt: skip
    filters, notices = Filters.from_query_params(params)
    assert notices == []
    assert (filters.start, filters.end) == dates
    assert filters.describe().startswith("Engagements requested")
    assert filters.period_text()
    previous = filters.previous_period()
    if previous is not None:  # ends the day before, or there is no comparison at all
        assert previous.end == filters.start - dt.timedelta(days=1)
    assert Filters.from_query_params(filters.to_query_params()) == (filters, [])


@pytest.mark.parametrize(
    ("params", "dates"), [c[1:] for c in BAD_DATE_LINKS], ids=[c[0] for c in BAD_DATE_LINKS]
)
def test_a_date_the_calendar_cannot_hold_is_dropped_with_a_notice(params, dates):  # fmt: skip
    filters, notices = Filters.from_query_params(params)
    assert (filters.start, filters.end) == dates
    dropped = [v for k, v in params.items() if str(getattr(filters, k)) != v]
    assert len(notices) == len(dropped) == 1
    assert repr(dropped[0]) in notices[0] and "not a date" in notices[0]


def test_years_outside_the_calendar_say_so():
    _, notices = Filters.from_query_params({"end": "10000-01-01"})
    assert notices == [
        "Ignored end='10000-01-01': not a date the calendar holds (0001-01-01 to 9999-12-31)."
    ]


def test_the_first_and_last_days_are_written_with_four_digit_years():
    filters = Filters(start=dt.date(1, 1, 1), end=dt.date(9999, 12, 31))
    assert filters.describe() == "Engagements requested 1 Jan 0001 – 31 Dec 9999"


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.dates(), st.dates())
def test_text_and_arithmetic_on_any_two_calendar_dates_never_raise(a, b):
    start, end = min(a, b), max(a, b)
    for filters in (Filters(start=start, end=end), Filters(start=start), Filters(end=end)):
        filters.describe()
        filters.describe("Requests")
        filters.period_text()
        sql, params = filters.where()
        assert sql.count("?") == len(params)
        previous = filters.previous_period()
        if previous is not None:
            assert previous.start <= previous.end == start - dt.timedelta(days=1)
        assert Filters.from_query_params(filters.to_query_params()) == (filters, [])
        low, high = picker_bounds(filters.start, filters.end)
        assert low <= start and end <= high if filters.start and filters.end else low <= high


def test_the_picker_offers_the_contract_dates_and_any_date_it_must_show():
    assert picker_bounds() == (dt.date(2000, 1, 1), dt.date(2100, 12, 31))
    assert picker_bounds(dt.date(1999, 1, 1), None) == (dt.date(1999, 1, 1), dt.date(2100, 12, 31))
    assert picker_bounds(dt.date(1, 1, 1), dt.date(9999, 12, 31)) == (dt.date.min, dt.date.max)


# -- 29 February ------------------------------------------------------------------------------------


def test_date_presets_on_29_february():
    presets = sidebar.date_presets(dt.date(2028, 2, 29))
    assert presets[sidebar.LAST_12] == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    assert presets["FY2028"] == (dt.date(2027, 10, 1), dt.date(2028, 9, 30))


def test_last_12_months_is_a_year_ending_today_on_every_day_of_four_years():
    day = dt.date(2027, 1, 1)
    while day < dt.date(2031, 1, 1):
        start, end = sidebar.date_presets(day)[sidebar.LAST_12]
        assert end == day
        assert (end - start).days + 1 in (365, 366)
        before = start - dt.timedelta(days=1)  # the same day a year earlier (28 Feb for 29 Feb)
        same_day = (2, 28) if (day.month, day.day) == (2, 29) else (day.month, day.day)
        assert (before.year, before.month, before.day) == (day.year - 1, *same_day)
        day += dt.timedelta(days=1)


# -- the app ----------------------------------------------------------------------------------------


@pytest.fixture
def app(monkeypatch, demo_db):
    monkeypatch.setenv("CRITAC_DB", str(demo_db))

    def make(params: dict) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.query_params.update(params)
        return at

    return make


def _messages(at: AppTest) -> str:
    return " | ".join(unescape(i.value) for i in at.info)


@pytest.mark.parametrize(
    ("params", "dates", "outside"), [c[1:] for c in DATE_LINKS], ids=[c[0] for c in DATE_LINKS]
)
def test_a_date_link_opens_every_page(app, params, dates, outside):  # fmt: skip
    at = app(params).run()
    assert not at.exception, [e.value for e in at.exception]
    # The sidebar shows the link's dates in the picker (a custom range), not an error.
    assert at.selectbox(key="w_preset").value == sidebar.CUSTOM
    shown = at.date_input(key="w_dates").value
    assert tuple(shown) + (None,) * (2 - len(shown)) == dates
    expected = Filters(start=dates[0], end=dates[1])
    for spec in PAGES:
        if spec.path != PAGES[0].path:
            at.switch_page(spec.path)
            at.run()
        assert not at.exception, (spec.path, [e.value for e in at.exception])
        assert at.caption, spec.path
        assert any(expected.period_text() in unescape(c.value) for c in at.caption), spec.path
        if spec.path == PAGES[0].path:
            assert (EMPTY_STATE in _messages(at)) == outside, _messages(at)


@pytest.mark.parametrize(
    ("params", "dates"), [c[1:] for c in BAD_DATE_LINKS], ids=[c[0] for c in BAD_DATE_LINKS]
)
def test_a_bad_date_link_shows_a_notice_and_the_page(app, params, dates):  # fmt: skip
    at = app(params).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "not a date" in _messages(at)
    assert unescape(at.caption[0].value) == Filters(start=dates[0], end=dates[1]).describe()


def test_the_app_runs_on_29_february(app, monkeypatch):
    monkeypatch.setattr(sidebar, "current_day", lambda: dt.date(2028, 2, 29))
    at = app({}).run()
    assert not at.exception, [e.value for e in at.exception]
    preset = at.selectbox(key="w_preset")
    assert sidebar.LAST_12 in preset.options and "FY2028" in preset.options
    at = preset.select(sidebar.LAST_12).run()
    assert not at.exception, [e.value for e in at.exception]
    assert unescape(at.caption[0].value) == "Engagements requested 1 Mar 2027 – 29 Feb 2028"


# -- the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "sentence"),
    [
        ("2020-01-01", "9999-12-31", "Engagements requested 1 Jan 2020 – 31 Dec 9999"),
        ("0001-01-01", "0001-01-31", "Engagements requested 1 Jan 0001 – 31 Jan 0001"),
    ],
)
def test_cli_summary_with_calendar_edge_dates(tiny_db, start, end, sentence):
    proc = run_cli("summary", "--db", tiny_db, "--start", start, "--end", end)
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0] == sentence


@pytest.mark.parametrize("bad", ["2023-02-30", "10000-01-01", "2024-W01-1"])
def test_cli_refuses_a_date_the_calendar_cannot_hold_in_one_line(tiny_db, bad):
    proc = run_cli("summary", "--db", tiny_db, "--end", bad, ok=False)
    assert "Traceback" not in proc.stderr
    assert bad in proc.stderr and "not a date" in proc.stderr
