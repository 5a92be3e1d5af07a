"""The running total of engagements, its milestones (the 1st, 100th, 1,000th... engagement) and the
projection of the next one."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import figure_cache, palette
from ..words import ordinal
from .layout import add_annotations, count_axis, count_margin, empty_figure, finish, is_empty
from .theme import INK, MUTED, PALETTE


@figure_cache.memoize
def cumulative(
    cum_df: pd.DataFrame,
    milestones_df: pd.DataFrame | None = None,
    projection: dict[str, Any] | None = None,
) -> go.Figure:
    """Running total of engagements with the 1st, 100th, 1,000th... engagement marked; with a
    projection (``metrics.milestone_projection`` with status ``ok``), a dashed line to the next
    milestone's expected date and its 90% interval."""
    title = "Cumulative engagements"
    subtitle = "Running total by request date; markers show milestones"
    projected = projection is not None and projection.get("status") == "ok"
    if projected:
        subtitle += "; dashed: the next milestone at the last 12 months' rate (90% interval)"
    if is_empty(cum_df, "engagements"):
        return empty_figure(title)
    fig = go.Figure()
    fig.add_scatter(
        x=cum_df["requested_on"],
        y=cum_df["cumulative"],
        mode="lines",
        name="Engagements to date",
        line={"color": PALETTE[0], "width": 2.5, "shape": "hv"},
        fill="tozeroy",
        fillcolor=palette.rgba(PALETTE[0], 0.12),
        hovertemplate="%{x|%d %b %Y}: %{y:,} engagements to date<extra></extra>",
    )
    first, last = (
        pd.Timestamp(cum_df["requested_on"].min()),
        pd.Timestamp(cum_df["requested_on"].max()),
    )
    span = max(last - first, pd.Timedelta(days=30))
    start, end = first - 0.02 * span, last + 0.01 * span
    top = int(cum_df["cumulative"].max())
    y_top = top * 1.04
    if milestones_df is not None and len(milestones_df):
        for x, y, width in _add_milestones(fig, milestones_df, ((first, last), top)):
            # The label sits above-left of its point: start the axis early enough for it to fit
            # in a half-width chart, and leave headroom above it.
            share = min(0.5, (width + MILESTONE_OFFSET[0] + 8) / MILESTONE_PLOT[0])
            start = min(start, pd.Timestamp(x) - share / (1 - share) * (end - pd.Timestamp(x)))
            y_top = max(y_top, y / (1 - (MILESTONE_OFFSET[1] + 18) / MILESTONE_PLOT[1]))
    if projected and projection is not None:
        end, top, y_top = _add_projection(fig, projection, end, top, y_top)
    return finish(
        fig,
        title,
        subtitle,
        xaxis={"title": {"text": None}, "range": [start, end]},
        yaxis={"title": {"text": "Engagements"}, **count_axis(top), "range": [0, max(y_top, 1)]},
        layout={"margin": count_margin(max(y_top, 1), fixed_range=True)},
    )


def _add_projection(
    fig: go.Figure, p: dict[str, Any], end: pd.Timestamp, top: int, y_top: float
) -> tuple[pd.Timestamp, int, float]:
    """The dashed projection from the data date to the next milestone, and its 90% interval as a
    horizontal bar at the milestone's height; returns the widened x end, y top and y range."""
    through, expected = pd.Timestamp(p["through"]), pd.Timestamp(p["expected"])
    earliest = pd.Timestamp(p["earliest"]) if p.get("earliest") else expected
    latest = pd.Timestamp(p["latest"]) if p.get("latest") else expected
    goal = int(p["milestone"])
    name = f"{ordinal(goal)} engagement"
    fig.add_scatter(
        x=[through, expected],
        y=[p["current"], goal],
        mode="lines",
        name=f"Projected: {name}",
        line={"color": PALETTE[0], "width": 2, "dash": "dash"},
        hovertemplate=f"{name} expected around %{{x|%b %Y}}<extra></extra>",
    )
    interval = "to more than 10 years away" if not p.get("latest") else f"to {latest:%b %Y}"
    fig.add_scatter(
        x=[earliest, latest],
        y=[goal, goal],
        mode="lines+markers",
        name="90% interval",
        line={"color": PALETTE[1], "width": 6},
        marker={"symbol": "line-ns", "size": 14, "line": {"width": 2, "color": PALETTE[1]}},
        opacity=0.6,
        hovertemplate=f"90% interval: {earliest:%b %Y} {interval}<extra></extra>",
    )
    fig.add_annotation(
        x=expected,
        y=goal,
        text=f"{name}<br>≈ {expected:%b %Y}",
        showarrow=True,
        arrowhead=0,
        arrowcolor=MUTED,
        ax=-14,
        ay=-30,
        xanchor="right",
        align="right",
        font={"size": 11, "color": INK},
    )
    new_end = max(latest, expected) + pd.Timedelta(days=60)
    return new_end, max(top, goal), max(y_top, goal * 1.15)


