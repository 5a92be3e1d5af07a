"""Presenter exports: the 16:9 deck, the offline HTML, suppression, demo labels, the CLI and the page.

Tests that draw chart images (Kaleido) or open the HTML in a browser (playwright) need Debian's
chromium. Without it they skip, unless CRITAC_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.presentation import Presentation as PptxDeck
from pptx.util import Inches
from streamlit.testing.v1 import AppTest

from critac_metrics import db, metrics, registry, render, report
from critac_metrics.filters import Filters
from critac_metrics.ingest import ingest_files

from . import app_charts
from .browser_support import CHROMIUM_ARGS, off_the_event_loop
from .conftest import ROOT, unescape, write_tiny

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FY2024 = Filters(
    start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30), agency_types=("tribal", "campus")
)
SUPPRESSED = f"suppressed (n < {metrics.DEFAULT_MIN_N})"


def need_browser() -> None:
    if os.path.exists(CHROMIUM) and render.available():
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if os.environ.get("CRITAC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; CRITAC_REQUIRE_BROWSER=1 does not allow skipping")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def renderer():
    """One renderer for the module (it stays up until the process exits, like in the app)."""
    need_browser()
    render.start()


def _collect(path: Path, filters: Filters = Filters(), sections=None) -> report.Report:  # noqa: B008
    con = db.connect(path)
    try:
        return report.collect(con, filters, sections)
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_report(demo_db) -> report.Report:
    return _collect(demo_db)


@pytest.fixture(scope="module")
def fy_report(demo_db) -> report.Report:
    return _collect(demo_db, FY2024, ["trends", "outcomes"])


@pytest.fixture(scope="module")
def tiny_report(tiny_db) -> report.Report:
    return _collect(tiny_db, Filters(), ["outcomes"])


@pytest.fixture(scope="module")
def demo_deck(demo_report, renderer) -> PptxDeck:
    return Presentation(io.BytesIO(report.build_deck(demo_report)))


@pytest.fixture(scope="module")
def fy_deck(fy_report, renderer) -> PptxDeck:
    return Presentation(io.BytesIO(report.build_deck(fy_report)))


@pytest.fixture(scope="module")
def tiny_deck(tiny_report, renderer) -> PptxDeck:
    return Presentation(io.BytesIO(report.build_deck(tiny_report)))


def slide_texts(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def deck_text(deck) -> str:
    parts = []
    for slide in deck.slides:
        parts += [slide_texts(slide), slide.notes_slide.notes_text_frame.text]
    return "\n".join(parts)


def visible_html(page: str) -> str:
    """The HTML without its scripts (what a reader sees, before Plotly draws)."""
    return re.sub(r"<script\b.*?</script>", "", page, flags=re.S)


def html_row(page: str, first_cell: str, table_index: int) -> list[str]:
    """The cells of the row headed ``first_cell`` in the ``table_index``-th table."""
    table = re.findall(r"<table>.*?</table>", page, flags=re.S)[table_index]
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r}")


# -- content --------------------------------------------------------------------------------------


def test_sections_and_chart_counts(demo_report):
    assert report.check_sections(None) == tuple(report.SECTIONS)
    assert report.check_sections(["pipeline", "trends", "pipeline"]) == ("trends", "pipeline")
    with pytest.raises(ValueError, match="unknown section 'maps'"):
        report.check_sections(["maps"])
    # chart_count is what the Report page promises ("Building N charts"); hold it to the charts a
    # report of every section actually holds, section by section, each chart once.
    built = Counter(chart.section for chart in demo_report.charts)
    assert len({chart.key for chart in demo_report.charts}) == len(demo_report.charts)
    assert set(built) == set(report.SECTIONS)  # every section draws at least one chart
    for section in report.SECTIONS:
        assert report.chart_count([section]) == built[section], section
    assert report.chart_count(["pipeline", "trends"]) == built["pipeline"] + built["trends"]


def test_every_chart_has_context_a_takeaway_and_its_figures(demo_report):
    assert len(demo_report.charts) == report.chart_count()
    for chart in demo_report.charts:
        names = {a.name for a in chart.figure.layout.annotations}
        assert {"context-footer", "demo-label"} <= names, chart.key
        footer = next(a for a in chart.figure.layout.annotations if a.name == "context-footer")
        assert demo_report.sentence in footer.text.replace("<br>", " ")
        assert f"Data as of {demo_report.data_date_text}" in footer.text
        assert chart.takeaway and chart.table.rows, chart.key
    topics = next(c for c in demo_report.charts if c.key == "topics")
    assert re.fullmatch(
        r".+ was the most requested topic: [\d,]+ engagements, \d+% of all", topics.takeaway
    )


def test_takeaways_are_computed_from_the_metrics(demo_db, demo_report):
    con = db.connect(demo_db)
    try:
        by_topic = metrics.breakdown(con, Filters(), "topic")
        head = metrics.headline(con, Filters())
    finally:
        con.close()
    first = by_topic.iloc[0]
    topics = next(c for c in demo_report.charts if c.key == "topics")
    share = round(first["engagements"] / head["engagements"] * 100)
    assert topics.takeaway == (
        f"{first['topic']} was the most requested topic: {first['engagements']:,} engagements, "
        f"{share}% of all"
    )
    assert topics.table.rows[0][:2] == (first["topic"], f"{first['engagements']:,}")


def test_kpis_come_from_kpis_with_comparison(demo_db, fy_report):
    con = db.connect(demo_db)
    try:
        expected = metrics.kpis_with_comparison(con, FY2024)
    finally:
        con.close()
    assert [k.name for k in fy_report.kpis] == list(expected["metric"])
    engagements = expected.set_index("metric").loc["engagements"]
    kpi = fy_report.kpis[0]
    assert kpi.value == registry.METRICS["engagements"].format(engagements["value"])
    assert kpi.previous == registry.METRICS["engagements"].format(engagements["previous"])
    sign = "+" if engagements["change"] > 0 else "-"
    assert kpi.change in (f"{sign}{abs(engagements['change']):,.0f}", "no change")
    assert "FY2023" in fy_report.comparison


# -- small-cell suppression -----------------------------------------------------------------------


def _suppressed_cells(tiny_db, matched: bool = True) -> list[tuple[str, str, float]]:
    """(wave, item, raw top-2 %) for every item suppressed at the default min_n on the tiny set
    (matched: as the report's post vs follow-up compares them; else every answer of a wave)."""
    con = db.connect(tiny_db)
    try:
        shown = metrics.post_vs_follow_up(con, Filters(), matched=matched)
        raw = metrics.post_vs_follow_up(con, Filters(), min_n=1, matched=matched)
        raw = raw.set_index(["wave", "item"])
    finally:
        con.close()
    out = []
    for row in shown[shown["suppressed"] & (shown["n"] > 0)].itertuples():
        out.append((row.wave, row.item, float(raw.loc[(row.wave, row.item), "top2_pct"])))
    return out


def test_suppressed_figures_never_reach_the_html(tiny_db, tiny_report):
    cells = _suppressed_cells(tiny_db)
    waves = {w for w, _, _ in cells}
    assert waves == {"post", "follow_up"}  # the tiny set has both kinds (n = 4; n = 1)
    in_likert = {(w, i) for w, i, _ in _suppressed_cells(tiny_db, matched=False)}
    page = report.build_html(tiny_report)
    keys = [c.key for c in tiny_report.charts]
    for wave, item, raw in cells:
        label = item.replace("_", " ").capitalize()
        raw_forms = (f"{raw:.1f}%", f"{raw:.0f}%")
        row = html_row(page, label, keys.index("waves"))
        cell = row[1] if wave == "post" else row[3]
        assert cell == SUPPRESSED, (wave, item, row)
        if (wave, item) in in_likert and wave == "post":
            likert = html_row(page, label, keys.index("likert"))
            assert likert[2] == SUPPRESSED and not any(f in " ".join(likert) for f in raw_forms)
    assert html.escape(SUPPRESSED) in visible_html(page)
    # The figures drawn: no follow-up bar at all (every follow-up item is suppressed).
    fig = next(c.figure for c in tiny_report.charts if c.key == "waves")
    follow = next(t for t in fig.data if t.name == "Follow-up survey")
    assert len(follow.x or ()) == 0
    by_type = next(c for c in tiny_report.charts if c.key == "by_agency_type")
    assert "suppressed" in by_type.takeaway
    # breakdown rows say "suppressed" without an n (complementary suppression hides it)
    assert all(row[2] == "suppressed" and row[1] == "–" for row in by_type.table.rows)


@pytest.mark.browser
def test_suppressed_figures_never_reach_the_notes(tiny_db, tiny_report, tiny_deck):
    cells = _suppressed_cells(tiny_db)
    notes = {
        slide.shapes.title.text: slide.notes_slide.notes_text_frame.text
        for slide in list(tiny_deck.slides)[2:]
    }
    waves_notes = notes[next(c.takeaway for c in tiny_report.charts if c.key == "waves")]
    for wave, item, raw in cells:
        label = item.replace("_", " ").capitalize()
        line = next(x for x in waves_notes.splitlines() if x.startswith(f"- {label}:"))
        prefix = "Right after" if wave == "post" else "Follow-up"
        assert f"{prefix}: % positive: {SUPPRESSED}" in line, line
        for form in (f"{prefix}: % positive: {raw:.1f}%", f"{prefix}: % positive: {raw:.0f}%"):
            assert form not in line


# -- PowerPoint -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_deck_is_16_9_with_a_slide_per_chart(demo_deck, demo_report):
    deck = demo_deck
    assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))
    slides = list(deck.slides)
    assert len(slides) == 2 + report.chart_count()
    assert slides[0].shapes.title.text == report.REPORT_TITLE
    assert slides[1].shapes.title.text == "Headline figures"
    for slide, chart in zip(slides[2:], demo_report.charts, strict=True):
        assert slide.shapes.title.text == chart.takeaway
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1
        image = pictures[0].image
        assert image.content_type == "image/png"
        assert image.size == (
            report.IMAGE_WIDTH * report.IMAGE_SCALE,
            report.IMAGE_HEIGHT * report.IMAGE_SCALE,
        )
        assert pictures[0].left + pictures[0].width <= deck.slide_width
        assert pictures[0].top + pictures[0].height <= deck.slide_height
        notes = slide.notes_slide.notes_text_frame.text
        assert chart.title in notes
        for line in chart.table.lines():
            assert line in notes, (chart.key, line)


