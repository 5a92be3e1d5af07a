"""The report split along its seams keeps one vocabulary: a period is partial by the metric's rule
(metrics marks ``is_partial``; the report no longer has its own), and numbers in words come from
``critac_metrics.words`` everywhere."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from critac_metrics import db, metrics, report, store, words
from critac_metrics.filters import Filters

from .conftest import ROOT


@pytest.fixture(scope="module")
def con(demo_db):
    con = db.connect(demo_db)
    yield con
    con.close()


def _partial_rows(chart: report.Chart) -> list[str]:
    return [row[0].removesuffix(" (partial)") for row in chart.table.rows if "(partial)" in row[0]]


def test_partial_periods_are_the_metrics_even_when_the_filter_ends_at_the_data_date(con):
    through = store.data_date(con)
    assert through is not None
    # Ten months up to the data date: monthly grain. The filter ends on the data date, so the month
    # holding it runs past the last day of data: the chart hatches it, and the table must say so.
    start = (through.replace(day=1) - dt.timedelta(days=280)).replace(day=1)
    filters = Filters(start=start, end=through)
    built = report.collect(con, filters, ["trends"])
    volume = next(c for c in built.charts if c.key == "volume")
    series = metrics.volume_series(con, filters, "month")
    expected = list(series.loc[series["is_partial"], "period"])
    assert _partial_rows(volume) == expected
    trend = next(c for c in built.charts if c.key == "topic_trend")
    assert _partial_rows(trend) == expected
    month_end = (through.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
    if through < month_end:  # the demo data ends mid-month: the last month is partial
        assert expected == [series["period"].iloc[-1]]


def test_numbers_in_words():
    assert words.plural(1, "engagement") == "1 engagement"
    assert words.plural(1200, "agency", "agencies") == "1,200 agencies"
    assert [words.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 101, 111, 1000)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "101st", "111th", "1,000th",
    ]  # fmt: skip


def test_one_definition_of_the_number_words():
    pattern = re.compile(r"^def _?(ordinal|plural)\(", re.M)
    found = [
        str(path.relative_to(ROOT))
        for folder in ("critac_metrics", "dashboard", "views")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["critac_metrics/words.py"]


def test_one_month_table_for_periods():
    # The report used its own {"month": 1, "quarter": 3, "fiscal_year": 12}; metrics owns it.
    for path in sorted((ROOT / "critac_metrics").glob("report*.py")):
        assert '"fiscal_year": 12' not in path.read_text(encoding="utf-8"), path.name
