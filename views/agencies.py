"""Agencies & reach: agency types and sizes, first-time vs repeat, the map, a searchable table."""

import streamlit as st

from critac_metrics import charts, metrics, registry
from dashboard import data, show, state

filters = state.current()
show.page_header("Agencies & reach", filters)

show.stop_if_empty(filters)
# What the page shows, computed in the background while it draws (the table by the search as it
# stands: see show.chosen).
data.ahead(
    filters,
    (metrics.breakdown, {"dimension": "agency_type"}),
    (metrics.breakdown, {"dimension": "size_band"}),
    (metrics.field_reach, {}),
    (metrics.first_time_vs_repeat, {}),
    (metrics.engagements_by_state, {}),
    (metrics.agency_table, {"search": show.chosen("agencies_search", "")}),
)
reach = data.metric(metrics.reach, filters)

show.figure_row(
    reach,
    [
        "agencies_served",
        "first_time_agencies",
        "repeat_agencies",
        "states_reached",
        "small_agency_share",
        "participants",
    ],
)
if show.all_first_time(filters, reach):
    st.caption(show.ALL_FIRST_TIME)

left, right = st.columns(2)
with left:
    types = data.metric(metrics.breakdown, filters, dimension="agency_type")
    show.chart(
        charts.bar_breakdown(types, "agency_type"),
        "agencies_types",
        types,
        filter_on="agency_type",
    )
with right:
    sizes = data.metric(metrics.breakdown, filters, dimension="size_band")
    show.chart(charts.bar_breakdown(sizes, "size_band", value="agencies"), "agencies_sizes", sizes)

field_share = data.metric(metrics.field_reach, filters)
show.chart(charts.field_reach(field_share), "agencies_field", field_share)
st.caption(registry.METRICS["field_share"].description)

repeat = data.metric(metrics.first_time_vs_repeat, filters)
show.chart(charts.first_time_vs_repeat(repeat), "agencies_repeat", repeat)

by_state = data.metric(metrics.engagements_by_state, filters)
show.chart(charts.state_map(by_state), "agencies_map", by_state, filter_on="state", wide=True)

st.subheader("Agencies served")


@st.fragment  # a search redraws the table only, not the page's charts
def agencies_table(filters) -> None:
    search = st.text_input("Search agency names", key="agencies_search", max_chars=100)
    table = data.metric(metrics.agency_table, filters, search=search)
    # Every agency of the selection (1 MB at 100k): sent 1,000 rows at a time, as the reader scrolls.
    show.table(
        table,
        "agencies_table",
        help_text=registry.METRICS["agencies_served"].description,
        lazy=True,
    )


agencies_table(filters)
