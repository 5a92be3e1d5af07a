"""Change against the previous period: arrows, like-for-like spans, right-censoring, all time and
the date basis, each checked against the independent pandas reference (tests/reference.py) on
small data sets built to break them: a fiscal year in progress, a leap day, periods past the last
day of data, and completions in a later fiscal year than their request."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from critac_metrics import db, metrics, registry
from critac_metrics.comparison import compare
from critac_metrics.filters import Filters, fiscal_year_bounds

from . import reference as ref
from .conftest import ROOT, ingested, run_cli, unescape
from .test_metrics import plain, same

D = dt.date
AGENCIES = """agency_id,agency_name,agency_type,state,sworn_officers,population_served
A1,Springfield Police Department,municipal,IL,40,110000
A2,Navajo Nation Police Department,tribal,AZ,250,170000
A3,State University Police Department,campus,TX,,30000
A4,Kern County Sheriff's Office,sheriff,CA,900,900000
"""
HEADER = (
    "engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,completed_on,"
    "delivery_mode,provider,participants\n"
)
# The last day of data is 31 Oct 2025 (P12): FY2026 is in progress. P2 is requested on 28 Feb
# 2023 and P6/P7 on the leap day; P8 and P13 finish after more than 180 days; P13 is requested
# in FY2025 and completed in FY2026.
ROWS = """P1,A1,2022-10-15,completed,training,De-escalation,2022-11-01,2023-01-10,onsite,IACP,10
P2,A2,2023-02-28,completed,training,School Safety,2023-03-05,2023-12-01,virtual,NTOA,5
P3,A3,2023-06-01,completed,assessment,De-escalation,2023-06-10,2023-07-01,onsite,IACLEA,
P4,A4,2023-09-30,in_progress,training,Crisis Intervention,2023-10-15,,onsite,IACP,
P5,A1,2023-10-01,completed,training,De-escalation,2023-10-05,2023-10-20,virtual,IACP,8
P6,A2,2024-02-29,completed,expert_briefing,De-escalation,2024-03-01,2024-03-20,virtual,NTOA,
P7,A3,2024-02-29,declined,policy_review,School Safety,,,,,
P8,A1,2024-07-15,completed,training,Crisis Intervention,2024-08-01,2025-06-01,onsite,IACP,
P14,A3,2024-05-01,completed,training,De-escalation,2024-05-10,2024-06-01,hybrid,IACLEA,
P9,A4,2024-10-01,completed,training,De-escalation,2024-10-02,2024-11-01,onsite,IACP,
P10,A2,2025-02-28,in_progress,assessment,School Safety,2025-03-10,,onsite,NTOA,
P13,A2,2024-10-20,completed,training,De-escalation,2024-11-01,2025-10-30,virtual,NTOA,
P11,A1,2025-10-05,approved,training,De-escalation,,,,,
P12,A3,2025-10-31,completed,expert_briefing,School Safety,2025-10-31,2025-10-31,virtual,IACLEA,
"""
# The same programme seen on 29 Feb 2024: later rows absent, later completions not yet made.
LEAP_ROWS = """P1,A1,2022-10-15,completed,training,De-escalation,2022-11-01,2023-01-10,onsite,IACP,10
P2,A2,2023-02-28,completed,training,School Safety,2023-03-05,2023-12-01,virtual,NTOA,5
P3,A3,2023-06-01,completed,assessment,De-escalation,2023-06-10,2023-07-01,onsite,IACLEA,
P4,A4,2023-09-30,in_progress,training,Crisis Intervention,2023-10-15,,onsite,IACP,
P5,A1,2023-10-01,completed,training,De-escalation,2023-10-05,2023-10-20,virtual,IACP,8
P6,A2,2024-02-29,approved,expert_briefing,De-escalation,,,,NTOA,
P7,A3,2024-02-29,declined,policy_review,School Safety,,,,,
"""
SURVEY = (
    "response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,"
    "service_delivery,operations_change,would_recommend,comment\n"
    "R1,P1,2023-01-15,post,Chief,5,4,4,4,5,Useful\n"
)


def _write(directory: Path, rows: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    (directory / "engagements.csv").write_text(HEADER + rows, encoding="utf-8")
    (directory / "survey_responses.csv").write_text(SURVEY, encoding="utf-8")
    return directory


class World:
    def __init__(self, directory: Path, path: Path):
        self.db = ingested(directory, path)
        self.con = db.connect(self.db)
        self.data = ref.load(directory)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    base = tmp_path_factory.mktemp("periods")
    made = {
        name: World(_write(base / name, rows), base / f"{name}.duckdb")
        for name, rows in (("main", ROWS), ("leap", LEAP_ROWS))
    }
    yield made
    for world in made.values():
        world.con.close()


def both(**kwargs: Any) -> tuple[Filters, ref.Selection]:
    lists: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    sel = ref.Selection(**lists)
    return Filters(**kwargs), sel


FY = {
    fy: dict(zip(("start", "end"), fiscal_year_bounds(fy), strict=True)) for fy in range(2023, 2028)
}
CASES = {
    "fy-in-progress": FY[2026],
    "fy2025": FY[2025],
    "fy2024": FY[2024],
    "fy2027-past-the-data": FY[2027],
    "leap-month": {"start": D(2024, 2, 1), "end": D(2024, 2, 29)},
    "march-after-leap": {"start": D(2024, 3, 1), "end": D(2024, 3, 31)},
    "last-12-months-past-the-data": {"start": D(2025, 3, 15), "end": D(2026, 3, 14)},
    "days": {"start": D(2024, 2, 29), "end": D(2024, 3, 10)},
    "start-only": {"start": D(2024, 10, 1)},
    "end-only": {"end": D(2024, 9, 30)},
    "all": {},
    "topic-fy2025": {**FY[2025], "topics": ("De-escalation",)},
    "completed-fy2026": {**FY[2026], "date_basis": "completed"},
    "completed-fy2025": {**FY[2025], "date_basis": "completed"},
    "completed-all": {"date_basis": "completed"},
}


# -- the reference comparison ---------------------------------------------------------------------


@pytest.mark.parametrize("world_name", ["main", "leap"])
@pytest.mark.parametrize("case", list(CASES))
def test_kpi_changes_match_the_reference(worlds, world_name, case):
    world = worlds[world_name]
    filters, sel = both(**CASES[case])
    actual = {
        row["metric"]: row
        for row in metrics.kpis_with_comparison(world.con, filters).to_dict("records")
    }
    expected = ref.kpis_with_comparison(world.data, sel)
    assert set(expected) <= set(actual)
    for name, want in expected.items():
        got = {k: plain(actual[name][k]) for k in want}
        same(got, want, f"{world_name}/{case}/{name}")
    spans = ref.comparison_spans(world.data, sel)
    cmp = metrics.comparison(world.con, filters)
    if spans is None:
        assert cmp.previous is None and cmp.sentence.startswith("No change is shown: ")
    else:
        assert (cmp.current.start, cmp.current.end) == (spans[0].start, spans[0].end)
        assert (cmp.previous.start, cmp.previous.end) == (spans[1].start, spans[1].end)
        assert cmp.current.date_basis == filters.date_basis


def test_an_in_progress_year_is_compared_with_the_same_days_before(worlds):
    """Hand-derived: FY2026 runs to 31 Oct 2025 in the data (P11, P12); the same days of FY2025
    hold P9 and P13, while the whole of FY2025 holds three engagements (P9, P10, P13)."""
    frame = metrics.kpis_with_comparison(worlds["main"].con, Filters(**FY[2026])).set_index(
        "metric"
    )
    assert frame.loc["engagements", "value"] == 2
    assert frame.loc["engagements", "previous"] == 2  # not 3: the whole of FY2025
    assert frame.loc["engagements", "change"] == 0
    cmp = metrics.comparison(worlds["main"].con, Filters(**FY[2026]))
    assert cmp.label == "FY2026 to 31 Oct vs FY2025 to 31 Oct"
    assert (cmp.previous.start, cmp.previous.end) == (D(2024, 10, 1), D(2024, 10, 31))


def test_a_leap_day_maps_to_28_february(worlds):
    """Hand-derived: seen on 29 Feb 2024, FY2024 to 29 Feb (P5, P6) is compared with FY2023 to
    28 Feb 2023, which includes P2 requested on 28 Feb 2023 (P1, P2)."""
    con = worlds["leap"].con
    cmp = metrics.comparison(con, Filters(**FY[2024]))
    assert cmp.label == "FY2024 to 29 Feb vs FY2023 to 28 Feb"
    assert (cmp.previous.start, cmp.previous.end) == (D(2022, 10, 1), D(2023, 2, 28))
    frame = metrics.kpis_with_comparison(con, Filters(**FY[2024])).set_index("metric")
    assert (frame.loc["engagements", "compared"], frame.loc["engagements", "previous"]) == (2, 2)


@pytest.mark.parametrize(
    ("current", "through", "previous"),
    [
        (fiscal_year_bounds(2027), D(2026, 10, 31), (D(2025, 10, 1), D(2025, 10, 31))),
        (fiscal_year_bounds(2024), D(2024, 2, 29), (D(2022, 10, 1), D(2023, 2, 28))),
        (fiscal_year_bounds(2025), D(2025, 2, 28), (D(2023, 10, 1), D(2024, 2, 29))),
        (fiscal_year_bounds(2025), D(2025, 2, 27), (D(2023, 10, 1), D(2024, 2, 27))),
        ((D(2024, 3, 16), D(2025, 3, 15)), None, (D(2023, 3, 16), D(2024, 3, 15))),
        ((D(2025, 3, 1), D(2025, 3, 31)), D(2025, 3, 30), (D(2025, 2, 1), D(2025, 2, 28))),
        ((D(2024, 1, 10), D(2024, 1, 19)), D(2024, 1, 12), (D(2023, 12, 31), D(2024, 1, 2))),
        (fiscal_year_bounds(2024), None, fiscal_year_bounds(2023)),
        ((D(2025, 3, 15), D(2026, 3, 14)), D(2025, 10, 31), (D(2024, 3, 15), D(2024, 10, 31))),
    ],
)
def test_previous_period_like_for_like(current, through, previous):
    filters = Filters(*current, topics=("De-escalation",))
    assert filters.previous_period(through) == Filters(*previous, topics=("De-escalation",))
    sel = ref.Selection(start=current[0], end=current[1])
    prev = ref.previous_selection(sel, through)
    assert (prev.start, prev.end) == previous


EXTREMES = [D(1, 1, 1), D(1, 1, 31), D(1, 2, 1), D(1, 12, 31), D(2, 1, 1), D(2000, 2, 29),
            D(2024, 2, 29), D(2023, 2, 28), D(9999, 1, 1), D(9999, 12, 1), D(9999, 12, 30),
            D(9999, 12, 31)]  # fmt: skip


def test_date_arithmetic_never_raises_from_year_1_to_9999():
    rng = random.Random(12)
    days = [*EXTREMES, *(D.fromordinal(rng.randint(1, D.max.toordinal())) for _ in range(40))]
    for start, end, through in itertools.product(days, days, [None, *EXTREMES[::3]]):
        previous = Filters(start=start, end=end).previous_period(through)
        if previous is not None:
            assert previous.start <= previous.end < start
            assert previous.end - previous.start <= end - start + dt.timedelta(days=3)
        Filters(start=start, end=end, date_basis="completed").describe()
        for first in (D(1, 1, 1), start):
            cmp = compare(Filters(start=start, end=end), through or end, first)
            assert cmp.sentence
        compare(Filters(), through or end, D(1, 1, 1))


# -- right-censoring ------------------------------------------------------------------------------


@pytest.mark.parametrize("world_name", ["main", "leap"])
@pytest.mark.parametrize("case", ["fy2024", "fy2025", "all", "topic-fy2025", "completed-fy2026"])
def test_timely_completion_matches_the_reference(worlds, world_name, case):
    world = worlds[world_name]
    filters, sel = both(**CASES[case])
    frame = metrics.kpis_with_comparison(world.con, filters).set_index("metric")
    same(
        plain(frame.loc["timely_completion_rate", "value"]), ref.timely_completion(world.data, sel)
    )


def test_timely_completion_ignores_requests_too_recent_to_judge(worlds):
    """Hand-derived, data through 31 Oct 2025 (cutoff 4 May 2025): FY2024 P5, P6, P14 within
    180 days, P8 not: 75%. FY2025: P9 yes, P10 (open) and P13 (375 days) no: 1 of 3. FY2026:
    no request is 180 days old, so no figure (the plain completion rate would read 50%)."""
    con = worlds["main"].con
    rates = {
        fy: metrics.kpis_with_comparison(con, Filters(**FY[fy]))
        .set_index("metric")
        .loc["timely_completion_rate"]
        for fy in (2024, 2025, 2026)
    }
    assert rates[2024]["value"] == pytest.approx(75.0)
    assert rates[2025]["value"] == pytest.approx(100 / 3)
    assert rates[2025]["change"] == pytest.approx(100 / 3 - 75.0)
    assert pd.isna(rates[2026]["value"]) and pd.isna(rates[2026]["change"])
    assert metrics.headline(con, Filters(**FY[2026]))["completion_rate"] == pytest.approx(50.0)


def test_timely_sparkline_keeps_only_periods_old_enough(worlds):
    """All time spans over 1,100 days, so by quarter: only quarters ending by 4 May 2025 (31 Oct
    2025 - 180 days) carry a point; the engagement sparkline runs to Q3 2025 (Q4 is open)."""
    con = worlds["main"].con
    frame = metrics.kpis_with_comparison(con, Filters()).set_index("metric")
    series = metrics.kpi_series(con, Filters(), "quarter")
    aged = series[series["period_start"] <= pd.Timestamp(2025, 1, 1)]
    assert aged["timely_completion_rate"].notna().sum() >= 4
    assert frame.loc["timely_completion_rate", "sparkline"] == [
        float(v) for v in aged["timely_completion_rate"].dropna()
    ]
    assert len(frame.loc["engagements", "sparkline"]) == len(series) - 1  # October 2025 open


def test_the_previous_year_counts_deliveries_as_they_stood_as_long_after_it(worlds):
    """Hand-derived, data through 31 Oct 2025: FY2025 has had 31 days since it ended, so FY2024
    counts what was delivered by 31 Oct 2024: P5, P6, P14, not P8 (requested in FY2024, delivered
    1 Jun 2025). Counting P8 would compare a year with 13 months of follow-up against one with
    one month, and the FY2025 figure would read as a drop."""
    con = worlds["main"].con
    frame = metrics.kpis_with_comparison(con, Filters(**FY[2025])).set_index("metric")
    assert metrics.headline(con, Filters(**FY[2024]))["completed"] == 4  # P8 delivered since
    assert frame.loc["completed", "previous"] == 3
    assert frame.loc["agencies_served", "previous"] == 3  # A1 (P5), A2 (P6), A3 (P14)
    assert frame.loc["completed", "compared"] == 2  # P9, P13: the current year counts all it has
    cmp = metrics.comparison(con, Filters(**FY[2025]))
    assert cmp.previous_as_of == D(2024, 10, 31)
    assert "FY2024 count up to 31 Oct 2024" in cmp.sentence


def test_a_year_in_progress_counts_the_year_before_up_to_the_same_day(worlds):
    """'FY2026 to 31 Oct vs FY2025 to 31 Oct': FY2025's requests to 31 Oct 2024 (P9, P13) count
    what they had delivered by 31 Oct 2024: nothing (P9 was delivered on 1 Nov 2024, P13 a year
    later), as FY2026's own requests to 31 Oct (P11, P12) have had as long: P12."""
    con = worlds["main"].con
    frame = metrics.kpis_with_comparison(con, Filters(**FY[2026])).set_index("metric")
    previous = Filters(start=D(2024, 10, 1), end=D(2024, 10, 31))
    assert metrics.headline(con, previous)["completed"] == 2  # delivered since
    assert frame.loc["completed", "previous"] == 0
    assert frame.loc["completed", "compared"] == 1
    assert metrics.comparison(con, Filters(**FY[2026])).previous_as_of == D(2024, 10, 31)


