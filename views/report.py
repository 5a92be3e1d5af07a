"""Report: the chosen sections for the current filters as a PowerPoint deck and an offline HTML file."""

import streamlit as st

from critac_metrics import render, report
from dashboard import data, show, state


@st.cache_resource(show_spinner="Starting the chart renderer (first deck only)…")
def chart_renderer() -> str:
    """The process's one Kaleido/Chromium renderer, started once and shared by every session."""
    return render.start()


MAX_BUILDS = 4


@st.cache_data(max_entries=20, show_spinner="Drawing the preview…")
def previewed(filters, sections: tuple[str, ...], version) -> report.Report:
    """Every chart of the chosen sections, as exported (cached per filters, sections, data)."""
    return data.run(report.collect, filters, sections)


@st.cache_resource(max_entries=20, show_spinner=False)
def images_ahead(filters, sections: tuple[str, ...], version, _preview: report.Report) -> bool:
    """The deck's images drawn in the background once per selection and process, while the
    preview is read: pressing Build then only assembles the deck."""
    report.draw_images_ahead(_preview)
    return True


@st.cache_resource(show_spinner=False)
def renderer_warming() -> bool:
    """Start the renderer in the background when the Report page first opens (once per process):
    by the time someone presses Build, Chromium is up."""
    render.warm_up()
    return True


filters = state.current()
renderer_warming()
show.page_header("Report", filters)
show.stop_if_empty(filters)

sections = st.multiselect(
    "Sections",
    list(report.SECTIONS),
    default=list(report.SECTIONS),
    key="report_sections",
    format_func=report.SECTIONS.__getitem__,
    help="The title slide and headline figures are always in.",
)
if not sections:
    st.info("Pick at least one section.")
    st.stop()
if not render.available():
    st.warning(f"{render.CHROMIUM_MISSING}. The HTML report still works.", icon=":material/error:")

wanted = (filters, tuple(sections), data.version())
# The preview's report is the deck's: its metrics are run and its figures built once.
preview = previewed(*wanted)
images_ahead(*wanted, preview)
if st.button("Build the report", type="primary", icon=":material/build:", key="report_build"):
    with st.spinner(f"Building {report.chart_count(sections)} charts…"):
        built, deck, error = preview.stamped(), None, None
        try:
            chart_renderer()
            deck = report.build_deck(built)
        except (render.ChromiumMissing, render.RenderError) as exc:
            error = str(exc)
        names = (built.file_name("pptx"), built.file_name("html"))
        # Every build of this session is kept (the last few), so changing a filter and coming
        # back, or changing one and downloading the previous build, still has its buttons.
        builds = st.session_state.setdefault("report_builds", {})
        builds.pop(wanted, None)
        builds[wanted] = (built.sentence, names, deck, report.build_html(built), error)
        while len(builds) > MAX_BUILDS:
            builds.pop(next(iter(builds)))

builds = st.session_state.get("report_builds", {})
if builds:
    current = wanted in builds
    sentence, (deck_name, html_name), deck, html, error = builds.get(
        wanted, builds[next(reversed(builds))]
    )
    if not current:
        st.warning(
            show.plain(
                f"These downloads were built for: {sentence}. The filters or sections have "
                "changed since; build again for this view."
            ),
            icon=":material/history:",
        )
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
            key="report_deck",
        )
    right.download_button(
        "HTML report (opens offline)",
        html,
        html_name,
        "text/html",
        icon=":material/download:",
        key="report_html",
    )

st.subheader("Preview: every chart as it will be exported")
for section in preview.sections:
    st.markdown(f"#### {report.SECTIONS[section]}")
    for i, chart in enumerate(c for c in preview.charts if c.section == section):
        show.chart(chart.figure, f"report_preview_{section}_{i}", chart.table.frame(), wide=True)
        st.caption(show.plain(f"Takeaway: {chart.takeaway}"))
