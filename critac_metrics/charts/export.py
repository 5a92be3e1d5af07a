"""A figure made to stand on its own as an image or slide (``with_context``: filters, data date,
source, the demo label) and the Plotly config of the download button (``modebar_config``)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .. import palette
from . import spec
from .layout import wrap_subtitle
from .theme import INK, TITLE_PAD_TOP, WARNING

DEMO_ROW = 30  # px of the row above the title that holds the demo label


def with_context(
    fig: go.Figure,
    filter_sentence: str,
    data_date: object,
    is_demo: bool,
    source: str = "Source: CRI-TAC engagement records",
    background: str | None = palette.BACKGROUND,
    label_shift: int = 0,
) -> go.Figure:
    """A copy of ``fig`` that stands on its own as an image: the filter sentence and data date as a
    footer, and a 'SYNTHETIC DEMO DATA' label when ``is_demo``. ``background`` makes the paper
    opaque (exported images are often viewed on a dark or checkered background); None keeps it.
    A figure that already carries its context (a report figure shown in the app) is returned as is.
    ``label_shift`` moves the demo label that many px to the left (clear of the app's modebar).
    The additions are plain data merged into a copy (``spec.updated``): nothing validated twice.
    """
    if any(a.name == "context-footer" for a in fig.layout.annotations):
        return fig
    margin = fig.layout.margin
    bottom = (margin.b if margin.b is not None else 48) + _tick_label_depth(fig)
    date_text = f"{data_date:%d %b %Y}" if hasattr(data_date, "strftime") else str(data_date)
    # Short lines, so the footer fits a phone-width (390 px) chart as well as a slide.
    lines = wrap_subtitle(html.escape(filter_sentence, quote=False), FOOTER_WIDTH).split("<br>")
    lines += [f"Data as of {date_text}", html.escape(source, quote=False)]
    layout: dict[str, Any] = {"margin": {"b": bottom + 14 + FOOTER_LINE * len(lines)}}
    notes = [_footer("<br>".join(lines), bottom)]
    if is_demo:
        # The label gets a row of its own above the title: beside it, a long title in a
        # half-width chart ran underneath the label.
        top = (margin.t or 64) + DEMO_ROW
        pad = fig.layout.title.pad.t if fig.layout.title.pad.t is not None else TITLE_PAD_TOP
        spec.merge(layout, {"margin": {"t": top}, "title": {"pad": {"t": pad + DEMO_ROW}}})
        notes.append(_demo_label(top, label_shift))
    if background:
        layout.update(paper_bgcolor=background, plot_bgcolor=background)
    return spec.updated(fig, layout, annotations=notes)


def _footer(text: str, bottom: int) -> dict[str, Any]:
    """The footer annotation: right-aligned to the plot's right edge, which sits a fixed margin
    from the figure's edge (the left edge of the plot moves with the width of the labels)."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 0,
        "xanchor": "right",
        "yanchor": "top",
        "yshift": -bottom - 4,
        "align": "right",
        "showarrow": False,
        "font": {"size": 11, "color": INK},
        "name": "context-footer",
    }


def _demo_label(top: int, shift: int) -> dict[str, Any]:
    """The 'SYNTHETIC DEMO DATA' annotation in its row above the title (``shift`` px to the left
    of the right edge when not 0)."""
    label: dict[str, Any] = {
        "text": "<b>SYNTHETIC DEMO DATA</b>",
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 1,
        "xanchor": "right",
        "yanchor": "bottom",
        "yshift": top - DEMO_ROW - 4,
        "showarrow": False,
        "font": {"size": 12, "color": WARNING},
        "bordercolor": WARNING,
        "borderwidth": 1.5,
        "borderpad": 4,
        "name": "demo-label",
    }
    if shift:
        label["xshift"] = -shift
    return label


FOOTER_WIDTH = 46  # characters per footer line (11 px font: about 260 px)
FOOTER_LINE = 15  # px per footer line
TICK_CHAR_PX = 7  # width of a tick label character at 13 px


def _tick_label_depth(fig: go.Figure) -> int:
    """Extra px below the plot for a category x axis whose labels Plotly may turn on end in a
    narrow chart (eleven fiscal years in a phone-width chart), so the footer stays clear of them."""
    axis = fig.layout.xaxis
    if axis.visible is False or axis.side == "top" or axis.type != "category":
        return 0
    labels = list(axis.ticktext or [])
    if not labels:
        labels = list(dict.fromkeys(_x_labels(fig)))
    if len(labels) <= 4:
        return 0
    longest = max(len(re.sub(r"<[^>]+>", "", str(label))) for label in labels)
    return max(0, TICK_CHAR_PX * longest - 20)  # 20 px: one line of labels is in the margin


def _x_labels(fig: go.Figure) -> Iterator[str]:
    """The traces' x values as text. Numeric arrays are skipped: plotly sends them as typed arrays,
    and a category axis drawn from numbers labels them with its own tick text."""
    for trace in fig.data:
        x = trace.x
        if x is None or (isinstance(x, np.ndarray) and x.dtype.kind in "iuf"):
            continue
        yield from (str(v) for v in x)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:80].strip("-")
    return slug or "chart"


def modebar_config(
    filename: str, width: int | None = None, height: int | None = None
) -> dict[str, Any]:
    """plotly.js's ``config`` for the dashboard's charts and write_html: PNG download at 2x, no
    Plotly logo.

    Without width/height the image has the chart's on-screen size.
    """
    options: dict[str, Any] = {"format": "png", "filename": slugify(filename), "scale": 2}
    if width:
        options["width"] = width
    if height:
        options["height"] = height
    # Only the download button: zoom and pan buttons covered the chart's top right (the demo
    # label) and are of little use on these charts.
    return {
        "displaylogo": False,
        "toImageButtonOptions": options,
        "modeBarButtonsToRemove": MODEBAR_REMOVED,
    }


MODEBAR_REMOVED = [
    "zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
    "resetScale2d", "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian",
    "sendChartToCloud",  # plotly.js 4's "Share chart...": uploads the figure to Plotly Cloud
]  # fmt: skip
