"""Survey statistics (issue 12): suppression by respondents, complementary suppression, the
comments browser, matched post vs follow-up, intervals clustered by engagement, levels of
evidence and response rates; each checked against an independent pandas computation on cases
built to break the rule."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from critac_metrics import charts, db, registry, report, store
from critac_metrics import metrics as m
from critac_metrics.filters import Filters

from . import app_charts
from . import reference as ref
from .conftest import ROOT, ingested

AGENCIES = "agency_id,agency_name,agency_type,state,sworn_officers,population_served\n"
ENGAGEMENTS = (
    "engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,"
    "completed_on,delivery_mode,provider,participants\n"
)
RESPONSES = (
    "response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,"
    "service_delivery,operations_change,would_recommend,comment\n"
)


class Built:
    """A data set written as CSV files and imported: a connection and the reference's rows."""

    def __init__(self, directory: Path, agencies: str, engagements: str, responses: str):
        directory.mkdir(parents=True, exist_ok=True)
        for name, head, body in (
            ("agencies.csv", AGENCIES, agencies),
            ("engagements.csv", ENGAGEMENTS, engagements),
            ("survey_responses.csv", RESPONSES, responses),
        ):
            (directory / name).write_text(head + body, encoding="utf-8")
        self.con = db.connect(ingested(directory, directory / "built.duckdb"))
        self.data = ref.load(directory)

    def close(self) -> None:
        self.con.close()


def agency(i: int, kind: str = "municipal", state: str = "OH") -> str:
    return f"A{i},Agency {i},{kind},{state},40,10000\n"


def engagement(i: int, agency_id: int, day: str = "2024-01-10", topics: str = "De-escalation",
               assistance: str = "training") -> str:  # fmt: skip
    return (
        f"E{i},A{agency_id},{day},completed,{assistance},{topics},2024-01-20,2024-02-01,"
        "virtual,IACP,10\n"
    )


def response(rid: str, eid: int, answers: tuple, wave: str = "post", role: str = "Chief",
             comment: str = "", day: str = "2024-02-05") -> str:  # fmt: skip
    cells = ",".join("" if a is None else str(a) for a in answers)
    return f"{rid},E{eid},{day},{wave},{role},{cells},{comment}\n"


@pytest.fixture
def build(tmp_path):
    made = []

    def _build(agencies: str, engagements: str, responses: str) -> Built:
        world = Built(tmp_path / f"set{len(made)}", agencies, engagements, responses)
        made.append(world)
        return world

    yield _build
    for world in made:
        world.close()


# -- 1. suppression by respondents ------------------------------------------------------------


def test_one_respondent_answering_every_item_is_one_respondent(build):
    """Five answers from one respondent used to pass the threshold of 5 ('100% (n = 5)')."""
    world = build(agency(1), engagement(1, 1), response("R1", 1, (5, 5, 5, 5, 5)))
    got = m.positive_outcome(world.con, Filters())
    want = ref.positive_outcome(world.data, ref.Selection())
    assert got == want
    assert (got["n"], got["answers"], got["suppressed"], got["top2_pct"]) == (1, 1, True, None)
    kpis = m.kpis_with_comparison(world.con, Filters()).set_index("metric")
    assert kpis.loc["positive_outcome_pct", "n"] == 1
    assert pd.isna(kpis.loc["positive_outcome_pct", "value"])
    # one response is below the threshold for the response rate too: no survey % at all
    assert pd.isna(kpis.loc["response_rate", "value"])
    built = report.collect(world.con, Filters())
    shown = {k.name: k for k in built.kpis}
    assert shown["positive_outcome_pct"].value.startswith("suppressed")
    assert "1 respondent" in shown["positive_outcome_pct"].label
    assert shown["response_rate"].value.startswith("suppressed")


def test_five_respondents_pass_the_threshold(build):
    responses = "".join(response(f"R{i}", 1, (5, 4, None, None, 2)) for i in range(5))
    world = build(agency(1), engagement(1, 1), responses)
    got = m.positive_outcome(world.con, Filters())
    assert got == ref.positive_outcome(world.data, ref.Selection())
    assert got["n"] == 5 and got["answers"] == 5 and not got["suppressed"]
    assert got["top2_pct"] == pytest.approx(100)  # satisfaction 5 from each


# -- 2. complementary suppression -------------------------------------------------------------

# Dimensions where every engagement has exactly one value: the segments add up to the total.
ADDITIVE = ("agency_type", "assistance_type", "size_band", "region", "state", "delivery_mode",
            "provider", "primary_topic")  # fmt: skip
