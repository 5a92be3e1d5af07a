"""Presenter exports: a 16:9 PowerPoint deck and one self-contained, offline HTML file.

``collect()`` runs the metrics once for a selection and sections; ``build_deck()`` and ``build_html()``
draw the same content. Everything that leaves the app explains itself: every chart carries its title,
the filter sentence, the data date and the source (``charts.with_context``), a one-line takeaway
computed from the data, and its numbers as text (speaker notes, HTML tables). Synthetic demo data is
labelled on the title slide, on every chart image and in the HTML.

Outcome figures come only from the metric functions, which suppress anything built on fewer than
``min_n`` respondents; a suppressed figure is written as "suppressed (n < 5)" and never recomputed here.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Inches, Pt

from . import charts, metrics, palette, registry, render, schema, store
from .filters import Filters
from .text import without_controls

T = TypeVar("T")

SECTIONS: dict[str, str] = {
    "overview": "Overview",
    "trends": "Trends",
    "topics": "Topics",
    "reach": "Agencies & reach",
    "outcomes": "Survey outcomes",
    "pipeline": "Pipeline & timeliness",
}
FORMATS = ("pptx", "html")
DEMO_LABEL = "SYNTHETIC DEMO DATA"
DEMO_NOTE = (
    "Every record behind these figures is invented for demonstration; no engagement-level CRI-TAC "
    "data is public."
)
SOURCE = "Source: CRI-TAC engagement records"
REPORT_TITLE = "CRI-TAC impact report"
NO_DATA = "No engagements match these filters"

# Chart images: layout pixels (x2 for the PNG), sized to the slide's picture area so text reads at
# about 10–11 pt on the slide.
IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE = 1100, 520, 2
FOOTER_PX = 62  # what charts.with_context adds below the plot
TOP_TOPICS = 12
TREND_TOPICS = 5
OUTCOME_ITEM = "satisfaction"


class ExportError(RuntimeError):
    """A report could not be produced (the message is meant for the user)."""


def check_sections(sections: Iterable[str] | None) -> tuple[str, ...]:
    """The sections in catalogue order (all when none are given); unknown names raise ValueError."""
    chosen = list(dict.fromkeys(sections or ()))
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise ValueError(
            f"unknown section {', '.join(map(repr, unknown))}; choose from {', '.join(SECTIONS)}"
        )
    if not chosen:
        return tuple(SECTIONS)
    return tuple(s for s in SECTIONS if s in chosen)


# -- content --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A chart's numbers as formatted text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def lines(self) -> list[str]:
        """One line per row: 'first cell: column value · column value' (blank cells left out)."""
        out = []
        for row in self.rows:
            cells = [f"{c}: {v}" for c, v in zip(self.columns[1:], row[1:], strict=True) if v]
            out.append(f"{row[0]}: " + " · ".join(cells) if cells else row[0])
        if self.note:
            out.append(self.note)
        return out


@dataclass(frozen=True)
class Chart:
    key: str
    section: str
    title: str  # plain text
    takeaway: str
    figure: go.Figure  # with the context footer (and demo label)
    table: Table


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    value: str
    change: str  # '' when there is nothing to compare with
    previous: str
    description: str
    compared: str = ""  # the figure of the span the change is measured on
    span: str = ""  # what the change compares: 'FY2027 to 31 Oct vs FY2026 to 31 Oct'

    @property
    def change_line(self) -> str:
        """'-9 FY2027 to 31 Oct vs FY2026 to 31 Oct (34 → 25)', '' when nothing is compared."""
        if not self.change:
            return ""
        return f"{self.change} {self.span} ({self.previous} → {self.compared})"


@dataclass(frozen=True)
class Report:
    filters: Filters
    sentence: str
    data_date: dt.date | None
    is_demo: bool
    sections: tuple[str, ...]
    kpis: tuple[Kpi, ...]
    comparison: str
    charts: tuple[Chart, ...]
    min_n: int
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    @property
    def data_date_text(self) -> str:
        return _day(self.data_date) if self.data_date else "unknown"

    def file_name(self, fmt: str) -> str:
        slug = charts.slugify(self.filters.describe(""))
        return f"critac-report-{slug}.{fmt}"


def collect(
    con,
    filters: Filters,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Report:
    """Run the metrics for the chosen sections (all by default) and build every chart once."""
    chosen = check_sections(sections)
    context = _Context(con, filters, min_n, store.data_date(con), store.is_demo(con))
    built = [
        _chart(context, section, builder)
        for section in chosen
        for builder in SECTION_CHARTS[section]
    ]
    kpis, comparison = _kpis(context)
    return Report(
        filters=filters,
        sentence=context.sentence,
        data_date=context.date,
        is_demo=context.is_demo,
        sections=chosen,
        kpis=kpis,
        comparison=comparison,
        charts=tuple(built),
        min_n=min_n,
    )


def preview(
    con,
    filters: Filters,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Chart | None:
    """The first chart of the chosen sections exactly as it will be exported (None if no charts)."""
    chosen = check_sections(sections)
    context = _Context(con, filters, min_n, store.data_date(con), store.is_demo(con))
    return _chart(context, chosen[0], SECTION_CHARTS[chosen[0]][0]) if chosen else None


def _chart(context: _Context, section: str, builder: Callable) -> Chart:
    key, fig, takeaway, table = builder(context)
    return Chart(
        key=key,
        section=section,
        title=_plain(fig.layout.title.text or key),
        takeaway=takeaway,
        figure=charts.with_context(
            fig, context.sentence, context.date_text, context.is_demo, source=SOURCE
        ),
        table=table,
    )


class _Context:
    """What the chart builders share: the connection, the selection and a few cached queries."""

    def __init__(self, con, filters: Filters, min_n: int, date: dt.date | None, is_demo: bool):
        self.con, self.filters, self.min_n, self.date, self.is_demo = (
            con,
            filters,
            min_n,
            date,
            is_demo,
        )
        # Text from the store is cleaned of control characters (which PowerPoint's XML and the
        # chart renderer refuse): imports reject them, but a store written by older code may hold some.
        self.sentence = without_controls(filters.describe())
        self.date_text = _day(date) if date else "unknown"
        self.suppressed = f"suppressed (n < {min_n})"
        self._cache: dict = {}

    def get(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(con, filters, *args, **kwargs)`` for a function of metrics, once per report."""
        key = (f"{fn.__module__}.{fn.__qualname__}", args, tuple(sorted(kwargs.items())))
        if key not in self._cache:
            self._cache[key] = without_controls(fn(self.con, self.filters, *args, **kwargs))
        result: T = self._cache[key]
        return result

    @property
    def engagements(self) -> int:
        return int(self.get(metrics.headline)["engagements"] or 0)

    @property
    def grain(self) -> str:
        """Months for up to 18 months of data, quarters up to 4 years, else fiscal years."""
        months = len(self.get(metrics.volume_series, "month"))
        return "month" if months <= 18 else "quarter" if months <= 48 else "fiscal_year"

    def partial(self, period_start, grain: str) -> bool:
        """True when the period runs past the data date (its figures are not complete)."""
        if self.date is None:
            return False
        start = pd.Timestamp(period_start)
        months = {"month": 1, "quarter": 3, "fiscal_year": 12}[grain]
        end = (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()
        return end > self.date and (self.filters.end is None or self.filters.end > self.date)


# -- formatting -----------------------------------------------------------------------------------


def _day(day) -> str:
    day = pd.Timestamp(day)
    return f"{day.day} {day:%b %Y}"


def _month(day) -> str:
    return f"{pd.Timestamp(day):%b %Y}"


def _count(value) -> str:
    return registry.format_value(None if pd.isna(value) else float(value), "count")


def _pct(value) -> str:
    return registry.format_value(None if value is None or pd.isna(value) else float(value), "pct")


def _share(part: float, whole: float) -> str:
    """A rounded share for takeaways ('14%'); '<1%' rather than a misleading '0%'."""
    if not whole:
        return "–"
    share = part / whole * 100
    return "<1%" if 0 < share < 0.5 else f"{share:.0f}%"


def _days(value) -> str:
    return registry.format_value(None if value is None or pd.isna(value) else float(value), "days")


def _plain(text: str) -> str:
    """Plotly pseudo-HTML to plain text."""
    return html.unescape(re.sub(r"<[^>]+>", " ", str(text))).replace("  ", " ").strip()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def _agency_type(value) -> str:
    """'tribal' -> 'tribal agencies'; 'other' -> 'other agency types'."""
    return "other agency types" if value == "other" else f"{charts.pretty(value).lower()} agencies"


def _item(name: str) -> str:
    return charts.pretty(name)


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _leaders(
    frame: pd.DataFrame, value: str, name: Callable[[object], str]
) -> tuple[list[str], int]:
    """The names sharing the largest ``value`` (ties are all named) and that value."""
    top = int(frame[value].max())
    return [name(v) for v in frame.loc[frame[value] == top].index], top


def _most(names: list[str], top: int, noun: str, superlative: str, total: int | None) -> str:
    """'De-escalation was the most requested topic: 273 engagements, 14% of all', with ties named
    ('A and B were the most requested topics: 120 engagements each, ...') or counted (4 or more)."""
    share = f", {_share(top, total)} of all" if total else ""
    if len(names) == 1:
        return f"{names[0]} was the {superlative} {noun}: {_plural(top, 'engagement')}{share}"
    each = f"{_plural(top, 'engagement')} each{share + ' each' if share else ''}"
    if len(names) <= 3:
        return f"{_join(names)} were the {superlative} {noun}s: {each}"
    return f"{len(names)} {noun}s tie as the {superlative}: {each}"


def _range(values: Sequence[float]) -> str:
    low, high = round(min(values)), round(max(values))
    return f"{low}%" if low == high else f"{low}–{high}%"


def _positive(row, suppressed: str) -> str:
    """'% positive (95% CI)' for a metric row, or the suppression text; never a suppressed value."""
    if bool(row["suppressed"]):
        return suppressed
    if row["top2_pct"] is None or pd.isna(row["top2_pct"]):
        return "no answers"
    return f"{_pct(row['top2_pct'])} (95% CI {row['top2_low']:.1f}–{row['top2_high']:.1f}%)"


# -- the charts of each section -------------------------------------------------------------------

Built = tuple[str, go.Figure, str, Table]


def _cumulative(ctx: _Context) -> Built:
    cum = ctx.get(metrics.cumulative_engagements)
    ms = ctx.get(metrics.milestones)
    fig = charts.cumulative(cum, ms)
    if cum.empty:
        return "cumulative", fig, NO_DATA, Table(("Engagement", "Requested on", "Agency"), ())
    total = int(cum["cumulative"].iloc[-1])
    first, last = cum["requested_on"].iloc[0], cum["requested_on"].iloc[-1]
    takeaway = f"{_plural(total, 'engagement')} requested from {_month(first)} to {_month(last)}"
    big = ms[ms["milestone"] >= 100]
    if len(big):
        top = big.iloc[-1]
        takeaway += f"; the {_ordinal(int(top['milestone']))} came in {_month(top['requested_on'])}"
    rows = tuple(
        (f"{_ordinal(int(r.milestone))} engagement", _day(r.requested_on), str(r.agency_name))
        for r in ms.itertuples()
    )
    note = f"{_plural(total, 'engagement')} in all; the latest requested on {_day(last)}."
    return "cumulative", fig, takeaway, Table(("Engagement", "Requested on", "Agency"), rows, note)


def _volume(ctx: _Context) -> Built:
    grain = ctx.grain
    series = ctx.get(metrics.volume_series, grain)
    fig = charts.volume_trend(series, grain)
    columns = ("Period", "Requests", "Engagements", "Completed")
    if series.empty or not series["requests"].sum():
        return "volume", fig, NO_DATA, Table(columns, ())
    noun = charts.GRAIN_NOUNS[grain]
    names, top = _leaders(series.set_index("period"), "engagements", str)
    total = int(series["engagements"].sum())
    if not total:
        requests = _plural(int(series["requests"].sum()), "request")
        takeaway = f"No engagements: {requests} matched, none became an engagement"
    elif len(names) == 1:
        takeaway = f"{names[0]} was the busiest {noun}: {top:,} of {_plural(total, 'engagement')}"
    elif len(names) <= 3:
        takeaway = f"{_join(names)} were the busiest {noun}s: {_plural(top, 'engagement')} each"
    else:
        takeaway = (
            f"No {noun} stood out: at most {_plural(top, 'engagement')} in any {noun}, "
            f"{total:,} in all"
        )
    rows = tuple(
        (
            r.period + (" (partial)" if ctx.partial(r.period_start, grain) else ""),
            _count(r.requests),
            _count(r.engagements),
            _count(r.completed),
        )
        for r in series.itertuples()
    )
    note = (
        f"(partial): the {noun} runs past the data date ({ctx.date_text})."
        if any("(partial)" in r[0] for r in rows)
        else ""
    )
    return "volume", fig, takeaway, Table(columns, rows, note)


def _topic_trend(ctx: _Context) -> Built:
    grain = ctx.grain
    topics = ctx.get(metrics.breakdown, "topic")
    top = tuple(topics.loc[topics["engagements"] > 0, "topic"].head(TREND_TOPICS))
    series = ctx.get(metrics.series_by, grain, "topic", only=top)
    fig = charts.series_by_dimension(series, "topic", grain)
    if series.empty or not series["engagements"].sum():
        return "topic_trend", fig, NO_DATA, Table(("Period",), ())
    wide = series.pivot_table(
        index=["period", "period_start"], columns="topic", values="engagements", aggfunc="sum"
    ).reset_index()
    # The topic that led most periods (a tie for first leads nobody).
    led = {t: 0 for t in top}
    for _, r in wide.iterrows():
        best = max(r[t] for t in top)
        winners = [t for t in top if r[t] == best]
        if best > 0 and len(winners) == 1:
            led[winners[0]] += 1
    leader = max(top, key=lambda t: (led[t], -top.index(t)))
    noun = charts.GRAIN_NOUNS[grain]
    largest = f"the {len(top)} largest topics" if len(top) > 1 else "the only topic"
    if led[leader]:
        takeaway = (
            f"{leader} led {largest} in {led[leader]} of {_plural(len(wide), noun)}"
            if len(top) > 1
            else f"{leader} was {largest}, with engagements in {led[leader]} of "
            f"{_plural(len(wide), noun)}"
        )
    else:
        takeaway = f"No single topic led {largest} in any {noun}"
    rows = tuple(
        (
            r["period"] + (" (partial)" if ctx.partial(r["period_start"], grain) else ""),
            *(_count(r[t]) for t in top),
        )
        for _, r in wide.iterrows()
    )
    note = "An engagement on several topics counts once under each of them."
    return "topic_trend", fig, takeaway, Table(("Period", *top), rows, note)


def _topics(ctx: _Context) -> Built:
    topics = ctx.get(metrics.breakdown, "topic")
    fig = charts.bar_breakdown(topics, "topic", top=TOP_TOPICS)
    columns = ("Topic", "Engagements", "% of engagements")
    shown = topics[topics["engagements"] > 0].head(TOP_TOPICS)
    if shown.empty:
        return "topics", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    takeaway = _most(
        *_leaders(topics.set_index("topic"), "engagements", str), "topic", "most requested", total
    )
    rows = tuple(
        (str(r.topic), _count(r.engagements), _pct(r.engagements / total * 100))
        for r in shown.itertuples()
    )
    listed = len(topics)  # as the chart counts them
    note = (
        f"Top {len(shown)} of {listed} topics. An engagement on several topics counts once under "
        f"each, so the shares add up to more than 100% ({total:,} engagements in all)."
    )
    return "topics", fig, takeaway, Table(columns, rows, note)


def _topic_groups(ctx: _Context) -> Built:
    groups = ctx.get(metrics.breakdown, "topic_group")
    fig = charts.bar_breakdown(groups, "topic_group")
    columns = ("Topic group", "Engagements", "% of engagements")
    shown = groups[groups["engagements"] > 0]
    if shown.empty:
        return "topic_groups", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    takeaway = _most(
        *_leaders(groups.set_index("topic_group"), "engagements", str),
        "topic group",
        "largest",
        total,
    )
    rows = tuple(
        (str(r.topic_group), _count(r.engagements), _pct(r.engagements / total * 100))
        for r in shown.itertuples()
    )
    note = "An engagement on topics in several groups counts once under each group."
    return "topic_groups", fig, takeaway, Table(columns, rows, note)


def _states(ctx: _Context) -> Built:
    by_state = ctx.get(metrics.engagements_by_state)
    fig = charts.state_map(by_state)
    columns = ("State or territory", "Engagements", "Agencies served")
    served = by_state[by_state["engagements"] > 0].sort_values(
        ["engagements", "state_name"], ascending=[False, True]
    )
    if served.empty:
        return "states", fig, NO_DATA, Table(columns, ())
    names, top = _leaders(served.set_index("state_name"), "engagements", str)
    most = (
        f"{_join(names)} had the most engagements ({top:,}{' each' if len(names) > 1 else ''})"
        if len(names) <= 3
        else f"{len(names)} tie for the most engagements ({top:,} each)"
    )
    takeaway = (
        f"Agencies in {len(served)} of {len(by_state)} states, DC and territories were served; "
        + most
    )
    rows = tuple(
        (str(r.state_name), _count(r.engagements), _count(r.agencies)) for r in served.itertuples()
    )
    none = by_state.loc[by_state["engagements"] == 0, "state_name"].tolist()
    note = f"No engagements: {', '.join(none)}." if none else ""
    return "states", fig, takeaway, Table(columns, rows, note)


def _agency_types(ctx: _Context) -> Built:
    types = ctx.get(metrics.breakdown, "agency_type")
    fig = charts.bar_breakdown(types, "agency_type")
    columns = ("Agency type", "Engagements", "% of engagements", "Agencies served")
    shown = types[types["engagements"] > 0]
    if shown.empty:
        return "agency_types", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    names, top = _leaders(shown.set_index("agency_type"), "engagements", charts.pretty)
    share = _share(top, total)
    if len(shown) == 1:
        who = _agency_type(names[0].lower())
        takeaway = (
            f"All {top:,} engagements were with {who}"
            if top > 1
            else f"The one engagement was with {who}"
        )
    elif len(names) == 1:
        takeaway = f"{names[0]} agencies had the most engagements: {top:,}, {share} of all"
    elif len(names) <= 3:
        takeaway = (
            f"{_join([names[0], *(n.lower() for n in names[1:])])} agencies had the most "
            f"engagements: {top:,} each, {share} of all each"
        )
    else:
        takeaway = f"{len(names)} agency types tie for the most engagements: {top:,} each"
    rows = tuple(
        (
            charts.pretty(r.agency_type),
            _count(r.engagements),
            _pct(r.engagements / total * 100),
            _count(r.agencies),
        )
        for r in shown.itertuples()
    )
    return "agency_types", fig, takeaway, Table(columns, rows)


def _first_time(ctx: _Context) -> Built:
    frame = ctx.get(metrics.first_time_vs_repeat, ctx.grain)
    fig = charts.first_time_vs_repeat(frame)
    columns = ("Period", registry.label("first_time_agencies"), registry.label("repeat_agencies"))
    reach = ctx.get(metrics.reach)  # the selection's agencies, each counted once
    first, served = int(reach["first_time_agencies"] or 0), int(reach["agencies_served"] or 0)
    if not served:
        return "first_time", fig, NO_DATA, Table(columns, ())
    takeaway = (
        f"{_share(first, served)} of agencies served were first-time agencies ({first:,} of "
        f"{served:,} agencies; the others had been served before)"
    )
    rows = tuple(
        (r.period, _count(r.first_time_agencies), _count(r.repeat_agencies))
        for r in frame.itertuples()
    )
    return "first_time", fig, takeaway, Table(columns, rows)


def _levels(ctx: _Context) -> Built:
    frame = metrics.levels_of(ctx.get(metrics.post_vs_follow_up, ctx.min_n, matched=False))
    fig = charts.evidence_levels(frame, ctx.min_n)
    columns = ("Level of evidence", "Survey item", "Wave", "% positive", "Respondents (n)")
    shown = frame[~frame["suppressed"].astype(bool) & (frame["n"] > 0)]
    if not (frame["n"] > 0).any():
        takeaway = "No survey answers match these filters"
    elif shown.empty:
        takeaway = f"Every level is suppressed: fewer than {ctx.min_n} respondents each"
    else:
        takeaway = "% positive: " + "; ".join(
            f"{charts.LEVEL_LABELS[r['level']].lower()} {r['top2_pct']:.0f}%"
            for _, r in shown.iterrows()
        )
    rows = tuple(
        (
            charts.LEVEL_LABELS[r["level"]],
            _item(r["item"]),
            charts.WAVE_WHEN[r["wave"]],
            _positive(r, ctx.suppressed),
            _count(r["n"]),
        )
        for _, r in frame.iterrows()
    )
    note = (
        "Levels are never pooled. Behaviour and results are self-reported at follow-up. "
        "Intervals account for answers clustered by engagement."
    )
    return "levels", fig, takeaway, Table(columns, rows, note)


def _likert(ctx: _Context) -> Built:
    items = ctx.get(metrics.item_outcomes, "post", ctx.min_n)
    fig = charts.likert_diverging(items, "post", ctx.min_n)
    columns = (
        "Survey item",
        "Respondents (n)",
        "% negative (1–2)",
        "% neutral (3)",
        "% positive (4–5)",
    )
    shown = items[~items["suppressed"].astype(bool) & (items["n"] > 0)]
    if not (items["n"] > 0).any():
        takeaway = "No post-engagement survey answers match these filters"
    elif shown.empty:
        takeaway = (
            f"Every post-engagement item is suppressed: fewer than {ctx.min_n} respondents each"
        )
    else:
        best = shown.sort_values(["top2_pct", "n"], ascending=False, kind="stable").iloc[0]
        takeaway = (
            f"Right after an engagement, {_item(best['item'])} rated highest: "
            f"{best['top2_pct']:.0f}% answered 4 or 5 ({_plural(int(best['n']), 'respondent')})"
        )
        if len(shown) > 1:
            worst = shown.sort_values(["top2_pct", "n"], kind="stable").iloc[0]
            takeaway += f"; {_item(worst['item'])} lowest at {worst['top2_pct']:.0f}%"
    rows = []
    for r in items.to_dict("records"):
        if r["suppressed"]:
            rows.append((_item(r["item"]), _count(r["n"]), ctx.suppressed, "", ""))
        else:
            rows.append(
                (
                    _item(r["item"]),
                    _count(r["n"]),
                    _pct(r["bottom2_pct"]),
                    _pct(r["pct_3"]),
                    _pct(r["top2_pct"]),
                )
            )
    note = f"Post-engagement survey. Figures on fewer than {ctx.min_n} respondents are suppressed."
    return "likert", fig, takeaway, Table(columns, tuple(rows), note)


def _waves(ctx: _Context) -> Built:
    frame = ctx.get(metrics.post_vs_follow_up, ctx.min_n)
    fig = charts.post_vs_follow_up(frame, ctx.min_n)
    columns = (
        "Survey item",
        "Right after: % positive",
        "Right after: n",
        "Follow-up: % positive",
        "Follow-up: n",
    )
    tops = {}
    for wave in schema.WAVES:
        part = frame[(frame["wave"] == wave) & ~frame["suppressed"].astype(bool) & (frame["n"] > 0)]
        tops[wave] = [float(v) for v in part["top2_pct"]]
    if not (frame["n"] > 0).any():
        takeaway = "No survey answers match these filters"
    else:
        post = f"{_range(tops['post'])} right after" if tops["post"] else ""
        follow = f"{_range(tops['follow_up'])} at follow-up" if tops["follow_up"] else ""
        said = " and ".join(p for p in (post, follow) if p)
        hidden = [
            name
            for wave, name in (("post", "right-after"), ("follow_up", "follow-up"))
            if not tops[wave]
        ]
        takeaway = f"% positive (4 or 5) across the items: {said}" if said else ""
        if hidden:
            gap = f"{' and '.join(hidden)} figures suppressed (n < {ctx.min_n} per item)"
            takeaway = f"{takeaway}; {gap}" if takeaway else gap[:1].upper() + gap[1:]
    rows = []
    for item in schema.SURVEY_ITEMS:
        cells = [_item(item)]
        for wave in schema.WAVES:
            match = frame[(frame["wave"] == wave) & (frame["item"] == item)]
            if match.empty:
                cells += ["no answers", "0"]
                continue
            row = match.iloc[0]
            cells += [_positive(row, ctx.suppressed), _count(row["n"])]
        rows.append(tuple(cells))
    note = (
        f"{charts.wave_comparison(frame)}. % positive = answering 4 or 5 of 5; suppressed below "
        f"{ctx.min_n} respondents."
    )
    return "waves", fig, takeaway, Table(columns, tuple(rows), note)


def _by_agency_type(ctx: _Context) -> Built:
    frame = ctx.get(metrics.outcomes_by, "agency_type", "post", ctx.min_n, OUTCOME_ITEM)
    fig = charts.top2_by_segment(frame, "agency_type", ctx.min_n)
    columns = ("Agency type", "Respondents (n)", "% positive", "Response rate")
    item = _item(OUTCOME_ITEM)
    if frame.empty or not ((frame["n"] > 0) | frame["suppressed"].astype(bool)).any():
        return (
            "by_agency_type",
            fig,
            f"No {item.lower()} answers match these filters",
            Table(columns, ()),
        )
    shown = frame[~frame["suppressed"].astype(bool)].sort_values(
        ["top2_pct", "n"], ascending=[False, False], kind="stable"
    )
    if shown.empty:
        takeaway = f"{item} by agency type is suppressed: too few respondents per type"
    elif len(shown) == 1:
        only = shown.iloc[0]
        takeaway = (
            f"{item}: {only['top2_pct']:.0f}% positive among {_agency_type(only['agency_type'])} "
            f"({_plural(int(only['n']), 'respondent')})"
        )
    else:
        best, worst = shown.iloc[0], shown.iloc[-1]
        takeaway = (
            f"{item} was highest among {_agency_type(best['agency_type'])}: "
            f"{best['top2_pct']:.0f}% positive ({_plural(int(best['n']), 'respondent')}); lowest "
            f"among {_agency_type(worst['agency_type'])} at {worst['top2_pct']:.0f}%"
        )
    ordered = frame.assign(_rank=frame["agency_type"].map(schema.AGENCY_TYPES.index))
    rows = tuple(
        (
            charts.pretty(r["agency_type"]),
            _count(r["n"]),
            _positive(r, "suppressed"),  # below min_n, or hidden so the rest cannot give it away
            _pct(r["response_rate"]),
        )
        for _, r in ordered.sort_values("_rank").iterrows()
    )
    note = (
        f"Post-engagement survey, item: {item}. Suppressed: fewer than {ctx.min_n} respondents, "
        "or hidden with such a type so the others and the total cannot give it away. Response "
        "rate: completed engagements with at least one survey response."
    )
    return "by_agency_type", fig, takeaway, Table(columns, rows, note)


def _funnel(ctx: _Context) -> Built:
    frame = ctx.get(metrics.status_funnel)
    fig = charts.funnel(frame)
    columns = ("Stage", "Requests", "% of requests")
    requested = int(frame["requests"].iloc[0]) if len(frame) else 0
    if not requested:
        return "funnel", fig, NO_DATA, Table(columns, ())
    completed = int(frame["requests"].iloc[-1])
    takeaway = (
        f"{_share(completed, requested)} of requests have been completed: {completed:,} of "
        f"{requested:,}"
    )
    rows = tuple(
        (r.stage, _count(r.requests), _pct(r.requests / requested * 100))
        for r in frame.itertuples()
    )
    return "funnel", fig, takeaway, Table(columns, rows)


def _timeliness(ctx: _Context) -> Built:
    frame = ctx.get(metrics.timeliness, "assistance_type")
    overall = ctx.get(metrics.timeliness)
    fig = charts.timeliness(frame, "assistance_type")
    columns = (
        "Assistance type",
        "Started",
        "Median days to start",
        "90th percentile days to start",
        "Completed",
        "Median days start to completion",
        "90th percentile days start to completion",
    )
    if frame.empty or not frame["started"].sum():
        return "timeliness", fig, NO_DATA, Table(columns, ())
    total = overall.iloc[0]
    takeaway = (
        f"Engagements started a median {_days(total['median_days_to_start'])} after the request"
    )
    if total["completed"]:
        takeaway += (
            f" and took a median {_days(total['median_days_start_to_completion'])} from start "
            "to completion"
        )

    def row(name: str, r) -> tuple[str, ...]:
        return (
            name,
            _count(r["started"]),
            _days(r["median_days_to_start"]),
            _days(r["p90_days_to_start"]),
            _count(r["completed"]),
            _days(r["median_days_start_to_completion"]),
            _days(r["p90_days_start_to_completion"]),
        )

    rows = tuple(row(charts.pretty(r["assistance_type"]), r) for _, r in frame.iterrows())
    return "timeliness", fig, takeaway, Table(columns, (*rows, row("All engagements", total)))


def _backlog(ctx: _Context) -> Built:
    frame = ctx.get(metrics.backlog_series)
    fig = charts.backlog(frame)
    columns = ("Month end", "Open requests")
    if frame.empty:
        return "backlog", fig, NO_DATA, Table(columns, ())
    last = frame.iloc[-1]
    peak = frame.loc[frame["open_requests"].idxmax()]
    still = int(last["open_requests"])
    takeaway = (
        f"{_plural(still, 'request') if still else 'No requests'} "
        f"{'was' if still == 1 else 'were'} open at the end of {_month(last['month_end'])}"
    )
    if peak["month_end"] != last["month_end"]:
        takeaway += f"; the most was {int(peak['open_requests']):,} at the end of {_month(peak['month_end'])}"
    rows = tuple((_day(r.month_end), _count(r.open_requests)) for r in frame.itertuples())
    note = "Requested by then and not yet completed; declined and withdrawn requests excluded."
    return "backlog", fig, takeaway, Table(columns, rows, note)


SECTION_CHARTS: dict[str, tuple[Callable[[_Context], Built], ...]] = {
    "overview": (_cumulative,),
    "trends": (_volume, _topic_trend),
    "topics": (_topics, _topic_groups),
    "reach": (_states, _agency_types, _first_time),
    "outcomes": (_levels, _likert, _waves, _by_agency_type),
    "pipeline": (_funnel, _timeliness, _backlog),
}


def chart_count(sections: Iterable[str] | None = None) -> int:
    return sum(len(SECTION_CHARTS[s]) for s in check_sections(sections))


# -- headline figures -----------------------------------------------------------------------------


def _kpis(ctx: _Context) -> tuple[tuple[Kpi, ...], str]:
    frame = metrics.kpis_with_comparison(ctx.con, ctx.filters, ctx.min_n)
    comparison = metrics.comparison(ctx.con, ctx.filters)
    compared = comparison.previous is not None
    out = []
    for row in frame.to_dict("records"):
        metric = registry.METRICS[row["metric"]]
        label, value = metric.label, metric.format(_none(row["value"]))
        if row["metric"] == "positive_outcome_pct" and row["n"]:  # respondents behind the rate
            n = int(row["n"])
            label = f"{label} (n = {_plural(n, 'respondent')})"
            if n < ctx.min_n:  # suppressed: too few respondents to show the rate
                value = ctx.suppressed
        elif row["metric"] == "response_rate" and _none(row["value"]) is None:
            value = ctx.suppressed  # fewer than min_n responses (or no completed engagements)
        out.append(
            Kpi(
                row["metric"],
                label,
                value,
                metric.change(_none(row["change"])),
                metric.format(_none(row["previous"])) if compared else "",
                metric.description,
                metric.format(_none(row["compared"])) if compared else "",
                comparison.label,
            )
        )
    return tuple(out), comparison.sentence


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


# -- PowerPoint -----------------------------------------------------------------------------------

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
INK_RGB = palette.rgb(palette.TEXT)
MUTED_RGB = palette.rgb(palette.INK)
WARN_RGB = palette.rgb(palette.WARNING)
ACCENT_RGB = palette.rgb(palette.ACCENT)


def build_deck(report: Report, image_dir: Path | None = None) -> bytes:
    """The deck: title slide, headline figures, one slide per chart (PNG, takeaway, notes).

    Raises render.ChromiumMissing (a clear message) when no browser can draw the chart images.
    ``image_dir``: also write each chart PNG there (for checking the images by eye).
    """
    if report.charts:
        render.start()  # fail early, before any slide is built
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    deck.core_properties.title = REPORT_TITLE
    deck.core_properties.subject = report.sentence
    _title_slide(deck, report)
    _kpi_slide(deck, report)
    pngs = render.to_pngs(
        [chart.figure for chart in report.charts], IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE
    )
    for number, (chart, png) in enumerate(zip(report.charts, pngs, strict=True), start=1):
        if image_dir is not None:
            image_dir.mkdir(parents=True, exist_ok=True)
            (image_dir / f"{number:02d}-{chart.key}.png").write_bytes(png)
        _chart_slide(deck, report, chart, png)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _rgb(rgb: tuple[int, int, int]) -> RGBColor:
    return RGBColor(*rgb)


Line = tuple[str, float, tuple[int, int, int], bool]  # text, size in pt, colour, bold


def _fill(shape, lines: Sequence[Line]) -> None:
    """Replace a shape's text with one left-aligned paragraph per line."""
    frame = shape.text_frame
    frame.word_wrap = True
    frame.clear()
    for i, (text, size, rgb, bold) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.LEFT
        run = paragraph.add_run()
        run.text = text
        run.font.size, run.font.bold = Pt(size), bold
        run.font.color.rgb = _rgb(rgb)


def _place(shape, box: tuple[float, float, float, float]) -> None:
    """Put a shape at (left, top, width, height) in inches."""
    shape.left, shape.top, shape.width, shape.height = (Inches(v) for v in box)


def _text(slide, box: tuple[float, float, float, float], lines: Sequence[Line]):
    """A text box at (left, top, width, height) inches."""
    shape = slide.shapes.add_textbox(*(Inches(v) for v in box))
    shape.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    _fill(shape, lines)
    return shape


def _set_title(slide, text: str, box: tuple[float, float, float, float], size: float) -> None:
    """Fill the layout's title placeholder (so outlines and screen readers see the title) and place
    it for 16:9 (the default template's placeholders are laid out for 4:3)."""
    _place(slide.shapes.title, box)
    _fill(slide.shapes.title, [(text, size, INK_RGB, True)])


def _title_slide(deck, report: Report) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    _set_title(slide, REPORT_TITLE, (0.6, 1.2, 12.1, 1.2), 40)
    subtitle = slide.placeholders[1]
    _place(subtitle, (0.6, 2.5, 12.1, 1.6))
    _fill(
        subtitle,
        [
            (report.sentence, 22, INK_RGB, False),
            (f"Data as of {report.data_date_text} · {SOURCE}", 16, MUTED_RGB, False),
        ],
    )
    if report.is_demo:
        box = _text(
            slide,
            (0.6, 4.3, 12.1, 1.1),
            [(DEMO_LABEL, 20, WARN_RGB, True), (DEMO_NOTE, 14, WARN_RGB, False)],
        )
        box.line.color.rgb = _rgb(WARN_RGB)
        box.line.width = Pt(1.5)
    sections = ", ".join(SECTIONS[s] for s in report.sections)
    _text(
        slide,
        (0.6, 6.2, 12.1, 0.9),
        [
            (
                "Collaborative Reform Initiative Technical Assistance Center (CRI-TAC), U.S. "
                "Department of Justice COPS Office",
                12,
                MUTED_RGB,
                False,
            ),
            (f"Sections: {sections} · generated {_day(report.generated)}", 12, MUTED_RGB, False),
        ],
    )
    slide.notes_slide.notes_text_frame.text = "\n".join(
        [
            REPORT_TITLE,
            report.sentence,
            f"Data as of {report.data_date_text}. {SOURCE}.",
            *([f"{DEMO_LABEL}: {DEMO_NOTE}"] if report.is_demo else []),
        ]
    )


def _kpi_slide(deck, report: Report) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    _set_title(slide, "Headline figures", (0.6, 0.35, 9.0, 0.8), 30)
    _text(slide, (0.6, 1.1, 12.1, 0.5), [(report.sentence, 16, MUTED_RGB, False)])
    if report.is_demo:
        _text(slide, (9.7, 0.45, 3.0, 0.5), [(DEMO_LABEL, 14, WARN_RGB, True)])
    cols, width, height, gap = 3, 3.9, 2.05, 0.2
    for i, kpi in enumerate(report.kpis):
        left = 0.6 + (i % cols) * (width + gap)
        top = 1.75 + (i // cols) * (height + gap)
        card = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE, Inches(left), Inches(top), Inches(width), Inches(height)
        )
        card.adjustments[0] = 0.06
        card.fill.solid()
        card.fill.fore_color.rgb = _rgb(palette.rgb(palette.DECK_CARD))
        card.line.color.rgb = _rgb(palette.rgb(palette.DECK_CARD_LINE))
        frame = card.text_frame
        frame.word_wrap = True
        frame.margin_left = frame.margin_right = Inches(0.2)
        lines = [(kpi.label, 15, MUTED_RGB, False), (kpi.value, 34, INK_RGB, True)]
        if kpi.change:
            lines.append((kpi.change_line, 13, MUTED_RGB, False))
        elif not report.comparison.startswith("No change"):
            lines.append(("no comparison", 13, MUTED_RGB, False))
        _fill(card, lines)
        if len(kpi.value) > 12:  # 'suppressed (n < 5)' in a smaller size
            frame.paragraphs[1].runs[0].font.size = Pt(22)
    _text(
        slide,
        (0.6, 6.45, 12.1, 0.8),
        [
            (report.comparison, 12, MUTED_RGB, False),
            (
                f"Data as of {report.data_date_text} · {SOURCE} · figures on fewer than "
                f"{report.min_n} survey respondents are suppressed",
                12,
                MUTED_RGB,
                False,
            ),
        ],
    )
    notes = [f"Headline figures: {report.sentence}"]
    for kpi in report.kpis:
        change = f" ({kpi.change_line})" if kpi.change else ""
        notes.append(f"- {kpi.label}: {kpi.value}{change}. {kpi.description}")
    notes += [report.comparison, f"Data as of {report.data_date_text}."]
    if report.is_demo:
        notes.append(f"{DEMO_LABEL}: {DEMO_NOTE}")
    slide.notes_slide.notes_text_frame.text = "\n".join(notes)


def _chart_slide(deck, report: Report, chart: Chart, png: bytes) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    _text(slide, (0.6, 0.2, 9.0, 0.35), [(SECTIONS[chart.section].upper(), 12, ACCENT_RGB, True)])
    _set_title(slide, chart.takeaway, (0.6, 0.5, 12.1, 0.9), 22)
    # The picture: as large as fits in the area under the title, centred, aspect kept.
    area_left, area_top, area_w, area_h = 0.6, 1.45, 12.1, 5.85
    aspect = IMAGE_WIDTH / IMAGE_HEIGHT
    width = min(area_w, area_h * aspect)
    height = width / aspect
    left = area_left + (area_w - width) / 2
    picture = slide.shapes.add_picture(
        io.BytesIO(png), Inches(left), Inches(area_top), Inches(width), Inches(height)
    )
    picture.name = f"Chart: {chart.title}"
    # Alt text for screen readers.
    picture._element.nvPicPr.cNvPr.set("descr", f"{chart.title}. {chart.takeaway}.")
    slide.notes_slide.notes_text_frame.text = _notes(report, chart)


def _notes(report: Report, chart: Chart) -> str:
    lines = [
        f"{chart.title}",
        f"Takeaway: {chart.takeaway}.",
        "",
        "Figures:",
        *(f"- {line}" for line in chart.table.lines()),
        "",
        f"Filters: {report.sentence}",
        f"Data as of {report.data_date_text}. {SOURCE}.",
    ]
    if report.is_demo:
        lines.append(f"{DEMO_LABEL}: {DEMO_NOTE}")
    return "\n".join(lines)


# -- HTML -----------------------------------------------------------------------------------------

CSS = (
    f"""
:root {{ color-scheme: light; --ink: {palette.TEXT}; --muted: {palette.INK}; --line: {palette.LINE};
  --warn: {palette.WARNING}; --background: {palette.BACKGROUND}; --card: {palette.CARD}; }}"""
    """
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--ink); background: var(--background); line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 2rem; margin: 0 0 6px; }
h2 { font-size: 1.4rem; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
.sentence { font-size: 1.15rem; margin: 4px 0; }
.muted, footer { color: var(--muted); font-size: 0.9rem; }
.demo { border: 2px solid var(--warn); color: var(--warn); padding: 10px 14px; border-radius: 6px;
  margin: 14px 0; }
.demo strong { letter-spacing: 0.04em; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px;
  margin: 12px 0; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--card); }
.kpi .label { color: var(--muted); font-size: 0.95rem; }
.kpi .value { font-size: 1.9rem; font-weight: 700; }
.kpi .change { color: var(--muted); font-size: 0.9rem; }
figure { margin: 24px 0 0; }
.takeaway { font-size: 1.1rem; font-weight: 600; margin: 0 0 6px; }
details { margin: 6px 0 0; }
summary { cursor: pointer; color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
)


PLOTLY_JS = Path(__file__).parent / "assets" / "plotly-report.min.js"


@functools.cache
def plotly_js() -> str:
    """plotly.js trimmed to the trace types our charts draw (1.2 MB instead of 4.8 MB; built by
    tools/plotly_bundle/build.sh). Inlined once, so the report needs no network."""
    return PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


def build_html(report: Report) -> str:
    """One HTML file: KPIs and interactive charts, plotly.js inlined once, no network requests."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(REPORT_TITLE)}: {e(report.sentence)}</title>",
        f"<style>{CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{plotly_js()}</script></head><body><main>',
        f"<header><h1>{e(REPORT_TITLE)}</h1>",
        f'<p class="sentence">{e(report.sentence)}</p>',
        f'<p class="muted">Data as of {e(report.data_date_text)} · {e(SOURCE)} · generated '
        f"{e(_day(report.generated))}</p>",
    ]
    if report.is_demo:
        parts.append(
            f'<p class="demo" role="note"><strong>{DEMO_LABEL}</strong> · {e(DEMO_NOTE)}</p>'
        )
    parts.append("</header>")
    parts += _html_kpis(report)
    for section in report.sections:
        parts.append(f'<section id="{e(section)}"><h2>{e(SECTIONS[section])}</h2>')
        for chart in (c for c in report.charts if c.section == section):
            parts += _html_chart(chart)
        parts.append("</section>")
    parts.append(
        f"<footer><p>{e(report.comparison)} Outcome figures built on fewer than {report.min_n} "
        "survey respondents are suppressed.</p>"
        "<p>Collaborative Reform Initiative Technical Assistance Center (CRI-TAC), U.S. Department "
        "of Justice COPS Office.</p></footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _html_kpis(report: Report) -> list[str]:
    e = html.escape
    out = ['<section id="headline"><h2>Headline figures</h2><div class="kpis">']
    for kpi in report.kpis:
        change = f'<div class="change">{e(kpi.change_line)}</div>' if kpi.change else ""
        out.append(
            f'<div class="kpi" title="{e(kpi.description)}"><div class="label">{e(kpi.label)}</div>'
            f'<div class="value">{e(kpi.value)}</div>{change}</div>'
        )
    out.append(f'</div><p class="muted">{e(report.comparison)}</p></section>')
    return out


def _html_chart(chart: Chart) -> list[str]:
    e = html.escape
    fig = go.Figure(chart.figure)
    height = int((fig.layout.height or 450) + FOOTER_PX)
    fig.update_layout(height=height)
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=charts.modebar_config(chart.title) | {"responsive": True},
        div_id=f"chart-{chart.key}",
        default_height=f"{height}px",
    )
    return [
        f'<figure id="{e(chart.key)}" aria-label="{e(chart.title)}">',
        f'<p class="takeaway">{e(chart.takeaway)}</p>',
        div,
        f"<details><summary>The figures: {e(chart.title)}</summary>",
        _html_table(chart.table),
        "</details></figure>",
    ]


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{e(row[0])}</th>']
        cells += [
            f'<td class="num">{e(v)}</td>'
            if re.fullmatch(r"[\d,.%–\- ]+(days)?", v)
            else f"<td>{e(v)}</td>"
            for v in row[1:]
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    note = f'<p class="muted">{e(table.note)}</p>' if table.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"


# -- files ----------------------------------------------------------------------------------------


def build(report: Report, fmt: str) -> bytes:
    if fmt == "pptx":
        return build_deck(report)
    if fmt == "html":
        return build_html(report).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def write(
    con,
    filters: Filters,
    fmt: str,
    out: Path | None = None,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Path:
    """Build the report and write it to ``out`` (default: a name from the filters, in the current
    directory). Raises ExportError with a message for the user."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    try:
        report = collect(con, filters, sections, min_n)
    except ValueError as exc:
        raise ExportError(str(exc)) from exc
    try:
        content = build(report, fmt)
    except (render.ChromiumMissing, render.RenderError) as exc:
        raise ExportError(str(exc)) from exc
    path = Path(out) if out else Path(report.file_name(fmt))
    temporary = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(content)
        temporary.replace(path)
    except OSError as exc:  # a read-only folder, a full disk: no half-written file is left
        temporary.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from exc
    return path
