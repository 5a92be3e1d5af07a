"""The next-milestone projection (metrics.milestone_projection) against a plain-pandas computation
with the exact (Garwood) Poisson interval, its chart (a dashed line and an interval, only when
there is a projection) and the report's sentence."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from critac_metrics import charts, db, report
from critac_metrics import metrics as m
from critac_metrics.filters import Filters

from . import app_charts
from . import reference as ref
from .conftest import ROOT

D = dt.date
SELECTIONS = {
    "all": {},
    "tribal": {"agency_types": ("tribal",)},
    "de-escalation": {"topics": ("De-escalation",)},
    "state-CA": {"states": ("CA",)},
    "since-2025": {"start": D(2025, 1, 1)},
    "state-AS": {"states": ("AS",)},
}


@pytest.fixture(scope="module")
def demo(demo_db):
    con = db.connect(demo_db)
    yield con, ref.load(ROOT / "data")
    con.close()


def _poisson_cdf(k: int, mu: float) -> float:
    return sum(math.exp(i * math.log(mu) - mu - math.lgamma(i + 1)) for i in range(k + 1))


def _bisect(f, lo: float, hi: float) -> float:
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) else (lo, mid)
    return (lo + hi) / 2


def garwood(n: int, level: float = 0.90) -> tuple[float, float]:
    """The exact Poisson interval for a count n, by bisection on the Poisson CDF."""
    tail = (1 - level) / 2
    low = 0.0 if n == 0 else _bisect(lambda mu: 1 - _poisson_cdf(n - 1, mu) < tail, 0, 10 * n + 10)
    high = _bisect(lambda mu: _poisson_cdf(n, mu) > tail, 0, 10 * n + 10)
    return low, high


def expected_projection(data, sel: ref.Selection) -> dict:
    eng = data["engagements"]
    through = max(eng["requested_on"].max(), eng["completed_on"].max()).date()
    # the last complete month: through's month if through is its last day
    month_end = (pd.Timestamp(through) + pd.offsets.MonthEnd(0)).date()
    window_end = (
        through
        if month_end == through
        else (pd.Timestamp(through).replace(day=1) - pd.Timedelta(days=1)).date()
    )
    window_start = (
        pd.Timestamp(window_end) - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    ).date()
    if sel.start and sel.start > window_start:
        window_start = sel.start
    rows = ref.engaged(data, sel)
    current = int((rows["requested_on"] <= pd.Timestamp(through)).sum())
    recent = int(
        rows["requested_on"].between(pd.Timestamp(window_start), pd.Timestamp(window_end)).sum()
    )
    days = (window_end - window_start).days + 1
    goal = next((g for g in m.MILESTONES if g > current), None)
    out = {"current": current, "window_engagements": recent, "milestone": goal,
           "through": through, "window_start": window_start, "window_end": window_end}  # fmt: skip
    if current == 0:
        return {**out, "status": "no_data", "milestone": None}
    if recent == 0:
        return {**out, "status": "zero_rate"}
    assert goal is not None
    remaining = goal - current
    low, high = garwood(recent)

    def when(count):
        wait = remaining / (count / days)
        return through + dt.timedelta(days=wait) if wait <= 10 * 365.25 else None

    return {**out, "expected": when(recent), "earliest": when(high),
            "latest": when(low) if low else None,
            "status": "ok" if when(recent) else "too_far"}  # fmt: skip


@pytest.mark.parametrize("name", SELECTIONS)
def test_projection_matches_reference(demo, name):
    con, data = demo
    kwargs = SELECTIONS[name]
    actual = m.milestone_projection(con, Filters(**kwargs))
    sel = ref.Selection(**{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()})
    expected = expected_projection(data, sel)
    for key in ("status", "current", "window_engagements", "milestone", "through",
                "window_start", "window_end"):  # fmt: skip
        assert actual[key] == expected[key], key
    if expected["status"] == "ok":
        wait = (expected["expected"] - expected["through"]).days
        for key in ("expected", "earliest", "latest"):
            if expected[key] is None:
                assert actual[key] is None
                continue
            # the expected date to the day (rounded up); the interval within 1% of the wait
            tolerance = 1 if key == "expected" else max(2, 0.01 * wait)
            assert abs((actual[key] - expected[key]).days) <= tolerance, key
        assert actual["earliest"] <= actual["expected"] <= actual["latest"]


def test_poisson_interval_close_to_exact():
    for n in (1, 2, 5, 15, 50, 200, 201, 287, 5000):
        low, high = m.poisson_rate_interval(n)
        exact_low, exact_high = garwood(n)
        assert low == pytest.approx(exact_low, rel=0.001)
        assert high == pytest.approx(exact_high, rel=0.001)
        assert low < n < high


def test_no_projection_for_empty_ended_short_or_far(demo):
    con, _ = demo
    assert m.milestone_projection(con, Filters(start=D(2031, 1, 1)))["status"] == "no_data"
    assert m.milestone_projection(con, Filters(end=D(2024, 1, 1)))["status"] == "ended"
    through = m.milestone_projection(con, Filters())["through"]
    late = m.milestone_projection(con, Filters(start=through - dt.timedelta(days=40)))
    assert late["status"] == "short"
    for status in ("no_data", "ended", "short", "zero_rate", "no_milestone"):
        assert report.milestone_takeaway({"status": status}) is None


def _projection_traces(fig) -> list:
    return [t for t in fig.data if (t.name or "").startswith(("Projected", "90% interval"))]


def test_chart_draws_projection_only_when_there_is_one(demo):
    con, _ = demo
    filters = Filters()
    cum, ms = m.cumulative_engagements(con, filters), m.milestones(con, filters)
    p = m.milestone_projection(con, filters)
    assert p["status"] == "ok"
    fig = charts.cumulative(cum, ms, p)
    line, interval = _projection_traces(fig)
    assert line.line.dash == "dash"
    assert list(line.y) == [p["current"], p["milestone"]]
    assert [pd.Timestamp(x).date() for x in interval.x] == [p["earliest"], p["latest"]]
    assert pd.Timestamp(fig.layout.xaxis.range[1]) > pd.Timestamp(p["latest"])
    assert not _projection_traces(charts.cumulative(cum, ms, {**p, "status": "zero_rate"}))
    assert not _projection_traces(charts.cumulative(cum, ms))


def test_report_takeaway_says_when_and_too_far(demo):
    con, _ = demo
    p = m.milestone_projection(con, Filters())
    text = report.milestone_takeaway(p)
    assert f"the {p['milestone']:,}th engagement is expected around {p['expected']:%b %Y}" in text
    assert f"90% interval {p['earliest']:%b %Y} to {p['latest']:%b %Y}" in text
    far = m.milestone_projection(con, Filters(states=("AS",)))
    assert far["status"] == "too_far"
    assert "more than 10 years away" in report.milestone_takeaway(far)
    deck = report.collect(con, Filters(), sections=["overview"])
    cumulative = next(c for c in deck.charts if c.key == "cumulative")
    assert text in cumulative.takeaway


def test_overview_shows_projection_on_chart_and_in_caption(monkeypatch, demo_db, demo):

    from streamlit.testing.v1 import AppTest

    con, _ = demo
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    p = m.milestone_projection(con, Filters())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert f"expected around {p['expected']:%b %Y}" in captions
    specs = app_charts.figures(at)
    cumulative = next(s for s in specs if "Cumulative" in s["layout"]["title"]["text"])
    assert any(t.get("name", "").startswith("Projected") for t in cumulative["data"])
    # an empty selection: no projection and no sentence
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(start="2031-01-01")
    at.run()
    assert not any("expected around" in c.value for c in at.caption)


def test_html_report_names_each_figure_by_its_takeaway(demo):
    import html

    con, _ = demo
    built = report.collect(con, Filters(), sections=["overview"])
    page = report.build_html(built)
    cumulative = next(c for c in built.charts if c.key == "cumulative")
    name = html.escape(f"{cumulative.title}: {cumulative.takeaway}")
    assert f'aria-label="{name}"' in page
    assert "is expected around" in cumulative.takeaway
