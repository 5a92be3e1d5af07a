"""The Streamlit layer: cached data access, filter state in the URL, and the one place that draws."""
