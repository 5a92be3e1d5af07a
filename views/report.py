"""Report: the chosen sections for the current filters as a PowerPoint deck and an offline HTML file."""

import streamlit as st

from critac_metrics import render, report
from dashboard import data, show, state


@st.cache_resource(show_spinner="Starting the chart renderer (first deck only)…")
def chart_renderer() -> str:
    """The process's one Kaleido/Chromium renderer, started once and shared by every session."""
    return render.start()


@st.cache_resource(show_spinner=False)
def renderer_warming() -> bool:
    """Start the renderer in the background when the Report page first opens (once per process):
    by the time someone presses Build, Chromium is up."""
    render.warm_up()
    return True


filters = state.current_filters()
renderer_warming()
show.page_header("Report", filters)
if data.metric("headline", filters)["requests"] == 0:
    show.empty_state()
    st.stop()

sections = st.multiselect(
    "Sections",
    list(report.SECTIONS),
    default=list(report.SECTIONS),
    key="report_sections",
    format_func=report.SECTIONS.get,
    help="The title slide and headline figures are always in.",
)
if not sections:
    st.info("Pick at least one section.")
    st.stop()
if not render.available():
    st.warning(f"{render.CHROMIUM_MISSING}. The HTML report still works.", icon=":material/error:")

wanted = (filters, tuple(sections), data.version())
if st.button("Build the report", type="primary", icon=":material/build:", key="report_build"):
    with st.spinner(f"Building {report.chart_count(sections)} charts…"):
        built, deck, error = data.run(report.collect, filters, sections), None, None
        try:
            chart_renderer()
            deck = report.build_deck(built)
        except (render.ChromiumMissing, render.RenderError) as exc:
            error = str(exc)
        names = (built.file_name("pptx"), built.file_name("html"))
        st.session_state["report"] = (wanted, names, deck, report.build_html(built), error)

if (done := st.session_state.get("report")) and done[0] == wanted:
    _, (deck_name, html_name), deck, html, error = done
    left, right = st.columns(2)
    if deck is None:
        left.error(error, icon=":material/error:")
    else:
        left.download_button(
            "PowerPoint deck (16:9)",
            deck,
            deck_name,
            icon=":material/slideshow:",
            mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        )
    right.download_button(
        "HTML report (opens offline)",
        html,
        html_name,
        "text/html",
        icon=":material/download:",
    )

st.subheader("Preview: the first chart as it will be exported")
first = data.run(report.preview, filters, sections)
show.chart(first.figure, "report_preview", first.table.frame())
st.caption(show.plain(f"Takeaway: {first.takeaway}"))
