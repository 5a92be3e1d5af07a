"""Year over year: engagements per fiscal month of the latest fiscal year and the one before,
checked against the independent pandas reference (tests/reference.py) on data built to break it
(a fiscal year in progress, a leap day, the completion date basis, a date filter on one fiscal
year), and the overlay figure built from it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from critac_metrics import charts, metrics
from critac_metrics.filters import Filters

from . import app_charts
from . import reference as ref
from .test_period_comparison import FY, both, worlds  # noqa: F401 - the shared data sets

D = dt.date
CASES = {
    "all": {},
    "fy-in-progress": FY[2026],
    "fy2025": FY[2025],
    "fy2024-leap": FY[2024],
    "part-of-a-year": {"start": D(2024, 2, 29), "end": D(2024, 6, 30)},
    "topic": {"topics": ("De-escalation",)},
    "completed-all": {"date_basis": "completed"},
    "completed-fy2025": {**FY[2025], "date_basis": "completed"},
    "tribal": {"agency_types": ("tribal",)},
}
COLUMNS = ["fiscal_year", "fiscal_month", "month", "engagements", "is_partial"]


def _comparable(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    if frame.empty:
        return []
    out = frame[columns].astype({"engagements": int, "is_partial": bool, "fiscal_year": int})
    return out.sort_values(columns[:4] if len(columns) > 5 else columns[:2]).to_dict("records")


@pytest.mark.parametrize("world_name", ["main", "leap"])
@pytest.mark.parametrize("case", list(CASES))
def test_year_over_year_matches_the_reference(worlds, world_name, case):  # noqa: F811
    world = worlds[world_name]
    filters, sel = both(**CASES[case])
    actual = metrics.year_over_year(world.con, filters)
    expected = ref.year_over_year(world.data, sel)
    assert _comparable(actual, COLUMNS) == _comparable(expected, COLUMNS)


@pytest.mark.parametrize("case", ["all", "fy2025", "completed-all"])
def test_year_over_year_by_topic_matches_the_reference(worlds, case):  # noqa: F811
    world = worlds["main"]
    filters, sel = both(**CASES[case])
    columns = ["fiscal_year", "fiscal_month", "month", "topic", "engagements", "is_partial"]
    actual = metrics.year_over_year(world.con, filters, dimension="topic")
    expected = ref.year_over_year(world.data, sel, dimension="topic")
    assert _comparable(actual, columns) == _comparable(expected, columns)
    only = ("School Safety",)
    kept = metrics.year_over_year(world.con, filters, dimension="topic", only=only)
    assert set(kept["topic"]) <= set(only)
    assert _comparable(kept, columns) == _comparable(
        ref.year_over_year(world.data, sel, dimension="topic", only=only), columns
    )


def test_a_fiscal_year_in_progress_is_compared_with_the_whole_year_before(worlds):  # noqa: F811
    frame = metrics.year_over_year(worlds["main"].con, Filters())
    # The last day of data is 31 Oct 2025: FY2026 has one month (complete), FY2025 all twelve.
    assert sorted(set(frame["fiscal_year"])) == [2025, 2026]
    assert frame.groupby("fiscal_year")["fiscal_month"].apply(list).to_dict() == {
        2025: list(range(1, 13)),
        2026: [1],
    }
    assert frame.loc[frame["fiscal_year"] == 2026, "month"].tolist() == ["Oct"]


def test_a_date_filter_on_one_year_still_shows_the_year_before(worlds):  # noqa: F811
    filters, _ = both(**FY[2025])
    frame = metrics.year_over_year(worlds["main"].con, filters)
    assert set(frame["fiscal_year"]) == {2024, 2025}
    assert frame.loc[frame["fiscal_year"] == 2024, "engagements"].sum() > 0


def test_overlay_figure_draws_both_years_on_fiscal_months(worlds):  # noqa: F811
    frame = metrics.year_over_year(worlds["main"].con, Filters())
    fig = charts.year_over_year(frame)
    names = [trace.name for trace in fig.data]
    assert names == ["FY2026", "FY2025"]
    current, previous = fig.data
    assert list(fig.layout.xaxis.categoryarray) == list(metrics.FISCAL_MONTHS)
    assert list(previous.x) == list(metrics.FISCAL_MONTHS)
    assert list(current.x) == ["Oct"]
    assert previous.line.dash == "dot" and current.line.dash in (None, "solid")
    assert "FY2025" in fig.layout.title.text and "FY2026" in fig.layout.title.text


def test_overlay_figure_by_topic_pairs_each_topic_with_its_year_before(worlds):  # noqa: F811
    frame = metrics.year_over_year(worlds["main"].con, Filters(), dimension="topic")
    fig = charts.year_over_year(frame, "topic")
    by_name = {trace.name: trace for trace in fig.data}
    assert "De-escalation · FY2025" in by_name and "De-escalation · FY2026" in by_name
    assert (
        by_name["De-escalation · FY2025"].line.color == by_name["De-escalation · FY2026"].line.color
    )


def test_overlay_figure_without_data_is_the_empty_figure():
    fig = charts.year_over_year(pd.DataFrame(columns=COLUMNS))
    assert not fig.data
    assert charts.EMPTY_MESSAGE in fig.layout.annotations[0].text


# -- the pages: the switch is in the URL (_yoy=1) ----------------------------------------------


def _titles(at) -> list[str]:
    return [f["layout"]["title"]["text"] for f in app_charts.figures(at)]


@pytest.mark.parametrize("page", ["views/overview.py", "views/topics.py"])
def test_a_link_with_yoy_opens_the_overlay(monkeypatch, demo_db, page):
    from .test_ui_defects_app import _open

    on = _open(monkeypatch, demo_db, page, _yoy="1")
    assert on.toggle(key=page.split("/")[1][:-3] + "_yoy").value is True
    assert any("year over year" in t or " vs FY" in t for t in _titles(on))
    assert on.query_params.get("_yoy") in ("1", ["1"])
    off = _open(monkeypatch, demo_db, page)
    assert not any(" vs FY" in t for t in _titles(off))


def test_the_switch_writes_the_url(monkeypatch, demo_db):
    from .test_ui_defects_app import _open

    at = _open(monkeypatch, demo_db, "views/overview.py")
    at.toggle(key="overview_yoy").set_value(True).run()
    assert at.query_params.get("_yoy") in ("1", ["1"])
    assert any(" vs FY" in t for t in _titles(at))
    at.toggle(key="overview_yoy").set_value(False).run()
    assert "_yoy" not in at.query_params


def test_an_opened_fiscal_year_has_a_way_back_to_every_year(monkeypatch, demo_db):
    from .test_ui_defects_app import _open

    start, end = FY[2025]["start"], FY[2025]["end"]
    at = _open(monkeypatch, demo_db, "views/overview.py", start=str(start), end=str(end))
    at.session_state["overview_grain"] = "month"
    button = at.button(key="overview_grain_all_years")
    assert "FY2025" in button.label
    button.click().run()
    assert "start" not in at.query_params and "end" not in at.query_params
    assert at.session_state["overview_grain"] == "fiscal_year"
    assert not [b for b in at.button if b.key == "overview_grain_all_years"]
