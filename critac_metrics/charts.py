"""Pure Plotly figure builders and the one chart theme (the registered template ``"critac"``).

Every builder takes the DataFrame (or dict) that a function in ``metrics`` returns and gives back a
``go.Figure``: no database, no files, no Streamlit. Points that stand for a filterable value (topic,
agency type, state, assistance type, delivery mode) carry the RAW value at ``customdata[0]``, so a
clicked point can cross-filter. Show the figures with ``st.plotly_chart(fig, theme=None, ...)``:
Streamlit's default theme would override the template's colours.
"""

from __future__ import annotations

import html
import math
import re

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from . import figure_cache, palette, schema
from .metrics import DEFAULT_MIN_N, FISCAL_MONTHS, PERIOD_MONTHS
from .registry import VALUE_LABELS
from .registry import label as registry_label
from .registry import value_label as registry_value_label
from .words import ordinal as _ordinal
from .words import plural as _plural

# -- theme ----------------------------------------------------------------------------------------

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
MULTI_TOPIC_NOTE = "An engagement counts under each of its topics"  # one line at 390 px
EMPTY_MESSAGE = "No engagements match these filters"
NO_ANSWERS_MESSAGE = "No survey answers match these filters"
# Dimensions whose frame order is meaningful (metrics returns them in that order).
NATURAL_ORDER = frozenset({"size_band", "status", "agency_type"})
GRAIN_NOUNS = {"month": "month", "quarter": "quarter", "fiscal_year": "fiscal year"}
WAVE_TITLES = VALUE_LABELS["wave"]
# Plotly never wraps text: subtitles are broken into lines this long (fits a ~600 px chart).
SUBTITLE_WIDTH = 46  # fits a phone-width (390 px) chart as well as a half-width one
SUBTITLE_LINE = 18  # px per subtitle line, for the top margin
TITLE_WIDTH = 34  # characters per title line (18 px font): fits a phone-width (390 px) chart
TITLE_LINE = 24  # px per title line
TITLE_PAD_TOP = 14  # px above the title
DEMO_ROW = 30  # px of the row above the title that holds the demo label
# A period that runs past the last day of data (``is_partial``): a hatched, lighter bar, an
# open marker on lines, an asterisk on its tick label and a note in the subtitle.
PARTIAL_OPACITY = 0.6
PARTIAL_PATTERN = "/"
MAX_PERIOD_TICKS = 12


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


def in_theme(fig: go.Figure, dark: bool) -> go.Figure:
    """``fig`` drawn for the viewer's theme: the dark variant of its template when ``dark``. A
    figure with its own opaque paper (an export's preview, white like the file) stays light."""
    if dark and fig.layout.paper_bgcolor in (None, palette.TRANSPARENT):
        fig.update_layout(template=dark_variant(fig.layout.template))
    return fig


# -- shared helpers -------------------------------------------------------------------------------


def pretty(value: object) -> str:
    """'virtual_consultation' -> 'Virtual consultation'; NaN/None -> 'Unknown'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "Unknown"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


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


def _raw(value: object) -> object:
    """A value safe for customdata (NaN becomes None)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _is_empty(frame: pd.DataFrame | None, column: str | None = None) -> bool:
    if frame is None or len(frame) == 0:
        return True
    return column is not None and not (pd.to_numeric(frame[column], errors="coerce") > 0).any()


def _finish(
    fig: go.Figure,
    title: str,
    subtitle: str | None = None,
    legend: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Apply the theme, the title (+ subtitle) and the legend placement ('top', 'right' or None)."""
    title = wrap_subtitle(title, TITLE_WIDTH)  # a long title would run off a phone-width chart
    title_spec: dict = {"text": title}
    lines = 0
    if subtitle:
        subtitle = wrap_subtitle(subtitle)
        lines = subtitle.count("<br>") + 1
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": 13, "color": INK}}
    top = 58 + TITLE_LINE * title.count("<br>") + (4 + SUBTITLE_LINE * lines if lines else 0)
    top += 30 if legend == "top" else 0
    if "<br>" in title:  # Plotly lifts a title of n lines by half a line per extra line
        title_spec["pad"] = {"t": TITLE_PAD_TOP + TITLE_LINE // 2 * title.count("<br>")}
    fig.update_layout(template=TEMPLATE, title=title_spec, margin={"t": top})
    if legend == "top":
        fig.update_layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
        )
    elif legend == "right":
        fig.update_layout(showlegend=True, legend={"orientation": "v", "traceorder": "normal"})
    else:
        fig.update_layout(showlegend=False)
    if height:
        fig.update_layout(height=height)
    return fig


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


def _add_annotations(fig: go.Figure, annotations: list[dict]) -> None:
    """Add annotations in one assignment. ``fig.add_annotation`` re-validates every annotation
    already on the figure, so adding n one by one costs O(n²) (20 labels: 129 ms, at once 12 ms);
    the figure is the same."""
    if annotations:
        fig.layout.annotations = (*fig.layout.annotations, *annotations)


def empty_figure(
    title: str, message: str = EMPTY_MESSAGE, subtitle: str | None = None
) -> go.Figure:
    """A titled figure with a centred message and no axes."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": INK},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, title, subtitle)


