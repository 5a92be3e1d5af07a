"""Survey outcomes: answers per item (``likert_diverging``), % positive by segment, post-engagement
against follow-up, and by level of evidence. A suppressed row (too few respondents) gets a grey
label with its n and never a percentage."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import figure_cache
from ..dimensions import humanised, value_label
from ..metrics import DEFAULT_MIN_N
from ..words import plural
from .layout import (
    NO_ANSWERS_MESSAGE,
    category_label,
    centred_note,
    dimension_label,
    empty_figure,
    finish,
    is_empty,
    raw_value,
    rows_height,
)
from .theme import INK, LIKERT_COLORS, LIKERT_LABELS, MUTED, PALETTE

# Per shown item (by row): (answer, signed bar length, shown %) for its six segments.
LikertParts = dict[int, list[tuple[int, float, float]]]


def _muted(text: str) -> str:
    return f'<span style="color:{MUTED}">{text}</span>'


def _suppressed_label(name: str, n: float | None, min_n: int) -> str:
    """A suppressed row's label; a breakdown hides the n of its suppressed rows (None/NaN)."""
    if n is None or pd.isna(n):
        return _muted(f"{name} — suppressed")
    return _muted(f"{name} — suppressed (n={int(n):,} < {min_n})")


def _pct_axis(low: float = 0, high: float = 100) -> dict[str, Any]:
    """Percent values 0–100 (not fractions). Plotly drops ticksuffix with tickvals: use dtick."""
    return {"range": [low, high], "ticksuffix": "%", "tickformat": ".0f"}


TICKS_20 = {"tick0": 0, "dtick": 20}  # a tick every 20 %


def _rows_axis(labels: list[str]) -> dict[str, Any]:
    """A y axis with one labelled row per item, the first at the top."""
    n = len(labels)
    return {"tickvals": list(range(n)), "ticktext": labels, "range": [n - 0.5, -0.5],
            "zeroline": False}  # fmt: skip


def _likert_parts(row: dict[str, Any]) -> list[tuple[int, float, float]]:
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


@figure_cache.memoize
def likert_diverging(
    item_df: pd.DataFrame, wave: str = "post", min_n: int = DEFAULT_MIN_N
) -> go.Figure:
    """Diverging stacked bars per survey item (Heiberger & Robbins): 1–2 left, 3 split, 4–5 right.

    Suppressed items get a grey label with their n and no bar: no percentage is ever drawn for them.
    """
    title = f"{value_label('wave', wave)}: answers by item"
    subtitle = "% of answers; 1–2 left of zero, 3 split across it, 4–5 right"
    if is_empty(item_df):
        return empty_figure(title)
    if not (item_df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    frame = item_df.reset_index(drop=True)
    shown = frame[~frame["suppressed"].astype(bool)]
    labels = [
        _suppressed_label(value_label("item", r.item), int(r.n), min_n)
        if r.suppressed
        else f"{value_label('item', r.item)} (n={int(r.n):,})"
        for r in frame.itertuples()
    ]
    # Plain records (index -> row), not iterrows/.loc: a Series per row and a lookup per cell
    # were most of the chart's time outside plotly.
    records: dict[int, dict[str, Any]] = dict(
        zip(shown.index, shown.to_dict("records"), strict=True)
    )
    parts = {i: _likert_parts(row) for i, row in records.items()}
    fig = go.Figure()
    for k in range(6 if parts else 0):
        _add_likert_trace(fig, {i: row["item"] for i, row in records.items()}, parts, k, labels)
    ends_out = []
    for i, row in records.items():
        # Bottom-2 % at the left end of the bar, top-2 % at the right end.
        left_end = sum(length for _, length, _ in parts[i][:3])
        right_end = sum(length for _, length, _ in parts[i][3:])
        ends = (
            (left_end, f"{row['bottom2_pct']:.0f}%", "right", -4),
            (right_end, f"<b>{row['top2_pct']:.0f}%</b>", "left", 4),
        )
        for x, text, side, shift in ends:
            ends_out.append(
                {"x": x, "y": i, "text": text, "xanchor": side, "xshift": shift, "showarrow": False}
            )
    if not parts:
        message = f"Every item is suppressed: fewer than {min_n} respondents each"
        ends_out.append(
            {"text": message, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
             "showarrow": False}
        )  # fmt: skip
    notes = {"annotations": ends_out} if ends_out else {}
    ticks = list(range(-100, 101, 25))
    return finish(
        fig,
        title,
        subtitle,
        legend="top",
        height=rows_height(len(frame), 52, 200),
        xaxis={
            "range": [-_likert_extent(parts, left=True), _likert_extent(parts, left=False)],
            "tickvals": ticks,
            "ticktext": [f"{abs(t)}%" for t in ticks],
            "zeroline": False,
            "title": {"text": "% of answers (bottom-2 at left, top-2 at right)"},
        },
        yaxis={**_rows_axis(labels), "showgrid": False},
        layout={"barmode": "relative", "bargap": 0.3, "shapes": [ZERO_LINE], **notes},
    )


# The line at 0 % (what ``fig.add_vline(x=0, line=...)`` adds, as plain data: add_vline took a
# third of the chart's time).
ZERO_LINE = {
    "type": "line",
    "x0": 0,
    "x1": 0,
    "xref": "x",
    "y0": 0,
    "y1": 1,
    "yref": "y domain",
    "line": {"color": INK, "width": 1},
}


def _likert_extent(parts: LikertParts, left: bool) -> float:
    sides = [p[:3] if left else p[3:] for p in parts.values()]
    widest = max((sum(abs(length) for _, length, _ in side) for side in sides), default=0)
    return min(110.0, max(widest + 12, 25.0 if left else 50.0))


def _add_likert_trace(
    fig: go.Figure, items: dict[int, str], parts: LikertParts, k: int, labels: list[str]
) -> None:
    """One stacked segment (answer 1..5, or a half of answer 3) for every shown item (``items``:
    row -> item)."""
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
        customdata=[[items[i], parts[i][k][2], labels[i]] for i in ys],
        hovertemplate="<b>%{customdata[2]}</b><br>"
        f"{LIKERT_LABELS[answer - 1]}: %{{customdata[1]:.1f}}% of answers<extra></extra>",
    )


