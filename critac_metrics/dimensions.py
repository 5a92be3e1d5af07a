"""The vocabulary of the data's dimensions and coded columns: one record each, read by the SQL the
metrics build, the charts' ordering, value labels in tables, charts, captions and controls, table
headings, the CLI and docs/metrics.md.

A ``Dimension`` with ``sql`` is a breakdown: ``metrics.breakdown(con, filters, name)`` groups by
it. One without is a coded column of some result (``wave``, ``item``) whose values are shown
through ``value_label`` like a breakdown's. The periods a series can be counted in (``GRAINS``)
are declared here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from . import schema

_NO_LABELS: Mapping[str, str] = MappingProxyType({})


def humanised(value: object) -> str:
    """A code as words: 'virtual_consultation' -> 'Virtual consultation'."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Dimension:
    """One dimension (or coded column): its name in results and filters, its label, and

    - ``sql``: its expression over ``engagement_facts``, or over the bridge table joined as ``d``
      for a list-valued dimension; None for a column that is not a breakdown;
    - ``bridge``: that table, one row per engagement (``row_id``) and value; ``set_bridge`` the
      same per topic set (``topic_set_id``), which additive measures add up over;
    - ``plural``: the label of several values, a filter's name ('Agency types'; default: the
      label with an s);
    - ``order``: its values' natural order (a breakdown comes back in it and a chart keeps it), or
      None when its values are ranked by their figures;
    - ``value_labels``: labels for values that words alone don't give ('onsite' -> 'On site');
      ``coded``: whether values are codes shown through ``value_label`` (names such as topics and
      providers are shown as they are); ``humanise``: whether a code without a label is shown as
      words ('in_progress' -> 'In progress') or as it is (state codes)."""

    name: str
    label: str
    sql: str | None = None
    plural: str = ""
    bridge: str | None = None
    set_bridge: str | None = None
    order: tuple[str, ...] | None = None
    value_labels: Mapping[str, str] = field(default_factory=lambda: _NO_LABELS, hash=False)
    coded: bool = True
    humanise: bool = True

    @property
    def labels(self) -> str:
        """The label of several values: a filter's name ('States and territories')."""
        return self.plural or self.label + "s"

    @property
    def ordered(self) -> bool:
        """Whether its values have a natural order (else a chart ranks them by their figures)."""
        return self.order is not None

    def value_label(self, value: object) -> str:
        """The label of one value: 'municipal' -> 'Municipal', 'TX' -> 'Texas'; a missing value is
        'Unknown'. Plain text (escape it for Plotly or Markdown where needed)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "Unknown"
        special = self.value_labels.get(str(value))
        if special:
            return special
        return humanised(value) if self.humanise else str(value)

    def rank(self, value: object) -> int:
        """``value``'s place in the natural order (values outside it after every value in it)."""
        order = self.order or ()
        return order.index(value) if value in order else len(order)


def _labels(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


# The breakdowns, in the order the docs list them. delivery_mode and provider may be blank: SQL
# shows blanks as 'unknown' (humanised 'Unknown') and 'Unknown'.
DIMENSIONS: Mapping[str, Dimension] = MappingProxyType(
    {
        d.name: d
        for d in (
            Dimension(
                "topic",
                "Topic",
                "d.topic",
                bridge="fact_topics",
                set_bridge="set_topics",
                coded=False,
            ),
            Dimension("primary_topic", "Primary topic", "primary_topic", coded=False),
            Dimension(
                "topic_group",
                "Topic group",
                "d.topic_group",
                bridge="fact_topic_groups",
                set_bridge="set_topic_groups",
                coded=False,
            ),
            Dimension("agency_type", "Agency type", "agency_type", order=schema.AGENCY_TYPES),
            Dimension(
                "size_band", "Agency size (sworn officers)", "size_band", order=schema.SIZE_BANDS
            ),
            Dimension(
                "state",
                "State or territory",
                "state",
                plural="States and territories",
                value_labels=_labels(schema.STATE_NAMES),
                humanise=False,
            ),
            Dimension("region", "Region", "region", coded=False),
            Dimension(
                "assistance_type",
                "Assistance type",
                "assistance_type",
                order=schema.ASSISTANCE_TYPES,
            ),
            Dimension(
                "delivery_mode",
                "Delivery mode",
                "coalesce(delivery_mode, 'unknown')",
                value_labels=_labels({"onsite": "On site"}),
            ),
            Dimension("provider", "Provider", "coalesce(provider, 'Unknown')", coded=False),
            Dimension("status", "Status", "status", order=schema.STATUSES),
        )
    }
)

WAVE_LABELS: Mapping[str, str] = _labels(
    {"post": "Post-engagement survey", "follow_up": "Follow-up survey"}
)

# Coded columns of results that are not breakdowns (tables and charts label their values too).
COLUMNS: Mapping[str, Dimension] = MappingProxyType(
    {
        **DIMENSIONS,
        **{
            d.name: d
            for d in (
                Dimension("assistance_types", "Assistance types"),
                Dimension("wave", "Wave", value_labels=WAVE_LABELS),
                Dimension("respondent_role", "Respondent role"),
                Dimension("item", "Item"),
            )
        },
    }
)

# Columns whose values are codes ('municipal', 'follow_up'), shown through value_label.
CODED_COLUMNS = frozenset(name for name, d in COLUMNS.items() if d.coded)


def dimension(name: str) -> Dimension:
    """The breakdown ``name``; a ValueError names the known ones."""
    if name not in DIMENSIONS:
        raise ValueError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSIONS)}")
    return DIMENSIONS[name]


def is_ordered(name: str) -> bool:
    """Whether ``name`` is a dimension whose values have a natural order: its breakdown comes back
    in that order and a chart keeps it (else a chart ranks the values by their figures)."""
    known = DIMENSIONS.get(name)
    return known is not None and known.ordered


def label(name: str) -> str:
    """A dimension's label ('agency_type' -> 'Agency type'); any other name as it is."""
    known = DIMENSIONS.get(name)
    return known.label if known else name


def value_label(name: str, value: object) -> str:
    """The label of one value of a dimension or coded column (``Dimension.value_label``); values of
    any other column are shown as words."""
    return COLUMNS.get(name, Dimension(name, name)).value_label(value)


# -- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grain:
    """A period a series is counted in: 'month', 'quarter' or the federal 'fiscal_year'."""

    name: str
    noun: str  # in a sentence: 'Engagements per fiscal year'
    months: int

    @property
    def label(self) -> str:
        """As a control's option: 'Fiscal year'."""
        return self.noun[:1].upper() + self.noun[1:]


GRAINS: Mapping[str, Grain] = MappingProxyType(
    {
        g.name: g
        for g in (
            Grain("month", "month", 1),
            Grain("quarter", "quarter", 3),
            Grain("fiscal_year", "fiscal year", 12),
        )
    }
)
GRAIN_NOUNS: Mapping[str, str] = MappingProxyType({g.name: g.noun for g in GRAINS.values()})
GRAIN_LABELS: Mapping[str, str] = MappingProxyType({g.name: g.label for g in GRAINS.values()})