def _count_axis(max_value: float) -> dict:
    """Axis settings for counts: whole numbers with thousands separators, from zero."""
    axis: dict = {"tickformat": ",d", "rangemode": "tozero"}
    if max_value < 6:
        axis["dtick"] = 1
    return axis


def _count_colorbar(max_value: float) -> dict:
    colorbar = {"title": {"text": "Engagements"}, "thickness": 12}
    return colorbar | {k: v for k, v in _count_axis(max_value).items() if k != "rangemode"}


def _pct_axis(low: float = 0, high: float = 100) -> dict:
    """Percent values 0–100 (not fractions). Plotly drops ticksuffix with tickvals: use dtick."""
    return {"range": [low, high], "ticksuffix": "%", "tickformat": ".0f"}


def _rows_height(rows: int, per_row: int = 28, base: int = 160, minimum: int = 320) -> int:
    return max(minimum, base + per_row * rows)


def _grain_of(periods: pd.Series) -> str:
    first = str(periods.iloc[0]) if len(periods) else ""
    if first.startswith("FY"):
        return "fiscal_year"
    return "quarter" if "-Q" in first else "month"


def _iso(values: pd.Series) -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in values]


def _value_label(value: str) -> str:
    # Charts keep the short noun: every engagement is an accepted request (docs/metrics.md).
    short = {"agencies": "Agencies served", "engagements": "Engagements"}
    return short.get(value, registry_label(value))


def _dimension_label(dimension: str) -> str:
    text = registry_label(dimension)
    return text[:1].lower() + text[1:]


def _muted(text: str) -> str:
    return f'<span style="color:{MUTED}">{text}</span>'


def _suppressed_label(name: str, n: float | None, min_n: int) -> str:
    """A suppressed row's label; a breakdown hides the n of its suppressed rows (None/NaN)."""
    if n is None or pd.isna(n):
        return _muted(f"{name} — suppressed")
    return _muted(f"{name} — suppressed (n={int(n):,} < {min_n})")


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


def _partial_bar_marker(colour: str, flags: list[bool]) -> dict:
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


def _period_axis(periods: list[str], partial: list[str]) -> dict:
    """A category axis of periods; with partial periods, explicit ticks that always include them
    (thinned to about MAX_PERIOD_TICKS) and an asterisk on their labels."""
    axis: dict = {"type": "category", "title_text": None}
    if not partial:
        return axis
    order = list(dict.fromkeys(periods))
    step = max(1, math.ceil(len(order) / MAX_PERIOD_TICKS))
    kept = set(order[::-1][::step]) | set(partial)  # counted from the end: the latest is shown
    ticks = [p for p in order if p in kept]
    axis.update(tickvals=ticks, ticktext=[f"{p}*" if p in partial else p for p in ticks])
    return axis


# -- volume and trend -----------------------------------------------------------------------------


def _period_spans(starts: pd.Series, grain: str) -> list[list[str]]:
    """[first day, last day] (ISO) of each period: a click on it can narrow the dates to it."""
    first = pd.to_datetime(starts)
    last = first + pd.DateOffset(months=PERIOD_MONTHS.get(grain, 1)) - pd.Timedelta(days=1)
    return [[a, b] for a, b in zip(_iso(first), _iso(last), strict=True)]


