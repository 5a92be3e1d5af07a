"""The dashboard's chart: a Streamlit component (``st.components.v2``) that draws a Plotly figure
with the trimmed plotly.js of the HTML report (``critac_metrics/render.PLOTLY_JS``: bar, heatmap
and scatter, 0.4 MB gzipped), instead of ``st.plotly_chart``.

Why not ``st.plotly_chart``: it hashes the figure into the element's id, so every filter change
mounts every chart anew (a full ``Plotly.newPlot``), and its plotly.js is the whole library (4.7
MB, 1.4 MB gzipped) that a shared link opened in a new browser downloads and parses before the
first chart. This component keeps its div across reruns and redraws with ``Plotly.react``
(``plotly_chart.js``); that module and its plotly.js are served by the app's own routes
(``routes``), gzipped, under names that change with their content, so a browser keeps them for
good.

A click on a bar, cell or state sends the element's ``customdata`` to ``on_click`` (the
cross-filter); the figure's takeaway is the chart's accessible name; the modebar has the PNG
download and a fullscreen button.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any

import streamlit as st

from critac_metrics import figure_cache
from critac_metrics.render import PLOTLY_JS, traces_not_bundled

from .compression import accepts_gzip

NAME = "critac_plotly_chart"
MODULE = Path(__file__).with_name("plotly_chart.js")
# Streamlit sends a component's inline JavaScript with every element of every run: only this
# loader goes that way; the module (plotly_chart.js) comes once from the app's route, cached.
# Once imported, the module is called directly: import() of a loaded module still waits a task,
# and the charts of a run are drawn after the page's last messages, when that queue is longest.
LOADER = """export default (component) => {
  const data = JSON.parse(new TextDecoder().decode(component.data));
  const known = window.__critacChart;
  if (known?.module === data.module) return known.draw(component, data);
  const url = new URL(data.module, window.location.href); // a blob: module resolves no path
  return import(url.href).then(({ draw }) => {
    window.__critacChart = { module: data.module, draw };
    return draw(component, data);
  });
};"""


@cache
def _component():
    return st.components.v2.component(NAME, js=LOADER, isolate_styles=False)


@dataclass(frozen=True)
class Asset:
    """A file the route serves under a name that changes with its content."""

    path: Path
    stem: str

    @cached_property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, 6, mtime=0)

    @cached_property
    def name(self) -> str:
        return f"{self.stem}-{hashlib.sha256(self.body).hexdigest()[:12]}.js"

    @property
    def url(self) -> str:
        """Where the page loads it from (under ``server.baseUrlPath`` when one is set)."""
        base = str(st.get_option("server.baseUrlPath") or "").strip("/")
        return "/" + "/".join(p for p in (base, "critac", self.name) if p)


PLOTLY = Asset(PLOTLY_JS, "plotly")
CHART = Asset(MODULE, "plotly_chart")


def routes() -> list:
    """The routes that serve plotly.js and the chart's module, for ``st.App(routes=...)``:
    gzipped to every browser that takes it (kept in memory), cached for a year (a name changes
    with its content)."""
    from starlette.routing import Route

    return [Route(a.url, partial(_serve, a), methods=["GET", "HEAD"]) for a in (PLOTLY, CHART)]


async def _serve(asset: Asset, request):
    from anyio import to_thread
    from starlette.responses import Response

    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    if not accepts_gzip(request.scope):
        return Response(asset.body, media_type="text/javascript", headers=headers)
    headers["Content-Encoding"] = "gzip"
    # The first request compresses (~40 ms for plotly.js): never on the event loop.
    gzipped = await to_thread.run_sync(getattr, asset, "gzipped")
    return Response(gzipped, media_type="text/javascript", headers=headers)


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
    missing = traces_not_bundled([fig])
    if missing:
        raise ValueError(f"plotly.js as served has no {', '.join(sorted(missing))} trace: {key}")
    rest = {
        "alt": alt,
        "config": config,
        "clickable": on_click is not None,
        "module": CHART.url,
        "src": PLOTLY.url,
    }
    callbacks = {"on_click_change": partial(_clicked, key, on_click)} if on_click else {}
    _component()(key=key, data=payload(fig, rest), height="content", **callbacks)


def payload(fig, rest: dict[str, Any]) -> bytes:
    """What the browser receives: one JSON document, ``{"figure": ..., **rest}``, as bytes. The
    figure's JSON (``figure_cache.as_json``: made once per figure) goes in as it is; sent as a
    string inside Streamlit's JSON it would be escaped (every quote) and parsed twice."""
    return b'{"figure":%s,%s' % (figure_cache.as_json(fig).encode(), json.dumps(rest)[1:].encode())


def _clicked(key: str, on_click: Callable[[Any], None]) -> None:
    value = st.session_state[key].get("click")
    if value is not None:
        on_click(value)
