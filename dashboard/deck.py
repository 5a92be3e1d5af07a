"""The Report page's deck: the renderer, the preview behind it, and the builds a session keeps.

The preview's report is the deck's: its metrics run and its figures are built once per (filters,
sections, data version), its images are drawn in the background while the page is read, and
pressing Build only assembles the deck. The renderer (one Kaleido/Chromium per process) starts
when the page first opens.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from critac_metrics import render, report
from critac_metrics.filters import Filters
from dashboard import data, show

MAX_BUILDS = 4  # builds a session keeps, so a download made for other filters is still there

Wanted = tuple[Filters, tuple[str, ...], Any]  # filters, sections, data version


@st.cache_resource(show_spinner="Starting the chart renderer (first deck only)…")
def _renderer() -> str:
    """The process's one Kaleido/Chromium renderer, started once and shared by every session."""
    return render.start()


@st.cache_resource(show_spinner=False)
def warm_renderer() -> bool:
    """Start the renderer in the background when the Report page first opens (once per process):
    by the time someone presses Build, Chromium is up."""
    render.warm_up()
    return True


@st.cache_data(max_entries=20, show_spinner="Drawing the preview…")
def _previewed(filters: Filters, sections: tuple[str, ...], version: Any) -> report.Report:
    """Every chart of the chosen sections, as exported (cached per filters, sections, data)."""
    return data.run(report.collect, filters, sections)


@st.cache_resource(max_entries=20, show_spinner=False)
def _images_ahead(
    filters: Filters, sections: tuple[str, ...], version: Any, _preview: report.Report
) -> bool:
    """The deck's images drawn in the background once per selection and process."""
    report.draw_images_ahead(_preview)
    return True


def preview(filters: Filters, sections: list[str]) -> tuple[Wanted, report.Report]:
    """What the chosen sections need, and their report (its images started in the background)."""
    wanted: Wanted = (filters, tuple(sections), data.version())
    previewed = _previewed(*wanted)
    _images_ahead(*wanted, previewed)
    return wanted, previewed


def build(wanted: Wanted, previewed: report.Report) -> None:
    """Build the deck and the HTML report of ``previewed`` and keep them in the session (the last
    ``MAX_BUILDS``), so changing a filter and coming back still has its buttons."""
    with st.spinner(f"Building {report.chart_count(wanted[1])} charts…"):
        built, deck, error = previewed.stamped(), None, None
        try:
            _renderer()
            deck = report.build_deck(built)
        except (render.ChromiumMissing, render.RenderError) as exc:
            error = str(exc)
        names = (built.file_name("pptx"), built.file_name("html"))
        builds = st.session_state.setdefault("report_builds", {})
        builds.pop(wanted, None)
        builds[wanted] = (built.sentence, names, deck, report.build_html(built), error)
        while len(builds) > MAX_BUILDS:
            builds.pop(next(iter(builds)))


def downloads(wanted: Wanted) -> None:
    """The download buttons of this view's build, else of the last build with a warning that it
    was made for other filters; nothing before the first build."""
    builds = st.session_state.get("report_builds", {})
    if not builds:
        return
    sentence, (deck_name, html_name), deck, html, error = builds.get(
        wanted, builds[next(reversed(builds))]
    )
    if wanted not in builds:
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
