"""Active-filter chips under every page's title: one per value, each removable on its own, and
"Reset all"; the filters (and the URL) follow."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics.filters import Filters
from dashboard import chips
from dashboard.pages import PAGES


def _chip_keys(at: AppTest) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("chip_")]


def test_chip_texts_use_labels():
    filters = Filters(
        start=dt.date(2023, 10, 1),
        end=dt.date(2024, 9, 30),
        agency_types=("tribal",),
        states=("CA",),
        delivery_modes=("onsite",),
    )
    texts = [text for text, _, _ in chips.chips(filters)]
    assert texts == [
        "Requested: FY2024",
        "Agency type: Tribal",
        "State or territory: California",
        "Delivery mode: On site",
    ]
    assert chips.chips(Filters()) == []
    assert chips.without(filters, "states", "CA").states == ()
    assert chips.without(filters, "dates", None).start is None


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_has_chips(demo_app, page):
    at = demo_app(page if page != PAGES[0].path else None, agency_type=["tribal", "campus"])
    assert sorted(_chip_keys(at)) == [
        "chip_agency_types_campus",
        "chip_agency_types_tribal",
        "chip_reset_all",
    ]


def test_removing_one_chip_keeps_the_others(demo_app):
    at = demo_app(
        agency_type=["tribal", "campus"], state="CA", start="2023-10-01", end="2024-09-30"
    )
    at.button(key="chip_agency_types_tribal").click().run()
    assert at.query_params.get("agency_type") in ("campus", ["campus"])
    assert at.query_params.get("state") in ("CA", ["CA"])
    assert at.query_params.get("start") in ("2023-10-01", ["2023-10-01"])
    assert "chip_agency_types_tribal" not in _chip_keys(at)
    # the sidebar follows
    assert at.multiselect(key="w_agency_types").value == ["campus"]
    at.button(key="chip_dates_None").click().run()
    assert "start" not in at.query_params and at.query_params.get("state") in ("CA", ["CA"])


def test_reset_all_clears_every_filter(demo_app):
    at = demo_app(agency_type="tribal", state="CA", topic="De-escalation")
    at.button(key="chip_reset_all").click().run()
    assert not [k for k in at.query_params if not k.startswith("_")]
    assert _chip_keys(at) == []


def test_no_chips_without_filters_or_when_presenting(demo_app):
    assert _chip_keys(demo_app()) == []
    assert _chip_keys(demo_app(agency_type="tribal", _present="1")) == []
