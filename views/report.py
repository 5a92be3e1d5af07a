"""Report: the chosen sections for the current filters as a PowerPoint deck and an offline HTML file."""

import streamlit as st

from critac_metrics import render, report
from dashboard import deck, show, state

filters = state.current()
deck.warm_renderer()
show.page_header("Report", filters)
show.stop_if_empty(filters)

sections = st.multiselect(
    "Sections",
    list(report.SECTIONS),
    default=list(report.SECTIONS),
    key="report_sections",
    format_func=report.SECTIONS.__getitem__,
    help="The title slide and headline figures are always in.",
)
if not sections:
    st.info("Pick at least one section.")
    st.stop()
if not render.available():
    st.warning(f"{render.CHROMIUM_MISSING}. The HTML report still works.", icon=":material/error:")

wanted, preview = deck.preview(filters, sections)
if st.button("Build the report", type="primary", icon=":material/build:", key="report_build"):
    deck.build(wanted, preview)
deck.downloads(wanted)

st.subheader("Preview: every chart as it will be exported")
for section in preview.sections:
    st.markdown(f"#### {report.SECTIONS[section]}")
    for i, chart in enumerate(c for c in preview.charts if c.section == section):
        show.chart(chart.figure, f"report_preview_{section}_{i}", chart.table.frame(), wide=True)
        st.caption(show.plain(f"Takeaway: {chart.takeaway}"))
