"""Topics (analysts): compare topics over time, topic × agency type, outcomes per topic."""

import streamlit as st

from critac_metrics import charts, metrics, schema
from dashboard import data, show, state

filters = state.current()
show.page_header("Topics", filters)

show.stop_if_empty(filters)
# What the page shows, computed in the background while it draws (by the widgets' values as they
# stand: see show.chosen).
data.ahead(
    filters,
    (metrics.breakdown, {"dimension": "topic_group"}),
    (metrics.topic_by_agency_type, {}),
    (
        metrics.outcomes_by,
        {"by": "topic", "item": show.chosen("topics_item", schema.SURVEY_ITEMS[0])},
    ),
)
by_topic = data.metric(metrics.breakdown, filters, dimension="topic")

ranked = list(by_topic["topic"])
default = [t for t in filters.topics if t in ranked] or ranked[:5]
compare = st.multiselect(
    "Compare topics over time", ranked, default=default, key="topics_compare", max_selections=8
)
grain = (
    st.segmented_control(
        "Period",
        list(show.GRAIN_LABELS),
        default="fiscal_year",
        format_func=show.GRAIN_LABELS.__getitem__,
        key="topics_grain",
    )
    or "fiscal_year"
)
year_over_year = show.year_over_year_toggle("topics_yoy")
if year_over_year:
    by_month = data.metric(metrics.year_over_year, filters, dimension="topic", only=tuple(compare))
    show.chart(charts.year_over_year(by_month, "topic"), "topics_trend_yoy", by_month, wide=True)
else:
    trend = data.metric(
        metrics.series_by, filters, grain=grain, dimension="topic", only=tuple(compare)
    )
    show.chart(charts.series_by_dimension(trend, "topic", grain), "topics_trend", trend, wide=True)

# A click on a topic group opens its topics (the topic filter becomes the group's topics).
groups = data.metric(metrics.breakdown, filters, dimension="topic_group")
show.chart(
    charts.bar_breakdown(groups, "topic_group"),
    "topics_groups",
    groups,
    filter_on="topic_group",
)

matrix = data.metric(metrics.topic_by_agency_type, filters)
show.chart(
    charts.topic_heatmap(matrix),
    "topics_heatmap",
    matrix,
    filter_on=("topic", "agency_type"),
    wide=True,
)

item = st.selectbox(
    "Survey item", schema.SURVEY_ITEMS, format_func=show.item_label, key="topics_item"
)
outcomes = data.metric(metrics.outcomes_by, filters, by="topic", item=item)
show.chart(
    charts.top2_by_segment(outcomes, "topic"),
    "topics_outcomes",
    outcomes,
    filter_on="topic",
    wide=True,
)
show.cross_filter_hint()