OVERLAPPING = ("topic", "topic_group")  # an engagement counts under each of its topics


def counts_of(row) -> tuple[int, int]:
    """(n, positive answers) of a shown figure, worked back from its n and percentages."""
    n = int(row["n"])
    return n, round((row["pct_4"] + row["pct_5"]) * n / 100)


def derivable(frame, total) -> list[str]:
    """Per item, what a reader could work out about a suppressed cell from the shown cells of
    ``frame`` (one breakdown) and the shown ``total`` (item_outcomes of the same selection):
    with one suppressed cell, all of it; with several, their n or positive counts when the
    rest leaves no freedom (0 left, or exactly one respondent per cell)."""
    found = []
    totals = total.set_index("item")
    for item, cells in frame.groupby("item"):
        hidden = cells[cells["suppressed"].astype(bool)]
        if hidden.empty or bool(totals.loc[item, "suppressed"]):
            continue
        assert hidden["n"].isna().all(), "a suppressed cell shows its n"
        assert hidden["top2_pct"].isna().all(), "a suppressed cell shows its figure"
        shown = [counts_of(r) for _, r in cells[~cells["suppressed"].astype(bool)].iterrows()]
        left_n = counts_of(totals.loc[item])[0] - sum(n for n, _ in shown)
        left_top = counts_of(totals.loc[item])[1] - sum(p for _, p in shown)
        if len(hidden) == 1:
            found.append(f"{item}: the only suppressed cell is total minus the rest")
        elif left_n in (0, len(hidden)):
            found.append(f"{item}: {len(hidden)} suppressed cells hold {left_n} respondents")
        elif left_top == 0:
            found.append(f"{item}: the suppressed cells have no positive answer between them")
    return found


def fiscal_years(con) -> list[Filters]:
    years = [r[0] for r in con.execute("select distinct fiscal_year from engagement_facts")
             .fetchall()]  # fmt: skip
    return [Filters()] + [
        Filters(start=dt.date(y - 1, 10, 1), end=dt.date(y, 9, 30)) for y in sorted(years)
    ]


def test_no_suppressed_cell_can_be_worked_out_on_the_demo_data(demo_con):
    """Every breakdown the app offers, all time and per fiscal year (the issue found 5 of 5
    suppressed cells of fiscal year x agency type given back by the rest and the total)."""
    checked = suppressed = 0
    for filters in fiscal_years(demo_con):
        for wave in ("post", "follow_up"):
            total = m.item_outcomes(demo_con, filters, wave)
            for by in (*ADDITIVE, *OVERLAPPING):
                frame = m.outcomes_by(demo_con, filters, by, wave)
                checked += 1
                suppressed += int(frame["suppressed"].sum())
                per_item = frame.groupby("item")["suppressed"].sum()
                assert not (per_item == 1).any(), (filters, wave, by)  # never one alone
                if by in ADDITIVE:
                    assert derivable(frame, total) == [], (filters.describe(), wave, by)
    assert suppressed > 50  # the sweep did meet suppressed cells
    assert checked > 100


def three_types(small: list[tuple], sheriff_answers: list[tuple] | None = None) -> tuple:
    """Municipal (8 respondents), sheriff (6 unless given) and one small tribal segment."""
    agencies = agency(1) + agency(2, "sheriff") + agency(3, "tribal")
    engagements = engagement(1, 1) + engagement(2, 2) + engagement(3, 3)
    big = [(5, 4, 3, 2, 1), (4, 4, 4, 4, 4), (2, 5, 5, 5, 5), (3, 3, 3, 3, 3)]
    rows = [response(f"M{i}", 1, big[i % 4]) for i in range(8)]
    rows += [response(f"S{i}", 2, a) for i, a in enumerate(sheriff_answers or big[:3] * 2)]
    rows += [response(f"T{i}", 3, a) for i, a in enumerate(small)]
    return agencies, engagements, "".join(rows)