# The plot area (px) of a phone-width (390 px) chart, the narrowest the milestone labels must fit;
# and the offset of a label from its milestone (px left, px up).
MILESTONE_PLOT = (250, 180)
MILESTONE_OFFSET = (14, 30)
MILESTONE_OFFSET_EARLY = (18, 8)  # px right, px down: a label under-right of its milestone
MILESTONE_LABEL_PX = 28  # the height of a two-line label
MILESTONE_CHAR_PX = 6.5  # width of a character at the label's 11 px font
# ((first day, last day) of the data, the highest running total): what a label's place is judged by.
Span = tuple[tuple[pd.Timestamp, pd.Timestamp], int]


def _add_milestones(fig: go.Figure, ms: pd.DataFrame, span: Span) -> list[tuple[Any, Any, float]]:
    """Milestone markers, and labels for those not too close to the previous label.

    Returns (x, y, label width in px) per label placed above-left (the ones the axes must make
    room for)."""
    names = [f"{ordinal(int(m))} engagement" for m in ms["milestone"]]
    months = [f"{pd.Timestamp(d):%b %Y}" for d in ms["requested_on"]]
    labels = [f"{n} · {m}" for n, m in zip(names, months, strict=True)]
    agencies = [html.escape(str(a), quote=False) for a in ms["agency_name"]]
    fig.add_scatter(
        x=ms["requested_on"],
        y=ms["milestone"],
        mode="markers",
        name="Milestones",
        marker={
            "size": 10,
            "color": PALETTE[1],
            "line": {"width": 1.5, "color": palette.BACKGROUND},
        },
        text=labels,
        customdata=[[str(e), a] for e, a in zip(ms["engagement_id"], agencies, strict=True)],
        hovertemplate="<b>%{text}</b><br>%{customdata[1]}<extra></extra>",
    )
    # The line rises to the right, so above-left of a point is clear of it; two short lines keep
    # the label narrow. A milestone too close to the last labelled one keeps its marker (and
    # hover) but gets no label.
    two_lines = [f"{ordinal(int(v))}<br>{m}" for v, m in zip(ms["milestone"], months, strict=True)]
    placed, labels_out = [], []
    (first, last), top = span
    for label, x, y in _spaced(two_lines, ms["requested_on"], ms["milestone"], span):
        early = pd.Timestamp(x) - first < 0.3 * (last - first)
        if early and y / top * MILESTONE_PLOT[1] < MILESTONE_OFFSET_EARLY[1] + MILESTONE_LABEL_PX:
            # No room left of it (the axis would start long before the data) nor under it (the
            # x axis): the marker and its hover stay (e.g. the 1st engagement).
            continue
        # Early in the span, above-left would run into the y axis' labels; under-right of a
        # rising line is clear of it too.
        offset = MILESTONE_OFFSET_EARLY if early else (-MILESTONE_OFFSET[0], -MILESTONE_OFFSET[1])
        labels_out.append(
            {
                "x": x,
                "y": y,
                "text": label,
                "showarrow": True,
                "arrowhead": 0,
                "arrowcolor": MUTED,
                "ax": offset[0],
                "ay": offset[1],
                "xanchor": "left" if early else "right",
                "yanchor": "top" if early else "auto",
                "align": "left" if early else "right",
                "font": {"size": 11, "color": INK},
            }
        )
        if not early:
            width = MILESTONE_CHAR_PX * max(len(part) for part in label.split("<br>"))
            placed.append((x, y, width))
    add_annotations(fig, labels_out)
    return placed


def _spaced(
    labels: list[str], xs: pd.Series, ys: pd.Series, span: Span
) -> list[tuple[str, Any, Any]]:
    """(label, x, y) for milestones at least 12% of the x span or 10% of the y span apart."""
    (x0, x1), top = span
    width = (x1 - x0) / pd.Timedelta(days=1) or 1
    kept: list[tuple[str, Any, Any]] = []
    for label, x, y in zip(labels, xs, ys, strict=True):
        if kept:
            _, px, py = kept[-1]
            if (x - px) / pd.Timedelta(days=1) < 0.12 * width and (y - py) < 0.1 * top:
                continue
        kept.append((label, x, y))
    return kept
