"""The report's content: the sections, the records a report is made of (charts, tables, KPIs),
the shared query context and the text formatting of takeaways and tables."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import duckdb
import pandas as pd
import plotly.graph_objects as go

from . import charts, metrics, registry
from .dimensions import value_label
from .filters import Filters
from .text import without_controls
from .words import plural as _plural

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


# What a chart builder of a section returns: the chart's key, figure, takeaway and table.
Built = tuple[str, go.Figure, str, Table]


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


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


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
    generated: dt.datetime = field(default_factory=_now)

    def stamped(self) -> Report:
        """The same report generated now (a report collected earlier, e.g. the page's cached
        preview, exported later)."""
        return replace(self, generated=_now())

    @property
    def data_date_text(self) -> str:
        return _day(self.data_date) if self.data_date else "unknown"

    def file_name(self, fmt: str) -> str:
        slug = charts.slugify(self.filters.describe(""))
        return f"critac-report-{slug}.{fmt}"


class _Context:
    """What the chart builders share: the connection, the selection and a few cached queries."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        filters: Filters,
        min_n: int,
        date: dt.date | None,
        is_demo: bool,
    ) -> None:
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
        self._cache: dict[tuple[Any, ...], Any] = {}

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


# -- formatting -----------------------------------------------------------------------------------


def _day(day: Any) -> str:
    day = pd.Timestamp(day)
    return f"{day.day} {day:%b %Y}"


def _month(day: Any) -> str:
    return f"{pd.Timestamp(day):%b %Y}"


def _count(value: Any) -> str:
    return registry.format_value(None if pd.isna(value) else float(value), "count")


def _pct(value: Any) -> str:
    return registry.format_value(None if value is None or pd.isna(value) else float(value), "pct")


def _share(part: float, whole: float) -> str:
    """A rounded share for takeaways ('14%'); '<1%' rather than a misleading '0%'."""
    if not whole:
        return "–"
    share = part / whole * 100
    return "<1%" if 0 < share < 0.5 else f"{share:.0f}%"


def _days(value: Any) -> str:
    return registry.format_value(None if value is None or pd.isna(value) else float(value), "days")


def _plain(text: str) -> str:
    """Plotly pseudo-HTML to plain text."""
    return html.unescape(re.sub(r"<[^>]+>", " ", str(text))).replace("  ", " ").strip()


def _agency_type(value: Any) -> str:
    """'tribal' -> 'tribal agencies'; 'other' -> 'other agency types'."""
    return (
        "other agency types"
        if value == "other"
        else f"{value_label('agency_type', value).lower()} agencies"
    )


def _item(name: str) -> str:
    return value_label("item", name)


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


def _positive(row: Any, suppressed: str) -> str:
    """'% positive (95% CI)' for a metric row, or the suppression text; never a suppressed value."""
    if bool(row["suppressed"]):
        return suppressed
    if row["top2_pct"] is None or pd.isna(row["top2_pct"]):
        return "no answers"
    return f"{_pct(row['top2_pct'])} (95% CI {row['top2_low']:.1f}–{row['top2_high']:.1f}%)"
