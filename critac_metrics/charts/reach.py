"""Where the work reaches: the state tile map (``state_map``) and the agencies served against the
whole field (``field_reach``)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from .. import figure_cache, palette, schema
from ..words import plural
from .layout import count_colorbar, empty_figure, finish, is_empty
from .theme import INK, PALETTE, SEQUENTIAL, ZERO_TILE

# (column, row) in an 11 x 8 tile grid, NPR/FiveThirtyEight style: AK top left, HI bottom left.
TILE_GRID: dict[str, tuple[float, float]] = {
    "AK": (0, 0), "ME": (10, 0),
    "WI": (5, 1), "VT": (9, 1), "NH": (10, 1),
    "WA": (0, 2), "ID": (1, 2), "MT": (2, 2), "ND": (3, 2), "MN": (4, 2), "IL": (5, 2),
    "MI": (6, 2), "NY": (8, 2), "MA": (9, 2),
    "OR": (0, 3), "NV": (1, 3), "WY": (2, 3), "SD": (3, 3), "IA": (4, 3), "IN": (5, 3),
    "OH": (6, 3), "PA": (7, 3), "NJ": (8, 3), "CT": (9, 3), "RI": (10, 3),
    "CA": (0, 4), "UT": (1, 4), "CO": (2, 4), "NE": (3, 4), "MO": (4, 4), "KY": (5, 4),
    "WV": (6, 4), "VA": (7, 4), "MD": (8, 4), "DE": (9, 4),
    "AZ": (1, 5), "NM": (2, 5), "KS": (3, 5), "AR": (4, 5), "TN": (5, 5), "NC": (6, 5),
    "SC": (7, 5), "DC": (8, 5),
    "OK": (3, 6), "LA": (4, 6), "MS": (5, 6), "AL": (6, 6), "GA": (7, 6),
    "HI": (0, 7), "TX": (3, 7), "FL": (8, 7),
    # Territories: their own labelled row below the states.
    "PR": (0, 8.9), "VI": (1, 8.9), "GU": (2, 8.9), "MP": (3, 8.9), "AS": (4, 8.9),
}  # fmt: skip
TILE_HALF = 0.45


def scale_colour(position: float, scale: Sequence[tuple[float, str]] = SEQUENTIAL) -> str:
    """The colour at ``position`` (0..1) along a colour scale of (stop, '#rrggbb') pairs."""
    position = min(1.0, max(0.0, position))
    for (lo, lo_hex), (hi, hi_hex) in zip(scale, scale[1:], strict=False):
        if position <= hi:
            t = (position - lo) / (hi - lo) if hi > lo else 0.0
            a, b = palette.rgb(lo_hex), palette.rgb(hi_hex)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))
    return scale[-1][1]


def _tile_colours(values: list[int]) -> tuple[list[str], list[str]]:
    """Fill and text colour per tile: grey for zero, else the sequential scale (linear in count)."""
    top = max(values) or 1
    fills, inks = [], []
    for v in values:
        if v <= 0:
            fills.append(ZERO_TILE)
            inks.append(palette.SOFT_TEXT)
            continue
        position = v / top
        fills.append(scale_colour(position))
        inks.append(palette.BACKGROUND if position > 0.55 else palette.TEXT)
    return fills, inks


@figure_cache.memoize
def state_map(by_state_df: pd.DataFrame) -> go.Figure:
    """A tile-grid map: one square per state, DC and territory, coloured by engagements.

    Plain scatter + rectangle shapes, so it renders offline (no topojson, no map tiles).
    """
    title = "Engagements by state and territory"
    subtitle = "One tile per state, DC and territory; grey means none"
    if is_empty(by_state_df, "engagements"):
        return empty_figure(title, subtitle=subtitle)
    frame = by_state_df[by_state_df["state"].isin(TILE_GRID)].reset_index(drop=True)
    counts = [int(v) for v in frame["engagements"]]
    agencies = [int(v) for v in frame["agencies"]]
    fills, inks = _tile_colours(counts)
    cols = [TILE_GRID[s][0] for s in frame["state"]]
    rows = [TILE_GRID[s][1] for s in frame["state"]]
    tiles = [
        {
            "type": "rect",
            "x0": x - TILE_HALF,
            "x1": x + TILE_HALF,
            "y0": y - TILE_HALF,
            "y1": y + TILE_HALF,
            "fillcolor": fill,
            "line": {"width": 0},
            "layer": "below",
        }
        for x, y, fill in zip(cols, rows, fills, strict=True)
    ]
    fig = go.Figure()
    hover = [
        f"<b>{schema.STATE_NAMES.get(s, s)}</b>: {plural(n, 'engagement')} · "
        f"{plural(a, 'agency', 'agencies')}"
        for s, n, a in zip(frame["state"], counts, agencies, strict=True)
    ]
    fig.add_scatter(
        x=cols,
        y=rows,
        mode="markers+text",
        text=[f"<b>{s}</b><br>{n:,}" for s, n in zip(frame["state"], counts, strict=True)],
        textfont={"color": inks, "size": 11},
        textposition="middle center",
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        customdata=[[s, n, a] for s, n, a in zip(frame["state"], counts, agencies, strict=True)],
        marker={
            "symbol": "square",
            "size": 34,
            "opacity": 0,
            "color": counts,
            "colorscale": SEQUENTIAL,
            "cmin": 0,
            "cmax": max(counts),
            "showscale": True,
            "colorbar": {**count_colorbar(max(counts)), "len": 0.6},
        },
        showlegend=False,
    )
    territories = {
        "text": "U.S. territories",
        "x": -TILE_HALF,
        "y": 8.9 - TILE_HALF - 0.08,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 12, "color": INK},
    }
    return finish(
        fig,
        title,
        subtitle,
        height=600,
        xaxis={"visible": False, "range": [-0.6, 10.6], "fixedrange": True},
        yaxis={
            "visible": False,
            "range": [8.9 + 0.6, -0.6],
            "scaleanchor": "x",
            "scaleratio": 1,
            "fixedrange": True,
        },  # fmt: skip
        # The tiles as plain shapes in one go: add_shape per tile was ~40x slower.
        layout={"shapes": tiles, "dragmode": False, "annotations": [territories]},
    )


@figure_cache.memoize
def field_reach(df: pd.DataFrame) -> go.Figure:
    """Agencies served as a % of all US state and local agencies (``metrics.field_reach``), overall
    and by census category, with the range a category's rounded census share allows."""
    title = "Reach against the whole field"
    subtitle = (
        "Agencies served as a % of all state and local law-enforcement agencies "
        "(BJS census, 2018); whiskers: the range the census' rounded shares allow"
    )
    if df is None or df.empty or int(df["agencies_served"].sum()) == 0:
        return empty_figure(title)
    rows = df.iloc[::-1]  # the overall bar on top
    names = [html.escape(str(label), quote=False) for label in rows["label"]]
    names = ["<br>".join(_wrap_words(n, 28)) for n in names]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=rows["share_pct"],
        orientation="h",
        marker={"color": [PALETTE[1] if c == "all" else PALETTE[0] for c in rows["category"]]},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": rows["share_high"] - rows["share_pct"],
            "arrayminus": rows["share_pct"] - rows["share_low"],
            "color": INK,
            "thickness": 1.5,
            "width": 4,
        },
        text=[f"{v:.1f}%" for v in rows["share_pct"]],
        textposition="inside",
        insidetextanchor="middle",
        textfont={
            "color": [palette.TEXT if c == "all" else palette.BACKGROUND for c in rows["category"]]
        },
        customdata=list(
            zip(rows["agencies_served"], rows["field_agencies"], rows["agency_types"], strict=True)
        ),
        hovertemplate=(
            "%{y}: %{x:.1f}%<br>%{customdata[0]:,} agencies served of about "
            "%{customdata[1]:,.0f}<br>Agency types: %{customdata[2]}<extra></extra>"
        ),
    )
    top = float(rows["share_high"].max())
    return finish(
        fig,
        title,
        subtitle,
        xaxis={
            "title": {"text": "% of agencies served"},
            "range": [0, top * 1.25 or 1],
            "ticksuffix": "%",
        },  # fmt: skip
        yaxis={"title": {"text": None}, "automargin": True},
    )


def _wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]
