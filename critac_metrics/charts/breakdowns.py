"""Engagements broken down by one dimension (``bar_breakdown``) and by topic and agency type
(``topic_heatmap``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import dimensions, figure_cache
from ..registry import label as registry_label
from .layout import (
    MULTI_TOPIC_NOTE,
    category_label,
    count_axis,
    count_colorbar,
    dimension_label,
    empty_figure,
    finish,
    is_empty,
    raw_value,
    rows_height,
    short_labels,
)
from .theme import PALETTE, SEQUENTIAL, ZERO_TILE


def _value_label(value: str) -> str:
    # Charts keep the short noun: every engagement is an accepted request (docs/metrics.md).
    short = {"agencies": "Agencies served", "engagements": "Engagements"}
    return short.get(value, registry_label(value))


@figure_cache.memoize
def bar_breakdown(
    df: pd.DataFrame,
    dimension: str,
    value: str = "engagements",
    title: str | None = None,
    top: int | None = None,
) -> go.Figure:
    """Horizontal bars per dimension value, largest on top (ordered dimensions keep their order)."""
    title = title or f"{_value_label(value)} by {dimension_label(dimension)}"
    notes = []
    if dimension in ("topic", "topic_group"):
        notes.append(MULTI_TOPIC_NOTE)
    if value == "requests":
        notes.append("Requests of any status")
    frame = df
    if not is_empty(df) and not dimensions.is_ordered(dimension):  # else in metrics' order
        # A ranking: a value with none (a topic whose only request was declined) is not in it.
        frame = frame[frame[value] > 0].sort_values(value, ascending=False, kind="stable")
    if is_empty(frame):
        return empty_figure(title, subtitle=" · ".join(notes) or None)
    if top and len(frame) > top:
        notes.append(f"Top {top} of {len(frame)} shown")
        frame = frame.head(top)
    extra = [c for c in ("requests", "engagements", "completed", "agencies") if c in frame]
    customdata = [
        [raw_value(raw), *(int(v) for v in rest)]
        for raw, *rest in frame[[dimension, *extra]].itertuples(index=False)
    ]
    hover = "".join(
        f"<br>{_value_label(c)}: %{{customdata[{i + 1}]:,}}" for i, c in enumerate(extra)
    )
    fig = go.Figure()
    names = [category_label(dimension, v) for v in frame[dimension]]
    fig.add_bar(
        x=frame[value],
        y=short_labels(names),
        orientation="h",
        marker_color=PALETTE[0],
        customdata=customdata,
        hovertext=names,
        texttemplate="%{x:,}",
        textposition="outside",
        cliponaxis=False,
        hovertemplate=f"<b>%{{hovertext}}</b>{hover}<extra></extra>",
    )
    top_value = float(frame[value].max())
    return finish(
        fig,
        title,
        " · ".join(notes) or None,
        height=rows_height(len(frame)),
        xaxis={
            "title": {"text": _value_label(value)},
            "range": [0, top_value * 1.12 or 1],
            **count_axis(top_value),
        },  # fmt: skip
        yaxis={"type": "category", "autorange": "reversed", "title": {"text": None}},
        layout={"bargap": 0.25},
    )


@figure_cache.memoize
def topic_heatmap(matrix_df: pd.DataFrame) -> go.Figure:
    """Engagements per topic (rows, largest at top) and agency type (columns)."""
    title = "Engagements by topic and agency type"
    subtitle = MULTI_TOPIC_NOTE
    types = [c for c in matrix_df.columns if c != "topic"] if matrix_df is not None else []
    if is_empty(matrix_df) or not types or not matrix_df[types].to_numpy().sum():
        return empty_figure(title, subtitle=subtitle)
    z = matrix_df[types].to_numpy()
    topics = matrix_df["topic"].tolist()
    fig = go.Figure()
    columns = [category_label("agency_type", t) for t in types]
    names = [category_label("topic", t) for t in topics]
    rows = short_labels(names)
    fig.add_heatmap(
        z=z,
        x=columns,
        y=rows,
        text=[["" if v == 0 else f"{v:,}" for v in row] for row in z.tolist()],
        texttemplate="%{text}",
        customdata=[[[topic, t] for t in types] for topic in topics],
        colorscale=_zero_grey_scale(int(z.max())),
        zmin=0,
        zmax=int(z.max()),
        xgap=2,
        ygap=2,
        colorbar=count_colorbar(int(z.max())),
        hoverinfo="skip",
    )
    # plotly.js cannot select heatmap cells, so a click on one would not reach the app: an
    # invisible marker at each cell's centre takes the hover and the click (hoverdistance -1:
    # the nearest centre wins wherever the pointer is), and carries [topic, agency type].
    fig.add_scatter(
        x=[column for _ in topics for column in columns],
        y=[row for row in rows for _ in types],
        mode="markers",
        marker={"symbol": "square", "size": 18, "opacity": 0, "color": PALETTE[0]},
        customdata=[
            [topic, t, int(v)]
            for topic, line in zip(topics, z.tolist(), strict=True)
            for t, v in zip(types, line, strict=True)
        ],
        hovertext=[name for name in names for _ in types],
        hovertemplate="<b>%{hovertext}</b> · %{x}<br>%{customdata[2]:,} engagements<br>"
        "Click to filter to this topic and agency type<extra></extra>",
        showlegend=False,
        name="cells",
    )
    return finish(
        fig,
        title,
        subtitle,
        height=rows_height(len(topics), per_row=24, base=220),
        extra_top=30,  # the column labels on top
        # Column labels on top (the table is tall) and horizontal: tilted ones ran into the subtitle.
        xaxis={
            "type": "category",
            "side": "top",
            "showgrid": False,
            "tickangle": 0,
            "tickfont": {"size": 12},
        },  # fmt: skip
        yaxis={"type": "category", "autorange": "reversed", "showgrid": False},
        layout={"hoverdistance": -1, "clickmode": "event+select"},
    )


def _zero_grey_scale(top: int) -> list[list[Any]]:  # [[stop, colour], ...]
    """SEQUENTIAL over 1..top with 0 in the zero grey (for counts drawn with zmin=0, zmax=top)."""
    cut = 0.5 / max(top, 1)
    return [[0, ZERO_TILE], [cut, ZERO_TILE], *([cut + p * (1 - cut), c] for p, c in SEQUENTIAL)]
