"""What every chart shares: its title and subtitle (``finish``), the empty figure, axis settings for
counts, and the labels of dimensions and their values."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import figure_cache
from ..registry import label as registry_label
from ..registry import value_label as registry_value_label
from . import spec
from .theme import INK, TITLE_PAD_TOP, template_spec

MULTI_TOPIC_NOTE = "An engagement counts under each of its topics"  # one line at 390 px
EMPTY_MESSAGE = "No engagements match these filters"
NO_ANSWERS_MESSAGE = "No survey answers match these filters"

# Plotly never wraps text: subtitles are broken into lines this long (fits a ~600 px chart).
SUBTITLE_WIDTH = 46  # fits a phone-width (390 px) chart as well as a half-width one
SUBTITLE_LINE = 18  # px per subtitle line, for the top margin
TITLE_WIDTH = 34  # characters per title line (18 px font): fits a phone-width (390 px) chart
TITLE_LINE = 24  # px per title line


def category_label(dimension: str, value: object) -> str:
    """The label for one value of a dimension (registry.value_label), escaped for Plotly's
    pseudo-HTML."""
    return html.escape(registry_value_label(dimension, value), quote=False)


SHORT_LABEL = 30  # characters of a category label on an axis (the full name is in the hover)


def short_labels(labels: list[str], limit: int = SHORT_LABEL) -> list[str]:
    """Axis labels cut to ``limit`` characters with an ellipsis, so a long topic name
    ("Domestic Violence Reduction and Prevention") does not squeeze the plot of a phone-width
    chart; a label whose cut would equal another's is kept whole."""
    cut = [
        label if len(html.unescape(label)) <= limit else label[: limit - 1].rstrip() + "…"
        for label in labels
    ]
    return [c if cut.count(c) == 1 else full for c, full in zip(cut, labels, strict=True)]


def raw_value(value: object) -> object:
    """A value safe for customdata (NaN becomes None)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def is_empty(frame: pd.DataFrame | None, column: str | None = None) -> bool:
    """No rows, or (with ``column``) no row with a positive value in it."""
    if frame is None or len(frame) == 0:
        return True
    return column is not None and not (pd.to_numeric(frame[column], errors="coerce") > 0).any()


def finish(
    fig: go.Figure,
    title: str,
    subtitle: str | None = None,
    legend: str | None = None,
    height: int | None = None,
    *,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    layout: dict[str, Any] | None = None,
    extra_top: int = 0,
) -> go.Figure:
    """Apply the theme, the title (+ subtitle) and the legend placement ('top', 'right' or None).

    ``xaxis``, ``yaxis`` and ``layout`` are the builder's own layout settings (as nested dicts, as
    ``update_xaxes``/``update_yaxes``/``update_layout`` would take them, applied in that order
    before the title); ``extra_top`` px go above the title's margin. Everything is merged as plain
    data into one copy of ``fig`` (``spec.updated``): the values are literals, and validating them
    (and the whole template) again was most of the cost of a figure."""
    title = wrap_subtitle(title, TITLE_WIDTH)  # a long title would run off a phone-width chart
    title_spec: dict[str, Any] = {"text": title}
    lines = 0
    if subtitle:
        subtitle = wrap_subtitle(subtitle)
        lines = subtitle.count("<br>") + 1
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": 13, "color": INK}}
    top = 58 + TITLE_LINE * title.count("<br>") + (4 + SUBTITLE_LINE * lines if lines else 0)
    top += 30 if legend == "top" else 0
    if "<br>" in title:  # Plotly lifts a title of n lines by half a line per extra line
        title_spec["pad"] = {"t": TITLE_PAD_TOP + TITLE_LINE // 2 * title.count("<br>")}
    own = {"xaxis": xaxis or {}, "yaxis": yaxis or {}, **(layout or {})}
    shared = {
        "title": title_spec,
        "margin": {"t": top + extra_top},
        **LEGENDS.get(legend, LEGENDS[None]),
    }
    if height:
        shared["height"] = height
    return spec.updated(fig, own, shared, replace={"template": template_spec()})


LEGENDS: dict[str | None, dict[str, Any]] = {
    "top": {
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
    },
    "right": {"showlegend": True, "legend": {"orientation": "v", "traceorder": "normal"}},
    None: {"showlegend": False},
}


def _visible_length(text: str) -> int:
    return len(html.unescape(re.sub(r"<[^>]+>", "", text)))


def wrap_subtitle(text: str, width: int = SUBTITLE_WIDTH) -> str:
    """Break a subtitle into lines of at most ``width`` characters with ``<br>`` (Plotly never
    wraps text itself), first at the ' · ' between notes, then between words. Keeps subtitles
    whole in a half-width (~600 px) chart."""
    out: list[str] = []
    for line in text.split("<br>"):
        current = ""
        for part in line.split(" · "):
            candidate = f"{current} · {part}" if current else part
            if _visible_length(candidate) <= width:
                current = candidate
                continue
            if current:
                out.append(current)
            current = ""
            for word in re.split(r" (?![^<]*>)", part):  # not at the spaces inside a tag
                candidate = f"{current} {word}" if current else word
                if current and _visible_length(candidate) > width:
                    out.append(current)
                    candidate = word
                current = candidate
        out.append(current)
    return "<br>".join(out)


def add_annotations(fig: go.Figure, annotations: list[dict[str, Any]]) -> None:
    """Add annotations in one assignment. ``fig.add_annotation`` re-validates every annotation
    already on the figure, so adding n one by one costs O(n²) (20 labels: 129 ms, at once 12 ms);
    the figure is the same."""
    if annotations:
        fig.layout.annotations = (*fig.layout.annotations, *annotations)


def centred_note(fig: go.Figure, text: str) -> go.Figure:
    """``fig`` with ``text`` in the middle of its plot: why it shows nothing (read by
    ``alt_text`` as the chart's takeaway when it has no point)."""
    fig.add_annotation(
        text=text,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": INK},
    )
    return fig


@figure_cache.memoize
def empty_figure(
    title: str, message: str = EMPTY_MESSAGE, subtitle: str | None = None
) -> go.Figure:
    """A titled figure with a centred message and no axes."""
    fig = centred_note(go.Figure(), message)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, title, subtitle)