def volume_trend(series_df: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Engagements per period as bars; all requests and completed engagements as lines."""
    title = f"Engagements per {GRAIN_NOUNS.get(grain, grain)}"
    subtitle = "Bars: engagements (accepted) · lines: requests (any status), completed (delivered)"
    if _is_empty(series_df, "requests"):
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
    partial = _partial_periods(series_df)
    fig.update_xaxes(**_period_axis(x, partial))
    fig.update_yaxes(title_text="Engagements", **_count_axis(series_df["requests"].max()))
    fig.update_layout(hovermode="x unified", bargap=0.15)
    return _finish(fig, title, _with_partial_note(subtitle, partial), legend="top")


def cumulative(
    cum_df: pd.DataFrame,
    milestones_df: pd.DataFrame | None = None,
    projection: dict | None = None,
) -> go.Figure:
    """Running total of engagements with the 1st, 100th, 1,000th... engagement marked; with a
    projection (``metrics.milestone_projection`` with status ``ok``), a dashed line to the next
    milestone's expected date and its 90% interval."""
    title = "Cumulative engagements"
    subtitle = "Running total by request date; markers show milestones"
    projected = projection is not None and projection.get("status") == "ok"
    if projected:
        subtitle += "; dashed: the next milestone at the last 12 months' rate (90% interval)"
    if _is_empty(cum_df, "engagements"):
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
    fig.update_yaxes(title_text="Engagements", **_count_axis(top), range=[0, max(y_top, 1)])
    fig.update_xaxes(title_text=None, range=[start, end])
    return _finish(fig, title, subtitle)


def _add_projection(fig: go.Figure, p: dict, end, top: int, y_top: float) -> tuple:
    """The dashed projection from the data date to the next milestone, and its 90% interval as a
    horizontal bar at the milestone's height; returns the widened x end, y top and y range."""
    through, expected = pd.Timestamp(p["through"]), pd.Timestamp(p["expected"])
    earliest = pd.Timestamp(p["earliest"]) if p.get("earliest") else expected
    latest = pd.Timestamp(p["latest"]) if p.get("latest") else expected
    goal = int(p["milestone"])
    name = f"{_ordinal(goal)} engagement"
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


# The plot area (px) of a half-width chart, which milestone labels must fit; and the offset of a
# label from its milestone (px left, px up).
MILESTONE_PLOT = (480, 300)
MILESTONE_OFFSET = (14, 30)
MILESTONE_OFFSET_EARLY = (18, 8)  # px right, px down: a label under-right of its milestone
MILESTONE_LABEL_PX = 28  # the height of a two-line label
MILESTONE_CHAR_PX = 6.5  # width of a character at the label's 11 px font


def _add_milestones(fig: go.Figure, ms: pd.DataFrame, span: tuple) -> list[tuple]:
    """Milestone markers, and labels for those not too close to the previous label.

    Returns (x, y, label width in px) per label placed above-left (the ones the axes must make
    room for)."""
    names = [f"{_ordinal(int(m))} engagement" for m in ms["milestone"]]
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
    two_lines = [f"{n}<br>{m}" for n, m in zip(names, months, strict=True)]
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
    _add_annotations(fig, labels_out)
    return placed


def _spaced(labels, xs, ys, span: tuple) -> list:
    """(label, x, y) for milestones at least 12% of the x span or 10% of the y span apart."""
    (x0, x1), top = span
    width = (x1 - x0) / pd.Timedelta(days=1) or 1
    kept: list = []
    for label, x, y in zip(labels, xs, ys, strict=True):
        if kept:
            _, px, py = kept[-1]
            if (x - px) / pd.Timedelta(days=1) < 0.12 * width and (y - py) < 0.1 * top:
                continue
        kept.append((label, x, y))
    return kept


def backlog(df: pd.DataFrame) -> go.Figure:
    """Open requests at each month end."""
    title = "Open requests at each month end"
    subtitle = "Requested by then and not yet completed (declined and withdrawn excluded)"
    if _is_empty(df):
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
    fig.update_yaxes(title_text="Open requests", **_count_axis(df["open_requests"].max()))
    return _finish(fig, title, subtitle)


def first_time_vs_repeat(df: pd.DataFrame) -> go.Figure:
    """Agencies served per period: first-time agencies (first delivered engagement ever in the
    period) vs repeat agencies (served before). Counts agencies, not engagements."""
    grain = _grain_of(df["period"]) if not _is_empty(df) else "fiscal_year"
    title = f"Agencies served per {GRAIN_NOUNS[grain]}: first-time and repeat"
    subtitle = (
        "Counts agencies, each once a period: first-time = first delivered engagement ever; "
        "repeat = served before"
    )
    first, repeat = "first_time_agencies", "repeat_agencies"
    if _is_empty(df) or not (df[first].sum() + df[repeat].sum()):
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
    partial = _partial_periods(df)
    fig.update_xaxes(**_period_axis(x, partial))
    fig.update_yaxes(title_text="Agencies served", **_count_axis(total))
    fig.update_layout(barmode="stack", hovermode="x unified", legend_traceorder="normal")
    return _finish(fig, title, _with_partial_note(subtitle, partial), legend="top")


# -- breakdowns -----------------------------------------------------------------------------------


def bar_breakdown(
    df: pd.DataFrame,
    dimension: str,
    value: str = "engagements",
    title: str | None = None,
    top: int | None = None,
) -> go.Figure:
    """Horizontal bars per dimension value, largest on top (ordered dimensions keep their order)."""
    title = title or f"{_value_label(value)} by {_dimension_label(dimension)}"
    notes = []
    if dimension in ("topic", "topic_group"):
        notes.append(MULTI_TOPIC_NOTE)
    if value == "requests":
        notes.append("Requests of any status")
    frame = df
    if not _is_empty(df) and dimension not in NATURAL_ORDER:
        # A ranking: a value with none (a topic whose only request was declined) is not in it.
        frame = frame[frame[value] > 0].sort_values(value, ascending=False, kind="stable")
    if _is_empty(frame):
        return empty_figure(title, subtitle=" · ".join(notes) or None)
    if top and len(frame) > top:
        notes.append(f"Top {top} of {len(frame)} shown")
        frame = frame.head(top)
    extra = [c for c in ("requests", "engagements", "completed", "agencies") if c in frame]
    customdata = [
        [_raw(raw), *(int(v) for v in rest)]
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
    fig.update_yaxes(type="category", autorange="reversed", title_text=None)
    top_value = float(frame[value].max())
    fig.update_xaxes(
        title_text=_value_label(value), range=[0, top_value * 1.12 or 1], **_count_axis(top_value)
    )
    fig.update_layout(bargap=0.25)
    return _finish(fig, title, " · ".join(notes) or None, height=_rows_height(len(frame)))


def series_by_dimension(df: pd.DataFrame, dimension: str, grain: str = "month") -> go.Figure:
    """Engagements per period for each value: stacked bars, or lines when there are > 8 values."""
    title = f"Engagements per {GRAIN_NOUNS.get(grain, grain)} by {_dimension_label(dimension)}"
    subtitle = None
    if dimension in ("topic", "topic_group"):
        subtitle = MULTI_TOPIC_NOTE
    if _is_empty(df, "engagements"):
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
    partial = _partial_periods(df)
    subtitle = _with_partial_note(subtitle, partial, "open markers" if lines else "hatched")
    fig.update_xaxes(**_period_axis(periods, partial))
    fig.update_yaxes(
        title_text="Engagements",
        **_count_axis(df["engagements"].max() if lines else stacked_max),
    )
    fig.update_layout(barmode="stack", bargap=0.15)
    return _finish(fig, title, subtitle, legend="right")


def year_over_year(df: pd.DataFrame, dimension: str | None = None) -> go.Figure:
    """Engagements per fiscal month of the latest fiscal year (solid) over the year before it
    (dotted), aligned by fiscal month (October first); with ``dimension``, a pair of lines per
    value in the value's colour (metrics.year_over_year's frame)."""
    what = f" by {_dimension_label(dimension)}" if dimension else ""
    if _is_empty(df, "engagements"):
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
    fig.update_xaxes(
        type="category", categoryorder="array", categoryarray=list(FISCAL_MONTHS), title_text=None
    )
    fig.update_yaxes(title_text="Engagements", **_count_axis(df["engagements"].max()))
    fig.update_layout(hovermode="x unified")
    return _finish(fig, title, subtitle, legend="top" if dimension is None else "right")


def topic_heatmap(matrix_df: pd.DataFrame) -> go.Figure:
    """Engagements per topic (rows, largest at top) and agency type (columns)."""
    title = "Engagements by topic and agency type"
    subtitle = MULTI_TOPIC_NOTE
    types = [c for c in matrix_df.columns if c != "topic"] if matrix_df is not None else []
    if _is_empty(matrix_df) or not types or not matrix_df[types].to_numpy().sum():
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
        colorbar=_count_colorbar(int(z.max())),
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
    fig.update_layout(hoverdistance=-1, clickmode="event+select")
    fig.update_yaxes(type="category", autorange="reversed", showgrid=False)
    # Column labels on top (the table is tall) and horizontal: tilted ones ran into the subtitle.
    fig.update_xaxes(
        type="category", side="top", showgrid=False, tickangle=0, tickfont={"size": 12}
    )
    fig = _finish(fig, title, subtitle, height=_rows_height(len(topics), per_row=24, base=220))
    return fig.update_layout(margin={"t": fig.layout.margin.t + 30})


# -- the state tile map ---------------------------------------------------------------------------

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


def scale_colour(position: float, scale=SEQUENTIAL) -> str:
    """The colour at ``position`` (0..1) along a colour scale of (stop, '#rrggbb') pairs."""
    position = min(1.0, max(0.0, position))
    for (lo, lo_hex), (hi, hi_hex) in zip(scale, scale[1:], strict=False):
        if position <= hi:
            t = (position - lo) / (hi - lo) if hi > lo else 0.0
            a, b = palette.rgb(lo_hex), palette.rgb(hi_hex)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))
    return scale[-1][1]


