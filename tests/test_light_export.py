"""The modebar's PNG download stays light (critac_metrics.light_export): a figure drawn dark keeps
its light template, and every figure white paper, in layout.meta for the page's script; what is
drawn on screen is unchanged."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from critac_metrics import charts, light_export, palette


def _figure() -> go.Figure:
    series = pd.DataFrame(
        {"period": ["FY2024", "FY2025"], "engagements": [3, 5], "is_partial": [False, True]}
    )
    fig = go.Figure(go.Bar(x=series["period"], y=series["engagements"]))
    fig.update_layout(template=charts.TEMPLATE, title="Engagements")
    return fig


def test_a_dark_figure_keeps_its_light_template_and_white_paper_for_the_png():
    fig = _figure()
    light = fig.layout.template.to_plotly_json()
    fig = light_export.in_theme(fig, dark=True)
    # On screen: the dark variant, exactly as charts.in_theme draws it.
    assert fig.layout.font.color is None
    assert fig.layout.template.layout.font.color == charts.DARK_TEXT
    want = charts.in_theme(_figure(), dark=True).layout.template.to_plotly_json()
    assert fig.layout.template.to_plotly_json() == want
    kept = fig.layout.meta[light_export.META_KEY]
    assert kept == {"template": light, "paper_bgcolor": palette.BACKGROUND}
    assert kept["template"]["layout"]["font"]["color"] == charts.INK
    # The figure, with what the script sets, is the light figure on white paper.
    swapped = go.Figure(fig)
    # (assigned, not update_layout: that would merge into the dark template; the script replaces)
    swapped.layout.template = kept["template"]
    swapped.layout.paper_bgcolor = kept["paper_bgcolor"]
    plain = _figure().update_layout(paper_bgcolor=palette.BACKGROUND)
    assert swapped.layout.template.to_plotly_json() == plain.layout.template.to_plotly_json()
    assert swapped.layout.paper_bgcolor == plain.layout.paper_bgcolor


def test_a_light_figure_only_gets_white_paper_for_the_png():
    fig = light_export.in_theme(_figure(), dark=False)
    assert fig.layout.template.to_plotly_json() == _figure().layout.template.to_plotly_json()
    assert fig.layout.meta == {light_export.META_KEY: {"paper_bgcolor": palette.BACKGROUND}}
    assert fig.layout.paper_bgcolor is None  # the screen keeps the page's background


def test_an_export_preview_with_its_own_paper_stays_light():
    fig = _figure().update_layout(paper_bgcolor=palette.BACKGROUND)
    fig = light_export.in_theme(fig, dark=True)
    assert "template" not in fig.layout.meta[light_export.META_KEY]
    assert fig.layout.template.layout.font.color == charts.INK


def test_the_page_script_reads_the_same_key_and_only_the_download_button():
    assert f"meta['{light_export.META_KEY}']" in light_export.SCRIPT
    assert '.modebar-btn[data-title^="Download plot"]' in light_export.SCRIPT
    assert "<script>" in light_export.SCRIPT and light_export.SCRIPT.rstrip().endswith("</script>")
