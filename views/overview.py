"""Overview (leadership): KPIs with deltas, engagements over time, milestones, top topics, map."""

import streamlit as st

from critac_metrics import charts, metrics
from dashboard import data, show, state

filters = state.current()
show.page_header("CRI-TAC impact overview", filters)

show.stop_if_empty(filters)
# What the page shows whatever its widgets say, computed in the background while it draws.
data.ahead(
    filters,
    (metrics.comparison, {}),
    (metrics.cumulative_engagements, {}),
    (metrics.milestone_projection, {}),
    (metrics.milestones, {}),
    (metrics.breakdown, {"dimension": "topic"}),
    (metrics.engagements_by_state, {}),
)

show.kpi_row(
    data.metric(metrics.kpis_with_comparison, filters),
    data.metric(metrics.comparison, filters).sentence,
)

show.all_years_button(filters, "overview_grain")
year_over_year = show.year_over_year_toggle("overview_yoy")
grain = (
    st.segmented_control(
        "Period",
        ["month", "quarter", "fiscal_year"],
        default="fiscal_year",
        format_func=show.GRAIN_LABELS.__getitem__,
        key="overview_grain",
        disabled=year_over_year,
    )
    or "fiscal_year"
)
if year_over_year:
    by_month = data.metric(metrics.year_over_year, filters)
    show.chart(charts.year_over_year(by_month), "overview_trend_yoy", by_month)
else:
    # A click on a fiscal year (or quarter) opens its months: the dates narrow to it.
    series = data.metric(metrics.volume_series, filters, grain=grain)
    show.chart(
        charts.volume_trend(series, grain),
        "overview_trend",
        series,
        filter_on=("start", "end") if grain != "month" else None,
        drill={"overview_grain": "month"},
    )

left, right = st.columns(2)
with left:
    cumulative = data.metric(metrics.cumulative_engagements, filters)
    projection = data.metric(metrics.milestone_projection, filters)
    show.chart(
        charts.cumulative(cumulative, data.metric(metrics.milestones, filters), projection),
        "overview_cumulative",
        cumulative,
    )
    show.milestone_caption(projection)
with right:
    topics = data.metric(metrics.breakdown, filters, dimension="topic")
    show.chart(
        charts.bar_breakdown(topics, "topic", top=12),
        "overview_topics",
        topics,
        filter_on="topic",
    )

by_state = data.metric(metrics.engagements_by_state, filters)
show.chart(charts.state_map(by_state), "overview_map", by_state, filter_on="state", wide=True)
show.cross_filter_hint()
