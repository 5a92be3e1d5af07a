"""Every metric in critac_metrics.metrics checked against an independent plain-pandas computation
(tests/reference.py) over the same CSV rows, on the demo data and the hand-made tiny sets, under
a table of selections; plus hand-derived expectations for the tiny set's edge cases."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from critac_metrics import db, schema
from critac_metrics import metrics as m
from critac_metrics.filters import LIST_FILTERS, Filters

from . import reference as ref
from .conftest import ROOT, TINY, ingested

D = dt.date
FY2024 = {"start": D(2023, 10, 1), "end": D(2024, 9, 30)}

# name -> Filters keyword arguments (the reference Selection takes the same fields as lists)
SELECTIONS: dict[str, dict[str, Any]] = {
    "all": {},
    "fy2024": FY2024,
    "de-escalation": {"topics": ("De-escalation",)},
    "tribal+campus": {"agency_types": ("tribal", "campus")},
    "state-TX": {"states": ("TX",)},
    "combined": {
        "start": D(2020, 1, 1),
        "end": D(2024, 12, 31),
        "topics": ("De-escalation", "School Safety", "Crisis Intervention"),
        "agency_types": ("municipal", "tribal", "sheriff"),
        "assistance_types": ("training", "virtual_consultation", "expert_briefing"),
        "delivery_modes": ("virtual", "hybrid"),
    },
    "single": {"topics": ("Active Shooter Response",)},
    "empty-future": {"start": D(2031, 1, 1), "end": D(2031, 12, 31)},
}
SELECTION_NAMES = list(SELECTIONS)

# The tiny set plus what it lacks: survey responses to declined and withdrawn requests (never
# counted), a topic outside the catalogue, a same-day tie for the milestones, an agency with no
# engagements and one in a territory.
TINY_PLUS = {
    "agencies.csv": TINY["agencies.csv"]
    + "A5,Puerto Rico Police Bureau,territorial,PR,11000,3200000\n"
    + "A6,Quiet Township Police Department,municipal,OH,6,2000\n",
    "engagements.csv": TINY["engagements.csv"]
    + "E8,A1,2023-09-30,requested,policy_review,Drone Programs; De-escalation,,,,,\n"
    + "E9,A5,2024-02-10,approved,training,Tribal Law Enforcement,,,virtual,NOBLE,\n"
    + "E10,A5,2024-02-10,completed,training,De-escalation,2024-02-12,2024-02-12,virtual,NOBLE,60\n",
    "survey_responses.csv": TINY["survey_responses.csv"]
    + "R8,E6,2024-06-20,post,Chief,1,1,1,1,1,should never be shown\n"
    + "R9,E4,2024-10-20,follow_up,Chief,1,1,1,1,1,declined but answered\n"
    + "R10,E10,2024-02-20,post,Officer,5,,4,4,,Great session\n",
}
DATASETS = ("tiny", "demo")  # tiny_plus has its own sweep, test_tiny_plus_matches_reference


class World:
    """One data set: a read-only connection to its database and the reference's CSV rows."""

    def __init__(self, name: str, db_path: Path, csv_dir: Path):
        self.name = name
        self.con = db.connect(db_path)
        self.data = ref.load(csv_dir)


@pytest.fixture(scope="module")
def tiny_plus_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_plus")
    for name, text in TINY_PLUS.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def tiny_plus_db(tmp_path_factory, tiny_plus_dir) -> Path:
    return ingested(tiny_plus_dir, tmp_path_factory.mktemp("tiny_plus_db") / "tiny_plus.duckdb")


@pytest.fixture(scope="module")
def worlds(tiny_db, tiny_dir, demo_db, tiny_plus_db, tiny_plus_dir):
    made = {
        "tiny": World("tiny", tiny_db, tiny_dir),
        "tiny_plus": World("tiny_plus", tiny_plus_db, tiny_plus_dir),
        "demo": World("demo", demo_db, ROOT / "data"),
    }
    yield made
    for world in made.values():
        world.con.close()


@pytest.fixture(params=DATASETS)
def world(request, worlds) -> World:
    return worlds[request.param]


@pytest.fixture
def tiny(worlds) -> World:
    return worlds["tiny"]


def both(name_or_kwargs) -> tuple[Filters, ref.Selection]:
    kwargs: dict[str, Any] = (
        SELECTIONS[name_or_kwargs] if isinstance(name_or_kwargs, str) else name_or_kwargs
    )
    lists: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    sel = ref.Selection(**lists)
    return Filters(**kwargs), sel


# -- comparison helpers --------------------------------------------------------------------------