def test_one_small_segment_takes_the_next_smallest_with_it(build):
    world = build(*three_types([(5, 5, 5, 5, 5), (1, 2, 3, 4, 5)]))
    frame = m.outcomes_by(world.con, Filters(), "agency_type", "post")
    hidden = frame[frame["suppressed"]]
    assert set(hidden["agency_type"]) == {"tribal", "sheriff"}  # tribal (2) and the next smallest
    assert derivable(frame, m.item_outcomes(world.con, Filters(), "post")) == []
    expected = ref.outcomes_by(world.data, ref.Selection(), "agency_type", "post", 5)
    for row in frame.to_dict("records"):
        want = expected[(row["agency_type"], row["item"])]
        assert row["suppressed"] == want["suppressed"]
        assert (pd.isna(row["n"]) and want["n"] is None) or row["n"] == want["n"]
    # without the complementary cell, tribal's figures would be total minus the rest
    assert m.complementary_suppression([8, 6, 2], 5) == [False, True, True]


def test_a_suppressed_pair_with_only_positive_answers_takes_a_third(build):
    """Tribal (2) and sheriff (6, every answer 4 or 5): together all positive, so each cell's
    positive count would follow; municipal is hidden as well."""
    world = build(*three_types([(5, 5, 5, 5, 5), (4, 4, 4, 4, 4)], [(5, 5, 5, 5, 5)] * 6))
    frame = m.outcomes_by(world.con, Filters(), "agency_type", "post")
    assert frame["suppressed"].all()
    assert m.complementary_suppression([8, 6, 2], 5, [4, 6, 2]) == [True, True, True]
    assert ref.protected([8, 6, 2], 5, [4, 6, 2]) == [True, True, True]


def test_single_ones_are_not_enough(build):
    """Five segments of one respondent each hold 5 together, but each would be exactly 1."""
    assert m.complementary_suppression([1, 1, 1, 1, 1, 40], 5, [1, 0, 1, 0, 1, 20]) == [True] * 6
    assert m.complementary_suppression([9, 7, 30], 5, [4, 4, 9]) == [False] * 3


# -- 3. comments ------------------------------------------------------------------------------


def same_comments(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual["response_id"]) == list(expected["response_id"])
    for column in ("comment", "satisfaction", "respondent_role"):
        got = [None if pd.isna(v) else v for v in actual[column]]
        want = [None if pd.isna(v) else v for v in expected[column]]
        assert got == want, column


def test_a_selection_of_one_shows_no_comment(build):
    world = build(agency(1), engagement(1, 1),
                  response("R1", 1, (1, 1, 1, 1, 1), role="Chief", comment="Waste of time"))  # fmt: skip
    frame = m.comments(world.con, Filters())
    assert frame.empty
    same_comments(frame, ref.comments(world.data, ref.Selection()))
    assert len(m.comments(world.con, Filters(), min_n=1)) == 1


def test_scores_and_roles_only_for_engagements_with_enough_respondents(build):
    """Eight respondents in the selection, so comments are shown; but E1 (one respondent) and
    E2 (two) are below 5, so their scores and roles are blank; E3 (five) shows them."""
    rows = [response("R1", 1, (2,) * 5, role="Chief", comment="Too short")]
    rows += [response(f"R{i}", 2, (4,) * 5, role="Officer", comment=f"Good {i}") for i in (2, 3)]
    rows += [response(f"S{i}", 3, (5,) * 5, role="Sergeant", comment=f"Great {i}")
             for i in range(5)]  # fmt: skip
    world = build(agency(1) + agency(2) + agency(3),
                  engagement(1, 1) + engagement(2, 2) + engagement(3, 3), "".join(rows))  # fmt: skip
    frame = m.comments(world.con, Filters())
    same_comments(frame, ref.comments(world.data, ref.Selection()))
    by_id = frame.set_index("response_id")
    assert pd.isna(by_id.loc["R1", "satisfaction"]) and pd.isna(by_id.loc["R1", "respondent_role"])
    assert pd.isna(by_id.loc["R2", "respondent_role"])
    assert by_id.loc["S0", "respondent_role"] == "Sergeant" and by_id.loc["S0", "satisfaction"] == 5
    assert by_id.loc["R1", "comment"] == "Too short"  # the selection has 8 respondents
    only_e1 = Filters(agency_types=("municipal",), start=dt.date(2024, 1, 10),
                      end=dt.date(2024, 1, 10))  # fmt: skip
    assert len(m.comments(world.con, only_e1)) == 8  # every engagement that day: 8 respondents


def test_comments_match_the_reference_on_the_demo_data(demo_con):
    data = ref.load(ROOT / "data")
    for filters, sel in (
        (Filters(), ref.Selection()),
        (Filters(agency_types=("tribal",)), ref.Selection(agency_types=["tribal"])),
        (Filters(states=("VT",)), ref.Selection(states=["VT"])),
    ):
        same_comments(m.comments(demo_con, filters, 300), ref.comments(data, sel, 300))


