"""The request pipeline: requests through its stages (``funnel``), days to start and to complete
(``timeliness``) and open requests at each month end (``backlog``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import figure_cache, palette
from .layout import (
    category_label,
    count_axis,
    count_margin,
    dimension_label,
    empty_figure,
    finish,
    is_empty,
    raw_value,
    rows_height,
    short_labels,
)
from .theme import INK, PALETTE


@figure_cache.memoize
def backlog(df: pd.DataFrame) -> go.Figure:
    """Open requests at each month end."""
    title = "Open requests at each month end"
    subtitle = "Requested by then and not yet completed (declined and withdrawn excluded)"
    if is_empty(df):
        return empty_figure(title)
    fig = go.Figure()
    fig.add_scatter(
        x=df["month_end"],
        y=df["open_requests"],
        mode="lines",
        name="Open requests",
        line={"color": PALETTE[0], "width": 2.5},
        fill="tozeroy",
        fillcolor=palette.rgba(PALETTE[0], 0.18),
        hovertemplate="Open on %{x|%d %b %Y}: %{y:,}<extra></extra>",
    )
    top = df["open_requests"].max()
    axis = {"title": {"text": "Open requests"}, **count_axis(top)}
    return finish(fig, title, subtitle, yaxis=axis, layout={"margin": count_margin(top)})


@figure_cache.memoize
def funnel(df: pd.DataFrame) -> go.Figure:
    """Requests reaching each stage, with the share of all requests."""
    title = "Requests through the pipeline"
    subtitle = "Declined and withdrawn requests leave after 'Requested'"
    if is_empty(df) or not df["requests"].iloc[0]:
        return empty_figure(title)
    first = int(df["requests"].iloc[0])
    shares = [v / first * 100 for v in df["requests"]]
    fig = go.Figure()
    fig.add_funnel(
        y=df["stage"].tolist(),
        x=df["requests"],
        text=[f"{int(v):,} · {s:.0f}%" for v, s in zip(df["requests"], shares, strict=True)],
        textinfo="text",
        textposition="inside",
        customdata=shares,
        marker={"color": PALETTE[0]},
        connector={"fillcolor": palette.rgba(PALETTE[0], 0.15), "line": {"width": 0}},
        hovertemplate="<b>%{y}</b>: %{x:,} requests (%{customdata:.0f}% of all requests)"
        "<extra></extra>",
    )
    return finish(fig, title, subtitle, height=380, yaxis={"title": {"text": None}})


TIMELINESS_STAGES = (
    ("days_to_start", "Request to start", "started", PALETTE[0]),
    ("days_start_to_completion", "Start to completion", "completed", PALETTE[1]),
)
TIMELINESS_BAR = 0.38  # bar thickness in rows; the two bars of a row sit either side of it


@figure_cache.memoize
def timeliness(df: pd.DataFrame, by: str | None = None) -> go.Figure:
    """Median days request→start and start→completion; whiskers reach the 90th percentile.

    Every bar is labelled with its median at the end of the bar (not of the whisker, which would
    read as the median of the 90th percentile): above the whisker for the upper bar of a row,
    below it for the lower one, so a label never sits on a whisker and stays readable however
    short the bar. The x axis leaves room for those labels."""
    column = by or "segment"
    title = "Days to start and to complete" + (f" by {dimension_label(by)}" if by else "")
    subtitle = "Bars and labels: median days · whiskers: 90th percentile"
    if is_empty(df, "started"):
        return empty_figure(title)
    names = [category_label(column, v) if by else "All engagements" for v in df[column]]
    labels = short_labels(names)
    rows = list(range(len(df)))
    days = [f"{kind}_{stage}" for stage, *_ in TIMELINESS_STAGES for kind in ("median", "p90")]
    widest = pd.to_numeric(df[days].stack(), errors="coerce").max()
    widest = 1.0 if pd.isna(widest) or widest < 1 else float(widest)
    fig = go.Figure()
    for k, (stage, name, count, colour) in enumerate(TIMELINESS_STAGES):
        median, p90 = df[f"median_{stage}"], df[f"p90_{stage}"]
        offset = -TIMELINESS_BAR - 0.02 if k == 0 else 0.02
        fig.add_bar(
            x=median,
            y=rows,
            orientation="h",
            name=name,
            offset=offset,
            width=TIMELINESS_BAR,
            marker_color=colour,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (p90 - median).tolist(),
                "arrayminus": [0] * len(df),
                "color": INK,
                "thickness": 1.5,
                "width": 3,
            },
            customdata=[
                [raw_value(v), raw_value(p), int(c), name]
                for v, p, c, name in zip(df[column], p90, df[count], names, strict=True)
            ],
            hovertemplate=f"<b>%{{customdata[3]}}</b> · {name}<br>median %{{x:,.0f}} days · "
            "90th percentile %{customdata[1]:,.0f} days<br>"
            f"n = %{{customdata[2]:,}} {count}<extra></extra>",
        )
        fig.add_scatter(
            x=[0 if pd.isna(m) else m for m in median],
            y=[r + offset + TIMELINESS_BAR / 2 for r in rows],
            mode="text",
            text=[_days_label(m) for m in median],
            textposition="top right" if k == 0 else "bottom right",
            textfont={"size": 12, "color": INK},
            cliponaxis=False,
            hoverinfo="skip",
            showlegend=False,
            name=f"{name} labels",
        )
    return finish(
        fig,
        title,
        subtitle,
        legend="top",
        height=rows_height(len(df), 64, 180),
        # Room right of the longest whisker for its label (~60 px in a half-width chart).
        xaxis={"title": {"text": "Days"}, "tickformat": ",d", "range": [0, widest * 1.22]},
        yaxis={
            "tickvals": rows,
            "ticktext": labels,
            "range": [len(df) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
            "title": {"text": None},
        },
        layout={"barmode": "overlay"},
    )


def _days_label(days: float) -> str:
    """' 83 days' (the leading space keeps it off the whisker cap); 'none' without a value."""
    if pd.isna(days):
        return " none"
    return f" {days:,.0f} {'day' if round(days) == 1 else 'days'}"
