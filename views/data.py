"""Data: what is loaded and from where, quality warnings, downloads, and the data contract."""

import streamlit as st

from critac_metrics import downloads
from dashboard import admin, data, show, state

filters = state.current_filters()
show.page_header("Data", filters, noun="Engagement records")

imports = data.info("import_log")
counts = data.info("row_counts")
show.figure_row(counts, list(counts), fmt="count")

st.subheader("Imports")
show.import_history(imports)

st.subheader("Download the filtered rows")
rows = data.metric("filtered_engagements", filters)
st.caption(f"{len(rows):,} engagement records · {filters.describe()}")
left, right = st.columns(2)
left.download_button(
    "CSV",
    downloads.csv_bytes(rows),
    "critac_engagements.csv",
    "text/csv",
    icon=":material/download:",
    width="stretch",
)
right.download_button(
    "Excel",
    downloads.excel_bytes(rows, "engagements"),
    "critac_engagements.xlsx",
    icon=":material/download:",
    width="stretch",
)
show.table(rows.head(1000), "data_rows")

st.subheader("Import (administrators)")
admin.panel()

with st.expander("The data contract: what an import must look like"):
    st.markdown(show.data_contract_markdown())