@pytest.mark.browser
def test_title_and_kpi_slides_say_what_and_when(fy_deck, fy_report):
    slides = list(fy_deck.slides)
    assert len(slides) == 2 + report.chart_count(["trends", "outcomes"])
    title = slide_texts(slides[0])
    assert FY2024.describe() in title
    assert f"Data as of {fy_report.data_date_text}" in title
    assert report.DEMO_LABEL in title
    kpis = slide_texts(slides[1])
    for kpi in fy_report.kpis:
        assert kpi.label in kpis and kpi.value in kpis
        if kpi.change:
            assert kpi.change_line in kpis  # e.g. "+1 FY2024 vs FY2023 (16 → 17)"
    assert report.DEMO_LABEL in kpis


@pytest.mark.browser
def test_a_real_database_is_not_labelled_synthetic(tiny_deck, tiny_report):
    assert not tiny_report.is_demo
    assert "SYNTHETIC" not in deck_text(tiny_deck)
    for chart in tiny_report.charts:
        assert not any("SYNTHETIC" in (a.text or "") for a in chart.figure.layout.annotations)


def no_chromium():
    raise render.ChromiumMissing()


def test_the_deck_needs_chromium(monkeypatch, demo_report):
    monkeypatch.setattr(render, "start", no_chromium)
    with pytest.raises(render.ChromiumMissing, match="apt-get install chromium"):
        report.build_deck(demo_report)


