"""Presenter exports: a 16:9 PowerPoint deck and one self-contained, offline HTML file.

``collect()`` runs the metrics once for a selection and sections; ``build_deck()`` and ``build_html()``
draw the same content. Everything that leaves the app explains itself: every chart carries its title,
the filter sentence, the data date and the source (``charts.with_context``), a one-line takeaway
computed from the data, and its numbers as text (speaker notes, HTML tables). Synthetic demo data is
labelled on the title slide, on every chart image and in the HTML.

Outcome figures come only from the metric functions, which suppress anything built on fewer than
``min_n`` respondents; a suppressed figure is written as "suppressed (n < 5)" and never recomputed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import charts, metrics, registry, render, store
from .filters import Filters
from .render import PLOTLY_JS
from .report_content import (
    DEMO_LABEL,
    DEMO_NOTE,
    FORMATS,
    IMAGE_HEIGHT,
    IMAGE_SCALE,
    IMAGE_WIDTH,
    NO_DATA,
    REPORT_TITLE,
    SECTIONS,
    SOURCE,
    Built,
    Chart,
    Kpi,
    Report,
    Table,
    _Context,
    _plain,
    check_sections,
)
from .report_html import CSS, build_html, plotly_js
from .report_sections import SECTION_CHARTS, chart_count, milestone_takeaway
from .words import plural as _plural

__all__ = [
    "CSS",
    "Chart",
    "DEMO_LABEL",
    "DEMO_NOTE",
    "ExportError",
    "FORMATS",
    "IMAGE_HEIGHT",
    "IMAGE_SCALE",
    "IMAGE_WIDTH",
    "Kpi",
    "NO_DATA",
    "PLOTLY_JS",
    "REPORT_TITLE",
    "Report",
    "SECTIONS",
    "SECTION_CHARTS",
    "SOURCE",
    "Table",
    "build",
    "build_deck",
    "build_html",
    "chart_count",
    "check_sections",
    "collect",
    "draw_images_ahead",
    "milestone_takeaway",
    "plotly_js",
    "preview",
    "write",
]


class ExportError(RuntimeError):
    """A report could not be produced (the message is meant for the user)."""


def collect(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Report:
    """Run the metrics for the chosen sections (all by default) and build every chart once."""
    chosen = check_sections(sections)
    context = _Context(con, filters, min_n, store.data_date(con), store.is_demo(con))
    built = [
        _chart(context, section, builder)
        for section in chosen
        for builder in SECTION_CHARTS[section]
    ]
    kpis, comparison = _kpis(context)
    return Report(
        filters=filters,
        sentence=context.sentence,
        data_date=context.date,
        is_demo=context.is_demo,
        sections=chosen,
        kpis=kpis,
        comparison=comparison,
        charts=tuple(built),
        min_n=min_n,
    )


def preview(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Chart | None:
    """The first chart of the chosen sections exactly as it will be exported (None if no charts)."""
    chosen = check_sections(sections)
    context = _Context(con, filters, min_n, store.data_date(con), store.is_demo(con))
    return _chart(context, chosen[0], SECTION_CHARTS[chosen[0]][0]) if chosen else None


def _chart(context: _Context, section: str, builder: Callable[[_Context], Built]) -> Chart:
    key, fig, takeaway, table = builder(context)
    return Chart(
        key=key,
        section=section,
        title=_plain(fig.layout.title.text or key),
        takeaway=takeaway,
        figure=charts.with_context(
            fig, context.sentence, context.date_text, context.is_demo, source=SOURCE
        ),
        table=table,
    )


# -- headline figures -----------------------------------------------------------------------------


def _kpis(ctx: _Context) -> tuple[tuple[Kpi, ...], str]:
    frame = metrics.kpis_with_comparison(ctx.con, ctx.filters, ctx.min_n)
    comparison = metrics.comparison(ctx.con, ctx.filters)
    compared = comparison.previous is not None
    out = []
    for row in frame.to_dict("records"):
        metric = registry.METRICS[row["metric"]]
        label, value = metric.label, metric.format(_none(row["value"]))
        if row["metric"] == "positive_outcome_pct" and row["n"]:  # respondents behind the rate
            n = int(row["n"])
            label = f"{label} (n = {_plural(n, 'respondent')})"
            if n < ctx.min_n:  # suppressed: too few respondents to show the rate
                value = ctx.suppressed
        elif row["metric"] == "response_rate" and _none(row["value"]) is None:
            value = ctx.suppressed  # fewer than min_n responses (or no completed engagements)
        out.append(
            Kpi(
                row["metric"],
                label,
                value,
                metric.change(_none(row["change"])),
                metric.format(_none(row["previous"])) if compared else "",
                metric.description,
                metric.format(_none(row["compared"])) if compared else "",
                comparison.label,
            )
        )
    return tuple(out), comparison.sentence


def _none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# -- files ----------------------------------------------------------------------------------------


def build_deck(report: Report, image_dir: Path | None = None) -> bytes:
    """The PowerPoint deck (report_pptx.build_deck). python-pptx is imported here, when a deck is
    built: importing it takes about 0.5 s, which every dashboard page paid at a server's first run
    (they import this module for its sentences)."""
    from .report_pptx import build_deck as build_pptx

    return build_pptx(report, image_dir)


def draw_images_ahead(report: Report) -> None:
    """Start drawing the deck's chart images in the background (the Report page does, as its
    preview is shown): a deck built next finds them drawn. Nothing happens without Chromium."""
    if report.charts and render.available():
        figures = [chart.figure for chart in report.charts]
        render.draw_ahead(figures, IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE)


def build(report: Report, fmt: str) -> bytes:
    if fmt == "pptx":
        return build_deck(report)
    if fmt == "html":
        return build_html(report).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def write(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    fmt: str,
    out: Path | None = None,
    sections: Iterable[str] | None = None,
    min_n: int = metrics.DEFAULT_MIN_N,
) -> Path:
    """Build the report and write it to ``out`` (default: a name from the filters, in the current
    directory). Raises ExportError with a message for the user."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "pptx":
        # Chromium starts (~0.6 s) while the metrics run and the figures are built; its errors
        # surface when the deck asks for its images.
        render.warm_up()
    try:
        report = collect(con, filters, sections, min_n)
    except ValueError as exc:
        raise ExportError(str(exc)) from exc
    try:
        content = build(report, fmt)
    except (render.ChromiumMissing, render.RenderError) as exc:
        raise ExportError(str(exc)) from exc
    path = Path(out) if out else Path(report.file_name(fmt))
    temporary = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(content)
        temporary.replace(path)
    except OSError as exc:  # a read-only folder, a full disk: no half-written file is left
        temporary.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from exc
    return path
