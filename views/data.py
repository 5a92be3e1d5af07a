"""Data: what is loaded and from where, quality warnings, downloads, and the data contract."""

import streamlit as st

from critac_metrics import metrics
from dashboard import admin, data, show, state

PREVIEW_ROWS = 1000

filters = state.current()
show.page_header("Data", filters, noun="Engagement records")

# The tiles follow the filters, with the registry's labels and definitions (as on every page).
head = data.metric(metrics.headline, filters)
empty = show.nothing_matches(filters, head)
if empty:
    show.empty_state()
else:
    show.figure_row(head, ["requests", "engagements", "agencies_served", "survey_responses"])

st.subheader("Imports")
show.import_history(data.info("import_log"))

if not empty:
    st.subheader("Download the filtered rows")
    requests = head["requests"]
    st.caption(show.plain(f"{requests:,} engagement records · {filters.describe()}"))
    show.row_downloads(filters, "critac_engagements")
    show.table(data.metric(metrics.filtered_engagements, filters, limit=PREVIEW_ROWS), "data_rows")
    if requests > PREVIEW_ROWS:
        st.caption(f"Showing the first {PREVIEW_ROWS:,} rows; the downloads hold all {requests:,}.")

st.subheader("Import (administrators)")
admin.panel()

with st.expander("The data contract: what an import must look like"):
    st.markdown(show.data_contract_markdown())
