"""Engagements over time: per period (``volume_trend``), per period by a dimension
(``series_by_dimension``), first-time and repeat agencies, and one fiscal year over the year before.

A period that runs past the last day of data (``is_partial``) is drawn as such: a lighter, hatched
bar or an open marker, an asterisk on its tick label and a note in the subtitle."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import dimensions, figure_cache
from ..metrics import FISCAL_MONTHS, PERIOD_MONTHS
from ..registry import label as registry_label
from .layout import (
    MULTI_TOPIC_NOTE,
    category_label,
    count_axis,
    count_margin,
    dimension_label,
    empty_figure,
    finish,
    is_empty,
)
from .theme import MUTED, PALETTE

GRAIN_NOUNS = dimensions.GRAIN_NOUNS

# A period that runs past the last day of data (``is_partial``): a hatched, lighter bar, an
# open marker on lines, an asterisk on its tick label and a note in the subtitle.
PARTIAL_OPACITY = 0.6
PARTIAL_PATTERN = "/"
MAX_PERIOD_TICKS = 12


def _grain_of(periods: pd.Series) -> str:
    first = str(periods.iloc[0]) if len(periods) else ""
    if first.startswith("FY"):
        return "fiscal_year"
    return "quarter" if "-Q" in first else "month"


def _iso(values: pd.Series) -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in values]


def _partial_flags(df: pd.DataFrame) -> list[bool]:
    """Per row: does the period run past the last day of data? (False without ``is_partial``.)"""
    if "is_partial" not in df:
        return [False] * len(df)
    return [not pd.isna(v) and bool(v) for v in df["is_partial"]]


def _partial_periods(df: pd.DataFrame) -> list[str]:
    flags = _partial_flags(df)
    return list(dict.fromkeys(p for p, f in zip(df["period"], flags, strict=True) if f))


def _with_partial_note(
    subtitle: str | None, partial: list[str], drawn: str = "hatched"
) -> str | None:
    if not partial:
        return subtitle
    note = f"* {', '.join(partial)}: period still in progress ({drawn})"
    return f"{subtitle}<br>{note}" if subtitle else note


def _partial_marks(
    df: pd.DataFrame, periods: list[str], subtitle: str | None, drawn: str = "hatched"
) -> tuple[str | None, dict[str, Any]]:
    """The subtitle with its note on periods still in progress, and the period axis that marks
    them: what every chart over periods shows of them."""
    partial = _partial_periods(df)
    return _with_partial_note(subtitle, partial, drawn), _period_axis(periods, partial)


def _partial_bar_marker(colour: str, flags: list[bool]) -> dict[str, Any]:
    """A bar marker; bars of partial periods are lighter, hatched and outlined."""
    if not any(flags):
        return {"color": colour}
    return {
        "color": colour,
        "opacity": [PARTIAL_OPACITY if f else 1.0 for f in flags],
        "pattern": {
            "shape": [PARTIAL_PATTERN if f else "" for f in flags],
            "fillmode": "replace",
            "size": 8,
            "solidity": 0.35,
        },
        "line": {"color": colour, "width": [1.5 if f else 0 for f in flags]},
    }


def _partial_hover(flags: list[bool]) -> list[str]:
    return [" (period in progress)" if f else "" for f in flags]


def _period_axis(periods: list[str], partial: list[str]) -> dict[str, Any]:
    """A category axis of periods; with partial periods, explicit ticks that always include them
    (thinned to about MAX_PERIOD_TICKS) and an asterisk on their labels."""
    axis: dict[str, Any] = {"type": "category", "title": {"text": None}}
    if not partial:
        return axis
    order = list(dict.fromkeys(periods))
    step = max(1, math.ceil(len(order) / MAX_PERIOD_TICKS))
    kept = set(order[::-1][::step]) | set(partial)  # counted from the end: the latest is shown
    ticks = [p for p in order if p in kept]
    axis.update(tickvals=ticks, ticktext=[f"{p}*" if p in partial else p for p in ticks])
    return axis


def _period_spans(starts: pd.Series, grain: str) -> list[list[str]]:
    """[first day, last day] (ISO) of each period: a click on it can narrow the dates to it."""
    first = pd.to_datetime(starts)
    last = first + pd.DateOffset(months=PERIOD_MONTHS.get(grain, 1)) - pd.Timedelta(days=1)
    return [[a, b] for a, b in zip(_iso(first), _iso(last), strict=True)]


@figure_cache.memoize
def volume_trend(series_df: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Engagements per period as bars; all requests and completed engagements as lines."""
    title = f"Engagements per {GRAIN_NOUNS.get(grain, grain)}"
    subtitle = "Bars: engagements (accepted) · lines: requests (any status), completed (delivered)"
    if is_empty(series_df, "requests"):
        return empty_figure(title)
    x = series_df["period"].tolist()
    starts = _period_spans(series_df["period_start"], grain)
    flags = _partial_flags(series_df)
    hover = _partial_hover(flags)
    fig = go.Figure()
    fig.add_bar(
        x=x,
        y=series_df["engagements"],
        name="Engagements",
        marker=_partial_bar_marker(PALETTE[0], flags),
        customdata=starts,
        hovertext=hover,
        hovertemplate="%{y:,}%{hovertext}",
    )
    # Markers too, so a single period (one point, no line) still shows; on long series only the
    # partial period gets one (open: its value is not final).
    size = 10 if len(x) == 1 else 7 if len(x) <= 24 else 0
    for column, name, colour, dash in (
        ("requests", "Requests", PALETTE[1], "dot"),
        ("completed", "Completed", PALETTE[2], "solid"),
    ):
        fig.add_scatter(
            x=x,
            y=series_df[column],
            name=name,
            mode="lines+markers",
            line={"color": colour, "width": 2.5, "dash": dash},
            marker={
                "color": colour,
                "size": [8 if f else size for f in flags],
                "symbol": ["circle-open" if f else "circle" for f in flags],
                "line": {"width": 2, "color": colour},
            },
            customdata=starts,
            hovertext=hover,
            hovertemplate="%{y:,}%{hovertext}",
        )
    noted, xaxis = _partial_marks(series_df, x, subtitle)
    top = series_df["requests"].max()  # requests are the most of the lines drawn
    return finish(
        fig,
        title,
        noted,
        legend="top",
        xaxis=xaxis,
        yaxis={"title": {"text": "Engagements"}, **count_axis(top)},
        layout={"hovermode": "x unified", "bargap": 0.15, "margin": count_margin(top)},
    )


