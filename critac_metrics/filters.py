"""One frozen Filters value: the single source of filter state.

It round-trips through URL query parameters (the same names as the CLI flags), produces the WHERE
clause with bound parameters for ``engagement_facts``, and describes itself in one sentence.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from . import schema

MAX_VALUES_PER_KEY = 100
MAX_VALUE_LENGTH = 200


def fiscal_year_bounds(fiscal_year: int) -> tuple[dt.date, dt.date]:
    """Federal fiscal year: FY2024 runs 1 Oct 2023 – 30 Sep 2024."""
    return dt.date(fiscal_year - 1, 10, 1), dt.date(fiscal_year, 9, 30)


def fiscal_year_of(day: dt.date) -> int:
    return day.year + (day.month >= 10)


# -- dates: the one place for what a date filter may hold -----------------------------------------
#
# - A filter date is any day of the calendar, 0001-01-01 to 9999-12-31: a link with dates outside
#   the data is valid and selects nothing (the pages show their empty state).
# - From a URL or a flag a date is ASCII ``YYYY-MM-DD``; anything else (2023-02-30, 10000-01-01,
#   2024-W01-1) is dropped with a notice, like any other bad value.
# - Text and arithmetic on filter dates never raise: a fiscal year or a previous period that would
#   fall outside the calendar is simply not used.
# - A date picker offers the data contract's dates (schema.DATE_RANGE), widened to include the
#   dates it must show, so a shared link's dates never fall outside it.

FIRST_DAY, LAST_DAY = dt.date.min, dt.date.max
DATA_DAYS = tuple(dt.date.fromisoformat(day) for day in schema.DATE_RANGE)
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_RULE = "not a date (YYYY-MM-DD)"
CALENDAR_RULE = f"not a date the calendar holds ({FIRST_DAY} to {LAST_DAY})"


def parse_date(text: str) -> tuple[dt.date | None, str | None]:
    """A date from a URL or a flag, or None and the rule it breaks (for a one-line notice)."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{5,}-[0-9]{2}-[0-9]{2}|0000-[0-9]{2}-[0-9]{2}", text):
        return None, CALENDAR_RULE
    if not DATE_PATTERN.fullmatch(text):
        return None, DATE_RULE
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:  # 2023-02-30, 2024-13-01
        return None, DATE_RULE