# -- 5. intervals clustered by engagement -----------------------------------------------------


def test_intervals_account_for_answers_clustered_in_engagements(build):
    """Four engagements of ten respondents who all agree within an engagement (two all
    positive, two all negative): 40 answers but about 3 independent ones. The interval must be
    the independent numpy computation's, and far wider than one treating 40 answers as
    independent."""
    agencies = "".join(agency(i) for i in range(1, 5))
    engagements = "".join(engagement(i, i) for i in range(1, 5))
    answer = {1: 5, 2: 1, 3: 4, 4: 2}
    rows = "".join(
        response(f"R{e}_{k}", e, (answer[e],) * 5) for e in range(1, 5) for k in range(10)
    )
    world = build(agencies, engagements, rows)
    frame = m.item_outcomes(world.con, Filters(), "post").set_index("item")
    want = ref.item_outcomes(world.data, ref.Selection(), "post")
    resp = world.data["survey_responses"]
    for item in ref.ITEMS:
        low, high = ref.clustered_interval(resp["engagement_id"], resp[item])
        assert (frame.loc[item, "top2_low"], frame.loc[item, "top2_high"]) == pytest.approx(
            (low, high)
        )
        assert want[item]["top2_low"] == pytest.approx(low)
        naive_low, naive_high = m.wilson_interval(20, 40)
        assert high - low > 2 * (naive_high - naive_low)  # design effect about 13
    # one answer per engagement: about the plain Wilson interval (a small-sample factor wider)
    single = build(agencies, engagements,
                   "".join(response(f"S{e}", e, (answer[e],) * 5) for e in range(1, 5)))  # fmt: skip
    row = m.item_outcomes(single.con, Filters(), "post", 1).iloc[0]
    plain_low, plain_high = m.wilson_interval(2, 4)
    assert row["top2_high"] - row["top2_low"] >= plain_high - plain_low
    assert row["top2_high"] - row["top2_low"] < 1.3 * (plain_high - plain_low)


def test_effective_n_edge_cases():
    assert m.effective_n(3, 10, 1, 9, 30, 100) == 1.0  # one engagement: one independent unit
    assert m.effective_n(10, 10, 4, 34, 34, 34) == 4.0  # all positive: the engagements
    assert m.effective_n(0, 0, 0, 0, 0, 0) == 0.0


# -- 4. matched post vs follow-up -------------------------------------------------------------


def matched_reference(data, min_n: int) -> tuple[dict, int]:
    """Item figures per wave over the engagements answered in both waves (pandas)."""
    resp = ref.responses_of(data, ref.Selection(), None)
    waves = resp.groupby("engagement_id")["wave"].nunique()
    both = set(waves[waves == 2].index)
    out = {}
    for wave in ("post", "follow_up"):
        part = resp[resp["engagement_id"].isin(both) & (resp["wave"] == wave)]
        for item in ref.ITEMS:
            out[(wave, item)] = ref.with_clustered_interval(
                ref.answer_figures(part[item], min_n), part["engagement_id"], part[item]
            )
    return out, len(both)


def test_post_vs_follow_up_compares_the_same_engagements_by_default(build):
    """E1 answered in both waves; E2 and E3 only right after (all negative). Unmatched, the
    waves describe different engagements; matched, only E1's respondents count."""
    agencies = "".join(agency(i) for i in range(1, 4))
    engagements = "".join(engagement(i, i) for i in range(1, 4))
    rows = [response(f"P{k}", 1, (5, 5, 4, 4, 5)) for k in range(5)]
    rows += [response(f"F{k}", 1, (4, 4, 4, 2, 5), wave="follow_up") for k in range(5)]
    rows += [response(f"X{e}{k}", e, (1, 2, 1, 2, 1)) for e in (2, 3) for k in range(5)]
    world = build(agencies, engagements, "".join(rows))
    frame = m.post_vs_follow_up(world.con, Filters())
    assert frame["matched"].all() and set(frame["engagements"]) == {1}
    want, engaged = matched_reference(world.data, m.DEFAULT_MIN_N)
    assert engaged == 1
    got = {(r["wave"], r["item"]): r for r in frame.to_dict("records")}
    for key, figures in want.items():
        for name, value in figures.items():
            if value is None:
                assert pd.isna(got[key][name]), (key, name)
            else:
                assert got[key][name] == pytest.approx(value), (key, name)
    assert got[("post", "satisfaction")]["top2_pct"] == 100  # E2, E3 left out
    unmatched = m.post_vs_follow_up(world.con, Filters(), matched=False)
    post = unmatched[(unmatched["wave"] == "post") & (unmatched["item"] == "satisfaction")]
    assert post["top2_pct"].iloc[0] == pytest.approx(5 / 15 * 100)
    text = charts.post_vs_follow_up(frame).layout.title.subtitle.text.replace("<br>", " ")
    assert "Matched: the 1 engagement answered in both waves" in text
    text = charts.post_vs_follow_up(unmatched).layout.title.subtitle.text.replace("<br>", " ")
    assert "Unmatched" in text and "3 engagements right after" in text


