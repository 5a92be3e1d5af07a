"""Overview (leadership): KPIs with deltas, engagements over time, milestones, top topics, map."""

import streamlit as st

from critac_metrics import charts, metrics
from dashboard import data, show, state

filters = state.current()
show.page_header("CRI-TAC impact overview", filters)

show.stop_if_empty(filters)

show.kpi_row(
    data.metric(metrics.kpis_with_comparison, filters),
    data.metric(metrics.comparison, filters).sentence,
)

grain = (
    st.segmented_control(
        "Period",
        ["month", "quarter", "fiscal_year"],
        default="fiscal_year",
        format_func=show.GRAIN_LABELS.__getitem__,
        key="overview_grain",
    )
    or "fiscal_year"
)
series = data.metric(metrics.volume_series, filters, grain=grain)
show.chart(charts.volume_trend(series, grain), "overview_trend", series)

left, right = st.columns(2)
with left:
    cumulative = data.metric(metrics.cumulative_engagements, filters)
    show.chart(
        charts.cumulative(cumulative, data.metric(metrics.milestones, filters)),
        "overview_cumulative",
        cumulative,
    )
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
