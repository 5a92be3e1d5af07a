"""Overview (leadership): KPIs with deltas, engagements over time, milestones, top topics, map."""

import streamlit as st

from critac_metrics import charts
from dashboard import data, show, state

filters = state.current_filters()
show.page_header("CRI-TAC impact overview", filters)

if not data.metric("has_requests", filters):
    show.empty_state()
    st.stop()

previous = filters.previous_period()
show.kpi_row(
    data.metric("kpis_with_comparison", filters),
    previous=previous.period_text() if previous else None,
)


@st.fragment  # the Period control redraws this chart only, not the page
def trend(filters) -> None:
    grain = (
        st.segmented_control(
            "Period",
            ["month", "quarter", "fiscal_year"],
            default="fiscal_year",
            format_func=show.GRAIN_LABELS.get,
            key="overview_grain",
        )
        or "fiscal_year"
    )
    series = data.metric("volume_series", filters, grain=grain)
    show.chart(charts.volume_trend(series, grain), "overview_trend", series)


trend(filters)

left, right = st.columns(2)
with left:
    cumulative = data.metric("cumulative_engagements", filters)
    show.chart(
        charts.cumulative(cumulative, data.metric("milestones", filters)),
        "overview_cumulative",
        cumulative,
    )
with right:
    topics = data.metric("breakdown", filters, dimension="topic")
    show.chart(
        charts.bar_breakdown(topics, "topic", top=12),
        "overview_topics",
        topics,
        filter_on="topic",
    )

by_state = data.metric("engagements_by_state", filters)
show.chart(charts.state_map(by_state), "overview_map", by_state, filter_on="state")
show.cross_filter_hint()
