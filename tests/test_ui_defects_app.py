"""Issue 14's defects on the server side (AppTest): the Data page's tiles follow the filters, one
empty state on every page, one label per value, the presenter's Report page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics import db, metrics, registry
from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from .conftest import ROOT

TIMEOUT = 60
EMPTY = (  # the one empty state, word for word on every page
    "No engagements match these filters. Widen the date range or clear a filter "
    "(Reset filters in the sidebar)."
)


def _open(monkeypatch, demo_db, page: str, **params) -> AppTest:
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page != PAGES[0].path:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _headline(demo_db, filters: Filters) -> dict:
    con = db.connect(demo_db)
    try:
        return metrics.headline(con, filters)
    finally:
        con.close()


# -- 2. the Data page's tiles ---------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"agency_type": "tribal"}], ids=["all", "tribal"])
def test_data_page_tiles_follow_the_filters_with_the_registry_labels(monkeypatch, demo_db, params):
    at = _open(monkeypatch, demo_db, "views/data.py", **params)
    filters = Filters(agency_types=tuple(params.values()))
    head = _headline(demo_db, filters)
    tiles = {m.label: (m.value, m.help) for m in at.metric}
    for name in ("requests", "engagements", "agencies_served", "survey_responses"):
        metric = registry.METRICS[name]
        assert tiles[metric.label] == (metric.format(head[name]), metric.description), name
    if params:  # the filter changes the figures (they are not the whole store's row counts)
        assert head["engagements"] < _headline(demo_db, Filters())["engagements"]
    # "Engagements" counts engagements (declined and withdrawn excluded), not requests.
    assert head["engagements"] != head["requests"]


# -- 7. one empty state ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", [p.path for p in PAGES], ids=[p.title for p in PAGES])
def test_every_page_shows_the_same_empty_state(monkeypatch, demo_db, page):
    # American Samoa has one request in the demo data, and it never became an engagement.
    head = _headline(demo_db, Filters(states=("AS",)))
    assert head["requests"] > 0 and head["engagements"] == 0
    at = _open(monkeypatch, demo_db, page, state="AS")
    assert [i.value for i in at.info if i.value.startswith(EMPTY[:20])] == [EMPTY]
    assert not at.get("plotly_chart"), "no chart of zeros"
    assert not [m for m in at.metric if m.value in ("0", "–", "—")], "no tiles of 0 and –"
