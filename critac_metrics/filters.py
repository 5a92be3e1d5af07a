"""One frozen Filters value: the single source of filter state.

It round-trips through URL query parameters (the same names as the CLI flags), produces the WHERE
clause with bound parameters for ``engagement_facts``, and describes itself in one sentence.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
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
# Which date the start and end filter on: the day the request was made, or the day it was
# completed (an engagement not completed has no completion date and is left out).
DATE_BASES = ("requested", "completed")
DATE_COLUMNS = {"requested": "requested_on", "completed": "completed_on"}
QUERY_KEYS = ("start", "end", "date_basis", *(f.param for f in LIST_FILTERS))


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
    date_basis: str = "requested"  # which date start and end filter on (DATE_BASES)

    def __post_init__(self) -> None:
        # Sorted, de-duplicated tuples: equal selections give equal (hashable) values and cache keys.
        for spec in LIST_FILTERS:
            object.__setattr__(self, spec.field, _normalise(getattr(self, spec.field)))
        if self.date_basis not in DATE_BASES:
            raise ValueError(f"date_basis must be one of {DATE_BASES}, not {self.date_basis!r}")

    @property
    def date_column(self) -> str:
        """The engagement_facts column the dates filter on (a fixed name, never user text)."""
        return DATE_COLUMNS[self.date_basis]

    # -- construction -------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        return self == Filters()

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
        basis = get("date_basis")
        if basis:
            if basis[-1].strip().lower() in DATE_BASES:
                values["date_basis"] = basis[-1].strip().lower()
            else:
                notices.append(
                    f"Ignored date_basis={_quote(basis[-1])}: not {' or '.join(DATE_BASES)}."
                )
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
        if self.date_basis != "requested":  # the default is left out of the URL
            params["date_basis"] = [self.date_basis]
        for spec in LIST_FILTERS:
            if getattr(self, spec.field):
                params[spec.param] = list(getattr(self, spec.field))
        return params

    def where(self) -> tuple[str, list[object]]:
        """A WHERE clause over engagement_facts and its bound parameters (never formatted values).

        comment_facts carries the same columns, so comments() applies it there too."""
        clauses: list[str] = ["true"]
        params: list[object] = []
        column = self.date_column
        if self.date_basis == "completed":  # "completed at any time": only what was completed
            clauses.append(f"{column} is not null")
        if self.start:
            clauses.append(f"{column} >= ?")
            params.append(self.start)
        if self.end:
            clauses.append(f"{column} <= ?")
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

    def previous_period(self, through: dt.date | None = None) -> Filters | None:
        """The same filters over the period just before this one, like for like (None if the
        range is open or the period before would fall outside the calendar).

        ``through`` is the last day of data: the current period counts up to min(end, through)
        and the previous one covers the same days of its own period ("FY2027 to 31 Oct" against
        "FY2026 to 31 Oct"). A period that is a whole number of months (a fiscal year, a quarter,
        "16 Mar 2024 – 15 Mar 2025") is compared with as many months before, day for day (29 Feb
        maps to 28 Feb; a month's last day to the month's last day); other ranges with as many
        days before. Never raises for any dates from 0001-01-01 to 9999-12-31."""
        if not (self.start and self.end) or self.start > self.end:
            return None
        upto = self.end if through is None else min(self.end, through)
        if upto < self.start:  # the period starts after the last day of data
            return None
        months = _whole_months(self.start, self.end)
        try:
            if months:
                start = _shift_months(self.start, -months)
                end = (
                    self.start - dt.timedelta(days=1)
                    if upto == self.end
                    else _shift_months(upto, -months, keep_month_end=True)
                )
            else:
                days = dt.timedelta(days=(self.end - self.start).days + 1)
                start, end = self.start - days, upto - days
        except (OverflowError, ValueError):  # before 1 Jan of year 1
            return None
        if start is None or end is None:
            return None
        return self.replace(start=start, end=min(end, self.start - dt.timedelta(days=1)))

    def period_text(self) -> str:
        """The date range in words: 'FY2023', '2024', '1 Feb 2024 – 31 Mar 2024', 'any time'."""
        words = _describe_dates(self.start, self.end, self.date_basis)
        words = words.removeprefix(f"{self.date_basis} ")
        return words.removeprefix("at ").removeprefix("in ")

    def describe(self, noun: str = "Engagements") -> str:
        """One sentence for captions: 'Engagements requested in FY2024 by tribal and campus agencies
        on De-escalation'."""
        dates = _describe_dates(self.start, self.end, self.date_basis)
        if noun.lower().startswith("request") and self.date_basis == "requested":
            # not "Requests requested in FY2024"
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


def _describe_dates(start: dt.date | None, end: dt.date | None, basis: str = "requested") -> str:
    if start is None and end is None:
        return f"{basis} at any time"
    if start and end:
        if fy := fiscal_year_spanned(start, end):
            return f"{basis} in FY{fy}"
        if (start.month, start.day, end.month, end.day) == (
            1,
            1,
            12,
            31,
        ) and start.year == end.year:
            return f"{basis} in {start.year}"
        return f"{basis} {_day(start)} – {_day(end)}"
    if start:
        return f"{basis} since {_day(start)}"
    assert end is not None
    return f"{basis} through {_day(end)}"


def _is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _shift_months(day: dt.date, months: int, keep_month_end: bool = False) -> dt.date | None:
    """``day`` moved by whole months, day for day: a day past the end of the target month (29
    Feb, 31 Mar) becomes its last day (and with ``keep_month_end`` a month's last day stays a
    last day: "to 28 Feb 2025" against "to 29 Feb 2024"). None outside years 1–9999."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    last = calendar.monthrange(year, month + 1)[1]
    keep = keep_month_end and _is_month_end(day)
    return dt.date(year, month + 1, last if keep else min(day.day, last))


def _whole_months(start: dt.date, end: dt.date) -> int:
    """k when start–end is k whole months (end + 1 day == start + k months), else 0."""
    months = (end.year - start.year) * 12 + end.month - start.month
    for k in (months, months + 1):
        if k <= 0:
            continue
        if start.day == 1:
            if _is_month_end(end) and k == months + 1:
                return k
        else:
            shifted = _shift_months(start, k)
            if shifted is not None and end < dt.date.max and shifted == end + dt.timedelta(days=1):
                return k
    return 0


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
