"""The report as a 16:9 PowerPoint deck: title slide, headline figures, one slide per chart."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Inches, Pt

from . import palette, render
from .report_content import (
    DEMO_LABEL,
    DEMO_NOTE,
    IMAGE_HEIGHT,
    IMAGE_SCALE,
    IMAGE_WIDTH,
    REPORT_TITLE,
    SECTIONS,
    SOURCE,
    Chart,
    Report,
    _day,
)

# -- PowerPoint -----------------------------------------------------------------------------------

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
INK_RGB = palette.rgb(palette.TEXT)
MUTED_RGB = palette.rgb(palette.INK)
WARN_RGB = palette.rgb(palette.WARNING)
ACCENT_RGB = palette.rgb(palette.ACCENT)


def build_deck(report: Report, image_dir: Path | None = None) -> bytes:
    """The deck: title slide, headline figures, one slide per chart (PNG, takeaway, notes).

    Raises render.ChromiumMissing (a clear message) when no browser can draw the chart images.
    ``image_dir``: also write each chart PNG there (for checking the images by eye).
    """
    if report.charts:
        render.start()  # fail early, before any slide is built
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    deck.core_properties.title = REPORT_TITLE
    deck.core_properties.subject = report.sentence
    _title_slide(deck, report)
    _kpi_slide(deck, report)
    pngs = render.to_pngs(
        [chart.figure for chart in report.charts], IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE
    )
    for number, (chart, png) in enumerate(zip(report.charts, pngs, strict=True), start=1):
        if image_dir is not None:
            image_dir.mkdir(parents=True, exist_ok=True)
            (image_dir / f"{number:02d}-{chart.key}.png").write_bytes(png)
        _chart_slide(deck, report, chart, png)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _rgb(rgb: tuple[int, int, int]) -> RGBColor:
    return RGBColor(*rgb)  # type: ignore[no-untyped-call]


Line = tuple[str, float, tuple[int, int, int], bool]  # text, size in pt, colour, bold


def _fill(shape: Any, lines: Sequence[Line]) -> None:
    """Replace a shape's text with one left-aligned paragraph per line."""
    frame = shape.text_frame
    frame.word_wrap = True
    frame.clear()
    for i, (text, size, rgb, bold) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.LEFT
        run = paragraph.add_run()
        run.text = text
        run.font.size, run.font.bold = Pt(size), bold
        run.font.color.rgb = _rgb(rgb)


def _place(shape: Any, box: tuple[float, float, float, float]) -> None:
    """Put a shape at (left, top, width, height) in inches."""
    shape.left, shape.top, shape.width, shape.height = (Inches(v) for v in box)


def _text(slide: Any, box: tuple[float, float, float, float], lines: Sequence[Line]) -> Any:
    """A text box at (left, top, width, height) inches."""
    shape = slide.shapes.add_textbox(*(Inches(v) for v in box))
    shape.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    _fill(shape, lines)
    return shape


def _set_title(slide: Any, text: str, box: tuple[float, float, float, float], size: float) -> None:
    """Fill the layout's title placeholder (so outlines and screen readers see the title) and place
    it for 16:9 (the default template's placeholders are laid out for 4:3)."""
    _place(slide.shapes.title, box)
    _fill(slide.shapes.title, [(text, size, INK_RGB, True)])


def _title_slide(deck: Any, report: Report) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    _set_title(slide, REPORT_TITLE, (0.6, 1.2, 12.1, 1.2), 40)
    subtitle = slide.placeholders[1]
    _place(subtitle, (0.6, 2.5, 12.1, 1.6))
    _fill(
        subtitle,
        [
            (report.sentence, 22, INK_RGB, False),
            (f"Data as of {report.data_date_text} · {SOURCE}", 16, MUTED_RGB, False),
        ],
    )
    if report.is_demo:
        box = _text(
            slide,
            (0.6, 4.3, 12.1, 1.1),
            [(DEMO_LABEL, 20, WARN_RGB, True), (DEMO_NOTE, 14, WARN_RGB, False)],
        )
        box.line.color.rgb = _rgb(WARN_RGB)
        box.line.width = Pt(1.5)
    sections = ", ".join(SECTIONS[s] for s in report.sections)
    _text(
        slide,
        (0.6, 6.2, 12.1, 0.9),
        [
            (
                "Collaborative Reform Initiative Technical Assistance Center (CRI-TAC), U.S. "
                "Department of Justice COPS Office",
                12,
                MUTED_RGB,
                False,
            ),
            (f"Sections: {sections} · generated {_day(report.generated)}", 12, MUTED_RGB, False),
        ],
    )
    slide.notes_slide.notes_text_frame.text = "\n".join(
        [
            REPORT_TITLE,
            report.sentence,
            f"Data as of {report.data_date_text}. {SOURCE}.",
            *([f"{DEMO_LABEL}: {DEMO_NOTE}"] if report.is_demo else []),
        ]
    )