def _columns(frame: pd.DataFrame, *names: str) -> zip[tuple[Any, ...]]:
    """The values of ``names``, row by row, as Python scalars (``tolist``): what ``iterrows``
    gave, without a Series per row."""
    return zip(*(frame[name].tolist() for name in names), strict=True)


def _segment_label(row: Any, segment: str, min_n: int) -> str:  # row: an itertuples() row
    name = category_label(segment, getattr(row, segment))
    if row.suppressed:
        return _suppressed_label(name, row.n, min_n)
    rate = getattr(row, "response_rate", None)
    rate_text = "" if rate is None or pd.isna(rate) else f", response rate {rate:.0f}%"
    return f"{name} (n={int(row.n):,}{rate_text})"


def all_suppressed_message(segment: str, min_n: int) -> str:
    """Why a chart by ``segment`` shows no dot at all."""
    return (
        f"Nothing to show: every {dimension_label(segment)} here<br>has fewer than {min_n} "
        "respondents<br>or is hidden with one that has"
    )


@figure_cache.memoize
def top2_by_segment(df: pd.DataFrame, segment: str, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """% positive (top-2-box) per segment for ONE survey item, with 95% Wilson intervals."""
    items = df["item"].dropna().unique() if df is not None and "item" in df else []
    if len(items) > 1:
        raise ValueError("top2_by_segment expects one survey item; filter the frame by item first")
    item = value_label("item", items[0]) if len(items) else "Survey item"
    title = f"% positive by {dimension_label(segment)}: {item}"
    subtitle = (
        "% answering 4 or 5 · whiskers: 95% interval clustered by engagement · n = respondents "
        "· suppressed: below "
        f"{min_n} respondents, or hidden with it so the rest cannot give it away"
    )
    if is_empty(df):
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
            [raw_value(value), int(n), low, high, bottom]
            for value, n, low, high, bottom in _columns(
                shown, segment, "n", "top2_low", "top2_high", "bottom2_pct"
            )
        ],
        hovertemplate="%{x:.1f}% positive (95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)"
        "<br>%{customdata[4]:.1f}% negative (1–2) · n = %{customdata[1]:,}<extra></extra>",
        showlegend=False,
    )
    if shown.empty:  # otherwise an empty grid: say why, with no figure from a hidden row
        centred_note(fig, all_suppressed_message(segment, min_n))
    return finish(
        fig,
        title,
        subtitle,
        height=rows_height(len(frame)),
        xaxis={"title": {"text": "% positive (top-2-box)"}, **_pct_axis(-1, 102), **TICKS_20},
        yaxis=_rows_axis(labels),
    )


