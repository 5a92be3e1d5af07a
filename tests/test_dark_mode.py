"""Dark mode: the chart template's dark variant (light text, faint grid on the dark page), chosen
at render time from the viewer's theme; the exported figures keep the light template."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from critac_metrics import charts, metrics, palette
from critac_metrics.filters import Filters


def _figure(tiny_con) -> go.Figure:
    return charts.volume_trend(metrics.volume_series(tiny_con, Filters(), "fiscal_year"))


def test_dark_variant_lightens_text_and_grid_and_keeps_the_data_colours():
    light = pio.templates[charts.TEMPLATE]
    dark = charts.dark_variant(light)
    assert dark.layout.font.color == charts.DARK_TEXT != light.layout.font.color
    assert dark.layout.xaxis.gridcolor == charts.DARK_GRID != light.layout.xaxis.gridcolor
    assert dark.layout.hoverlabel.bgcolor == charts.DARK_HOVER
    assert dark.layout.colorway == light.layout.colorway
    assert dark.layout.font.family == light.layout.font.family
    # The registered light template is not changed by making a dark copy.
    assert pio.templates[charts.TEMPLATE].layout.font.color == charts.INK


def test_in_theme_switches_only_when_dark(tiny_con):
    fig = _figure(tiny_con)
    assert (
        charts.in_theme(go.Figure(fig), dark=False).layout.template.layout.font.color == charts.INK
    )
    dark = charts.in_theme(go.Figure(fig), dark=True)
    assert dark.layout.template.layout.font.color == charts.DARK_TEXT
    assert dark.data[0].marker.color == fig.data[0].marker.color  # the bars keep the palette


def test_an_export_preview_stays_light_in_the_dark(tiny_con):
    """The Report page previews each chart as it will be exported (white paper): in a dark app
    it keeps the light template, or its light text would sit on white."""
    exported = charts.with_context(_figure(tiny_con), "All engagements", "2025-10-31", True)
    assert exported.layout.paper_bgcolor == palette.BACKGROUND
    shown = charts.in_theme(go.Figure(exported), dark=True)
    assert shown.layout.template.layout.font.color == charts.INK