@figure_cache.memoize
def first_time_vs_repeat(df: pd.DataFrame) -> go.Figure:
    """Agencies served per period: first-time agencies (first delivered engagement ever in the
    period) vs repeat agencies (served before). Counts agencies, not engagements."""
    grain = _grain_of(df["period"]) if not is_empty(df) else "fiscal_year"
    title = f"Agencies served per {GRAIN_NOUNS[grain]}: first-time and repeat"
    subtitle = (
        "Counts agencies, each once a period: first-time = first delivered engagement ever; "
        "repeat = served before"
    )
    first, repeat = "first_time_agencies", "repeat_agencies"
    if is_empty(df) or not (df[first].sum() + df[repeat].sum()):
        return empty_figure(title)
    x = df["period"].tolist()
    flags = _partial_flags(df)
    fig = go.Figure()
    for column, colour in ((first, PALETTE[0]), (repeat, PALETTE[1])):
        fig.add_bar(
            x=x,
            y=df[column],
            name=registry_label(column),
            marker=_partial_bar_marker(colour, flags),
            customdata=_iso(df["period_start"]),
            hovertext=_partial_hover(flags),
            hovertemplate="%{y:,} agencies%{hovertext}",
        )
    total = (df[first] + df[repeat]).max()
    noted, xaxis = _partial_marks(df, x, subtitle)
    return finish(
        fig,
        title,
        noted,
        legend="top",
        xaxis=xaxis,
        yaxis={"title": {"text": "Agencies served"}, **count_axis(total)},
        layout={
            "barmode": "stack",
            "hovermode": "x unified",
            "legend": {"traceorder": "normal"},
            "margin": count_margin(total),
        },
    )


