"""The one chart theme: the registered Plotly template ``"critac"`` (colours from ``palette``), the
names the builders use for those colours, and the template's dark variant for a dark browser theme."""

from __future__ import annotations

import copy
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from .. import palette
from . import spec

TEMPLATE = "critac"
# Colours come from the one theme (``palette``); the names below are the ones the builders use.
PALETTE = palette.CATEGORICAL
LIKERT_COLORS = palette.LIKERT
LIKERT_LABELS = ("1 – very low", "2 – low", "3 – neutral", "4 – high", "5 – very high")
SEQUENTIAL = palette.SEQUENTIAL
INK = palette.INK
MUTED = palette.MUTED
GRID = palette.GRID
ZERO_TILE = palette.ZERO_TILE
WARNING = palette.WARNING
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
TITLE_PAD_TOP = 14  # px above the title


def _template() -> go.layout.Template:
    axis = {
        "gridcolor": GRID,
        "linecolor": GRID,
        "zerolinecolor": GRID,
        "tickcolor": GRID,
        "automargin": True,
        "ticklabelstandoff": 6,
        "title": {"standoff": 10},
    }
    return go.layout.Template(
        layout={
            "colorway": PALETTE,
            "colorscale": {"sequential": SEQUENTIAL},
            "font": {"family": FONT, "color": INK, "size": 13},
            "title": {
                "x": 0,
                "xanchor": "left",
                "xref": "container",
                "y": 1,
                "yanchor": "top",
                "yref": "container",
                "pad": {"l": 14, "t": TITLE_PAD_TOP},
                "font": {"size": 18},
            },
            "paper_bgcolor": palette.TRANSPARENT,
            "plot_bgcolor": palette.TRANSPARENT,
            "separators": ".,",
            "hoverlabel": {"font": {"family": FONT}},
            "hovermode": "closest",
            "margin": {"l": 16, "r": 24, "t": 64, "b": 48},
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"title": {"text": ""}},
        },
        data={
            "bar": [go.Bar(marker={"line": {"width": 0}})],
            "heatmap": [go.Heatmap(colorscale=SEQUENTIAL)],
        },
    )


pio.templates[TEMPLATE] = _template()

# The dark variant (the app in a dark browser theme); exports keep the light template.
DARK_TEXT, DARK_GRID, DARK_HOVER = palette.DARK_TEXT, palette.DARK_GRID, palette.DARK_HOVER


def dark_variant(template: go.layout.Template) -> go.layout.Template:
    """A copy of ``template`` for a dark background: light text, faint grid lines, a dark hover
    box; the colours of the data (palette, scales) stay as they are."""
    dark = go.layout.Template(template)
    dark.layout.font.color = DARK_TEXT
    for axis in (dark.layout.xaxis, dark.layout.yaxis):
        axis.update(gridcolor=DARK_GRID, linecolor=DARK_GRID, zerolinecolor=DARK_GRID,
                    tickcolor=DARK_GRID)  # fmt: skip
    dark.layout.hoverlabel.update(bgcolor=DARK_HOVER, font_color=DARK_TEXT, bordercolor=DARK_GRID)
    return dark


_TEMPLATE_SPEC: dict[str, Any] = pio.templates[TEMPLATE].to_plotly_json()
_DARK_SPECS: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (template, its dark variant)


def template_spec() -> dict[str, Any]:
    """The registered template as plain data (what ``template="critac"`` puts in a layout), for
    ``spec.updated(..., replace=...)``, which copies it: not to be changed."""
    return _TEMPLATE_SPEC


def dark_spec(template: dict[str, Any]) -> dict[str, Any]:
    """``dark_variant`` of a template given as plain data, as plain data; made once per template
    (the app has one or two) instead of once per figure."""
    for light, dark in _DARK_SPECS:
        if light == template:
            return dark
    dark = dark_variant(go.layout.Template(template)).to_plotly_json()
    _DARK_SPECS[:] = [*_DARK_SPECS[-7:], (copy.deepcopy(template), dark)]
    return dark


def theme_layout(fig: go.Figure, dark: bool, template: dict[str, Any]) -> dict[str, Any]:
    """What ``in_theme`` sets in the layout of ``fig``, whose template is ``template`` (plain
    data): the dark variant of the template when ``dark``, else nothing. A figure with its own
    opaque paper (an export's preview, white like the file) stays light."""
    if dark and fig.layout.paper_bgcolor in (None, palette.TRANSPARENT):
        return {"template": dark_spec(template)}
    return {}


def in_theme(fig: go.Figure, dark: bool) -> go.Figure:
    """``fig`` drawn for the viewer's theme: a copy with the dark variant of its template when
    ``dark`` (``theme_layout``), else ``fig`` itself."""
    themed = theme_layout(fig, dark, fig.layout.template.to_plotly_json())
    return spec.updated(fig, replace=themed) if themed else fig