def is_missing(value) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def same(actual, expected, where: str = "") -> None:
    """Deep equality: floats within pytest.approx, None equal to None/NaN, dicts by key."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not a dict"
        assert set(actual) == set(expected), f"{where}: keys {set(actual) ^ set(expected)} differ"
        for key in expected:
            same(actual[key], expected[key], f"{where}.{key}")
        return
    if is_missing(expected):
        assert is_missing(actual), f"{where}: expected nothing, got {actual!r}"
        return
    assert not is_missing(actual), f"{where}: expected {expected!r}, got nothing"
    if isinstance(expected, bool):
        assert bool(actual) is expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, int | float) and not isinstance(expected, bool):
        assert float(actual) == pytest.approx(float(expected), rel=1e-9, abs=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    elif isinstance(expected, pd.Timestamp | dt.date):
        assert pd.Timestamp(actual) == pd.Timestamp(expected), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def keyed(frame: pd.DataFrame, keys: list[str]) -> dict:
    """Records of a frame keyed by the value(s) of ``keys`` (which must be unique)."""
    records = frame.to_dict("records")
    out = {}
    for record in records:
        key = tuple(record[k] for k in keys) if len(keys) > 1 else record[keys[0]]
        assert key not in out, f"duplicate row for {key!r}"
        out[key] = {k: v for k, v in record.items() if k not in keys}
    return out


def plain(value):
    """numpy scalars and Timestamps as plain Python values, for readable failures."""
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()
    return value


# -- volume and trend ----------------------------------------------------------------------------


@pytest.mark.parametrize("grain", m.GRAINS)
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_volume_series_matches_reference(world, selection, grain):
    check_volume_series(world, selection, grain)


def check_volume_series(world, selection, grain):
    filters, sel = both(selection)
    actual = m.volume_series(world.con, filters, grain)
    expected = ref.volume_series(world.data, sel, grain)
    columns = ["period", "requests", "engagements", "completed"]
    got = [{k: plain(v) for k, v in r.items()} for r in actual[columns].to_dict("records")]
    assert got == expected.to_dict("records")


SERIES_CASES = [
    ("quarter", "topic", ()),
    ("month", "agency_type", ()),
    ("fiscal_year", "topic_group", ()),
    ("month", "topic", ("De-escalation", "School Safety")),
]


@pytest.mark.parametrize(("grain", "dimension", "only"), SERIES_CASES)
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_series_by_matches_reference(world, selection, grain, dimension, only):
    check_series_by(world, selection, grain, dimension, only)


def check_series_by(world, selection, grain, dimension, only):
    filters, sel = both(selection)
    actual = m.series_by(world.con, filters, grain, dimension, only)
    expected = ref.series_by(world.data, sel, grain, dimension, only)
    columns = ["period", dimension, "engagements"]
    got = sorted(tuple(plain(v) for v in r) for r in actual[columns].itertuples(index=False))
    want = sorted(tuple(r) for r in expected[columns].itertuples(index=False))
    assert got == want
    assert list(actual["period"]) == sorted(actual["period"]), "periods are in order"


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_cumulative_engagements_matches_reference(world, selection):
    check_cumulative_engagements(world, selection)


def check_cumulative_engagements(world, selection):
    filters, sel = both(selection)
    actual = m.cumulative_engagements(world.con, filters)
    expected = ref.cumulative_engagements(world.data, sel)
    assert [pd.Timestamp(d) for d in actual["requested_on"]] == list(expected["requested_on"])
    assert list(actual["engagements"]) == list(expected["engagements"])
    assert list(actual["cumulative"]) == list(expected["cumulative"])


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_milestones_match_reference(world, selection):
    check_milestones(world, selection)


def check_milestones(world, selection):
    filters, sel = both(selection)
    actual = m.milestones(world.con, filters)
    expected = ref.milestones(world.data, sel)
    assert list(actual["milestone"]) == list(expected["milestone"])
    assert list(actual["engagement_id"]) == list(expected["engagement_id"])
    assert list(actual["agency_name"]) == list(expected["agency_name"])
    assert [pd.Timestamp(d) for d in actual["requested_on"]] == list(expected["requested_on"])


# -- comparisons ---------------------------------------------------------------------------------

COMPARISON_CASES = {
    "fy2024": FY2024,  # whole months: FY2023
    "month-feb-2024": {"start": D(2024, 2, 1), "end": D(2024, 2, 29)},  # January 2024
    "quarter": {"start": D(2024, 4, 1), "end": D(2024, 6, 30)},
    "days": {"start": D(2024, 1, 15), "end": D(2024, 2, 14)},  # 31 days before
    "fy2024-tribal+campus": {**FY2024, "agency_types": ("tribal", "campus")},
    "open-ended": {"start": D(2023, 10, 1)},  # no previous period
    "all": {},
    "empty-future": SELECTIONS["empty-future"],
}


@pytest.mark.parametrize("case", list(COMPARISON_CASES))
def test_kpis_with_comparison_match_reference(world, case):
    check_kpis_with_comparison(world, case)


def check_kpis_with_comparison(world, case):
    filters, sel = both(COMPARISON_CASES[case])
    actual = keyed(m.kpis_with_comparison(world.con, filters), ["metric"])
    expected = ref.kpis_with_comparison(world.data, sel)
    assert set(expected) <= set(actual)
    for name, want in expected.items():
        got = {k: plain(actual[name][k]) for k in want}
        same(got, want, f"{world.name}/{case}/{name}")


def test_sparklines_leave_out_the_month_in_progress_and_months_without_a_rate(tiny):
    """Tiny, all time: engagements in Dec 2022, Sep 2023, Oct 2023, Mar 2024 and Oct 2024; the
    data runs through 1 Oct 2024, so October 2024 is still in progress."""
    frame = keyed(m.kpis_with_comparison(tiny.con, Filters()), ["metric"])
    engagements = frame["engagements"]["sparkline"]
    assert len(engagements) == 22  # Dec 2022 – Sep 2024
    assert engagements[0] == 1 and sum(engagements) == 4
    assert frame["timely_completion_rate"]["sparkline"] == [100.0] * 4


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        ((D(2023, 10, 1), D(2024, 9, 30)), (D(2022, 10, 1), D(2023, 9, 30))),
        ((D(2024, 3, 1), D(2024, 3, 31)), (D(2024, 2, 1), D(2024, 2, 29))),
        ((D(2024, 1, 1), D(2024, 3, 31)), (D(2023, 10, 1), D(2023, 12, 31))),
        ((D(2024, 1, 15), D(2024, 2, 14)), (D(2023, 12, 15), D(2024, 1, 14))),
        ((D(2024, 3, 1), D(2024, 3, 10)), (D(2024, 2, 20), D(2024, 2, 29))),
    ],
)
def test_previous_period_is_the_one_compared(tiny, current, previous):
    """The hand-derived previous period; the reference helper agrees, and the metric's
    'previous' figures are the figures of that period, with its deliveries and responses as they
    stood as long after it as the current period has had (right-censoring)."""
    sel = ref.Selection(start=current[0], end=current[1])
    prev = ref.previous_selection(sel)
    assert (prev.start, prev.end) == previous
    assert Filters(start=current[0], end=current[1]).previous_period() == Filters(
        start=previous[0], end=previous[1]
    )
    frame = keyed(
        m.kpis_with_comparison(tiny.con, Filters(start=current[0], end=current[1])), ["metric"]
    )
    before = keyed(
        m.kpis_with_comparison(tiny.con, Filters(start=previous[0], end=previous[1])), ["metric"]
    )
    as_of = m.comparison(tiny.con, Filters(start=current[0], end=current[1])).previous_as_of
    seen_then = ref.kpi_values(
        tiny.data, ref.Selection(start=previous[0], end=previous[1]), 5, as_of
    )
    for name in frame:
        same(plain(frame[name]["previous"]), seen_then[name], name)
        if name not in ("completed", "agencies_served", "response_rate"):
            same(plain(frame[name]["previous"]), plain(before[name]["value"]), name)


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_kpis_carry_the_positive_outcome_n_and_nothing_else(world, selection):
    filters, sel = both(selection)
    frame = keyed(m.kpis_with_comparison(world.con, filters), ["metric"])
    expected_n = ref.positive_outcome(world.data, sel, m.DEFAULT_MIN_N)["n"]
    for name, row in frame.items():
        if name == "positive_outcome_pct":
            assert plain(row["n"]) == expected_n
        else:
            assert pd.isna(row["n"])


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_has_requests_matches_reference(world, selection):
    filters, sel = both(selection)
    assert m.has_requests(world.con, filters) is (ref.summary(world.data, sel)["requests"] > 0)


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_has_engagements_matches_reference(world, selection):
    filters, sel = both(selection)
    engaged = ref.summary(world.data, sel)["engagements"] > 0
    assert m.has_engagements(world.con, filters) is engaged
    assert engaged is (m.headline(world.con, filters)["engagements"] > 0)


def test_comment_facts_carry_every_column_the_filters_read(tiny):
    """comments() applies Filters.where() to comment_facts: a filter column missing there would
    break the comments table."""
    columns = {row[0] for row in tiny.con.execute("describe comment_facts").fetchall()}
    read = {"requested_on", "row_id"} | {s.column for s in LIST_FILTERS if s.field != "topics"}
    assert read <= columns


def test_outcomes_by_rejects_an_unknown_item_before_any_sql(tiny):
    with pytest.raises(ValueError, match="unknown item"):
        m.outcomes_by(tiny.con, Filters(), "agency_type", item="satisfaction_1 from agencies --")


def test_fy2024_is_compared_with_fy2023_on_tiny(tiny):
    """Hand-derived: FY2024 has E2 and E3 (2 engagements), FY2023 has E7 and E1 (2). The data run
    to 1 Oct 2024, a day after FY2024, so FY2023 counts what it had delivered by 1 Oct 2023: E7,
    not E1 (requested on 30 Sep 2023, delivered on 1 Nov 2023)."""
    frame = keyed(m.kpis_with_comparison(tiny.con, Filters(**FY2024)), ["metric"])
    assert plain(frame["engagements"]["value"]) == 2
    assert plain(frame["engagements"]["previous"]) == 2
    assert plain(frame["engagements"]["change"]) == 0
    assert plain(frame["agencies_served"]["value"]) == 2  # A1 (E2) and A2 (E3)
    assert plain(frame["agencies_served"]["previous"]) == 1  # A2 (E7); A1's E1 came later
    assert plain(frame["completed"]["previous"]) == 1


# -- breakdowns ----------------------------------------------------------------------------------


# Every dimension under the broad selections; the list-valued and one plain dimension under the rest.
BREAKDOWN_CASES = [
    (selection, dimension)
    for selection in SELECTION_NAMES
    for dimension in (
        m.DIMENSIONS
        if selection in ("all", "fy2024", "combined", "empty-future")
        else ("topic", "topic_group", "size_band")
    )
]


@pytest.mark.parametrize(("selection", "dimension"), BREAKDOWN_CASES)
def test_breakdown_matches_reference(world, selection, dimension):
    check_breakdown(world, selection, dimension)


def check_breakdown(world, selection, dimension):
    filters, sel = both(selection)
    actual = keyed(m.breakdown(world.con, filters, dimension), [dimension])
    expected = keyed(ref.breakdown(world.data, sel, dimension), [dimension])
    assert {k: {c: plain(v) for c, v in r.items()} for k, r in actual.items()} == expected


def test_breakdown_dimension_list_is_the_documented_one():
    assert set(m.DIMENSIONS) == {
        "topic", "primary_topic", "topic_group", "agency_type", "size_band", "state", "region",
        "assistance_type", "delivery_mode", "provider", "status",
    }  # fmt: skip


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_topic_by_agency_type_matches_reference(world, selection):
    check_topic_by_agency_type(world, selection)


def check_topic_by_agency_type(world, selection):
    filters, sel = both(selection)
    actual = m.topic_by_agency_type(world.con, filters).set_index("topic")
    expected = ref.topic_by_agency_type(world.data, sel)
    assert set(actual.index) == set(expected.index)
    for topic in expected.index:
        for kind in {*expected.columns, *actual.columns}:
            want = int(expected.loc[topic, kind]) if kind in expected.columns else 0
            got = int(actual.loc[topic, kind]) if kind in actual.columns else 0
            assert got == want, (topic, kind)
    totals = list(actual.sum(axis=1))
    assert totals == sorted(totals, reverse=True), "topics are ordered by total"


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_engagements_by_state_matches_reference(world, selection):
    check_engagements_by_state(world, selection)


def check_engagements_by_state(world, selection):
    filters, sel = both(selection)
    actual = m.engagements_by_state(world.con, filters)
    expected = ref.engagements_by_state(world.data, sel)
    assert len(actual) == 56
    assert set(actual["state"]) == set(ref.ALL_STATES)
    got = keyed(actual[["state", "engagements", "agencies"]], ["state"])
    want = keyed(expected, ["state"])
    assert {k: {c: plain(v) for c, v in r.items()} for k, r in got.items()} == want


# -- reach ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_reach_matches_reference(world, selection):
    check_reach(world, selection)


def check_reach(world, selection):
    filters, sel = both(selection)
    actual = m.reach(world.con, filters)
    expected = ref.reach(world.data, sel)
    same({k: actual[k] for k in expected}, expected, f"{world.name}/{selection}")


@pytest.mark.parametrize("grain", m.GRAINS)
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_first_time_vs_repeat_matches_reference(world, selection, grain):
    check_first_time_vs_repeat(world, selection, grain)


def check_first_time_vs_repeat(world, selection, grain):
    filters, sel = both(selection)
    actual = m.first_time_vs_repeat(world.con, filters, grain)
    columns = ["period", "first_time_agencies", "repeat_agencies"]
    actual = actual[(actual[columns[1]] + actual[columns[2]]) > 0]
    expected = ref.first_time_vs_repeat(world.data, sel, grain)
    got = [tuple(plain(v) for v in r) for r in actual[columns].itertuples(index=False)]
    assert got == [tuple(r) for r in expected.itertuples(index=False)]


@pytest.mark.parametrize("search", ["", "police", "UNIVERSITY"])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_agency_table_matches_reference(world, selection, search):
    check_agency_table(world, selection, search)


def check_agency_table(world, selection, search):
    filters, sel = both(selection)
    actual = m.agency_table(world.con, filters, search)
    expected = ref.agency_table(world.data, sel, search)
    got = keyed(actual, ["agency_id"])
    want = keyed(expected, ["agency_id"])
    assert set(got) == set(want)
    for agency_id, row in want.items():
        same(
            {k: plain(got[agency_id][k]) for k in row},
            {k: plain(v) for k, v in row.items()},
            agency_id,
        )
    counts = list(actual["engagements"])
    assert counts == sorted(counts, reverse=True), "most engaged agencies first"


# -- pipeline ------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_status_funnel_matches_reference(world, selection):
    check_status_funnel(world, selection)


def check_status_funnel(world, selection):
    filters, sel = both(selection)
    actual = m.status_funnel(world.con, filters)
    expected = ref.status_funnel(world.data, sel)
    assert list(actual["stage"]) == list(expected["stage"])
    assert [plain(v) for v in actual["requests"]] == list(expected["requests"])


@pytest.mark.parametrize("by", [None, "agency_type", "topic"])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_timeliness_matches_reference(world, selection, by):
    check_timeliness(world, selection, by)


def check_timeliness(world, selection, by):
    filters, sel = both(selection)
    key = by or "segment"
    actual = keyed(m.timeliness(world.con, filters, by), [key])
    expected = ref.timeliness(world.data, sel, by)
    want = keyed(expected, [key]) if len(expected) else {}
    assert set(actual) == set(want)
    for value, row in want.items():
        same({k: plain(actual[value][k]) for k in row}, row, f"{world.name}/{selection}/{value}")


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_backlog_series_matches_reference(world, selection):
    check_backlog_series(world, selection)


def check_backlog_series(world, selection):
    filters, sel = both(selection)
    actual = m.backlog_series(world.con, filters)
    expected = ref.backlog_series(world.data, sel)
    assert [pd.Timestamp(d) for d in actual["month_end"]] == list(expected["month_end"])
    assert [plain(v) for v in actual["open_requests"]] == list(expected["open_requests"])


# -- outcomes ------------------------------------------------------------------------------------

OUTCOME_COLUMNS = ["n", "suppressed", *ref.FIGURES]


@pytest.mark.parametrize(("wave", "min_n"), [("post", 5), ("follow_up", 1)])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_item_outcomes_match_reference(world, selection, wave, min_n):
    check_item_outcomes(world, selection, wave, min_n)


def check_item_outcomes(world, selection, wave, min_n):
    filters, sel = both(selection)
    actual = m.item_outcomes(world.con, filters, wave, min_n)
    assert list(actual["item"]) == ref.ITEMS
    got = keyed(actual[["item", *OUTCOME_COLUMNS]], ["item"])
    same({k: {c: plain(v) for c, v in r.items()} for k, r in got.items()},
         ref.item_outcomes(world.data, sel, wave, min_n), f"{world.name}/{selection}")  # fmt: skip


@pytest.mark.parametrize("min_n", [1, 5])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_positive_outcome_matches_reference(world, selection, min_n):
    check_positive_outcome(world, selection, min_n)


def check_positive_outcome(world, selection, min_n):
    filters, sel = both(selection)
    same(
        m.positive_outcome(world.con, filters, min_n), ref.positive_outcome(world.data, sel, min_n)
    )


OUTCOMES_BY_CASES = [
    ("agency_type", "post", None),
    ("topic_group", "follow_up", "satisfaction"),
    ("delivery_mode", None, None),
]


@pytest.mark.parametrize(("by", "wave", "item"), OUTCOMES_BY_CASES)
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_outcomes_by_matches_reference(world, selection, by, wave, item):
    check_outcomes_by(world, selection, by, wave, item)


def check_outcomes_by(world, selection, by, wave, item):
    filters, sel = both(selection)
    actual = m.outcomes_by(world.con, filters, by, wave, 3, item)
    expected = ref.outcomes_by(world.data, sel, by, wave, 3, item)
    got = keyed(actual, [by, "item"])
    assert set(got) == set(expected)
    for key, want in expected.items():
        same({k: plain(got[key][k]) for k in want}, want, f"{world.name}/{selection}/{key}")


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_post_vs_follow_up_matches_reference(world, selection):
    check_post_vs_follow_up(world, selection)


def check_post_vs_follow_up(world, selection):
    filters, sel = both(selection)
    unmatched = m.post_vs_follow_up(world.con, filters, 2, matched=False)
    actual = keyed(unmatched.drop(columns=["engagements", "matched"]), ["wave", "item"])
    expected = {
        (wave, item): figures
        for wave in ("post", "follow_up")
        for item, figures in ref.item_outcomes(world.data, sel, wave, 2).items()
    }
    assert set(actual) == set(expected)
    for key, want in expected.items():
        same({k: plain(actual[key][k]) for k in want}, want, f"{world.name}/{selection}/{key}")


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_post_vs_follow_up_both_is_each_comparison(world, selection):
    check_post_vs_follow_up_both(world, selection)


def check_post_vs_follow_up_both(world, selection):
    """The one scan of both comparisons gives the frames of post_vs_follow_up, matched and not
    (each checked against the reference above and in test_survey_statistics)."""
    filters, _ = both(selection)
    for min_n in (2, m.DEFAULT_MIN_N):
        frames = m.post_vs_follow_up_both(world.con, filters, min_n)
        assert list(frames) == [False, True]
        for matched, frame in frames.items():
            pd.testing.assert_frame_equal(
                frame, m.post_vs_follow_up(world.con, filters, min_n, matched=matched)
            )


@pytest.mark.parametrize("selection", SELECTION_NAMES)
@pytest.mark.parametrize("by", [None, "topic", "agency_type"])
def test_one_scan_of_both_comparisons_counts_what_two_scans_count(world, selection, by):
    """Every count of the one scan (completed engagements included, which the frames don't show)
    equals the count of its own scan, by segment too: a segment with responses only from matched
    engagements keeps the completed engagements that answered nothing."""
    from critac_metrics.queries import outcomes

    filters, _ = both(selection)
    counts = outcomes._answer_counts_matched_and_not(world.con, filters, schema.WAVES, by)
    for matched, only in ((False, None), (True, outcomes.MATCHED)):
        alone = outcomes._answer_counts(
            world.con, filters, schema.WAVES, by, only=only, items=schema.SURVEY_ITEMS
        )
        assert counts[matched] == alone, (world.name, selection, by, matched)


@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_one_wave_of_post_vs_follow_up_is_item_outcomes(world, selection):
    filters, _ = both(selection)
    both_waves = m.post_vs_follow_up(world.con, filters, matched=False)
    for wave in ("post", "follow_up"):
        pd.testing.assert_frame_equal(
            m.one_wave(both_waves, wave), m.item_outcomes(world.con, filters, wave)
        )


@pytest.mark.parametrize(("limit", "search"), [(200, ""), (2, ""), (50, "POLICY")])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_comments_match_reference(world, selection, limit, search):
    check_comments(world, selection, limit, search)


def check_comments(world, selection, limit, search):
    filters, sel = both(selection)
    actual = m.comments(world.con, filters, limit, search)
    expected = ref.comments(world.data, sel, limit, search)
    assert list(actual["response_id"]) == list(expected["response_id"])
    assert list(actual["comment"]) == list(expected["comment"])
    assert list(actual["wave"]) == list(expected["wave"])


@pytest.mark.parametrize("min_n", [3])
@pytest.mark.parametrize("selection", SELECTION_NAMES)
def test_summary_matches_reference(world, selection, min_n):
    check_summary(world, selection, min_n)


def check_summary(world, selection, min_n):
    filters, sel = both(selection)
    actual = m.summary(world.con, filters, min_n)
    expected = ref.summary(world.data, sel, min_n)
    assert list(actual) == [
        "requests", "engagements", "completed", "completion_rate", "agencies_served",
        "states_reached", "survey_responses", "response_rate", "responded_engagements",
        "outcomes", "follow_up_outcomes", "by_topic", "by_agency_type", "response_rates",
    ]  # fmt: skip
    same(actual, expected, f"{world.name}/{selection}")
    by_topic = list(actual["by_topic"].values())
    assert by_topic == sorted(by_topic, reverse=True)


# -- the tiny set's extra edge cases, through every metric --------------------------------------


@pytest.mark.parametrize(
    "selection", ["all", "fy2024", "de-escalation", "combined", "empty-future"]
)
def test_tiny_plus_matches_reference(worlds, selection):
    """TINY_PLUS adds responses to declined/withdrawn requests, a topic outside the catalogue,
    a same-day tie and a territory agency: every metric still agrees with the reference."""
    world = worlds["tiny_plus"]
    checks = [
        *((check_volume_series, grain) for grain in m.GRAINS),
        *((check_first_time_vs_repeat, grain) for grain in m.GRAINS),
        (check_series_by, "month", "topic_group", ()),
        (check_series_by, "quarter", "topic", ("De-escalation", "Drone Programs")),
        *((check_breakdown, dimension) for dimension in
          ("topic", "topic_group", "primary_topic", "region", "state", "provider")),
        (check_outcomes_by, "topic_group", "post", None),
        (check_outcomes_by, "agency_type", None, "satisfaction"),
        (check_timeliness, "topic_group"),
        (check_item_outcomes, "post", 1),
        (check_item_outcomes, "follow_up", 1),
        (check_cumulative_engagements,),
        (check_milestones,),
        (check_topic_by_agency_type,),
        (check_engagements_by_state,),
        (check_reach,),
        (check_agency_table, ""),
        (check_status_funnel,),
        (check_backlog_series,),
        (check_positive_outcome, 1),
        (check_post_vs_follow_up,),
        (check_post_vs_follow_up_both,),
        (check_comments, 200, ""),
        (check_summary, 1),
    ]  # fmt: skip
    failures = []
    for check, *args in checks:
        try:
            check(world, selection, *args)
        except AssertionError as exc:  # collect them all: one wrong metric must not hide another
            failures.append(f"{check.__name__}{tuple(args)}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", ["fy2024", "month-feb-2024", "days"])
def test_tiny_plus_kpis_with_comparison(worlds, case):
    check_kpis_with_comparison(worlds["tiny_plus"], case)


# -- edge cases, hand-derived on the tiny set ------------------------------------------------------


def test_fiscal_year_boundaries(tiny):
    """E7 2022-12-01 and E1 2023-09-30 are FY2023; E2 2023-10-01, E3, E4 2024-09-30 (declined) and
    E6 (withdrawn) are FY2024; E5 2024-10-01 is FY2025."""
    frame = m.volume_series(tiny.con, Filters(), "fiscal_year")
    got = {r.period: (r.requests, r.engagements, r.completed) for r in frame.itertuples()}
    assert got == {"FY2023": (2, 2, 2), "FY2024": (4, 2, 2), "FY2025": (1, 1, 0)}
    fy2024 = m.summary(tiny.con, Filters(**FY2024))
    assert (fy2024["requests"], fy2024["engagements"]) == (4, 2)
    fy2023 = m.summary(tiny.con, Filters(start=D(2022, 10, 1), end=D(2023, 9, 30)))
    assert (fy2023["requests"], fy2023["engagements"]) == (2, 2)
    quarters = m.volume_series(
        tiny.con, Filters(start=D(2023, 9, 1), end=D(2023, 10, 31)), "quarter"
    )
    assert list(quarters["period"]) == ["2023-Q3", "2023-Q4"]
    assert list(quarters["requests"]) == [1, 1]


def test_month_series_fills_gaps_with_zero(tiny):
    frame = m.volume_series(tiny.con, Filters(), "month")
    assert frame["period"].iloc[0] == "2022-12" and frame["period"].iloc[-1] == "2024-10"
    assert len(frame) == 23
    assert frame.set_index("period").loc["2023-01", "requests"] == 0
    assert int(frame["requests"].sum()) == 7


def test_empty_selection_gives_zeros_and_nothing(tiny):
    filters = Filters(**SELECTIONS["empty-future"])
    head = m.summary(tiny.con, filters)
    assert head["requests"] == head["engagements"] == head["completed"] == 0
    assert head["completion_rate"] is None and head["response_rate"] is None
    assert head["by_topic"] == {} and head["by_agency_type"] == {}
    assert all(fig["n"] == 0 and fig["top2_pct"] is None for fig in head["outcomes"].values())
    reach = m.reach(tiny.con, filters)
    assert reach["agencies_served"] == 0 and reach["small_agency_share"] is None
    assert m.positive_outcome(tiny.con, filters)["top2_pct"] is None
    for frame in (
        m.volume_series(tiny.con, filters, "month"),
        m.series_by(tiny.con, filters, "month", "topic"),
        m.cumulative_engagements(tiny.con, filters),
        m.milestones(tiny.con, filters),
        m.breakdown(tiny.con, filters, "topic"),
        m.topic_by_agency_type(tiny.con, filters),
        m.agency_table(tiny.con, filters),
        m.timeliness(tiny.con, filters),
        m.backlog_series(tiny.con, filters),
        m.outcomes_by(tiny.con, filters, "agency_type"),
        m.comments(tiny.con, filters),
    ):
        assert frame.empty
    assert m.engagements_by_state(tiny.con, filters)["engagements"].sum() == 0
    assert list(m.status_funnel(tiny.con, filters)["requests"]) == [0, 0, 0, 0]
    assert m.item_outcomes(tiny.con, filters)["suppressed"].all()


def test_single_engagement(tiny):
    """Only E5 (A3, campus, TX, size unknown, in progress) is on Active Shooter Response."""
    filters = Filters(topics=("Active Shooter Response",))
    head = m.summary(tiny.con, filters)
    assert (head["requests"], head["engagements"], head["completed"]) == (1, 1, 0)
    assert head["completion_rate"] == 0 and head["response_rate"] is None
    assert head["by_topic"] == {"Active Shooter Response": 1}
    assert head["by_agency_type"] == {"campus": 1}
    reach = m.reach(tiny.con, filters)
    # E5 is accepted but still in progress: nothing delivered, so A3 is not (yet) served.
    assert (reach["agencies_served"], reach["first_time_agencies"], reach["repeat_agencies"]) == (
        0,
        0,
        0,
    )
    assert reach["small_agency_share"] is None  # unknown size is excluded, leaving no agency
    assert list(m.volume_series(tiny.con, filters, "month")["period"]) == ["2024-10"]
    assert list(m.milestones(tiny.con, filters)["engagement_id"]) == ["E5"]
    assert list(m.backlog_series(tiny.con, filters)["open_requests"]) == [1]


def test_multi_topic_engagements_count_under_each_topic(tiny):
    frame = m.breakdown(tiny.con, Filters(), "topic").set_index("topic")
    # E1 (De-escalation; Use of Force), E2 (De-escalation), E3 (OSW; De-escalation; School Safety)
    assert frame.loc["De-escalation", "engagements"] == 3
    assert frame.loc["Use of Force", "engagements"] == 1
    assert frame.loc["Officer Safety and Wellness", "engagements"] == 1
    assert tuple(frame.loc["School Safety", ["requests", "engagements"]]) == (2, 1)  # E4 declined
    assert frame["engagements"].sum() == 8 > 5  # 5 engagements, counted once per topic
    groups = m.breakdown(tiny.con, Filters(), "topic_group").set_index("topic_group")
    # E1's two topics are both in one group: it counts once there.
    assert groups.loc["Use of Force & De-escalation", "engagements"] == 4  # E1, E2, E3, E7
    primary = m.breakdown(tiny.con, Filters(), "primary_topic").set_index("primary_topic")
    assert primary["engagements"].sum() == 5
    assert m.summary(tiny.con, Filters(topics=("De-escalation",)))["engagements"] == 3


def test_missing_answers_are_not_counted(tiny):
    """Post answers (R4 has a blank wave, so post): satisfaction R1 R2 R4 R5 R6 R7 = 6;
    knowledge_gain blank in R7 = 5; service_delivery blank in R2 = 5; operations_change blank
    in R1 and R6 = 4; would_recommend 6."""
    frame = m.item_outcomes(tiny.con, Filters(), "post", 1).set_index("item")
    assert dict(frame["n"]) == {"satisfaction": 6, "knowledge_gain": 5, "service_delivery": 5,
                                "operations_change": 4, "would_recommend": 6}  # fmt: skip
    sat = frame.loc["satisfaction"]
    assert sat["top2_pct"] == pytest.approx(4 / 6 * 100)  # 5, 4, 5, 4 of 5 4 2 5 4 3
    assert sat["mean"] == pytest.approx(23 / 6)
    assert frame.loc["operations_change", "top2_pct"] == pytest.approx(50.0)  # 4, 5 of 2 3 4 5
    # the tile: post satisfaction of 6 respondents (R1, R2, R4, R5, R6, R7)
    assert m.positive_outcome(tiny.con, Filters(), 1)["answers"] == 6
    assert m.positive_outcome(tiny.con, Filters(), 1)["n"] == 6
    follow = m.item_outcomes(tiny.con, Filters(), "follow_up", 1).set_index("item")
    assert set(follow["n"]) == {1}  # R3 answered every item


def test_suppression_boundary(tiny):
    """min_n = 5: operations_change (n = 4 = min_n - 1) is suppressed, knowledge_gain (n = 5)
    shown; min_n = 6: knowledge_gain (n = 5) suppressed, satisfaction (n = 6) shown."""
    for min_n, hidden, shown in ((5, "operations_change", "knowledge_gain"),
                                 (6, "knowledge_gain", "satisfaction")):  # fmt: skip
        frame = m.item_outcomes(tiny.con, Filters(), "post", min_n).set_index("item")
        assert frame.loc[hidden, "n"] == min_n - 1
        assert bool(frame.loc[hidden, "suppressed"])
        assert all(is_missing(frame.loc[hidden, c]) for c in ref.FIGURES)
        assert frame.loc[shown, "n"] == min_n
        assert not bool(frame.loc[shown, "suppressed"])
        assert all(not is_missing(frame.loc[shown, c]) for c in ref.FIGURES)
        outcomes = m.summary(tiny.con, Filters(), min_n)["outcomes"]
        assert outcomes[hidden]["suppressed"] and outcomes[hidden]["top2_pct"] is None
        assert outcomes[hidden]["mean"] is None
        assert not outcomes[shown]["suppressed"] and outcomes[shown]["top2_pct"] is not None
    assert m.positive_outcome(tiny.con, Filters(), 6)["suppressed"] is False
    assert m.positive_outcome(tiny.con, Filters(), 7)["top2_pct"] is None


def test_reach_on_tiny(tiny):
    reach = m.reach(tiny.con, Filters())
    assert reach["agencies_served"] == 2  # A3's E5 is still in progress; A4 only withdrew
    assert reach["states_reached"] == 2 and reach["territories_reached"] == 0  # GU only withdrew
    assert reach["small_agency_share"] == pytest.approx(50.0)  # A1 (40) of A1, A2
    assert reach["participants"] == 25 + 40 + 12  # delivered E1, E3, E7 (E2 left blank)


def test_first_time_agencies_on_tiny(tiny):
    """Agencies' delivered engagements in order: A1 E1, E2; A2 E7, E3. A3's E5 is in progress
    (and its declined E4 never counts), so A3 is not served. An agency is first-time when its
    first delivered engagement ever is in the selection, however often it came back in it."""
    # All data: A1 and A2 both had their first delivered engagement in it.
    reach = m.reach(tiny.con, Filters())
    assert (reach["first_time_agencies"], reach["repeat_agencies"]) == (2, 0)
    # De-escalation: E1 (A1's first), E2 (A1's second), E3 (A2's second; its first, E7, is on
    # another topic): A1 is first-time, A2 a repeat agency.
    deesc = m.reach(tiny.con, Filters(topics=("De-escalation",)))
    assert (deesc["first_time_agencies"], deesc["repeat_agencies"]) == (1, 1)
    # FY2023: E1 (A1's first) and E7 (A2's first) only: both first-time in that year.
    fy23 = m.reach(tiny.con, Filters(start=D(2022, 10, 1), end=D(2023, 9, 30)))
    assert (fy23["first_time_agencies"], fy23["repeat_agencies"]) == (2, 0)
    # FY2024: E2 (A1's second) and E3 (A2's second): both agencies are repeat agencies.
    fy = m.reach(tiny.con, Filters(**FY2024))
    assert (fy["agencies_served"], fy["first_time_agencies"], fy["repeat_agencies"]) == (2, 0, 2)
    # FY2025: only E5, in progress: no agency served yet.
    fy25 = m.reach(tiny.con, Filters(start=D(2024, 10, 1), end=D(2025, 9, 30)))
    assert (fy25["agencies_served"], fy25["first_time_agencies"]) == (0, 0)


def test_timeliness_on_tiny(tiny):
    """Days to start 10, 4, 17, 14, 4 (E1 E2 E3 E5 E7); start to completion 22, 15, 30, 0."""
    row = m.timeliness(tiny.con, Filters()).iloc[0]
    assert row["median_days_to_start"] == pytest.approx(10)
    assert row["p90_days_to_start"] == pytest.approx(15.8)
    assert row["median_days_start_to_completion"] == pytest.approx(18.5)
    assert row["p90_days_start_to_completion"] == pytest.approx(27.6)


def test_backlog_on_tiny(tiny):
    frame = m.backlog_series(tiny.con, Filters())
    open_at = {
        f"{pd.Timestamp(d):%Y-%m}": int(v)
        for d, v in zip(frame["month_end"], frame["open_requests"], strict=True)
    }
    assert open_at["2022-12"] == 0  # E7 completed 5 Dec
    assert open_at["2023-09"] == 1  # E1
    assert open_at["2023-10"] == 1  # E1 (completed 1 Nov); E2 completed 20 Oct
    assert open_at["2023-11"] == 0
    assert open_at["2024-03"] == open_at["2024-04"] == 1  # E3
    assert open_at["2024-09"] == 0  # E4 declined is never open
    assert open_at["2024-10"] == 1  # E5 in progress


def test_responses_to_declined_or_withdrawn_requests_never_count(worlds):
    plus = worlds["tiny_plus"]
    head = m.summary(plus.con, Filters())
    assert head["survey_responses"] == 8  # R1-R7 and R10; not R8 (E6 withdrawn), R9 (E4 declined)
    ids = set(m.comments(plus.con, Filters())["response_id"])
    assert "R8" not in ids and "R9" not in ids
    assert m.item_outcomes(plus.con, Filters(), "follow_up", 1).set_index("item")["n"].max() == 1


def test_milestone_ties_are_broken_by_engagement_id(worlds):
    plus = worlds["tiny_plus"]
    frame = m.milestones(plus.con, Filters(start=D(2023, 9, 30)))
    assert list(frame["engagement_id"]) == ["E1"]  # E1 and E8 both on 30 Sep 2023


def test_unknown_dimension_and_grain_are_refused(tiny):
    with pytest.raises(ValueError):
        m.breakdown(tiny.con, Filters(), "colour")
    with pytest.raises(ValueError):
        m.volume_series(tiny.con, Filters(), "week")


@pytest.mark.parametrize("by", [None, "agency_type", "topic"])
def test_summed_measures_add_up_once_and_keep_the_sums_that_pass(demo_con, by):
    """``_summed_sql``: without a topic-set bridge the measures are one aggregation over the
    engagement rows (a second one over its groups only cost binding time); with the bridge, per
    set and then per topic. Either way every measure is a bigint, and ``having`` (a condition on
    the sums by name) keeps exactly the groups whose sums pass, as a plain GROUP BY ... HAVING over
    the rows (joined to each topic) does."""
    from critac_metrics.queries.selection import _summed_sql

    filters = Filters(states=("TX", "CA"), agency_types=("municipal", "county"))
    measures = {"engagements": "count(*)", "responses": "sum(post_responses)"}
    sql, params = _summed_sql(
        filters, by, measures, {"completed": "is_completed"}, "is_engagement", "responses > 3"
    )
    assert sql.count("group by") == (2 if by == "topic" else 1)
    got = demo_con.execute(f"select * from ({sql}) order by all", params).fetchall()
    where, where_params = filters.where()
    value = {None: "'All'", "agency_type": "agency_type", "topic": "t.topic"}[by]
    join = " join fact_topics t using (row_id)" if by == "topic" else ""
    expected = demo_con.execute(
        f"select {value}, is_completed, count(*), sum(post_responses)::bigint "
        f"from engagement_facts{join} where {where} and is_engagement group by all "
        "having sum(post_responses) > 3 order by all",
        where_params,
    ).fetchall()
    assert got == expected
    unfiltered, _ = _summed_sql(
        filters, by, measures, {"completed": "is_completed"}, "is_engagement"
    )
    everything = demo_con.execute(f"select * from ({unfiltered})", params).fetchall()
    assert 0 < len(got) < len(everything)  # the condition kept some groups and left some out
    types = demo_con.execute(f"describe select * from ({sql})", params).fetchall()
    assert [t[1] for t in types[2:]] == ["BIGINT", "BIGINT"]
