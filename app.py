"""CRI-TAC Impact Dashboard: `streamlit run app.py` (CRITAC_DB=/path/to.duckdb for real data).

`streamlit run app.py` finds the `st.App` at the bottom and serves it: it imports this file as a
module, warms the process (dashboard/startup.py: imports, the database) before the server takes
its first session, then runs this same file as the page script, as `__main__` (as AppTest does).
"""

from pathlib import Path

import streamlit as st


def main() -> None:
    # Imported here: `streamlit run` imports this file before Streamlit's runtime has started, and
    # the dashboard's caches belong to the runtime (the lifespan imports them once it has).
    from dashboard import data, layout, sidebar, startup, state
    from dashboard.pages import PAGES

    # A local icon file: a material icon as page_icon is fetched from fonts.gstatic.com by the
    # browser, which fails on a network without internet access.
    st.set_page_config(
        page_title="CRI-TAC Impact Dashboard",
        page_icon=str(Path(__file__).parent / "dashboard" / "favicon.png"),
        layout="wide",
    )
    # st.dataframe's own "Download as CSV" (and copy to clipboard) writes cell text raw, so a comment
    # like =cmd|' /C calc'!A0 would run as a formula in a spreadsheet. Downloads go through the app's
    # own buttons instead (critac_metrics.downloads neutralises formulas). Also set in
    # .streamlit/config.toml, which covers a server's very first run; this covers a server started
    # from another folder, which doesn't read that file.
    st.set_option("client.disableDataExport", True)
    startup.once()

    try:
        data.version()
    except FileNotFoundError as exc:  # CRITAC_DB points at nothing: say so instead of a traceback
        st.error(str(exc))
        st.stop()
    except data.Unreadable as exc:  # damaged, not a database, or not readable: what to do, no paths
        st.error(str(exc), icon=":material/database:")
        st.stop()

    try:
        filters = state.current_filters()
        if state.presenting():
            layout.presentation_mode()
        else:
            sidebar.render(filters)

        pages = [
            st.Page(p.path, title=p.title, icon=p.icon, default=i == 0) for i, p in enumerate(PAGES)
        ]
        st.navigation(pages).run()
    except data.Unreadable as exc:  # a damaged part of the file that only this page reads
        st.error(str(exc), icon=":material/database:")


if __name__ == "__main__":  # the page script
    main()
else:  # imported by `streamlit run app.py` (or `uvicorn app:app`): the server
    from starlette.middleware import Middleware

    from dashboard import plotly_chart
    from dashboard.compression import CompressedStatic
    from dashboard.startup import lifespan

    app = st.App(
        __file__,
        lifespan=lifespan,
        routes=plotly_chart.routes(),
        middleware=[Middleware(CompressedStatic)],
    )
