"""Data: what is loaded and from where, quality warnings, downloads, and the data contract."""

import streamlit as st

from critac_metrics import metrics
from dashboard import admin, data, show, state

PREVIEW_ROWS = 1000

filters = state.current_filters()
show.page_header("Data", filters, noun="Engagement records")

imports = data.info("import_log")
counts = data.info("row_counts")
show.figure_row(counts, list(counts), fmt="count")

st.subheader("Imports")
show.import_history(imports)

st.subheader("Download the filtered rows")
requests = int(data.metric(metrics.headline, filters)["requests"] or 0)
st.caption(show.plain(f"{requests:,} engagement records · {filters.describe()}"))
show.row_downloads(filters, "critac_engagements")
show.table(data.metric(metrics.filtered_engagements, filters, limit=PREVIEW_ROWS), "data_rows")
if requests > PREVIEW_ROWS:
    st.caption(f"Showing the first {PREVIEW_ROWS:,} rows; the downloads hold all {requests:,}.")

st.subheader("Import (administrators)")
admin.panel()

with st.expander("The data contract: what an import must look like"):
    st.markdown(show.data_contract_markdown())