@figure_cache.memoize
def series_by_dimension(df: pd.DataFrame, dimension: str, grain: str = "month") -> go.Figure:
    """Engagements per period for each value: stacked bars, or lines when there are > 8 values."""
    title = f"Engagements per {GRAIN_NOUNS.get(grain, grain)} by {dimension_label(dimension)}"
    subtitle = None
    if dimension in ("topic", "topic_group"):
        subtitle = MULTI_TOPIC_NOTE
    if is_empty(df, "engagements"):
        return empty_figure(title, subtitle=subtitle)
    totals = df.groupby(dimension, sort=False)["engagements"].sum()
    totals = totals[totals > 0].sort_values(ascending=False, kind="stable")
    lines = len(totals) > 8
    if lines:
        note = "Lines for the 8 largest; click a legend entry to show more"
        subtitle = f"{subtitle} · {note}" if subtitle else note
    periods = df["period"].tolist()
    count = df["period"].nunique()
    size = 10 if count == 1 else 6 if count <= 24 else 0
    fig = go.Figure()
    for i, value in enumerate(totals.index):
        part = df[df[dimension] == value]
        flags = _partial_flags(part)
        common = {
            "x": part["period"].tolist(),
            "y": part["engagements"],
            "name": category_label(dimension, value),
            "customdata": [[value, start] for start in _iso(part["period_start"])],
            "hovertext": _partial_hover(flags),
            "hovertemplate": "<b>%{fullData.name}</b><br>%{x}: %{y:,}%{hovertext}<extra></extra>",
        }
        colour = PALETTE[i % len(PALETTE)]
        if lines:
            # Markers so a single period still shows; open ones on partial periods.
            fig.add_scatter(
                **common,
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker={
                    "color": colour,
                    "size": [8 if f else size for f in flags],
                    "symbol": ["circle-open" if f else "circle" for f in flags],
                    "line": {"width": 2, "color": colour},
                },
                visible=True if i < 8 else "legendonly",
            )
        else:
            fig.add_bar(**common, marker=_partial_bar_marker(colour, flags))
    stacked_max = df.groupby("period")["engagements"].sum().max()
    subtitle, xaxis = _partial_marks(df, periods, subtitle, "open markers" if lines else "hatched")
    top = df["engagements"].max() if lines else stacked_max
    return finish(
        fig,
        title,
        subtitle,
        legend="right",
        xaxis=xaxis,
        yaxis={"title": {"text": "Engagements"}, **count_axis(top)},
        layout={"barmode": "stack", "bargap": 0.15, "margin": count_margin(top)},
    )


@figure_cache.memoize
def year_over_year(df: pd.DataFrame, dimension: str | None = None) -> go.Figure:
    """Engagements per fiscal month of the latest fiscal year (solid) over the year before it
    (dotted), aligned by fiscal month (October first); with ``dimension``, a pair of lines per
    value in the value's colour (metrics.year_over_year's frame)."""
    what = f" by {dimension_label(dimension)}" if dimension else ""
    if is_empty(df, "engagements"):
        return empty_figure(f"Engagements per fiscal month{what}, year over year")
    years = sorted(set(df["fiscal_year"]), reverse=True)
    title = f"Engagements per fiscal month{what}: " + " vs ".join(f"FY{y}" for y in years)
    subtitle = "Each fiscal year runs October to September; dotted: the year before"
    values = [None]
    if dimension:
        totals = df.groupby(dimension)["engagements"].sum().sort_values(ascending=False)
        values = list(totals[totals > 0].index[:8])
        subtitle = f"{subtitle} · {MULTI_TOPIC_NOTE}" if dimension.startswith("topic") else subtitle
    fig = go.Figure()
    for i, value in enumerate(values):
        colour = PALETTE[i % len(PALETTE)]
        for k, year in enumerate(years):
            part = df[df["fiscal_year"] == year]
            if value is not None:
                part = part[part[dimension] == value]
            part = part.sort_values("fiscal_month")
            flags = _partial_flags(part)
            name = f"FY{year}"
            if value is not None:
                name = f"{category_label(dimension, value)} · {name}"
            previous = k > 0
            line_colour = (MUTED if value is None else colour) if previous else colour
            fig.add_scatter(
                x=part["month"].tolist(),
                y=part["engagements"],
                name=name,
                mode="lines+markers",
                line={"color": line_colour, "width": 2 if previous else 3,
                      "dash": "dot" if previous else "solid"},
                marker={
                    "color": line_colour,
                    "size": [9 if f else 6 for f in flags],
                    "symbol": ["circle-open" if f else "circle" for f in flags],
                    "line": {"width": 2, "color": line_colour},
                },
                hovertext=_partial_hover(flags),
                hovertemplate="<b>%{fullData.name}</b> · %{x}: %{y:,}%{hovertext}<extra></extra>",
            )  # fmt: skip
    partial = sorted(set(df.loc[df["is_partial"].astype(bool), "month"]))
    if partial:
        subtitle += (
            f"<br>* {', '.join(partial)} FY{years[0]}: month still in progress (open marker)"
        )
    top = df["engagements"].max()
    return finish(
        fig,
        title,
        subtitle,
        legend="top" if dimension is None else "right",
        xaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": list(FISCAL_MONTHS),
            "title": {"text": None},
        },
        yaxis={"title": {"text": "Engagements"}, **count_axis(top)},
        layout={"hovermode": "x unified", "margin": count_margin(top)},
    )
