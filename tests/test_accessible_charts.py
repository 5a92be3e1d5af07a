"""Accessible charts: every chart's accessible name states its takeaway (read from its data), and
"View as table" shows its numbers instead; a table row narrows the filters like a click."""

from __future__ import annotations

import pytest

from critac_metrics import alt_text, charts, db
from critac_metrics import metrics as m
from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from . import app_charts
from . import reference as ref
from .conftest import ROOT


@pytest.fixture(scope="module")
def demo(demo_db):
    con = db.connect(demo_db)
    yield con, ref.load(ROOT / "data")
    con.close()


def test_bar_takeaway_names_the_highest_and_lowest(demo):
    con, data = demo
    fig = charts.bar_breakdown(m.breakdown(con, Filters(), "topic"), "topic", top=12)
    # independently: engagements per topic from the CSV rows
    counts = ref.exploded(ref.engaged(data, ref.Selection()), "topic")["value"].value_counts()
    top12 = counts.head(12)
    text = alt_text.figure_takeaway(fig)
    assert text.startswith("Engagements by topic: highest ")
    assert f"highest {top12.index[0]} ({top12.iloc[0]:,}" in text
    assert text.split("lowest ")[1].split(" (")[1].startswith(f"{top12.iloc[-1]:,})")  # ties: any


def test_line_takeaway_gives_first_and_last(demo):
    con, data = demo
    fig = charts.cumulative(m.cumulative_engagements(con, Filters()))
    rows = ref.engaged(data, ref.Selection()).sort_values("requested_on")
    first, last = rows["requested_on"].iloc[0], rows["requested_on"].iloc[-1]
    n_first = int((rows["requested_on"] == first).sum())
    text = alt_text.figure_takeaway(fig)
    assert f"from {n_first:,} in {first:%b %Y} to {len(rows):,} in {last:%b %Y}" in text


def test_heatmap_map_funnel_and_empty(demo):
    con, data = demo
    f = Filters()
    heat = alt_text.figure_takeaway(charts.topic_heatmap(m.topic_by_agency_type(con, f)))
    cells = ref.exploded(ref.engaged(data, ref.Selection()), "topic")
    top = cells.groupby(["value", "agency_type"]).size().idxmax()
    assert f"highest {top[0]} and {top[1].capitalize()}" in heat
    states = ref.engaged(data, ref.Selection())["state"].value_counts()
    state_map = alt_text.figure_takeaway(charts.state_map(m.engagements_by_state(con, f)))
    assert f"highest {states.index[0]} ({states.iloc[0]:,})" in state_map
    funnel = alt_text.figure_takeaway(charts.funnel(m.status_funnel(con, f)))
    assert f"Requested {len(data['engagements']):,} down to" in funnel
    empty = charts.cumulative(m.cumulative_engagements(con, Filters(states=("AS",), topics=("X",))))
    assert alt_text.figure_takeaway(empty).endswith(f"{alt_text.NO_DATA}.")


CHART_PAGES = [p.path for p in PAGES if p.path not in ("views/data.py", "views/report.py")]


@pytest.mark.parametrize("page", CHART_PAGES)
def test_every_chart_has_a_takeaway_as_its_accessible_name(demo_app, page):
    at = demo_app(page if page != PAGES[0].path else None)
    charts_on_page = app_charts.charts(at)
    assert charts_on_page
    for el in charts_on_page:
        title, name = app_charts.figure(el)["layout"]["title"]["text"], app_charts.alt(el)
        assert name.startswith(alt_text._plain(title) + ":"), (title, name)
        assert len(name) > len(title) + 5


def test_view_as_table_swaps_the_chart_for_its_numbers(demo_app, demo):
    con, _ = demo
    at = demo_app()
    before = len(app_charts.charts(at))
    toggle = at.toggle(key="overview_topics_as_table")
    assert toggle.label == "View as table"
    toggle.set_value(True).run()
    assert len(app_charts.charts(at)) == before - 1
    table = next(d.value for d in at.dataframe if "topic" in d.value.columns)
    expected = m.breakdown(con, Filters(), "topic")
    assert list(table["topic"]) == list(expected["topic"])
    assert list(table["engagements"]) == list(expected["engagements"])
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Engagements by topic: highest" in captions
    at.toggle(key="overview_topics_as_table").set_value(False).run()
    assert len(app_charts.charts(at)) == before