def picker_bounds(*days: dt.date | None) -> tuple[dt.date, dt.date]:
    """``min_value`` and ``max_value`` for a date picker that must show ``days``."""
    shown = [day for day in days if day is not None]
    return min([DATA_DAYS[0], *shown]), max([DATA_DAYS[1], *shown])


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier; 29 February gives 28 February (never raises for year > 1)."""
    if (day.month, day.day) == (2, 29):
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


def fiscal_year_spanned(start: dt.date, end: dt.date) -> int | None:
    """The fiscal year that runs exactly from ``start`` to ``end``, if any."""
    fy = fiscal_year_of(end)
    if FIRST_DAY.year < fy <= LAST_DAY.year and (start, end) == fiscal_year_bounds(fy):
        return fy
    return None


def _none_outside_calendar(method: Callable[..., Filters | None]):
    """A period computed from filter dates is None where it would leave the calendar."""

    @functools.wraps(method)
    def safe(self: Filters) -> Filters | None:
        try:
            return method(self)
        except (OverflowError, ValueError):  # before 0001-01-01 or after 9999-12-31
            return None

    return safe


@dataclass(frozen=True)
class ListFilter:
    field: str  # attribute on Filters
    param: str  # URL query key and (with dashes) CLI flag
    column: str  # column of engagement_facts
    allowed: tuple[str, ...] | None  # None: checked against the database (topics)


LIST_FILTERS = (
    ListFilter("topics", "topic", "topics", None),
    ListFilter("agency_types", "agency_type", "agency_type", schema.AGENCY_TYPES),
    ListFilter("states", "state", "state", tuple(schema.STATES)),
    ListFilter("assistance_types", "assistance_type", "assistance_type", schema.ASSISTANCE_TYPES),
    ListFilter("delivery_modes", "delivery_mode", "delivery_mode", schema.DELIVERY_MODES),
)
QUERY_KEYS = ("start", "end", *(f.param for f in LIST_FILTERS))


def _normalise(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(values)))


@dataclass(frozen=True)
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    topics: tuple[str, ...] = ()
    agency_types: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    assistance_types: tuple[str, ...] = ()
    delivery_modes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Sorted, de-duplicated tuples: equal selections give equal (hashable) values and cache keys.
        for spec in LIST_FILTERS:
            object.__setattr__(self, spec.field, _normalise(getattr(self, spec.field)))

    # -- construction -------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        return all(not getattr(self, f.name) for f in fields(self))

    @classmethod
    def from_query_params(
        cls, params: Mapping[str, str | list[str]], topics: Iterable[str] = ()
    ) -> tuple[Filters, list[str]]:
        """Parse URL parameters; unknown or malformed values are dropped with a notice each."""
        notices: list[str] = []
        get = _getter(params)
        values: dict[str, Any] = {}  # the Filters fields: dates and tuples of values
        for key in ("start", "end"):
            raw = get(key)
            if raw:
                parsed, problem = parse_date(raw[-1])
                if parsed is None:
                    notices.append(f"Ignored {key}={_quote(raw[-1])}: {problem}.")
                else:
                    values[key] = parsed
        if "start" in values and "end" in values and values["start"] > values["end"]:
            notices.append("Ignored the dates: start is after end.")
            values.pop("start"), values.pop("end")
        known_topics = {t.lower(): t for t in topics}
        for spec in LIST_FILTERS:
            lookup = known_topics if spec.allowed is None else {a.lower(): a for a in spec.allowed}
            raw = get(spec.param)
            if len(raw) > MAX_VALUES_PER_KEY:
                notices.append(f"Ignored {spec.param}: more than {MAX_VALUES_PER_KEY} values.")
                continue
            kept = []
            for value in raw:
                canonical = (
                    lookup.get(value.strip().lower()) if len(value) <= MAX_VALUE_LENGTH else None
                )
                if canonical is None:
                    notices.append(f"Ignored {spec.param}={_quote(value)}: not a known value.")
                else:
                    kept.append(canonical)
            values[spec.field] = tuple(kept)
        for key in params:
            if key not in QUERY_KEYS and not str(key).startswith("_"):
                notices.append(f"Ignored unknown parameter {_quote(str(key))}.")
        return cls(**values), notices

    # -- output -------------------------------------------------------------------------------

    def to_query_params(self) -> dict[str, list[str]]:
        params: dict[str, list[str]] = {}
        if self.start:
            params["start"] = [self.start.isoformat()]
        if self.end:
            params["end"] = [self.end.isoformat()]
        for spec in LIST_FILTERS:
            if getattr(self, spec.field):
                params[spec.param] = list(getattr(self, spec.field))
        return params

    def where(self) -> tuple[str, list[object]]:
        """A WHERE clause over engagement_facts and its bound parameters (never formatted values).

        comment_facts carries the same columns, so comments() applies it there too."""
        clauses: list[str] = ["true"]
        params: list[object] = []
        if self.start:
            clauses.append("requested_on >= ?")
            params.append(self.start)
        if self.end:
            clauses.append("requested_on <= ?")
            params.append(self.end)
        for spec in LIST_FILTERS:
            selected = getattr(self, spec.field)
            if not selected:
                continue
            if spec.field == "topics":
                # A semi-join on the topic bridge (ordered by topic) instead of searching lists.
                clauses.append(
                    "row_id in (select row_id from fact_topics where topic = any(?::varchar[]))"
                )
                params.append(list(selected))
            else:
                # One placeholder per value: an IN list of parameters is pushed into the scan.
                clauses.append(f"{spec.column} in ({', '.join('?' * len(selected))})")
                params.extend(selected)
        return " and ".join(clauses), params

    @_none_outside_calendar
    def previous_period(self) -> Filters | None:
        """The same filters over the equally long period just before this one (None if unbounded).

        Whole calendar months compare with as many months before (FY2024 with FY2023); other
        ranges with the same number of days before."""
        if not (self.start and self.end):
            return None
        end = self.start - dt.timedelta(days=1)
        if self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1:
            # Whole months (a fiscal year, a quarter): the same number of months before.
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            index = self.start.year * 12 + self.start.month - 1 - months
            return self.replace(start=dt.date(index // 12, index % 12 + 1, 1), end=end)
        days = (self.end - self.start).days + 1
        return self.replace(start=self.start - dt.timedelta(days=days), end=end)

    def period_text(self) -> str:
        """The date range in words: 'FY2023', '2024', '1 Feb 2024 – 31 Mar 2024', 'any time'."""
        words = _describe_dates(self.start, self.end).removeprefix("requested ")
        return words.removeprefix("at ").removeprefix("in ")

    def describe(self, noun: str = "Engagements") -> str:
        """One sentence for captions: 'Engagements requested in FY2024 by tribal and campus agencies
        on De-escalation'."""
        dates = _describe_dates(self.start, self.end)
        if noun.lower().startswith("request"):  # not "Requests requested in FY2024"
            dates = dates.replace("requested", "made", 1)
        parts = [noun, dates]
        if self.agency_types:
            parts.append(f"by {_join(self.agency_types, 'and')} agencies")
        if self.states:
            parts.append("in " + _join([schema.STATE_NAMES[s] for s in self.states], "or"))
        if self.topics:
            parts.append(f"on {_join(self.topics, 'or')}")
        if self.assistance_types:
            names = [a.replace("_", " ") for a in self.assistance_types]
            parts.append(f"through {_join(names, 'or')}")
        if self.delivery_modes:
            modes = [{"onsite": "on site"}.get(m, m) for m in self.delivery_modes]
            parts.append(f"delivered {_join(modes, 'or')}")
        return " ".join(p for p in parts if p)


def _describe_dates(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return "requested at any time"
    if start and end:
        if fy := fiscal_year_spanned(start, end):
            return f"requested in FY{fy}"
        if (start.month, start.day, end.month, end.day) == (
            1,
            1,
            12,
            31,
        ) and start.year == end.year:
            return f"requested in {start.year}"
        return f"requested {_day(start)} – {_day(end)}"
    if start:
        return f"requested since {_day(start)}"
    assert end is not None
    return f"requested through {_day(end)}"


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b} {day.year:04d}"  # strftime's %Y gives "1" for the year 1


def _join(items: Iterable[str], conjunction: str) -> str:
    items = list(items)
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} {items[-1]}"


def _getter(params: Mapping[str, str | list[str]]) -> Callable[[str], list[str]]:
    def get(key: str) -> list[str]:
        # st.query_params has get_all(); a plain mapping holds a str or a list per key.
        raw = params.get_all(key) if hasattr(params, "get_all") else params.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        return [str(v) for v in raw]

    return get


def _quote(value: str, limit: int = 40) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)