def test_matched_comparison_matches_pandas_on_the_demo_data(demo_con):
    data = ref.load(ROOT / "data")
    frame = m.post_vs_follow_up(demo_con, Filters(), min_n=5)
    want, engaged = matched_reference(data, 5)
    assert set(frame["engagements"]) == {engaged}
    got = {(r["wave"], r["item"]): r for r in frame.to_dict("records")}
    for key, figures in want.items():
        assert got[key]["n"] == figures["n"]
        assert got[key]["top2_pct"] == pytest.approx(figures["top2_pct"])
        assert got[key]["top2_low"] == pytest.approx(figures["top2_low"])


# -- 6. levels of evidence --------------------------------------------------------------------


def test_levels_of_evidence_are_never_pooled(build):
    """Satisfied right after, no change at follow-up: pooled, the items would blur into one
    middling figure; each level keeps its own wave and item."""
    agencies = "".join(agency(i) for i in range(1, 3))
    engagements = "".join(engagement(i, i) for i in range(1, 3))
    rows = [response(f"P{e}{k}", e, (5, 4, 2, 2, 5)) for e in (1, 2) for k in range(3)]
    rows += [response(f"F{e}{k}", e, (5, 5, 4, 1, 5), wave="follow_up")
             for e in (1, 2) for k in range(3)]  # fmt: skip
    world = build(agencies, engagements, "".join(rows))
    levels = m.evidence_levels(world.con, Filters()).set_index("level")
    assert list(levels.index) == ["reaction", "learning", "behaviour", "results"]
    expected = {
        level: ref.item_outcomes(world.data, ref.Selection(), wave)[item]
        for level, (wave, item) in {
            "reaction": ("post", "satisfaction"),
            "learning": ("post", "knowledge_gain"),
            "behaviour": ("follow_up", "operations_change"),
            "results": ("follow_up", "service_delivery"),
        }.items()
    }
    for level, want in expected.items():
        assert levels.loc[level, "n"] == want["n"] == 6
        assert levels.loc[level, "top2_pct"] == pytest.approx(want["top2_pct"])
        assert levels.loc[level, "top2_low"] == pytest.approx(want["top2_low"])
    assert levels.loc["behaviour", "top2_pct"] == 0  # follow-up operations change: all 1
    assert levels.loc["results", "top2_pct"] == 100  # follow-up service delivery: all 4
    # the tile is the reaction level, not every item pooled
    tile = m.positive_outcome(world.con, Filters())
    assert tile["top2_pct"] == levels.loc["reaction", "top2_pct"] == 100
    labels = charts.evidence_levels(levels.reset_index()).layout.yaxis.ticktext
    assert "Behaviour: operations change, at follow-up (n=6)" in labels


# -- 7. response rates and late responses -----------------------------------------------------


def test_response_rates_per_wave_and_late_responses(build):
    """E1 completed, answered right after and at follow-up (the follow-up dated after the last
    engagement date); E2 completed, one comment-only response; E3 completed, none."""
    agencies = "".join(agency(i) for i in range(1, 4))
    engagements = "".join(engagement(i, i) for i in range(1, 4))
    rows = [response(f"P{k}", 1, (5, 4, 4, 4, 5), day="2024-02-01") for k in range(4)]
    rows += [response("F1", 1, (4, 4, 4, 4, 4), wave="follow_up", day="2024-09-01")]
    rows += [response("C1", 2, (None,) * 5, comment="No answers only this", day="2024-02-01")]
    world = build(agencies, engagements, "".join(rows))
    got = m.response_rates(world.con, Filters())
    want = ref.response_rates(world.data, ref.Selection())
    assert got == pytest.approx(want)
    assert got["late_responses"] == 1 and got["data_through"] == "2024-02-01"
    assert (got["survey_responses"], got["survey_respondents"]) == (6, 5)
    assert got["post_response_rate"] == pytest.approx(200 / 3)  # E1, E2 of 3 completed
    assert got["follow_up_response_rate"] == pytest.approx(100 / 3)
    summary = m.summary(world.con, Filters())
    assert summary["response_rates"] == got
    tiny = m.response_rates(world.con, Filters(), min_n=7)  # 6 responses: no rate shown
    assert tiny["response_rate"] is None and tiny["post_response_rate"] is None
    # the Outcomes page's rates: from its headline and the store's last day, no second scan
    through = store.data_through(world.con)
    for min_n in (m.DEFAULT_MIN_N, 7):
        head = m.headline(world.con, Filters())
        assert m.rates_of(head, through, min_n) == m.response_rates(world.con, Filters(), min_n)


