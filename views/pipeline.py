"""Pipeline: status funnel, days to start and to completion, open requests over time."""

import streamlit as st

from critac_metrics import charts, metrics
from dashboard import data, show, state

filters = state.current()
show.page_header("Pipeline and timeliness", filters)

show.stop_if_empty(filters)
funnel = data.metric(metrics.status_funnel, filters)

left, right = st.columns(2)
with left:
    show.chart(charts.funnel(funnel), "pipeline_funnel", funnel)
with right:
    by = st.segmented_control(
        "Timeliness by",
        ["assistance_type", "topic"],
        key="pipeline_by",
        default="assistance_type",
        format_func=show.dimension_label,
    )
    days = data.metric(metrics.timeliness, filters, by=by or "assistance_type")
    show.chart(charts.timeliness(days, by or "assistance_type"), "pipeline_days", days)

backlog = data.metric(metrics.backlog_series, filters)
show.chart(charts.backlog(backlog), "pipeline_backlog", backlog)
