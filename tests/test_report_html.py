"""The offline HTML report's size and its trimmed plotly.js (issue 15: ≤ 1.5 MB, still offline)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import plotly.offline
import pytest

from critac_metrics import db, render, report
from critac_metrics.filters import Filters

from .browser_support import CHROMIUM_ARGS, off_the_event_loop
from .test_report import CHROMIUM, need_browser

MAX_HTML_BYTES = 1_500_000


@pytest.fixture(scope="module")
def full_report(demo_db) -> report.Report:
    con = db.connect(demo_db)
    try:
        return report.collect(con, Filters(), None)  # every section
    finally:
        con.close()


def trace_types(rep: report.Report) -> set[str]:
    return {trace.type for chart in rep.charts for trace in chart.figure.data}


def test_html_report_of_every_section_is_small(full_report):
    page = report.build_html(full_report).encode("utf-8")
    assert len(page) <= MAX_HTML_BYTES, f"{len(page):,} bytes"
    assert page.count(b"Plotly.newPlot") == len(full_report.charts)


def test_bundled_plotly_matches_plotly_py():
    """Upgrading plotly without rebuilding tools/plotly_bundle fails here, not in a browser."""
    version = plotly.offline.get_plotlyjs_version()
    assert f"plotly.js v{version} " in report.plotly_js()[:200]


def _registered_traces(url: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
            page.goto(url)
            return page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")
        finally:
            browser.close()


@pytest.mark.browser
def test_bundle_registers_every_trace_type_the_report_draws(tmp_path, full_report):
    need_browser()
    target = tmp_path / "report.html"
    target.write_text(report.build_html(full_report), encoding="utf-8")
    registered = set(off_the_event_loop(_registered_traces, target.as_uri()))
    assert trace_types(full_report) <= registered, trace_types(full_report) - registered
    assert registered >= render.BUNDLED_TRACES  # what the deck's renderer lets through


def test_a_chart_type_the_bundle_lacks_is_refused_before_drawing(monkeypatch):
    """plotly.js without a trace type draws a blank image and no error: the renderer says so."""
    import plotly.graph_objects as go

    monkeypatch.setattr(render, "start", lambda: pytest.fail("no browser needed to refuse it"))
    with pytest.raises(render.RenderError, match="pie"):
        render.to_pngs([go.Figure(go.Bar(y=[1])), go.Figure(go.Pie(values=[1, 2]))], 120, 80)


def test_chart_images_drawn_together_come_back_in_order():
    """The deck draws its images in a batch over several tabs: each slide must get its own."""
    need_browser()
    import io

    import plotly.graph_objects as go
    from PIL import Image

    from critac_metrics import render

    colours = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180)]
    figs = [
        go.Figure(go.Bar(y=[i + 1]), layout={"paper_bgcolor": f"rgb{c}"})
        for i, c in enumerate(colours)
    ]
    pngs = render.to_pngs(figs, 120, 80, scale=1)
    corners = [Image.open(io.BytesIO(png)).convert("RGB").getpixel((1, 1)) for png in pngs]
    assert corners == colours


@pytest.mark.browser
def test_the_deck_renderer_draws_with_the_trimmed_bundle_what_full_plotly_draws(full_report):
    """The renderer's tabs load the report's trimmed plotly.js (a quarter of the full bundle's
    start-up); every chart of a full report must come out byte for byte as with plotly.py's own
    plotly.js."""
    need_browser()
    from critac_metrics import render_session

    figures = [chart.figure for chart in full_report.charts]
    size = (report.IMAGE_WIDTH // 2, report.IMAGE_HEIGHT // 2, 1)

    def drawn(plotly_js) -> list:
        session = render_session.Session(CHROMIUM, render.TABS, render.START_TIMEOUT, plotly_js)
        try:
            return session.pngs(figures, *size)
        finally:
            session.close()

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "plotly.min.js"
        full.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        reference = drawn(full)
    trimmed = drawn(render.PLOTLY_JS)
    assert all(isinstance(png, bytes) and png.startswith(b"\x89PNG") for png in trimmed)
    assert trimmed == reference


def _modebar_titles(url: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            chart = page.locator(".js-plotly-plot").first
            chart.hover()
            return chart.locator(".modebar-btn").evaluate_all(
                "(bs) => bs.map((b) => b.dataset.title)"
            )
        finally:
            browser.close()


@pytest.mark.browser
def test_the_reports_modebar_offers_the_png_only(tmp_path, full_report):
    """plotly.js 4 adds "Share chart...", which uploads the figure to Plotly Cloud: not for an
    agency's engagement records."""
    need_browser()
    target = tmp_path / "report.html"
    target.write_text(report.build_html(full_report), encoding="utf-8")
    assert off_the_event_loop(_modebar_titles, target.as_uri()) == ["Download plot as a PNG"]