def _zero_grey_scale(top: int) -> list:
    """SEQUENTIAL over 1..top with 0 in the zero grey (for counts drawn with zmin=0, zmax=top)."""
    cut = 0.5 / max(top, 1)
    return [[0, ZERO_TILE], [cut, ZERO_TILE], *([cut + p * (1 - cut), c] for p, c in SEQUENTIAL)]


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


def state_map(by_state_df: pd.DataFrame) -> go.Figure:
    """A tile-grid map: one square per state, DC and territory, coloured by engagements.

    Plain scatter + rectangle shapes, so it renders offline (no topojson, no map tiles).
    """
    title = "Engagements by state and territory"
    subtitle = "One tile per state, DC and territory; grey means none"
    if _is_empty(by_state_df, "engagements"):
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
    fig = go.Figure(layout={"shapes": tiles})  # one call: add_shape per tile is ~40x slower
    hover = [
        f"<b>{schema.STATE_NAMES.get(s, s)}</b>: {_plural(n, 'engagement')} · "
        f"{_plural(a, 'agency', 'agencies')}"
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
            "colorbar": {**_count_colorbar(max(counts)), "len": 0.6},
        },
        showlegend=False,
    )
    fig.add_annotation(
        text="U.S. territories",
        x=-TILE_HALF,
        y=8.9 - TILE_HALF - 0.08,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font={"size": 12, "color": INK},
    )
    fig.update_xaxes(visible=False, range=[-0.6, 10.6], fixedrange=True)
    fig.update_yaxes(
        visible=False, range=[8.9 + 0.6, -0.6], scaleanchor="x", scaleratio=1, fixedrange=True
    )
    fig.update_layout(dragmode=False)
    return _finish(fig, title, subtitle, height=600)


