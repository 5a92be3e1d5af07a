"""The dashboard's chart component (dashboard/plotly_chart.py) without a browser: the route that
serves plotly.js, where the page looks for it, and the trace types it can draw."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from starlette.applications import Starlette
from streamlit import config

from critac_metrics import charts, figure_cache
from critac_metrics import metrics as m
from critac_metrics.filters import Filters
from critac_metrics.render import BUNDLED_TRACES, PLOTLY_JS
from dashboard import plotly_chart
from dashboard.pages import PAGES

from . import app_charts
from .browser_support import off_the_event_loop
from .test_compression import request, scope


def _get(path: str, method: str = "GET"):
    app = Starlette(routes=plotly_chart.routes())
    asked = scope(path=path, method=method, accept_encoding="gzip, deflate, br")
    return off_the_event_loop(asyncio.run, request(app, asked))


ASSETS = [(plotly_chart.PLOTLY, PLOTLY_JS), (plotly_chart.CHART, plotly_chart.MODULE)]


@pytest.mark.parametrize(("asset", "path"), ASSETS, ids=["plotly.js", "the chart module"])
def test_each_file_is_served_gzipped_and_kept_for_good(asset, path):
    status, headers, body = _get(asset.url)
    assert status == 200
    assert gzip.decompress(body) == path.read_bytes()
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"content-type"].startswith(b"text/javascript")  # a module needs a JS type
    assert b"immutable" in headers[b"cache-control"]
    assert b"max-age=31536000" in headers[b"cache-control"]
    assert headers[b"vary"] == b"Accept-Encoding"


def test_a_client_that_takes_no_gzip_gets_the_file_as_it_is():
    app = Starlette(routes=plotly_chart.routes())
    plain = scope(path=plotly_chart.PLOTLY.url, accept_encoding="identity")
    status, headers, body = off_the_event_loop(asyncio.run, request(app, plain))
    assert status == 200 and b"content-encoding" not in headers
    assert body == PLOTLY_JS.read_bytes()


@pytest.mark.parametrize(("asset", "path"), ASSETS, ids=["plotly.js", "the chart module"])
def test_a_file_name_changes_with_its_content(asset, path):
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert asset.url == f"/critac/{asset.stem}-{digest}.js"
    assert _get(f"/critac/{asset.stem}.js")[0] == 404


def test_the_inline_javascript_is_only_the_loader():
    """Streamlit sends a component's inline JavaScript with every chart of every run."""
    assert len(plotly_chart.LOADER) < 600  # the module itself is ~7 kB
    assert "data.module" in plotly_chart.LOADER


@pytest.fixture
def base_url_path():
    before = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "/impact/")
    yield
    config.set_option("server.baseUrlPath", before)


def test_under_a_base_url_path_the_files_are_under_it(base_url_path):
    for asset, _ in ASSETS:
        assert asset.url.startswith(f"/impact/critac/{asset.stem}-")
        assert _get(asset.url)[0] == 200


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


def _decoded(value):
    """JSON with plotly's typed arrays ({"dtype", "bdata", "shape"}) turned into plain lists."""
    if isinstance(value, dict) and set(value) >= {"dtype", "bdata"}:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.tolist()
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _normalised(figure_json: str) -> dict:
    """A figure's JSON with its arrays as lists: what plotly.js reads from either encoding."""
    return _decoded(json.loads(figure_json))


def _figures(con) -> list:
    return [
        charts.volume_trend(m.volume_series(con, Filters(), grain="fiscal_year"), "fiscal_year"),
        charts.cumulative(m.cumulative_engagements(con, Filters()), m.milestones(con, Filters())),
        charts.state_map(m.engagements_by_state(con, Filters())),
    ]


def test_the_payload_is_the_figure_as_plotly_encodes_it_and_the_rest(demo_app, demo_con):
    at = demo_app()
    for element in app_charts.charts(at):
        sent = json.loads(element.proto.bytes)
        assert set(sent) == {"figure", "alt", "config", "clickable", "module", "src"}
        assert element.proto.js_content == plotly_chart.LOADER
    fig = figure_cache.untag(_figures(demo_con)[0])  # no cache key: encoded by plotly.io
    sent = json.loads(plotly_chart.payload(fig, {"alt": "Top: A", "clickable": True}))
    assert sent["alt"] == "Top: A" and sent["clickable"] is True
    assert _normalised(json.dumps(sent["figure"])) == _normalised(pio.to_json(fig, validate=False))


def test_a_figure_with_a_cache_key_is_encoded_once_and_as_plotly_would(demo_con):
    figure_cache.clear()
    for fig, again in zip(_figures(demo_con), _figures(demo_con), strict=True):
        first = figure_cache.as_json(fig)
        assert figure_cache.as_json(again) is first  # the same content, another copy
        assert _normalised(first) == _normalised(pio.to_json(fig, validate=False))
