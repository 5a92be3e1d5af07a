"""CRI-TAC Impact Dashboard: `streamlit run app.py` (CRITAC_DB=/path/to.duckdb for real data)."""

import streamlit as st

from dashboard import layout, sidebar, state
from dashboard.pages import PAGES

st.set_page_config(page_title="CRI-TAC Impact Dashboard", page_icon=":material/insights:",
                   layout="wide")  # fmt: skip

filters = state.current_filters()
if state.presenting():
    layout.presentation_mode()
else:
    sidebar.render(filters)

pages = [st.Page(p.path, title=p.title, icon=p.icon, default=i == 0) for i, p in enumerate(PAGES)]
st.navigation(pages).run()
