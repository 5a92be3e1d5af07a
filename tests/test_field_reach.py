"""Reach against the whole field: agencies served as a share of all US state and local agencies
(BJS CSLLEA 2018, data/bjs_csllea_2018.csv), against a plain-pandas computation; the data file
cites its source; the Agencies page shows the chart."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from critac_metrics import charts, db, field, registry, schema
from critac_metrics import metrics as m
from critac_metrics.filters import Filters

from . import app_charts
from . import reference as ref
from .conftest import ROOT

SOURCE_URL = (
    "https://ojp.gov/library/publications/"
    "census-state-and-local-law-enforcement-agencies-2018-statistical-tables"
)
# The census categories, restated here from the BJS report's wording (not from field.py)
EXPECTED_MAP = {
    "local_police": {"municipal", "county"},
    "sheriff": {"sheriff"},
    "state_tribal_special": {"state", "tribal", "campus", "other"},
}
SELECTIONS = {
    "all": {},
    "fy2024": {"start": dt.date(2023, 10, 1), "end": dt.date(2024, 9, 30)},
    "tribal+territorial": {"agency_types": ("tribal", "territorial")},
    "PR": {"states": ("PR",)},
    "de-escalation": {"topics": ("De-escalation",)},
}


@pytest.fixture(scope="module")
def demo(demo_db):
    con = db.connect(demo_db)
    yield con, ref.load(ROOT / "data")
    con.close()


def test_data_file_cites_the_census():
    table = pd.read_csv(ROOT / "data" / "bjs_csllea_2018.csv")
    assert set(table["year"]) == {2018}
    assert all(SOURCE_URL in s and "2018" in s for s in table["source"])
    total = table.set_index("category").loc["all", "agencies"]
    assert total == 17541
    shares = table.set_index("category")["share_pct"]
    assert shares[list(EXPECTED_MAP)].sum() == 99  # 67 + 17 + 15, as published (rounded)
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "bjs_csllea_2018.csv" in readme and "by state" in readme


@pytest.mark.parametrize("name", SELECTIONS)
def test_field_reach_matches_reference(demo, name):
    con, data = demo
    kwargs = SELECTIONS[name]
    actual = m.field_reach(con, Filters(**kwargs)).set_index("category")
    sel = ref.Selection(**{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()})
    rows = ref.rows(data, sel)
    served = rows[rows["is_completed"] & ~rows["state"].isin(schema.TERRITORIES)]
    census = pd.read_csv(ROOT / "data" / "bjs_csllea_2018.csv").set_index("category")
    total = census.loc["all", "agencies"]
    counted = 0
    for category, types in EXPECTED_MAP.items():
        n = served[served["agency_type"].isin(types)]["agency_id"].nunique()
        counted += n
        share = census.loc[category, "share_pct"]
        row = actual.loc[category]
        assert row["agencies_served"] == n
        assert row["share_pct"] == pytest.approx(100 * n / (share / 100 * total))
        # the range a whole-percent share allows: share ± 0.5 points of the total
        assert row["share_low"] == pytest.approx(100 * n / ((share + 0.5) / 100 * total), rel=1e-3)
        assert row["share_high"] == pytest.approx(100 * n / ((share - 0.5) / 100 * total), rel=1e-3)
        assert row["share_low"] <= row["share_pct"] <= row["share_high"]
    assert actual.loc["all", "agencies_served"] == counted
    assert actual.loc["all", "share_pct"] == pytest.approx(100 * counted / total)
    assert bool(actual.loc["all", "exact"])


def test_mapping_covers_every_agency_type():
    assert set(field.BJS_CATEGORY) == set(schema.AGENCY_TYPES)
    assert field.BJS_CATEGORY["territorial"] is None
    for category, types in EXPECTED_MAP.items():
        assert {t for t, c in field.BJS_CATEGORY.items() if c == category} == types


def test_chart_and_registry(demo):
    con, _ = demo
    frame = m.field_reach(con, Filters())
    fig = charts.field_reach(frame)
    bar = fig.data[0]
    assert [round(float(x), 6) for x in bar.x] == [round(v, 6) for v in frame["share_pct"][::-1]]
    assert "17,541" in registry.METRICS["field_share"].description
    empty = charts.field_reach(m.field_reach(con, Filters(start=dt.date(2031, 1, 1))))
    assert not [t for t in empty.data if t.type == "bar"]


def test_agencies_page_shows_reach_against_the_field(monkeypatch, demo_db):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("views/agencies.py")
    at.run()
    titles = [f["layout"]["title"]["text"] for f in app_charts.figures(at)]
    assert "Reach against the whole field" in titles
