"""The dashboard's chart: a Streamlit component (``st.components.v2``) that draws a Plotly figure
with the trimmed plotly.js of the HTML report (``critac_metrics/render.PLOTLY_JS``: bar, heatmap
and scatter, 0.4 MB gzipped), instead of ``st.plotly_chart``.

Why not ``st.plotly_chart``: it hashes the figure into the element's id, so every filter change
mounts every chart anew (a full ``Plotly.newPlot``), and its plotly.js is the whole library (4.7
MB, 1.4 MB gzipped) that a shared link opened in a new browser downloads and parses before the
first chart. This component keeps its div across reruns and redraws with ``Plotly.react``
(``plotly_chart.js``); its plotly.js is served by the app's own route (``routes``), gzipped, under
a name that changes with its content, so a browser keeps it for good.

A click on a bar, cell or state sends the element's ``customdata`` to ``on_click`` (the
cross-filter); the figure's takeaway is the chart's accessible name; the modebar has the PNG
download and a fullscreen button.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import Any

import streamlit as st

from critac_metrics import figure_cache
from critac_metrics.render import BUNDLED_TRACES, PLOTLY_JS

from .compression import accepts_gzip

NAME = "critac_plotly_chart"
SCRIPT = Path(__file__).with_name("plotly_chart.js")
STYLE = """
.critac-chart { width: 100%; }
.critac-clickable.js-plotly-plot .plotly .nsewdrag { cursor: pointer; }
:fullscreen:has(> .critac-chart), .critac-expanded {
  background: var(--st-background-color, white);
}
.critac-expanded { position: fixed; inset: 0; z-index: 1000100; padding: 1rem; overflow: auto; }
"""


@cache
def _component():
    return st.components.v2.component(NAME, js=SCRIPT.read_text(), css=STYLE, isolate_styles=False)


@cache
def _bundle() -> tuple[str, bytes]:
    """The plotly.js file's name (with its content's hash) and its gzipped bytes."""
    body = PLOTLY_JS.read_bytes()
    name = f"plotly-{hashlib.sha256(body).hexdigest()[:12]}.min.js"
    return name, gzip.compress(body, 6, mtime=0)


def bundle_path() -> str:
    """Where the page loads plotly.js from (under ``server.baseUrlPath`` when one is set)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(p for p in (base, "critac", _bundle()[0]) if p)


def routes() -> list:
    """The route that serves plotly.js, for ``st.App(routes=...)``: gzipped (every browser takes
    it; kept in memory), cached for a year (its name changes with its content)."""
    from starlette.responses import Response
    from starlette.routing import Route

    _, gzipped = _bundle()

    async def plotly_js(request) -> Response:
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
        }
        if not accepts_gzip(request.scope):
            return Response(PLOTLY_JS.read_bytes(), media_type="text/javascript", headers=headers)
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type="text/javascript", headers=headers)

    return [Route(bundle_path(), plotly_js, methods=["GET", "HEAD"])]


def draw(
    fig,
    key: str,
    *,
    alt: str,
    config: dict[str, Any],
    on_click: Callable[[Any], None] | None = None,
) -> None:
    """Draw ``fig`` as the chart ``key``; ``on_click(customdata)`` runs, before the rerun, when a
    viewer clicks an element that has customdata."""
    missing = {trace.type for trace in fig.data} - BUNDLED_TRACES
    if missing:  # the trimmed plotly.js would draw an empty chart and say nothing
        raise ValueError(f"plotly.js as served has no {', '.join(sorted(missing))} trace: {key}")
    rest = {"alt": alt, "config": config, "src": bundle_path(), "clickable": on_click is not None}
    callbacks = {"on_click_change": partial(_clicked, key, on_click)} if on_click else {}
    _component()(key=key, data=payload(fig, rest), height="content", **callbacks)


def payload(fig, rest: dict[str, Any]) -> bytes:
    """What the browser receives: one JSON document, ``{"figure": ..., **rest}``, as bytes. The
    figure's JSON (``figure_cache.as_json``: made once per figure) goes in as it is; sent as a
    string inside Streamlit's JSON it would be escaped, a third bigger, and parsed twice."""
    return b'{"figure":%s,%s' % (figure_cache.as_json(fig).encode(), json.dumps(rest)[1:].encode())


def _clicked(key: str, on_click: Callable[[Any], None]) -> None:
    value = st.session_state[key].get("click")
    if value is not None:
        on_click(value)
