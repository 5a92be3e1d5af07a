"""The dashboard's chart component (dashboard/plotly_chart.py) without a browser: the route that
serves plotly.js, where the page looks for it, and the trace types it can draw."""

from __future__ import annotations

import asyncio
import gzip
import hashlib

import plotly.graph_objects as go
import pytest
from starlette.applications import Starlette
from streamlit import config

from critac_metrics.render import BUNDLED_TRACES, PLOTLY_JS
from dashboard import plotly_chart
from dashboard.pages import PAGES

from . import app_charts
from .browser_support import off_the_event_loop
from .test_compression import request, scope


def _get(path: str, method: str = "GET"):
    app = Starlette(routes=plotly_chart.routes())
    return off_the_event_loop(asyncio.run, request(app, scope(path=path, method=method)))


def test_plotly_js_is_served_gzipped_and_kept_for_good():
    status, headers, body = _get(plotly_chart.bundle_path())
    assert status == 200
    assert gzip.decompress(body) == PLOTLY_JS.read_bytes()
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"content-type"].startswith(b"text/javascript")
    assert (
        b"immutable" in headers[b"cache-control"]
        and b"max-age=31536000" in headers[b"cache-control"]
    )
    assert headers[b"vary"] == b"Accept-Encoding"


def test_the_file_name_changes_with_its_content():
    digest = hashlib.sha256(PLOTLY_JS.read_bytes()).hexdigest()[:12]
    assert plotly_chart.bundle_path() == f"/critac/plotly-{digest}.min.js"
    assert _get("/critac/plotly.min.js")[0] == 404


@pytest.fixture
def base_url_path():
    before = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "/impact/")
    yield
    config.set_option("server.baseUrlPath", before)


def test_under_a_base_url_path_the_page_and_the_route_agree(base_url_path):
    path = plotly_chart.bundle_path()
    assert path.startswith("/impact/critac/plotly-")
    assert _get(path)[0] == 200


def test_a_trace_type_the_bundle_lacks_is_refused_before_drawing():
    """plotly.js without a trace type draws an empty chart and no error."""
    pie = go.Figure(go.Pie(values=[1, 2]))
    with pytest.raises(ValueError, match="no pie trace: topics_share"):
        plotly_chart.draw(pie, "topics_share", alt="", config={})


@pytest.mark.parametrize("page", [p.path for p in PAGES if p.path != "views/data.py"])
def test_every_chart_of_every_page_has_only_bundled_traces(demo_app, page):
    at = demo_app(page)
    assert not at.exception, [e.value for e in at.exception]
    figures = app_charts.figures(at)
    assert figures
    types = {trace.get("type", "scatter") for fig in figures for trace in fig["data"]}
    assert types <= BUNDLED_TRACES, types - BUNDLED_TRACES
