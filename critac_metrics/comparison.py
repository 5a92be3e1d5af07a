"""What a KPI's change compares: the same span of the period before, never more days than the data.

* A dated selection is compared like for like: the current period counts up to the last day of
  data (``through``) and the previous period covers the same days of its own period ("FY2027 to
  31 Oct" against "FY2026 to 31 Oct"); see ``Filters.previous_period``.
* A selection with a start date only runs to the last day of data and is compared the same way.
* All time compares the last complete fiscal year with the one before (the tile still shows the
  all-time figure), when the data cover both.
* Otherwise nothing is compared, and the sentence says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .filters import Filters, fiscal_year_bounds, fiscal_year_of


@dataclass(frozen=True)
class Comparison:
    current: Filters | None  # the span the change is measured on (None: nothing compared)
    previous: Filters | None
    current_text: str  # "FY2027 to 31 Oct"
    previous_text: str  # "FY2026 to 31 Oct"
    sentence: str  # for the page caption, the tiles' help, the CLI and exports
    # The day up to which the previous span's deliveries and survey responses count: as many days
    # after it as the current span has had up to the last day of data (None: nothing compared).
    previous_as_of: dt.date | None = None

    @property
    def label(self) -> str:
        """'FY2027 to 31 Oct vs FY2026 to 31 Oct' ('' when nothing is compared)."""
        return f"{self.current_text} vs {self.previous_text}" if self.previous else ""


def _none(reason: str) -> Comparison:
    return Comparison(None, None, "", "", f"No change is shown: {reason}.")


def _as_of(previous_end: dt.date, current_end: dt.date, through: dt.date) -> dt.date:
    """Right-censoring: work requested late in a period is still finishing on the last day of data,
    so a recent period's delivered count keeps rising. The previous period is therefore counted as
    it stood as long after its end as the current period is now (never past ``through``)."""
    return previous_end + (through - current_end)


def _as_of_text(previous_text: str, current_text: str, as_of: dt.date) -> str:
    return (
        f" Deliveries, agencies served and survey responses of {previous_text} count up to "
        f"{_day(as_of)}, as long after it as {current_text} has had, so work still finishing "
        "does not read as a drop."
    )


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def span_text(start: dt.date, end: dt.date, upto: dt.date) -> str:
    """The period start–end counted up to ``upto``: 'FY2026', 'FY2027 to 31 Oct', '2024 to
    29 Feb', '1 Feb 2024 – 20 Feb 2024'."""
    label = Filters(start=start, end=end).period_text()
    if upto >= end:
        return label
    if label.startswith("FY") or label.isdigit():
        return f"{label} to {upto.day} {upto:%b}"
    return f"{_day(start)} – {_day(upto)}"


def compare(filters: Filters, through: dt.date | None, first_day: dt.date | None) -> Comparison:
    """The comparison for ``filters``, given the data's last day (``through``, the store's
    data_through) and first request date (``first_day``)."""
    if through is None:
        return _none("there are no data yet")
    basis = "" if filters.date_basis == "requested" else " (by completion date)"
    start, end = filters.start, filters.end
    if start is None and end is not None:
        return _none("the dates have no start; choose a start date or a fiscal year to compare")
    if start is None:
        return _all_time(filters, through, first_day, basis)
    if start > through:
        return _none(f"the selection starts after the last day of data ({_day(through)})")
    if end is None:
        filters = filters.replace(end=through)  # "since 1 Oct 2023": to the last day of data
        end = through
    previous = filters.previous_period(through)
    whole = filters.previous_period()
    if previous is None or whole is None:
        return _none("the period before it falls outside the calendar")
    upto = min(end, through)
    current_text = span_text(start, end, upto)
    assert whole.start and whole.end and previous.end  # a previous period is always bounded
    previous_text = span_text(whole.start, whole.end, previous.end)
    if upto < end:
        why = f"the same days of each, as the data run through {_day(through)}"
    else:
        why = "the period of equal length just before"
    as_of = _as_of(previous.end, upto, through)
    return Comparison(
        filters.replace(end=upto),
        previous,
        current_text,
        previous_text,
        f"Changes compare {current_text} with {previous_text}{basis}: {why}."
        + _as_of_text(previous_text, current_text, as_of),
        as_of,
    )


def _all_time(
    filters: Filters, through: dt.date, first_day: dt.date | None, basis: str
) -> Comparison:
    """The last complete fiscal year against the one before, if the data cover both."""
    last = fiscal_year_of(through)
    if last > 9999 or (through.month, through.day) != (9, 30):  # FY10000 has no 30 Sep
        last -= 1
    if first_day is None or last - 1 < 2 or fiscal_year_bounds(last - 1)[1] < first_day:
        return _none("all-time figures have no period before them, and the data do not cover two "
                     "complete fiscal years to compare")  # fmt: skip
    current, previous = (filters.replace(start=s, end=e) for s, e in (
        fiscal_year_bounds(last), fiscal_year_bounds(last - 1)))  # fmt: skip
    assert current.end and previous.end
    as_of = _as_of(previous.end, current.end, through)
    return Comparison(
        current,
        previous,
        f"FY{last}",
        f"FY{last - 1}",
        f"The figures are for all time; changes compare FY{last} with FY{last - 1}{basis}, the "
        "last complete fiscal year with the one before."
        + _as_of_text(f"FY{last - 1}", f"FY{last}", as_of),
        as_of,
    )