# -- outcomes -------------------------------------------------------------------------------------


def _likert_parts(row) -> list[tuple[int, float, float]]:
    """(answer, signed bar length, shown %) for the six segments, in stacking order."""
    pct = [0.0 if pd.isna(row[f"pct_{a}"]) else float(row[f"pct_{a}"]) for a in range(1, 6)]
    return [
        (3, -pct[2] / 2, pct[2]),
        (2, -pct[1], pct[1]),
        (1, -pct[0], pct[0]),
        (3, pct[2] / 2, pct[2]),
        (4, pct[3], pct[3]),
        (5, pct[4], pct[4]),
    ]


def likert_diverging(
    item_df: pd.DataFrame, wave: str = "post", min_n: int = DEFAULT_MIN_N
) -> go.Figure:
    """Diverging stacked bars per survey item (Heiberger & Robbins): 1–2 left, 3 split, 4–5 right.

    Suppressed items get a grey label with their n and no bar: no percentage is ever drawn for them.
    """
    title = f"{WAVE_TITLES.get(wave, pretty(wave))}: answers by item"
    subtitle = "% of answers; 1–2 left of zero, 3 split across it, 4–5 right"
    if _is_empty(item_df):
        return empty_figure(title)
    if not (item_df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    frame = item_df.reset_index(drop=True)
    shown = frame[~frame["suppressed"].astype(bool)]
    labels = [
        _suppressed_label(pretty(r.item), int(r.n), min_n)
        if r.suppressed
        else f"{pretty(r.item)} (n={int(r.n):,})"
        for r in frame.itertuples()
    ]
    parts = {i: _likert_parts(row) for i, row in shown.iterrows()}
    fig = go.Figure()
    for k in range(6 if parts else 0):
        _add_likert_trace(fig, shown, parts, k, labels)
    ends_out = []
    for i, row in shown.iterrows():
        # Bottom-2 % at the left end of the bar, top-2 % at the right end.
        left_end = sum(length for _, length, _ in parts[i][:3])
        right_end = sum(length for _, length, _ in parts[i][3:])
        ends = (
            (left_end, f"{row.bottom2_pct:.0f}%", "right", -4),
            (right_end, f"<b>{row.top2_pct:.0f}%</b>", "left", 4),
        )
        for x, text, side, shift in ends:
            ends_out.append(
                {"x": x, "y": i, "text": text, "xanchor": side, "xshift": shift, "showarrow": False}
            )
    _add_annotations(fig, ends_out)
    fig.add_vline(x=0, line={"color": INK, "width": 1})
    if not parts:
        message = f"Every item is suppressed: fewer than {min_n} respondents each"
        fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    ticks = list(range(-100, 101, 25))
    fig.update_xaxes(
        range=[-_likert_extent(parts, left=True), _likert_extent(parts, left=False)],
        tickvals=ticks,
        ticktext=[f"{abs(t)}%" for t in ticks],
        zeroline=False,
        title_text="% of answers (bottom-2 at left, top-2 at right)",
    )
    fig.update_yaxes(
        tickvals=list(range(len(frame))),
        ticktext=labels,
        range=[len(frame) - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
    )
    fig.update_layout(barmode="relative", bargap=0.3)
    return _finish(fig, title, subtitle, legend="top", height=_rows_height(len(frame), 52, 200))


def _likert_extent(parts: dict, left: bool) -> float:
    sides = [p[:3] if left else p[3:] for p in parts.values()]
    widest = max((sum(abs(length) for _, length, _ in side) for side in sides), default=0)
    return min(110.0, max(widest + 12, 25.0 if left else 50.0))


def _add_likert_trace(fig: go.Figure, shown: pd.DataFrame, parts: dict, k: int, labels) -> None:
    """One stacked segment (answer 1..5, or a half of answer 3) for every shown item."""
    ys = list(parts)
    answer = parts[ys[0]][k][0]
    fig.add_bar(
        x=[parts[i][k][1] for i in ys],
        y=ys,
        orientation="h",
        name=LIKERT_LABELS[answer - 1],
        legendgroup=str(answer),
        legendrank=answer,
        showlegend=k != 0,  # answer 3 is drawn twice; list it once
        marker_color=LIKERT_COLORS[answer - 1],
        width=0.62,
        customdata=[[shown.loc[i, "item"], parts[i][k][2], labels[i]] for i in ys],
        hovertemplate="<b>%{customdata[2]}</b><br>"
        f"{LIKERT_LABELS[answer - 1]}: %{{customdata[1]:.1f}}% of answers<extra></extra>",
    )


def _segment_label(row, segment: str, min_n: int) -> str:
    name = category_label(segment, getattr(row, segment))
    if row.suppressed:
        return _suppressed_label(name, row.n, min_n)
    rate = getattr(row, "response_rate", None)
    rate_text = "" if rate is None or pd.isna(rate) else f", response rate {rate:.0f}%"
    return f"{name} (n={int(row.n):,}{rate_text})"


def top2_by_segment(df: pd.DataFrame, segment: str, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """% positive (top-2-box) per segment for ONE survey item, with 95% Wilson intervals."""
    items = df["item"].dropna().unique() if df is not None and "item" in df else []
    if len(items) > 1:
        raise ValueError("top2_by_segment expects one survey item; filter the frame by item first")
    item = pretty(items[0]) if len(items) else "Survey item"
    title = f"% positive by {_dimension_label(segment)}: {item}"
    subtitle = (
        "% answering 4 or 5 · whiskers: 95% interval clustered by engagement · n = respondents "
        "· suppressed: below "
        f"{min_n} respondents, or hidden with it so the rest cannot give it away"
    )
    if _is_empty(df):
        return empty_figure(title)
    frame = df.assign(_shown=~df["suppressed"].astype(bool)).sort_values(
        ["_shown", "top2_pct", "n"], ascending=[False, False, False], kind="stable"
    )
    frame = frame.reset_index(drop=True)
    labels = [_segment_label(r, segment, min_n) for r in frame.itertuples()]
    shown = frame[frame["_shown"]]
    fig = go.Figure()
    fig.add_scatter(
        x=shown["top2_pct"],
        y=shown.index.tolist(),
        mode="markers",
        marker={"size": 11, "color": PALETTE[0]},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": (shown["top2_high"] - shown["top2_pct"]).tolist(),
            "arrayminus": (shown["top2_pct"] - shown["top2_low"]).tolist(),
            "color": PALETTE[0],
            "thickness": 2,
            "width": 4,
        },
        customdata=[
            [_raw(r[segment]), int(r["n"]), r["top2_low"], r["top2_high"], r["bottom2_pct"]]
            for _, r in shown.iterrows()
        ],
        hovertemplate="%{x:.1f}% positive (95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)"
        "<br>%{customdata[4]:.1f}% negative (1–2) · n = %{customdata[1]:,}<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title_text="% positive (top-2-box)", **_pct_axis(-1, 102), tick0=0, dtick=20)
    fig.update_yaxes(
        tickvals=list(range(len(frame))),
        ticktext=labels,
        range=[len(frame) - 0.5, -0.5],
        zeroline=False,
    )
    return _finish(fig, title, subtitle, height=_rows_height(len(frame)))


def post_vs_follow_up(df: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """Top-2-box % per item, post-engagement survey next to the follow-up survey."""
    title = "% positive: post-engagement vs follow-up survey"
    subtitle = (
        f"{wave_comparison(df)} · % answering 4 or 5 · whiskers: 95% interval clustered by "
        "engagement · n (respondents) in the hover"
    )
    if _is_empty(df):
        return empty_figure(title)
    if not (df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    items = list(dict.fromkeys(df["item"]))
    fig = go.Figure()
    for wave, offset, colour in (("post", -0.41, PALETTE[0]), ("follow_up", 0.02, PALETTE[1])):
        part = df[df["wave"] == wave].set_index("item")
        _add_wave_bars(fig, part, items, wave, offset, colour, min_n)
    fig.update_xaxes(
        tickvals=list(range(len(items))),
        ticktext=[pretty(i) for i in items],
        range=[-0.6, len(items) - 0.4],
        showgrid=False,
    )
    fig.update_yaxes(title_text="% positive (top-2-box)", **_pct_axis(0, 105))
    fig.update_layout(barmode="overlay")
    return _finish(fig, title, subtitle, legend="top", height=480)


LEVEL_LABELS = {
    "reaction": "Reaction",
    "learning": "Learning",
    "behaviour": "Behaviour",
    "results": "Results",
}
WAVE_WHEN = {"post": "right after", "follow_up": "at follow-up"}


def evidence_levels(df: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """% positive at each level of evidence (reaction, learning: right after; behaviour, results:
    at follow-up), one dot with its clustered 95% interval per level; never pooled."""
    title = "% positive by level of evidence"
    subtitle = (
        "Reaction (satisfaction) and learning (knowledge gain) right after; behaviour "
        "(operations change) and results (service delivery) self-reported at follow-up · "
        "whiskers: 95% interval clustered by engagement · n = respondents"
    )
    if _is_empty(df):
        return empty_figure(title)
    if not (df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    frame = df.reset_index(drop=True)
    labels = []
    for r in frame.itertuples():
        name = f"{LEVEL_LABELS.get(r.level, pretty(r.level))}: {pretty(r.item).lower()}, "
        name += WAVE_WHEN.get(r.wave, pretty(r.wave))
        labels.append(
            _suppressed_label(name, r.n, min_n) if r.suppressed else f"{name} (n={int(r.n):,})"
        )
    shown = frame[~frame["suppressed"].astype(bool) & (frame["n"] > 0)]
    fig = go.Figure()
    fig.add_scatter(
        x=shown["top2_pct"],
        y=shown.index.tolist(),
        mode="markers+text",
        text=[f"{v:.0f}%" for v in shown["top2_pct"]],
        textposition="top center",
        marker={
            "size": 12,
            "color": [PALETTE[0] if w == "post" else PALETTE[1] for w in shown["wave"]],
        },  # fmt: skip
        error_x={
            "type": "data",
            "symmetric": False,
            "array": (shown["top2_high"] - shown["top2_pct"]).tolist(),
            "arrayminus": (shown["top2_pct"] - shown["top2_low"]).tolist(),
            "color": INK,
            "thickness": 2,
            "width": 4,
        },
        customdata=[
            [r["level"], int(r["n"]), r["top2_low"], r["top2_high"]] for _, r in shown.iterrows()
        ],
        hovertemplate="%{x:.1f}% positive (95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)"
        "<br>n = %{customdata[1]:,} respondents<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title_text="% positive (answering 4 or 5)", **_pct_axis(-1, 102), tick0=0,
                     dtick=20)  # fmt: skip
    fig.update_yaxes(
        tickvals=list(range(len(frame))),
        ticktext=labels,
        range=[len(frame) - 0.5, -0.5],
        zeroline=False,
    )
    return _finish(fig, title, subtitle, height=_rows_height(len(frame), 56, 200))


def wave_comparison(df: pd.DataFrame) -> str:
    """What a post vs follow-up frame compares: the matched engagements (with their number) or,
    labelled as such, every answer of each wave."""
    if df is None or "matched" not in df or df.empty:
        return "Unmatched: every answer of each wave"
    per_wave = df.groupby("wave", sort=False)["engagements"].first()
    if bool(df["matched"].iloc[0]):
        n = int(per_wave.max())
        return f"Matched: the {_plural(n, 'engagement')} answered in both waves"
    post, follow = int(per_wave.get("post", 0)), int(per_wave.get("follow_up", 0))
    return (
        f"Unmatched: every answer of each wave ({_plural(post, 'engagement')} right after, "
        f"{_plural(follow, 'engagement')} at follow-up; not the same engagements)"
    )


def _add_wave_bars(fig, part, items, wave, offset, colour, min_n) -> None:
    shown = [i for i in items if i in part.index and not bool(part.loc[i, "suppressed"])]
    xs = [items.index(i) for i in shown]
    rows = part.loc[shown]
    fig.add_bar(
        x=xs,
        y=rows["top2_pct"],
        offset=offset,
        width=0.39,
        name=WAVE_TITLES[wave],
        marker_color=colour,
        error_y={
            "type": "data",
            "symmetric": False,
            "array": (rows["top2_high"] - rows["top2_pct"]).tolist(),
            "arrayminus": (rows["top2_pct"] - rows["top2_low"]).tolist(),
            "color": INK,
            "thickness": 1.5,
            "width": 4,
        },
        texttemplate="%{y:.0f}%",
        textposition="inside",
        insidetextanchor="start",
        customdata=[
            [i, int(part.loc[i, "n"]), part.loc[i, "top2_low"], part.loc[i, "top2_high"]]
            for i in shown
        ],
        hovertemplate=f"<b>{WAVE_TITLES[wave]}</b><br>%{{y:.1f}}% positive "
        "(95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)<br>n = %{customdata[1]:,}"
        "<extra></extra>",
    )
    for i in items:
        if i in part.index and bool(part.loc[i, "suppressed"]):
            fig.add_annotation(
                x=items.index(i) + offset + 0.195,
                y=0,
                yanchor="bottom",
                text=f"suppressed<br>(n={int(part.loc[i, 'n']):,} < {min_n})",
                showarrow=False,
                font={"size": 11, "color": MUTED},
            )


# -- pipeline -------------------------------------------------------------------------------------


def funnel(df: pd.DataFrame) -> go.Figure:
    """Requests reaching each stage, with the share of all requests."""
    title = "Requests through the pipeline"
    subtitle = "Declined and withdrawn requests leave after 'Requested'"
    if _is_empty(df) or not df["requests"].iloc[0]:
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
    fig.update_yaxes(title_text=None)
    return _finish(fig, title, subtitle, height=380)


TIMELINESS_STAGES = (
    ("days_to_start", "Request to start", "started", PALETTE[0]),
    ("days_start_to_completion", "Start to completion", "completed", PALETTE[1]),
)
TIMELINESS_BAR = 0.38  # bar thickness in rows; the two bars of a row sit either side of it


def timeliness(df: pd.DataFrame, by: str | None = None) -> go.Figure:
    """Median days request→start and start→completion; whiskers reach the 90th percentile.

    Every bar is labelled with its median at the end of the bar (not of the whisker, which would
    read as the median of the 90th percentile): above the whisker for the upper bar of a row,
    below it for the lower one, so a label never sits on a whisker and stays readable however
    short the bar. The x axis leaves room for those labels."""
    column = by or "segment"
    title = "Days to start and to complete" + (f" by {_dimension_label(by)}" if by else "")
    subtitle = "Bars and labels: median days · whiskers: 90th percentile"
    if _is_empty(df, "started"):
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
                [_raw(v), _raw(p), int(c), name]
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
    fig.update_yaxes(
        tickvals=rows,
        ticktext=labels,
        range=[len(df) - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        title_text=None,
    )
    # Room right of the longest whisker for its label (~60 px in a half-width chart).
    fig.update_xaxes(title_text="Days", tickformat=",d", range=[0, widest * 1.22])
    fig.update_layout(barmode="overlay")
    return _finish(fig, title, subtitle, legend="top", height=_rows_height(len(df), 64, 180))


def _days_label(days: float) -> str:
    """' 83 days' (the leading space keeps it off the whisker cap); 'none' without a value."""
    if pd.isna(days):
        return " none"
    return f" {days:,.0f} {'day' if round(days) == 1 else 'days'}"


# -- export helpers -------------------------------------------------------------------------------


def with_context(
    fig: go.Figure,
    filter_sentence: str,
    data_date: object,
    is_demo: bool,
    source: str = "Source: CRI-TAC engagement records",
    background: str | None = palette.BACKGROUND,
) -> go.Figure:
    """A copy of ``fig`` that stands on its own as an image: the filter sentence and data date as a
    footer, and a 'SYNTHETIC DEMO DATA' label when ``is_demo``. ``background`` makes the paper
    opaque (exported images are often viewed on a dark or checkered background); None keeps it.
    A figure that already carries its context (a report figure shown in the app) is returned as is.
    """
    if any(a.name == "context-footer" for a in fig.layout.annotations):
        return fig
    out = go.Figure(fig.to_dict(), _validate=False)  # a deep copy of a figure validated once
    margin = out.layout.margin
    bottom = (margin.b if margin.b is not None else 48) + _tick_label_depth(out)
    date_text = f"{data_date:%d %b %Y}" if hasattr(data_date, "strftime") else str(data_date)
    # Short lines, so the footer fits a phone-width (390 px) chart as well as a slide.
    lines = wrap_subtitle(html.escape(filter_sentence, quote=False), FOOTER_WIDTH).split("<br>")
    lines += [f"Data as of {date_text}", html.escape(source, quote=False)]
    out.update_layout(margin={"b": bottom + 14 + FOOTER_LINE * len(lines)})
    out.add_annotation(
        text="<br>".join(lines),
        # Right-aligned to the plot's right edge, which sits a fixed margin from the figure's
        # edge; the left edge of the plot moves with the width of the category labels.
        xref="paper",
        yref="paper",
        x=1,
        y=0,
        xanchor="right",
        yanchor="top",
        yshift=-bottom - 4,
        align="right",
        showarrow=False,
        font={"size": 11, "color": INK},
        name="context-footer",
    )
    if is_demo:
        # The label gets a row of its own above the title: beside it, a long title in a
        # half-width chart ran underneath the label.
        top = (margin.t or 64) + DEMO_ROW
        pad = out.layout.title.pad.t if out.layout.title.pad.t is not None else TITLE_PAD_TOP
        out.update_layout(margin={"t": top}, title={"pad": {"t": pad + DEMO_ROW}})
        out.add_annotation(
            text="<b>SYNTHETIC DEMO DATA</b>",
            xref="paper",
            yref="paper",
            x=1,
            y=1,
            xanchor="right",
            yanchor="bottom",
            yshift=top - DEMO_ROW - 4,
            showarrow=False,
            font={"size": 12, "color": WARNING},
            bordercolor=WARNING,
            borderwidth=1.5,
            borderpad=4,
            name="demo-label",
        )
    if background:
        out.update_layout(paper_bgcolor=background, plot_bgcolor=background)
    return out


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
        labels = list(dict.fromkeys(str(v) for t in fig.data for v in (t.x or ())))
    if len(labels) <= 4:
        return 0
    longest = max(len(re.sub(r"<[^>]+>", "", str(label))) for label in labels)
    return max(0, TICK_CHAR_PX * longest - 20)  # 20 px: one line of labels is in the margin


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:80].strip("-")
    return slug or "chart"


def modebar_config(filename: str, width: int | None = None, height: int | None = None) -> dict:
    """``config=`` for st.plotly_chart / write_html: PNG download at 2x, no Plotly logo.

    Without width/height the image has the chart's on-screen size.
    """
    options: dict = {"format": "png", "filename": slugify(filename), "scale": 2}
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
]  # fmt: skip


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
    fig.update_xaxes(title_text="% of agencies served", range=[0, top * 1.25 or 1], ticksuffix="%")
    fig.update_yaxes(title_text=None, automargin=True)
    return _finish(fig, title, subtitle)


def _wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]


# Every figure builder above (a public function that returns a go.Figure, except with_context,
# which decorates a figure it is given) is memoised by the contents of its arguments
# (figure_cache.memoize): the same metric result drawn again (another viewer, a widget that changes
# one chart of a page, a revisit, the report) costs a copy of the figure instead of building and
# validating it again. ``builder.uncached`` is the builder itself.
MEMOISED = tuple(
    name
    for name, value in list(globals().items())
    if callable(value)
    and getattr(value, "__module__", None) == __name__
    and not name.startswith("_")
    and name != "with_context"
    and getattr(value, "__annotations__", {}).get("return") in ("go.Figure", go.Figure)
)
for _name in MEMOISED:
    globals()[_name] = figure_cache.memoize(globals()[_name])
del _name
