"""The floor under the dashboard's page loads and filter changes (``benchmarks/floor.py``): a
Streamlit page with a title only; with ``?chart=1`` one small Plotly chart as well; with
``?charts=overview`` the Overview's four figures for FY2024 and the agency types chosen in a
sidebar multiselect, every selection's figures built once per process (a filter change here costs
drawing only: no query, no figure built). Charts are drawn as the dashboard draws them
(``dashboard.plotly_chart``), whose plotly.js route this app serves too."""

import streamlit as st


def main() -> None:
    from dashboard import plotly_chart

    st.title("Floor")
    if st.query_params.get("chart"):
        import plotly.graph_objects as go

        small = go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2]))
        plotly_chart.draw(small, "floor-small", alt="A small bar chart", config={})

    if st.query_params.get("charts") == "overview":
        chosen = st.sidebar.multiselect(
            "Agency types",
            ["tribal", "campus", "county", "state", "sheriff", "other", "territorial"],
            format_func=str.title,
        )
        for k, fig in enumerate(overview_figures(tuple(sorted(chosen)))):
            plotly_chart.draw(fig, f"floor-chart-{k}", alt=f"Chart {k}", config={})


@st.cache_resource
def overview_figures(agency_types: tuple[str, ...]) -> list:
    import datetime as dt
    import os

    from critac_metrics import charts, db, metrics
    from critac_metrics.filters import Filters

    con = db.open_snapshot(os.environ["CRITAC_DB"])
    cursor = db.snapshot_cursor(con)
    filters = Filters(start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30),
                      agency_types=agency_types)  # fmt: skip
    series = metrics.volume_series(cursor, filters, grain="fiscal_year")
    cumulative = metrics.cumulative_engagements(cursor, filters)
    milestones = metrics.milestones(cursor, filters)
    projection = metrics.milestone_projection(cursor, filters)
    topics = metrics.breakdown(cursor, filters, dimension="topic")
    return [
        charts.volume_trend(series, "fiscal_year"),
        charts.cumulative(cumulative, milestones, projection),
        charts.bar_breakdown(topics, "topic", top=12),
        charts.state_map(metrics.engagements_by_state(cursor, filters)),
    ]


if __name__ == "__main__":  # the page script
    main()
else:  # imported by `streamlit run`: the server, with the charts' plotly.js route
    from dashboard import plotly_chart

    app = st.App(__file__, routes=plotly_chart.routes())