def test_by_completion_date_deliveries_are_not_shifted(worlds):
    """A completion-date period holds only what was completed in it, so counting it as of a later
    day changes nothing: FY2024 by completion date delivered P2, P5, P6, P14 (P8 in FY2025)."""
    con = worlds["main"].con
    filters = Filters(**FY[2025], date_basis="completed")
    frame = metrics.kpis_with_comparison(con, filters).set_index("metric")
    whole = metrics.headline(con, Filters(**FY[2024], date_basis="completed"))["completed"]
    assert frame.loc["completed", "previous"] == whole == 4


def test_delivery_sparklines_by_request_date_stop_where_work_is_still_finishing(worlds):
    """By request date, the deliveries and agencies-served sparklines keep only quarters whose
    requests are all at least 180 days old (as completion within 180 days does); by completion
    date they run to the last period that is over."""
    con = worlds["main"].con
    frame = metrics.kpis_with_comparison(con, Filters()).set_index("metric")
    series = metrics.kpi_series(con, Filters(), "quarter")
    aged = series[series["period_start"] <= pd.Timestamp(2025, 1, 1)]
    for name in ("completed", "agencies_served"):
        assert frame.loc[name, "sparkline"] == [float(v) for v in aged[name]], name
    by_completion = metrics.kpis_with_comparison(con, Filters(date_basis="completed"))
    spark = by_completion.set_index("metric").loc["completed", "sparkline"]
    assert len(spark) > len(aged)


