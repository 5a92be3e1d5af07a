"""The definitions behind the headline figures (docs/metrics.md), on a hand-made data set built to
break them, each checked by hand and against the independent pandas reference (tests/reference.py):

- an engagement is an accepted request (approved, in progress, completed); delivered is completed;
  a request awaiting approval is neither;
- agencies are served by delivered engagements;
- first-time vs repeat counts agencies by their first delivered engagement ever: requests declined,
  withdrawn, awaiting approval or still in progress never count as the first, and an agency that
  came back within the period is still first-time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from critac_metrics import db, registry, report
from critac_metrics import metrics as m
from critac_metrics.filters import Filters

from . import reference as ref
from .conftest import ingested

D = dt.date
FY2024 = {"start": D(2023, 10, 1), "end": D(2024, 9, 30)}

AGENCIES = """agency_id,agency_name,agency_type,state,sworn_officers,population_served
B1,Declined First Police Department,municipal,OH,30,20000
B2,Came Back Police Department,municipal,OH,45,30000
B3,Returning Sheriff's Office,sheriff,TX,120,90000
B4,Pending Police Department,municipal,IA,12,8000
B5,In Progress Police Department,campus,CA,20,15000
B6,Withdrew Once Police Department,municipal,NM,60,40000
B7,Started First Police Department,tribal,AZ,25,10000
"""
# (id, agency, requested, status, started, completed)
ROWS = [
    ("F01", "B1", "2023-11-01", "declined", "", ""),  # B1's first request: declined
    ("F02", "B1", "2024-02-01", "completed", "2024-02-10", "2024-03-01"),
    ("F03", "B2", "2023-10-15", "completed", "2023-10-20", "2023-11-01"),  # B2 new in FY2024 ...
    ("F04", "B2", "2024-06-01", "completed", "2024-06-05", "2024-06-20"),  # ... and back in FY2024
    ("F05", "B3", "2022-05-01", "completed", "2022-05-10", "2022-06-01"),  # B3 served in FY2022
    ("F06", "B3", "2024-03-01", "completed", "2024-03-05", "2024-04-01"),
    ("F07", "B4", "2024-04-01", "requested", "", ""),  # awaiting approval: not an engagement
    ("F08", "B5", "2024-05-01", "in_progress", "2024-05-10", ""),  # accepted, not delivered
    ("F09", "B6", "2022-01-10", "withdrawn", "", ""),
    ("F10", "B6", "2024-07-01", "completed", "2024-07-05", "2024-08-01"),
    ("F11", "B7", "2023-12-01", "in_progress", "2023-12-05", ""),  # B7's first: not delivered
    ("F12", "B7", "2024-01-15", "completed", "2024-01-20", "2024-02-15"),
]
ENGAGEMENTS = (
    "engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,completed_on,"
    "delivery_mode,provider,participants\n"
    + "".join(
        f"{e},{a},{r},{s},training,De-escalation,{st},{c},{'virtual' if st else ''},"
        f"{'IACP' if st else ''},\n"
        for e, a, r, s, st, c in ROWS
    )
)
SURVEY = (
    "response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,"
    "service_delivery,operations_change,would_recommend,comment\n"
    "S1,F03,2023-11-05,post,Chief,5,4,4,4,5,\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("definitions")
    for name, text in (
        ("agencies.csv", AGENCIES),
        ("engagements.csv", ENGAGEMENTS),
        ("survey_responses.csv", SURVEY),
    ):
        (directory / name).write_text(text, encoding="utf-8")
    path = ingested(directory, tmp_path_factory.mktemp("definitions_db") / "d.duckdb")
    con = db.connect(path, read_only=True)
    yield con, ref.load(directory)
    con.close()


SELECTIONS: dict[str, dict[str, Any]] = {
    "all": {},
    "fy2024": FY2024,
    "fy2022": {"start": D(2021, 10, 1), "end": D(2022, 9, 30)},
}


def both(name: str) -> tuple[Filters, ref.Selection]:
    kwargs = SELECTIONS[name]
    return Filters(**kwargs), ref.Selection(**kwargs)


def test_accepted_and_delivered_are_split_and_awaiting_approval_is_neither(world):
    con, _ = world
    head = m.headline(con, Filters(**FY2024))
    # FY2024 requests: F01-F04, F06-F08, F10-F12; accepted: not F01 (declined), F07 (awaiting).
    assert head["requests"] == 10
    assert head["engagements"] == 8  # accepted: F02 F03 F04 F06 F08 F10 F11 F12
    assert head["completed"] == 6  # delivered: F02 F03 F04 F06 F10 F12
    assert head["agencies_served"] == 5  # B1 B2 B3 B6 B7: not B4 (awaiting), not B5 (in progress)
    assert head["states_reached"] == 4  # OH, TX, NM, AZ: not IA (awaiting) or CA (in progress)
    assert head["completion_rate"] == pytest.approx(6 / 8 * 100)


def test_first_time_counts_agencies_by_their_first_delivered_engagement(world):
    con, _ = world
    reach = m.reach(con, Filters(**FY2024))
    # B1 (its declined F01 is not a first), B2 (came back within the year: still new), B6 (its
    # withdrawn F09 is not a first), B7 (its in-progress F11 is not a first) are first-time;
    # B3 was served in FY2022.
    assert (reach["agencies_served"], reach["first_time_agencies"], reach["repeat_agencies"]) == (
        5,
        4,
        1,
    )
    frame = m.first_time_vs_repeat(con, Filters(**FY2024), "fiscal_year")
    assert frame[["period", "first_time_agencies", "repeat_agencies"]].values.tolist() == [
        ["FY2024", 4, 1]
    ]
    # By quarter B2 is first-time in 2023-Q4 and a repeat agency in 2024-Q2.
    quarters = m.first_time_vs_repeat(con, Filters(**FY2024), "quarter").set_index("period")
    assert quarters.loc["2023-Q4", ["first_time_agencies", "repeat_agencies"]].tolist() == [1, 0]
    assert quarters.loc["2024-Q2", ["first_time_agencies", "repeat_agencies"]].tolist() == [0, 1]
    # Summed over periods, first-time agencies equal the selection's.
    assert int(quarters["first_time_agencies"].sum()) == reach["first_time_agencies"]


def test_all_time_b3_is_first_time_once(world):
    con, _ = world
    reach = m.reach(con, Filters())
    assert (reach["agencies_served"], reach["first_time_agencies"], reach["repeat_agencies"]) == (
        5,
        5,
        0,
    )
    frame = m.first_time_vs_repeat(con, Filters(), "fiscal_year").set_index("period")
    assert frame.loc["FY2022", ["first_time_agencies", "repeat_agencies"]].tolist() == [1, 0]
    assert frame.loc["FY2023", ["first_time_agencies", "repeat_agencies"]].tolist() == [0, 0]
    assert frame.loc["FY2024", ["first_time_agencies", "repeat_agencies"]].tolist() == [4, 1]


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_definitions_match_the_reference(world, name):
    con, data = world
    filters, sel = both(name)
    head, expected = m.summary(con, filters), ref.summary(data, sel)
    for key in ("requests", "engagements", "completed", "agencies_served", "states_reached"):
        assert head[key] == expected[key], key
    reach, expected_reach = m.reach(con, filters), ref.reach(data, sel)
    for key, value in expected_reach.items():
        if value is None:
            assert reach[key] is None, key
        else:
            assert reach[key] == pytest.approx(value), key
    for grain in m.GRAINS:
        actual = m.first_time_vs_repeat(con, filters, grain)
        columns = ["period", "first_time_agencies", "repeat_agencies"]
        actual = actual[actual[columns[1]] + actual[columns[2]] > 0][columns]
        assert actual.values.tolist() == ref.first_time_vs_repeat(data, sel, grain).values.tolist()
    table = m.agency_table(con, filters)
    assert sorted(table["agency_id"]) == sorted(ref.agency_table(data, sel)["agency_id"])
    backlog = m.backlog_series(con, filters)
    assert (
        backlog["open_requests"].tolist() == ref.backlog_series(data, sel)["open_requests"].tolist()
    )


def test_open_requests_include_those_awaiting_approval(world):
    con, _ = world
    frame = m.backlog_series(con, Filters(start=D(2024, 4, 1), end=D(2024, 4, 30)))
    assert frame["open_requests"].tolist() == [1]  # F07, awaiting approval


def test_kpi_tiles_delivered_headlines_three_to_a_row(world):
    con, data = world
    frame = m.kpis_with_comparison(con, Filters(**FY2024))
    names = frame["metric"].tolist()
    assert names[:3] == ["completed", "engagements", "agencies_served"]
    assert len(names) % 3 == 0
    assert [registry.label(n) for n in names[:2]] == [
        "Engagements delivered",
        "Engagements accepted",
    ]
    values = dict(zip(frame["metric"], frame["value"], strict=True))
    expected = ref.kpi_values(data, ref.Selection(**FY2024))
    for name in ("completed", "engagements", "agencies_served"):
        assert values[name] == expected[name]


def test_report_first_time_takeaway_counts_agencies(world):
    con, _ = world
    built = report.collect(con, Filters(**FY2024), sections=["reach"])
    chart = next(c for c in built.charts if c.key == "first_time")
    assert chart.takeaway.startswith("80% of agencies served were first-time agencies (4 of 5")
    assert "engagement" not in chart.takeaway.split("(")[0]
    assert "Agencies served" in chart.title
    assert chart.table.columns == ("Period", "First-time agencies", "Repeat agencies")
    assert [k.name for k in built.kpis][:3] == ["completed", "engagements", "agencies_served"]
