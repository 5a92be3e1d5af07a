"""Views read filters once: app.py parses the URL (state.current_filters) and every page takes the
filters of that run (state.current()), so a run parses the query string exactly once."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from .conftest import ROOT, unescape

TIMEOUT = 60


def test_no_page_parses_the_url():
    for path in sorted((ROOT / "views").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"current_filters|from_query_params|query_params", text), path.name


@pytest.mark.parametrize("page", [p.path for p in PAGES[:2]])
def test_one_parse_per_run_and_deep_links_keep_their_filters(monkeypatch, demo_db, page):
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    calls = []
    parse = Filters.from_query_params.__func__

    def counting(cls, params, *args, **kwargs):
        calls.append(dict(params))
        return parse(cls, params, *args, **kwargs)

    monkeypatch.setattr(Filters, "from_query_params", classmethod(counting))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update({"agency_type": "tribal", "start": "2024-01-01", "end": "2024-12-31"})
    at.run()
    if page != PAGES[0].path:
        at.switch_page(page)
        at.run()
    assert not at.exception
    runs = 1 if page == PAGES[0].path else 2
    assert len(calls) == runs, calls
    # The page drew the linked selection, not the unfiltered view.
    filters, _ = parse(Filters, calls[0])
    assert filters.agency_types == ("tribal",)
    captions = " ".join(unescape(c.value) for c in at.caption)
    assert filters.describe("Engagements") in captions or filters.describe() in captions, captions
