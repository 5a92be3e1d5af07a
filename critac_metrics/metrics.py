"""The metric catalogue: named queries over ``engagement_facts`` (one row per engagement).

Every function takes a DuckDB connection (or cursor) and a ``Filters`` value and returns a small
DataFrame or dict. Filter values only ever reach SQL as bound parameters: the only text spliced into
SQL is ``Filters.where()``'s fixed clause shape and names from closed sets (the dimensions of
``critac_metrics.dimensions``, the measures each module declares).

Each query reads ``engagement_facts`` directly (no ``select *`` subquery: binding its ~90 columns
costs more than a small query's whole run) and names only the columns it needs. By topic, sums add
up per topic set (``queries.selection._summed_sql``) and other figures join ``fact_topics``; no
query unnests the topic lists. Distinct agencies and states are counted with the store's
``distinct_agencies`` and ``distinct_states`` macros. The derived tables are described in
``db.rebuild_derived``.

This module is the catalogue's one public face: callers use ``metrics.headline``,
``data.metric(metrics.breakdown, ...)``. The queries live in ``critac_metrics.queries``, one module
per seam:

- ``results``: running a query and shaping its rows (``query``, ``_frame``, ``_record``);
- ``selection``: the selected engagements, per dimension, and additive measures by topic set;
- ``kpis``: the headline figures, response rates, ``summary`` and the KPI comparison;
- ``periods``: series per month, quarter or fiscal year, partial periods, year over year;
- ``milestones``: cumulative engagements, milestones and the next one's projection;
- ``breakdowns`` and ``reach``: figures per dimension value, agencies served, rows for download;
- ``pipeline``: the status funnel, timeliness and the backlog;
- ``outcomes`` and ``survey_statistics``: survey figures, intervals and suppression.

A function's cache key (``dashboard.data.metric``, ``report_content``) is its ``__module__`` and
``__qualname__``: those of the module that defines it, the same for every caller.
"""

from __future__ import annotations

from .dimensions import DIMENSIONS
from .queries.breakdowns import breakdown, engagements_by_state, topic_by_agency_type
from .queries.kpis import (
    COMPLETION_WINDOW_DAYS,
    comparison,
    comparison_summary,
    has_engagements,
    has_requests,
    headline,
    kpis_with_comparison,
    rates_of,
    response_rates,
    summary,
)
from .queries.milestones import (
    DAYS_PER_MONTH,
    MILESTONES,
    PROJECTION_HORIZON_YEARS,
    PROJECTION_LEVEL,
    PROJECTION_MIN_DAYS,
    PROJECTION_WINDOW_MONTHS,
    cumulative_engagements,
    milestone_projection,
    milestones,
    poisson_rate_interval,
)
from .queries.outcomes import (
    EVIDENCE_LEVELS,
    MATCHED,
    comments,
    evidence_levels,
    item_outcomes,
    levels_of,
    one_wave,
    outcomes_by,
    positive_outcome,
    post_vs_follow_up,
    post_vs_follow_up_both,
)
from .queries.periods import (
    FISCAL_MONTHS,
    GRAINS,
    PERIOD_MONTHS,
    fiscal_month_of,
    kpi_series,
    period_label,
    series_by,
    volume_series,
    year_over_year,
)
from .queries.pipeline import FUNNEL_STAGES, backlog_series, status_funnel, timeliness
from .queries.reach import (
    agency_table,
    field_reach,
    filtered_engagements,
    first_time_vs_repeat,
    reach,
)
from .queries.results import Connection, query
from .queries.survey_statistics import (
    DEFAULT_MIN_N,
    OUTCOME_FIGURES,
    Z95,
    clustered_interval,
    complementary_suppression,
    effective_n,
    protect_breakdown,
    wilson_interval,
)

__all__ = [
    "COMPLETION_WINDOW_DAYS",
    "DAYS_PER_MONTH",
    "DEFAULT_MIN_N",
    "DIMENSIONS",
    "EVIDENCE_LEVELS",
    "FISCAL_MONTHS",
    "FUNNEL_STAGES",
    "GRAINS",
    "MATCHED",
    "MILESTONES",
    "OUTCOME_FIGURES",
    "PERIOD_MONTHS",
    "PROJECTION_HORIZON_YEARS",
    "PROJECTION_LEVEL",
    "PROJECTION_MIN_DAYS",
    "PROJECTION_WINDOW_MONTHS",
    "Z95",
    "Connection",
    "agency_table",
    "backlog_series",
    "breakdown",
    "clustered_interval",
    "comments",
    "comparison",
    "comparison_summary",
    "complementary_suppression",
    "cumulative_engagements",
    "effective_n",
    "engagements_by_state",
    "evidence_levels",
    "field_reach",
    "filtered_engagements",
    "first_time_vs_repeat",
    "fiscal_month_of",
    "has_engagements",
    "has_requests",
    "headline",
    "item_outcomes",
    "kpi_series",
    "kpis_with_comparison",
    "levels_of",
    "milestone_projection",
    "milestones",
    "one_wave",
    "outcomes_by",
    "period_label",
    "poisson_rate_interval",
    "positive_outcome",
    "post_vs_follow_up",
    "post_vs_follow_up_both",
    "protect_breakdown",
    "query",
    "rates_of",
    "reach",
    "response_rates",
    "series_by",
    "status_funnel",
    "summary",
    "timeliness",
    "topic_by_agency_type",
    "volume_series",
    "wilson_interval",
    "year_over_year",
]