def count_axis(max_value: float) -> dict[str, Any]:
    """Axis settings for counts: whole numbers with thousands separators, from zero."""
    axis: dict[str, Any] = {"tickformat": ",d", "rangemode": "tozero"}
    if max_value < 6:
        axis["dtick"] = 1
    return axis


# A count axis' tick labels in the widest common UI sans (DejaVu Sans, 13 px): px per digit and per
# thousands separator; and the rest of a titled y axis' left margin: the tick standoff, the axis
# title and its standoff, plotly's margin pad (measured in Chromium: "300" needs 65 px, "15,000" 86).
DIGIT_PX, SEPARATOR_PX, TITLED_AXIS_PX = 8.3, 3.7, 42
AUTORANGE_TOP = 1.06  # plotly's autorange ends ~5% above the data; no tick is drawn beyond it


def count_margin(top: float, fixed_range: bool = False) -> dict[str, int]:
    """The left margin of a chart whose y axis is a titled ``count_axis`` with data up to ``top``
    (with ``fixed_range``: an axis whose range ends at ``top``).

    Plotly's automargin finds the margin on its own, but by drawing the chart a second time
    whenever the widest label changes width, as it does on most filter changes (a redraw took
    twice as long). Given a margin wide enough for the labels, it draws once. A narrower font
    leaves a few px spare; a wider one still gets its margin from automargin, in two passes."""
    end = float(top) if pd.notna(top) else 0.0
    end = end if fixed_range else end * AUTORANGE_TOP
    highest = math.ceil(end) if math.isfinite(end) and end > 0 else 0
    label = f"{highest:,d}"
    width = sum(SEPARATOR_PX if c == "," else DIGIT_PX for c in label)
    return {"l": math.ceil(TITLED_AXIS_PX + width)}


def count_colorbar(max_value: float) -> dict[str, Any]:
    """A colour bar for counts, ticked like ``count_axis``."""
    colorbar: dict[str, Any] = {"title": {"text": "Engagements"}, "thickness": 12}
    return colorbar | {k: v for k, v in count_axis(max_value).items() if k != "rangemode"}


def rows_height(rows: int, per_row: int = 28, base: int = 160, minimum: int = 320) -> int:
    """The height (px) of a chart with one row per category."""
    return max(minimum, base + per_row * rows)


def dimension_label(dimension: str) -> str:
    """A dimension's label as it reads inside a title: 'engagements by agency type'."""
    text = registry_label(dimension)
    return text[:1].lower() + text[1:]
