"""Outcomes: diverging Likert bars, top-2-box by segment, post vs follow-up, comments."""

import streamlit as st

from critac_metrics import charts, metrics, schema
from dashboard import data, show, state

filters = state.current_filters()
show.page_header("Survey outcomes", filters)

show.stop_if_empty(filters)
head = data.metric("headline", filters)

show.figure_row(head, ["survey_responses", "responded_engagements", "response_rate"])
st.caption(f"Figures on fewer than {metrics.DEFAULT_MIN_N} answers are suppressed.")

wave = (
    st.segmented_control(
        "Survey wave",
        schema.WAVES,
        default="post",
        key="outcomes_wave",
        format_func=show.WAVE_LABELS.get,
    )
    or "post"
)
waves = data.metric("post_vs_follow_up", filters)
items = metrics.one_wave(waves, wave)
show.chart(charts.likert_diverging(items), "outcomes_likert", items, wide=True)

left, right = st.columns([1, 2])
segment = left.selectbox(
    "Compare by",
    ["topic", "agency_type", "assistance_type"],
    format_func=show.dimension_label,
    key="outcomes_segment",
)
item = right.selectbox(
    "Survey item", schema.SURVEY_ITEMS, format_func=show.item_label, key="outcomes_item"
)
by_segment = data.metric("outcomes_by", filters, by=segment, wave=wave, item=item)
show.chart(charts.top2_by_segment(by_segment, segment), "outcomes_segments", by_segment, wide=True)

show.chart(charts.post_vs_follow_up(waves), "outcomes_waves", waves, wide=True)

st.subheader("Comments")
search = st.text_input("Search comments", key="outcomes_comment_search", max_chars=100)
show.table(data.metric("comments", filters, search=search), "outcomes_comments")