def _kpi_slide(deck: Any, report: Report) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    _set_title(slide, "Headline figures", (0.6, 0.35, 9.0, 0.8), 30)
    _text(slide, (0.6, 1.1, 12.1, 0.5), [(report.sentence, 16, MUTED_RGB, False)])
    if report.is_demo:
        _text(slide, (9.7, 0.45, 3.0, 0.5), [(DEMO_LABEL, 14, WARN_RGB, True)])
    cols, width, height, gap = 3, 3.9, 2.05, 0.2
    for i, kpi in enumerate(report.kpis):
        left = 0.6 + (i % cols) * (width + gap)
        top = 1.75 + (i // cols) * (height + gap)
        card = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE, Inches(left), Inches(top), Inches(width), Inches(height)
        )
        card.adjustments[0] = 0.06
        card.fill.solid()
        card.fill.fore_color.rgb = _rgb(palette.rgb(palette.DECK_CARD))
        card.line.color.rgb = _rgb(palette.rgb(palette.DECK_CARD_LINE))
        frame = card.text_frame
        frame.word_wrap = True
        frame.margin_left = frame.margin_right = Inches(0.2)
        lines = [(kpi.label, 15, MUTED_RGB, False), (kpi.value, 34, INK_RGB, True)]
        if kpi.change:
            lines.append((kpi.change_line, 13, MUTED_RGB, False))
        elif not report.comparison.startswith("No change"):
            lines.append(("no comparison", 13, MUTED_RGB, False))
        _fill(card, lines)
        if len(kpi.value) > 12:  # 'suppressed (n < 5)' in a smaller size
            frame.paragraphs[1].runs[0].font.size = Pt(22)
    _text(
        slide,
        (0.6, 6.45, 12.1, 0.8),
        [
            (report.comparison, 12, MUTED_RGB, False),
            (
                f"Data as of {report.data_date_text} · {SOURCE} · figures on fewer than "
                f"{report.min_n} survey respondents are suppressed",
                12,
                MUTED_RGB,
                False,
            ),
        ],
    )
    notes = [f"Headline figures: {report.sentence}"]
    for kpi in report.kpis:
        change = f" ({kpi.change_line})" if kpi.change else ""
        notes.append(f"- {kpi.label}: {kpi.value}{change}. {kpi.description}")
    notes += [report.comparison, f"Data as of {report.data_date_text}."]
    if report.is_demo:
        notes.append(f"{DEMO_LABEL}: {DEMO_NOTE}")
    slide.notes_slide.notes_text_frame.text = "\n".join(notes)


def _chart_slide(deck: Any, report: Report, chart: Chart, png: bytes) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    _text(slide, (0.6, 0.2, 9.0, 0.35), [(SECTIONS[chart.section].upper(), 12, ACCENT_RGB, True)])
    _set_title(slide, chart.takeaway, (0.6, 0.5, 12.1, 0.9), 22)
    # The picture: as large as fits in the area under the title, centred, aspect kept.
    area_left, area_top, area_w, area_h = 0.6, 1.45, 12.1, 5.85
    aspect = IMAGE_WIDTH / IMAGE_HEIGHT
    width = min(area_w, area_h * aspect)
    height = width / aspect
    left = area_left + (area_w - width) / 2
    picture = slide.shapes.add_picture(
        io.BytesIO(png), Inches(left), Inches(area_top), Inches(width), Inches(height)
    )
    picture.name = f"Chart: {chart.title}"
    # Alt text for screen readers.
    picture._element.nvPicPr.cNvPr.set("descr", f"{chart.title}. {chart.takeaway}.")
    slide.notes_slide.notes_text_frame.text = _notes(report, chart)


def _notes(report: Report, chart: Chart) -> str:
    lines = [
        f"{chart.title}",
        f"Takeaway: {chart.takeaway}.",
        "",
        "Figures:",
        *(f"- {line}" for line in chart.table.lines()),
        "",
        f"Filters: {report.sentence}",
        f"Data as of {report.data_date_text}. {SOURCE}.",
    ]
    if report.is_demo:
        lines.append(f"{DEMO_LABEL}: {DEMO_NOTE}")
    return "\n".join(lines)