def test_response_rates_match_pandas_on_the_demo_data(demo_con):
    data = ref.load(ROOT / "data")
    for filters, sel in (
        (Filters(), ref.Selection()),
        (Filters(agency_types=("campus",)), ref.Selection(agency_types=["campus"])),
    ):
        assert m.response_rates(demo_con, filters) == pytest.approx(ref.response_rates(data, sel))
        head = m.headline(demo_con, filters)
        rates = m.rates_of(head, store.data_through(demo_con))
        assert rates == m.response_rates(demo_con, filters)


def test_a_suppressed_selection_shows_no_survey_percentage_in_the_report(build):
    """Three respondents in all (below 5): the tiles, every outcome chart's table and takeaway,
    and the figures' drawn points carry no survey percentage."""
    agencies = agency(1) + agency(2, "sheriff")
    engagements = engagement(1, 1) + engagement(2, 2)
    rows = [response("R1", 1, (5, 5, 5, 5, 5)), response("R2", 1, (4, 2, 4, 4, 4)),
            response("R3", 2, (1, 1, 1, 1, 1), wave="follow_up")]  # fmt: skip
    world = build(agencies, engagements, "".join(rows))
    built = report.collect(world.con, Filters(), ["outcomes"])
    kpis = {k.name: k.value for k in built.kpis}
    assert kpis["positive_outcome_pct"].startswith("suppressed")
    assert kpis["response_rate"].startswith("suppressed")
    percent = re.compile(r"\d\s*%")
    for chart in built.charts:
        assert not percent.search(chart.takeaway), chart.key
        for row in chart.table.rows:
            assert not any(percent.search(str(cell)) for cell in row), (chart.key, row)
        for trace in chart.figure.data:  # nothing drawn for a suppressed figure
            if trace.type in ("bar", "scatter"):
                assert trace.x is None or len(trace.x) == 0, chart.key
    page = report.build_html(built)
    assert "suppressed" in page


# -- the Outcomes page ------------------------------------------------------------------------


def outcomes_page(monkeypatch, db_path, **params):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CRITAC_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.switch_page("views/outcomes.py")
    at.run()
    assert not at.exception
    return at


def test_outcomes_page_shows_levels_rates_and_the_matched_comparison(monkeypatch, demo_db):
    at = outcomes_page(monkeypatch, demo_db)
    labels = [metric.label for metric in at.metric]
    for name in ("response_rate", "post_response_rate", "follow_up_response_rate",
                 "survey_respondents"):  # fmt: skip
        assert registry.METRICS[name].label in labels
    assert "Response rate" not in labels
    titles = [f["layout"]["title"] for f in app_charts.figures(at)]
    texts = [  # subtitles are wrapped with <br> for narrow screens
        (t.get("text", "") + " " + t.get("subtitle", {}).get("text", "")).replace("<br>", " ")
        for t in titles
    ]
    assert any("level of evidence" in t for t in texts)
    assert any("Matched: the" in t and "answered in both waves" in t for t in texts)
    assert at.toggle(key="outcomes_matched").value is True
    assert any(df.value.shape[0] > 0 for df in at.dataframe)  # the comments


def test_outcomes_page_hides_comments_below_the_threshold(monkeypatch, build):
    world = build(agency(1), engagement(1, 1),
                  response("R1", 1, (5, 5, 5, 5, 5), comment="Loved it"))  # fmt: skip
    path = world.con.execute("select path from duckdb_databases() where database_name = 'built'")
    at = outcomes_page(monkeypatch, path.fetchone()[0])
    assert any("at least 5 survey respondents" in i.value for i in at.info)
    assert all("Loved it" not in df.value.to_string() for df in at.dataframe)
