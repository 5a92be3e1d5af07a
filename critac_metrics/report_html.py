"""The report as one self-contained, offline HTML file: KPIs, interactive charts, tables."""

from __future__ import annotations

import functools
import html
import re

import plotly.graph_objects as go

from . import charts, palette
from .render import PLOTLY_JS
from .report_content import (
    DEMO_LABEL,
    DEMO_NOTE,
    FOOTER_PX,
    REPORT_TITLE,
    SECTIONS,
    SOURCE,
    Chart,
    Report,
    Table,
    _day,
)

# -- HTML -----------------------------------------------------------------------------------------

CSS = (
    f"""
:root {{ color-scheme: light; --ink: {palette.TEXT}; --muted: {palette.INK}; --line: {palette.LINE};
  --warn: {palette.WARNING}; --background: {palette.BACKGROUND}; --card: {palette.CARD}; }}"""
    """
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--ink); background: var(--background); line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 2rem; margin: 0 0 6px; }
h2 { font-size: 1.4rem; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
.sentence { font-size: 1.15rem; margin: 4px 0; }
.muted, footer { color: var(--muted); font-size: 0.9rem; }
.demo { border: 2px solid var(--warn); color: var(--warn); padding: 10px 14px; border-radius: 6px;
  margin: 14px 0; }
.demo strong { letter-spacing: 0.04em; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px;
  margin: 12px 0; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--card); }
.kpi .label { color: var(--muted); font-size: 0.95rem; }
.kpi .value { font-size: 1.9rem; font-weight: 700; }
.kpi .change { color: var(--muted); font-size: 0.9rem; }
figure { margin: 24px 0 0; }
.takeaway { font-size: 1.1rem; font-weight: 600; margin: 0 0 6px; }
details { margin: 6px 0 0; }
summary { cursor: pointer; color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
)


@functools.cache
def plotly_js() -> str:
    """plotly.js trimmed to the trace types our charts draw (1.2 MB instead of 4.8 MB; built by
    tools/plotly_bundle/build.sh). Inlined once, so the report needs no network."""
    return PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


def build_html(report: Report) -> str:
    """One HTML file: KPIs and interactive charts, plotly.js inlined once, no network requests."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(REPORT_TITLE)}: {e(report.sentence)}</title>",
        f"<style>{CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{plotly_js()}</script></head><body><main>',
        f"<header><h1>{e(REPORT_TITLE)}</h1>",
        f'<p class="sentence">{e(report.sentence)}</p>',
        f'<p class="muted">Data as of {e(report.data_date_text)} · {e(SOURCE)} · generated '
        f"{e(_day(report.generated))}</p>",
    ]
    if report.is_demo:
        parts.append(
            f'<p class="demo" role="note"><strong>{DEMO_LABEL}</strong> · {e(DEMO_NOTE)}</p>'
        )
    parts.append("</header>")
    parts += _html_kpis(report)
    for section in report.sections:
        parts.append(f'<section id="{e(section)}"><h2>{e(SECTIONS[section])}</h2>')
        for chart in (c for c in report.charts if c.section == section):
            parts += _html_chart(chart)
        parts.append("</section>")
    parts.append(
        f"<footer><p>{e(report.comparison)} Outcome figures built on fewer than {report.min_n} "
        "survey respondents are suppressed.</p>"
        "<p>Collaborative Reform Initiative Technical Assistance Center (CRI-TAC), U.S. Department "
        "of Justice COPS Office.</p></footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _html_kpis(report: Report) -> list[str]:
    e = html.escape
    out = ['<section id="headline"><h2>Headline figures</h2><div class="kpis">']
    for kpi in report.kpis:
        change = f'<div class="change">{e(kpi.change_line)}</div>' if kpi.change else ""
        out.append(
            f'<div class="kpi" title="{e(kpi.description)}"><div class="label">{e(kpi.label)}</div>'
            f'<div class="value">{e(kpi.value)}</div>{change}</div>'
        )
    out.append(f'</div><p class="muted">{e(report.comparison)}</p></section>')
    return out


def _html_chart(chart: Chart) -> list[str]:
    e = html.escape
    fig = go.Figure(chart.figure)
    height = int((fig.layout.height or 450) + FOOTER_PX)
    fig.update_layout(height=height)
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=charts.modebar_config(chart.title) | {"responsive": True},
        div_id=f"chart-{chart.key}",
        default_height=f"{height}px",
    )
    return [
        f'<figure id="{e(chart.key)}" aria-label="{e(_named(chart))}">',
        f'<p class="takeaway">{e(chart.takeaway)}</p>',
        div,
        f"<details><summary>The figures: {e(chart.title)}</summary>",
        _html_table(chart.table),
        "</details></figure>",
    ]


def _named(chart: Chart) -> str:
    """A chart's accessible name: its title and its takeaway."""
    return f"{chart.title}: {chart.takeaway}" if chart.takeaway else chart.title


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{e(row[0])}</th>']
        cells += [
            f'<td class="num">{e(v)}</td>'
            if re.fullmatch(r"[\d,.%–\- ]+(days)?", v)
            else f"<td>{e(v)}</td>"
            for v in row[1:]
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    note = f'<p class="muted">{e(table.note)}</p>' if table.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"
