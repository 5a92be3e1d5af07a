"""Page-level styling: presentation mode for projectors (?_present=1)."""

import streamlit as st

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stDownloadButton"], [data-testid="stToolbar"], [data-testid="stTooltipIcon"],
[data-testid="stMetric"] [data-testid="stTooltipHoverTarget"] { display: none !important; }
html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
[data-testid="stMetricValue"] { font-size: 3rem; }
h1 { font-size: 2.6rem !important; }
[data-testid="stCaptionContainer"] { font-size: 1.1rem; }
</style>
"""


def presentation_mode() -> None:
    """Hide the sidebar and controls; keep the filter caption; bigger text."""
    st.html(PRESENTATION_CSS)
