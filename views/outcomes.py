"""Outcomes: diverging Likert bars, top-2-box by segment, post vs follow-up, comments."""

import streamlit as st

from critac_metrics import charts, metrics, schema
from dashboard import data, show, state

filters = state.current()
show.page_header("Survey outcomes", filters)

# What the page shows, computed in the background while it draws (by the widgets' values as they
# stand: see show.chosen).
data.ahead(
    filters,
    (metrics.post_vs_follow_up_both, {}),
    (
        metrics.outcomes_by,
        {
            "by": show.chosen("outcomes_segment", "topic"),
            "wave": show.chosen("outcomes_wave", "post"),
            "item": show.chosen("outcomes_item", schema.SURVEY_ITEMS[0]),
        },
    ),
    (metrics.comments, {"search": show.chosen("outcomes_comment_search", "")}),
)
head = data.metric(metrics.headline, filters)
show.stop_if_empty(filters, head)

# response_rates without scanning the selection again: the headline has its counts
rates = metrics.rates_of(head, data.info("data_through"), metrics.DEFAULT_MIN_N)
show.figure_row(
    rates,
    ["survey_responses", "survey_respondents", "response_rate",
     "post_response_rate", "follow_up_response_rate", "responded_engagements"],
)  # fmt: skip
st.caption(show.survey_caption(rates, metrics.DEFAULT_MIN_N))

# Both comparisons in one scan: unmatched (every answer of each wave) for the levels and the
# per-wave items, and the matched or unmatched one the toggle below picks.
compared_both = data.metric(metrics.post_vs_follow_up_both, filters)
waves = compared_both[False]
levels = metrics.levels_of(waves)
show.chart(charts.evidence_levels(levels), "outcomes_levels", levels)

wave = (
    st.segmented_control(
        "Survey wave",
        schema.WAVES,
        default="post",
        key="outcomes_wave",
        format_func=show.WAVE_LABELS.__getitem__,
    )
    or "post"
)
items = metrics.one_wave(waves, wave)
show.chart(charts.likert_diverging(items, wave), "outcomes_likert", items, wide=True)

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
by_segment = data.metric(metrics.outcomes_by, filters, by=segment, wave=wave, item=item)
show.chart(charts.top2_by_segment(by_segment, segment), "outcomes_segments", by_segment, wide=True)

matched = st.toggle(
    "Only engagements answered in both waves (matched)",
    value=True,
    key="outcomes_matched",
    help="Matched compares the same engagements right after and at follow-up. Unmatched adds up "
    "every answer of each wave, from different engagements.",
)
compared = compared_both[matched]
show.chart(charts.post_vs_follow_up(compared), "outcomes_waves", compared, wide=True)

st.subheader("Comments")
if head["survey_responses"] < metrics.DEFAULT_MIN_N:
    st.info(show.COMMENTS_HIDDEN.format(min_n=metrics.DEFAULT_MIN_N), icon=":material/lock:")
else:
    search = st.text_input("Search comments", key="outcomes_comment_search", max_chars=100)
    show.table(
        data.metric(metrics.comments, filters, search=search),
        "outcomes_comments",
        show.COMMENTS_NOTE.format(min_n=metrics.DEFAULT_MIN_N),
    )