@figure_cache.memoize
def post_vs_follow_up(df: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """Top-2-box % per item, post-engagement survey next to the follow-up survey."""
    title = "% positive: post-engagement vs follow-up survey"
    subtitle = (
        f"{wave_comparison(df)} · % answering 4 or 5 · whiskers: 95% interval clustered by "
        "engagement · n (respondents) in the hover"
    )
    if is_empty(df):
        return empty_figure(title)
    if not (df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    items = list(dict.fromkeys(df["item"]))
    fig = go.Figure()
    for wave, offset, colour in (("post", -0.41, PALETTE[0]), ("follow_up", 0.02, PALETTE[1])):
        part = df[df["wave"] == wave].set_index("item")
        _add_wave_bars(fig, part, items, wave, offset, colour, min_n)
    return finish(
        fig,
        title,
        subtitle,
        legend="top",
        height=480,
        xaxis={
            "tickvals": list(range(len(items))),
            "ticktext": [value_label("item", i) for i in items],
            "range": [-0.6, len(items) - 0.4],
            "showgrid": False,
        },
        yaxis={"title": {"text": "% positive (top-2-box)"}, **_pct_axis(0, 105)},
        layout={"barmode": "overlay"},
    )


LEVEL_LABELS = {
    "reaction": "Reaction",
    "learning": "Learning",
    "behaviour": "Behaviour",
    "results": "Results",
}
WAVE_WHEN = {"post": "right after", "follow_up": "at follow-up"}


@figure_cache.memoize
def evidence_levels(df: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> go.Figure:
    """% positive at each level of evidence (reaction, learning: right after; behaviour, results:
    at follow-up), one dot with its clustered 95% interval per level; never pooled."""
    title = "% positive by level of evidence"
    subtitle = (
        "Reaction (satisfaction) and learning (knowledge gain) right after; behaviour "
        "(operations change) and results (service delivery) self-reported at follow-up · "
        "whiskers: 95% interval clustered by engagement · n = respondents"
    )
    if is_empty(df):
        return empty_figure(title)
    if not (df["n"] > 0).any():
        return empty_figure(title, NO_ANSWERS_MESSAGE)
    frame = df.reset_index(drop=True)
    labels = []
    for r in frame.itertuples():
        name = f"{LEVEL_LABELS.get(r.level, humanised(r.level))}: {value_label('item', r.item).lower()}, "
        name += WAVE_WHEN.get(r.wave, value_label("wave", r.wave))
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
        cliponaxis=False,  # the top row's label and a 100% label reach past the axes
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
            [level, int(n), low, high]
            for level, n, low, high in _columns(shown, "level", "n", "top2_low", "top2_high")
        ],
        hovertemplate="%{x:.1f}% positive (95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)"
        "<br>n = %{customdata[1]:,} respondents<extra></extra>",
        showlegend=False,
    )
    return finish(
        fig,
        title,
        subtitle,
        height=rows_height(len(frame), 56, 200),
        xaxis={
            "title": {"text": "% positive (answering 4 or 5)"},
            **_pct_axis(-1, 102),
            **TICKS_20,
        },
        yaxis=_rows_axis(labels),
    )


def wave_comparison(df: pd.DataFrame) -> str:
    """What a post vs follow-up frame compares: the matched engagements (with their number) or,
    labelled as such, every answer of each wave."""
    if df is None or "matched" not in df or df.empty:
        return "Unmatched: every answer of each wave"
    per_wave = df.groupby("wave", sort=False)["engagements"].first()
    if bool(df["matched"].iloc[0]):
        n = int(per_wave.max())
        return f"Matched: the {plural(n, 'engagement')} answered in both waves"
    post, follow = int(per_wave.get("post", 0)), int(per_wave.get("follow_up", 0))
    return (
        f"Unmatched: every answer of each wave ({plural(post, 'engagement')} right after, "
        f"{plural(follow, 'engagement')} at follow-up; not the same engagements)"
    )


def _add_wave_bars(
    fig: go.Figure,
    part: pd.DataFrame,
    items: list[str],
    wave: str,
    offset: float,
    colour: str,
    min_n: int,
) -> None:
    records: dict[str, dict[str, Any]] = part.to_dict("index")  # item -> its row
    shown = [i for i in items if i in records and not bool(records[i]["suppressed"])]
    xs = [items.index(i) for i in shown]
    rows = part.loc[shown]
    fig.add_bar(
        x=xs,
        y=rows["top2_pct"],
        offset=offset,
        width=0.39,
        name=value_label("wave", wave),
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
            [i, int(records[i]["n"]), records[i]["top2_low"], records[i]["top2_high"]]
            for i in shown
        ],
        hovertemplate=f"<b>{value_label('wave', wave)}</b><br>%{{y:.1f}}% positive "
        "(95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%)<br>n = %{customdata[1]:,}"
        "<extra></extra>",
    )
    for i in items:
        if i in records and bool(records[i]["suppressed"]):
            fig.add_annotation(
                x=items.index(i) + offset + 0.195,
                y=0,
                yanchor="bottom",
                text=f"suppressed<br>(n={int(records[i]['n']):,} < {min_n})",
                showarrow=False,
                font={"size": 11, "color": MUTED},
            )
