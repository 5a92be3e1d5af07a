"""Agencies & reach: agency types and sizes, first-time vs repeat, the map, a searchable table."""

import streamlit as st

from critac_metrics import charts, registry
from dashboard import data, show, state

filters = state.current_filters()
show.page_header("Agencies & reach", filters)

reach = data.metric("reach", filters)
if reach["agencies_served"] == 0:
    show.empty_state()
    st.stop()

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

left, right = st.columns(2)
with left:
    types = data.metric("breakdown", filters, dimension="agency_type")
    show.chart(
        charts.bar_breakdown(types, "agency_type"),
        "agencies_types",
        types,
        filter_on="agency_type",
    )
with right:
    sizes = data.metric("breakdown", filters, dimension="size_band")
    show.chart(charts.bar_breakdown(sizes, "size_band", value="agencies"), "agencies_sizes", sizes)

repeat = data.metric("first_time_vs_repeat", filters)
show.chart(charts.first_time_vs_repeat(repeat), "agencies_repeat", repeat)

by_state = data.metric("engagements_by_state", filters)
show.chart(charts.state_map(by_state), "agencies_map", by_state, filter_on="state")

st.subheader("Agencies served")


@st.fragment  # a search redraws the table only, not the page's charts
def agencies_table(filters) -> None:
    search = st.text_input("Search agency names", key="agencies_search", max_chars=100)
    table = data.metric("agency_table", filters, search=search)
    show.table(table, "agencies_table", help_text=registry.METRICS["agencies_served"].description)


agencies_table(filters)