@pytest.mark.parametrize("case", [{}, FY[2026], FY[2027], {**FY[2026], "date_basis": "completed"}])
def test_demo_changes_match_the_reference_with_survey_responses_as_of(demo_db, case):
    """On the demo data, whose surveys arrive weeks to months after delivery: the response rate
    of the previous period counts only responses submitted by its as-of day."""
    data = ref.load(ROOT / "data")
    filters, sel = both(**case)
    with db.connect(demo_db) as con:
        frame = metrics.kpis_with_comparison(con, filters).set_index("metric")
    expected = ref.kpis_with_comparison(data, sel)
    for name, want in expected.items():
        got = {k: plain(frame.loc[name, k]) for k in want}
        same(got, want, f"demo/{case}/{name}")


# -- arrows ---------------------------------------------------------------------------------------


def test_change_text_starts_a_drop_with_an_ascii_minus():
    assert registry.change_text(-31, "count") == "-31"
    assert registry.change_text(-0.4, "pct") == "-0.4 pts"
    assert registry.change_text(12, "days") == "+12 days"
    assert registry.change_text(0, "count") == "no change"
    assert registry.change_text(None, "count") == ""
    assert registry.change_text(float("nan"), "pct") == ""


def test_every_metric_says_which_way_is_good():
    assert {m.better for m in registry.METRICS.values()} <= set(registry.BETTER)
    assert registry.METRICS["median_days_to_start"].better == "lower"
    with pytest.raises(ValueError, match="better"):
        registry.Metric("x", "X", "x", "count", "Volume", better="up")


