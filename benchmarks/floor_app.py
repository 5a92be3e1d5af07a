"""The floor under the dashboard's page loads (``benchmarks/floor.py``): a Streamlit page with a
title only, or with ``?chart=1`` one small Plotly chart as well. Nothing else is imported."""

import streamlit as st

st.title("Floor")
if st.query_params.get("chart"):
    import plotly.graph_objects as go

    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])))