# -- HTML -----------------------------------------------------------------------------------------


def test_html_is_self_contained_and_labelled(demo_report, tiny_report):
    page = report.build_html(demo_report)
    assert page.count("window.PlotlyConfig") == 1  # plotly.js inlined once
    assert page.count('class="plotly-graph-div"') == len(demo_report.charts)
    assert not any("src" in tag for tag in re.findall(r"<script\b[^>]*>", page))
    outside = visible_html(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", outside)
    assert "@import" not in outside and "@font-face" not in outside and "url(" not in outside
    assert report.DEMO_LABEL in visible_html(page)
    assert demo_report.sentence in visible_html(page)
    tiny = report.build_html(tiny_report)
    assert "SYNTHETIC" not in tiny


def test_html_escapes_names(tmp_path):
    directory = tmp_path / "csv"
    paths = write_tiny(directory)
    agencies = directory / "agencies.csv"
    evil = "<img src=x onerror=alert(1)> & Sons Police"
    agencies.write_text(
        agencies.read_text().replace("Navajo Nation Police Department", f'"{evil}"'), "utf-8"
    )
    path = tmp_path / "evil.duckdb"
    assert ingest_files(path, paths).ok
    page = report.build_html(_collect(path, Filters(), ["overview"]))
    assert "<img src=x" not in page
    assert html.escape(evil) in page  # the 1st engagement's agency, in the milestones table


def _open_offline(url: str, charts_expected: int) -> list[str]:
    """Open the report with every other request aborted; return every request the page made."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url == url else route.abort(),
            )
            page.goto(url)
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg .cartesianlayer')"
                ".length >= n",
                arg=charts_expected,
                timeout=60_000,
            )
            # One drawn plot per chart (plotly.js draws several .main-svg layers inside each).
            drawn = page.locator(".js-plotly-plot").evaluate_all(
                "els => els.filter(e => e.querySelector('.main-svg')).length"
            )
            assert drawn == charts_expected
            assert page.get_by_text(report.DEMO_LABEL, exact=False).first.is_visible()
        finally:
            browser.close()
    return requests


@pytest.mark.browser
def test_html_renders_offline_with_no_requests(tmp_path, demo_report):
    need_browser()
    target = tmp_path / "report.html"
    target.write_text(report.build_html(demo_report), encoding="utf-8")
    url = target.as_uri()
    requests = off_the_event_loop(_open_offline, url, len(demo_report.charts))
    assert requests == [url], requests


# -- command line ---------------------------------------------------------------------------------


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "critac_metrics", "report", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_cli_html(demo_db, tmp_path):
    out = tmp_path / "out" / "report.html"
    done = _cli("--db", str(demo_db), "--format", "html", "--out", str(out), "--section", "reach")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert page.count('class="plotly-graph-div"') == report.chart_count(["reach"])
    assert report.DEMO_LABEL in page


def test_cli_errors_are_clear(demo_db, tmp_path):
    done = _cli("--db", str(demo_db), "--section", "maps")
    assert done.returncode == 1 and "unknown section 'maps'" in done.stderr
    out = tmp_path / "deck.pptx"
    no_browser = {"BROWSER_PATH": str(tmp_path / "no-chromium")}
    done = _cli("--db", str(demo_db), "--format", "pptx", "--out", str(out), env=no_browser)
    assert done.returncode == 1
    assert render.CHROMIUM_MISSING in done.stderr
    assert not out.exists()
    html_out = tmp_path / "still.html"
    done = _cli("--db", str(demo_db), "--out", str(html_out), "--section", "topics", env=no_browser)
    assert done.returncode == 0 and html_out.exists()


@pytest.mark.browser
def test_cli_pptx(demo_db, tmp_path):
    need_browser()
    out = tmp_path / "deck.pptx"
    done = _cli(
        "--db",
        str(demo_db),
        "--format",
        "pptx",
        "--out",
        str(out),
        "--section",
        "pipeline",
        "--agency-type",
        "tribal",
        "--start",
        "2023-10-01",
        "--end",
        "2024-09-30",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    deck = Presentation(str(out))
    assert len(deck.slides) == 2 + report.chart_count(["pipeline"])
    sentence = Filters(
        start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30), agency_types=("tribal",)
    ).describe()
    assert sentence in slide_texts(deck.slides[0])


# -- the Report page ------------------------------------------------------------------------------


def exports(at: AppTest) -> list[str]:
    """Labels of the export download buttons (not the preview chart's CSV)."""
    return [b.label for b in at.download_button if not (b.key or "").startswith("report_preview")]


@pytest.fixture
def report_page(monkeypatch, demo_db):
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/report.py")
    return at.run()


def test_report_page_runs(report_page):
    at = report_page
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Report"
    assert any("Synthetic demo data" in w.value for w in at.warning)
    assert unescape(at.caption[0].value) == Filters().describe()
    assert at.multiselect(key="report_sections").value == list(report.SECTIONS)
    assert app_charts.charts(at)  # the preview
    assert not exports(at)  # built on click


def test_report_page_without_chromium_still_offers_html(monkeypatch, report_page):
    monkeypatch.setattr(render, "available", lambda: False)
    monkeypatch.setattr(render, "start", no_chromium)
    at = report_page
    at.multiselect(key="report_sections").set_value(["pipeline"]).run()
    assert any(render.CHROMIUM_MISSING in w.value for w in at.warning)
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(render.CHROMIUM_MISSING in e.value for e in at.error)
    assert exports(at) == ["HTML report (opens offline)"]


@pytest.mark.browser
def test_report_page_builds_both_downloads(report_page):
    need_browser()
    at = report_page
    at.multiselect(key="report_sections").set_value(["reach"]).run()
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert exports(at) == [
        "PowerPoint deck (16:9)",
        "HTML report (opens offline)",
    ]


def test_building_the_report_reuses_the_previews_metrics_and_figures(monkeypatch, report_page):
    """The deck is the preview's report (metrics run and figures built once), stamped anew."""
    collected, decks = [], []
    original = report.collect

    def counting(*args, **kwargs):
        collected.append(args[1:])
        return original(*args, **kwargs)

    monkeypatch.setattr(report, "collect", counting)
    monkeypatch.setattr(report, "build_deck", lambda built: decks.append(built) or b"deck")
    monkeypatch.setattr(render, "start", lambda: "chromium")
    at = report_page
    at.multiselect(key="report_sections").set_value(["pipeline"]).run()
    before = len(collected)  # the preview's collect (none if another test had this preview)
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(collected) == before and len(decks) == 1
    assert decks[0].sections == ("pipeline",)
    assert len(decks[0].charts) == report.chart_count(["pipeline"])
    assert exports(at) == ["PowerPoint deck (16:9)", "HTML report (opens offline)"]