def test_delta_options_point_the_arrow_and_colour_by_what_is_good():
    from dashboard.show import delta_options

    up, down = registry.METRICS["engagements"], registry.METRICS["median_days_to_start"]
    assert delta_options(-3, up) == {"delta": "-3", "delta_color": "normal", "delta_arrow": "down"}
    assert delta_options(3, up)["delta_arrow"] == "up"
    assert delta_options(-3, down)["delta_color"] == "inverse"
    assert delta_options(0, up) == {
        "delta": "no change",
        "delta_color": "off",
        "delta_arrow": "off",
    }
    assert delta_options(None, up) == {"delta": None}
    assert delta_options(float("nan"), up) == {"delta": None}


@pytest.fixture
def app(monkeypatch, worlds):
    monkeypatch.setenv("CRITAC_DB", str(worlds["main"].db))

    def make(**params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params.update(params)
        return at

    return make


def _tiles(at: AppTest) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def test_a_drop_shows_a_red_down_arrow_in_the_tile(app, worlds):
    """FY2025 against FY2024: engagements 3 vs 4, completion within 180 days 33% vs 75%."""
    at = app(start="2024-10-01", end="2025-09-30")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = _tiles(at)
    expected = ref.kpis_with_comparison(worlds["main"].data, ref.Selection(**FY[2025]))
    for name in ("engagements", "timely_completion_rate"):
        tile = tiles[registry.METRICS[name].label]
        assert expected[name]["change"] < 0
        assert tile.proto.delta.startswith("-"), tile.proto.delta
        assert tile.proto.direction == MetricProto.MetricDirection.DOWN
        assert tile.proto.color == MetricProto.MetricColor.RED
        assert "FY2025 with FY2024" in tile.help


def test_tiles_and_caption_say_what_is_compared(app):
    at = app(start="2025-10-01", end="2026-09-30")
    at.run()
    tile = _tiles(at)[registry.METRICS["engagements"].label]
    assert "FY2026 to 31 Oct with FY2025 to 31 Oct" in tile.help
    assert tile.proto.direction == MetricProto.MetricDirection.NONE  # 2 vs 2: no arrow
    captions = [unescape(c.value) for c in at.caption]
    assert any("FY2026 to 31 Oct with FY2025 to 31 Oct" in c for c in captions), captions


def test_all_time_compares_the_last_complete_fiscal_years(app, worlds):
    at = app()
    at.run()
    captions = [unescape(c.value) for c in at.caption]
    assert any("changes compare FY2025 with FY2024" in c for c in captions), captions
    tile = _tiles(at)[registry.METRICS["engagements"].label]
    assert tile.value == "13"  # all time
    assert tile.proto.delta == "-1"  # FY2025 (3) against FY2024 (4)


def test_no_comparison_says_why(app):
    at = app(end="2024-09-30")
    at.run()
    assert all(not m.proto.delta for m in at.metric)
    captions = [unescape(c.value) for c in at.caption]
    assert any(c.startswith("No change is shown: the dates have no start") for c in captions)


# -- date basis -----------------------------------------------------------------------------------


def test_date_basis_round_trips_through_the_url():
    filters = Filters(*fiscal_year_bounds(2026), date_basis="completed")
    params = filters.to_query_params()
    assert params["date_basis"] == ["completed"]
    assert Filters.from_query_params(params) == (filters, [])
    assert "date_basis" not in Filters(*fiscal_year_bounds(2026)).to_query_params()
    parsed, notices = Filters.from_query_params({"date_basis": "Completed "})
    assert parsed.date_basis == "completed" and not notices
    parsed, notices = Filters.from_query_params({"date_basis": "started"})
    assert parsed == Filters() and notices == [
        "Ignored date_basis='started': not requested or completed."
    ]
    assert hash(filters) == hash(Filters(*fiscal_year_bounds(2026), date_basis="completed"))
    assert not Filters(date_basis="completed").is_empty and Filters().is_empty
    with pytest.raises(ValueError):
        Filters(date_basis="completed_on; drop table engagements")
    with pytest.raises(AttributeError):
        filters.date_basis = "requested"


def test_date_basis_filters_on_completed_on_with_bound_parameters():
    start, end = fiscal_year_bounds(2026)
    sql, params = Filters(start, end, date_basis="completed").where()
    assert sql == "true and completed_on is not null and completed_on >= ? and completed_on <= ?"
    assert params == [start, end]
    sql, params = Filters(start, end).where()
    assert sql == "true and requested_on >= ? and requested_on <= ?" and params == [start, end]


@pytest.mark.parametrize(
    ("filters", "sentence"),
    [
        (
            Filters(*fiscal_year_bounds(2026), date_basis="completed"),
            "Engagements completed in FY2026",
        ),
        (Filters(*fiscal_year_bounds(2026)), "Engagements requested in FY2026"),
        (Filters(date_basis="completed"), "Engagements completed at any time"),
        (
            Filters(start=D(2024, 1, 1), date_basis="completed"),
            "Engagements completed since 1 Jan 2024",
        ),
    ],
)
def test_describe_says_which_date(filters, sentence):
    assert filters.describe() == sentence
    assert filters.period_text() in sentence


@pytest.mark.parametrize("case", ["completed-fy2026", "completed-fy2025", "completed-all"])
def test_completed_basis_figures_match_the_reference(worlds, case):
    world = worlds["main"]
    filters, sel = both(**CASES[case])
    got = metrics.summary(world.con, filters)  # the survey rate suppressed, as in the reference
    for key, value in ref.summary(world.data, sel).items():
        if key in got:
            same(got[key], value, f"{case}/{key}")
    series = metrics.volume_series(world.con, filters, "fiscal_year")
    done = world.data["engagements"].dropna(subset=["completed_on"])
    done = done[done["engagement_id"].isin(ref.select(world.data, sel)["engagement_id"])]
    fy = done["completed_on"].dt.year + (done["completed_on"].dt.month >= 10)
    assert dict(zip(series["period"], series["requests"], strict=True)) == {
        f"FY{y}": int(n) for y, n in fy.value_counts().sort_index().items()
    }


def test_completed_basis_counts_what_was_completed_in_the_year(worlds):
    """Hand-derived: completed in FY2026 (1 Oct 2025 on): P13 (30 Oct 2025) and P12; requested in
    FY2026 and completed so far: P12 only."""
    con = worlds["main"].con
    assert metrics.headline(con, Filters(**FY[2026], date_basis="completed"))["completed"] == 2
    assert metrics.headline(con, Filters(**FY[2026]))["completed"] == 1


def test_comments_filter_on_the_completion_date_too(worlds):
    con = worlds["main"].con
    columns = {row[0] for row in con.execute("describe comment_facts").fetchall()}
    assert "completed_on" in columns
    assert (
        len(
            metrics.comments(
                con,
                Filters(start=D(2023, 1, 1), end=D(2023, 1, 31), date_basis="completed"),
                min_n=1,  # one respondent: shown only without the threshold
            )
        )
        == 1
    )
    unfiltered = Filters(start=D(2023, 1, 1), end=D(2023, 1, 31))
    assert len(metrics.comments(con, unfiltered, min_n=1)) == 0


def test_cli_date_basis_and_comparison_match_the_reference(worlds):
    world = worlds["main"]
    proc = run_cli(
        "summary", "--db", world.db, "--json", "--compare", "--start", "2025-10-01",
        "--end", "2026-09-30", "--date-basis", "completed",
    )  # fmt: skip
    result = json.loads(proc.stdout)
    sel = ref.Selection(**FY[2026], date_basis="completed")
    assert result["completed"] == ref.summary(world.data, sel)["completed"] == 2
    expected = ref.kpis_with_comparison(world.data, sel)
    for name, want in expected.items():
        got = result["comparison"]["figures"][name]
        same({k: got[k] for k in want}, want, name)
        assert got["change_text"] == registry.METRICS[name].change(want["change"])
    spans = ref.comparison_spans(world.data, sel)
    assert result["comparison"]["previous_end"] == spans[1].end.isoformat()
    text = run_cli("summary", "--db", world.db, "--start", "2024-10-01", "--end", "2025-09-30")
    assert "Engagements requested in FY2025" in text.stdout.splitlines()[0]
    assert "Changes compare FY2025 with FY2024" in text.stdout
    lines = text.stdout.splitlines()
    changes = lines[lines.index("Change, FY2025 vs FY2024: now, before, change") + 1 :]
    accepted = next(x for x in changes if x.strip().startswith(registry.label("engagements")))
    assert accepted.split()[-3:] == ["3", "4", "-1"]  # now, before, change
    run_cli("summary", "--db", world.db, "--date-basis", "started", ok=False)


def test_report_kpis_use_the_same_change_text_and_spans(worlds):
    from critac_metrics import report

    built = report.collect(worlds["main"].con, Filters(**FY[2025]), sections=[])
    engagements = next(k for k in built.kpis if k.name == "engagements")
    assert engagements.change == "-1"
    assert engagements.change_line == "-1 FY2025 vs FY2024 (4 → 3)"
    assert built.comparison.startswith("Changes compare FY2025 with FY2024")
    assert "-1 FY2025 vs FY2024 (4 → 3)" in report.build_html(built)


def _basis_control(at: AppTest):
    return at.sidebar.get("button_group")[0]


def test_sidebar_date_basis_control_sets_the_filters_url_and_caption(app, worlds):
    at = app(start="2025-10-01", end="2026-09-30")
    at.run()
    control = _basis_control(at)
    assert control.value == "requested"
    control.set_value("completed").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["date_basis"] == "completed"
    assert at.query_params["start"] == "2025-10-01"
    assert unescape(at.caption[0].value) == "Engagements completed in FY2026"
    expected = ref.summary(worlds["main"].data, ref.Selection(**FY[2026], date_basis="completed"))
    assert _tiles(at)[registry.METRICS["engagements"].label].value == str(
        expected["engagements"]
    )  # P12 and P13
    assert any("(by completion date)" in unescape(c.value) for c in at.caption)


def test_a_link_with_the_completion_basis_opens_with_the_control_set(app):
    at = app(date_basis="completed")
    at.run()
    assert _basis_control(at).value == "completed"
    assert unescape(at.caption[0].value) == "Engagements completed at any time"


def test_unsetting_the_date_basis_control_falls_back_to_requested(app):
    at = app(date_basis="completed")
    at.run()
    _basis_control(at).set_value(None).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _basis_control(at).value == "requested"
    assert "date_basis" not in at.query_params
    assert unescape(at.caption[0].value) == "Engagements requested at any time"
