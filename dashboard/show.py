"""The one place that draws: KPI tiles, charts with their downloads, captions, banners, states."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from critac_metrics import charts, metrics, registry, report
from critac_metrics.downloads import EXCEL_MAX_ROWS, csv_bytes, excel_bytes
from critac_metrics.filters import Filters

from . import accessible, chips, data, state

DEMO_BANNER = (
    "**Synthetic demo data.** Every record shown here is invented for demonstration; no "
    "engagement-level CRI-TAC data is public. Point `CRITAC_DB` at your own database to see real figures."
)

GRAIN_LABELS = {"month": "Month", "quarter": "Quarter", "fiscal_year": "Fiscal year"}
WAVE_LABELS = {"post": "Right after", "follow_up": "Follow-up (months later)"}
CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "data-contract.md"
CROSS_FILTER_HINT = "Click a bar, cell or state to filter every page to it."


def page_header(title: str, filters: Filters, noun: str = "Engagements") -> None:
    """Title, demo banner, URL notices and the one-sentence filter caption, for every page."""
    st.title(title)
    chips.render(filters)
    if data.info("is_demo"):
        st.warning(DEMO_BANNER, icon=":material/science:")
    for notice in state.notices():
        st.info(plain(notice), icon=":material/link_off:")
    st.caption(plain(filters.describe(noun)))


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


AUTOLINK_STARTS = re.compile(r"(://|www\.|@)", re.IGNORECASE)


def plain(text: str) -> str:
    """Text for an element that renders Markdown (st.caption, st.info): every Markdown character
    is escaped, and a zero-width space breaks what GitHub-flavoured Markdown would turn into a
    link by itself (https://…, www.…, a@b), so a value from a URL or an import is shown as
    typed, never as a link or an image."""
    unlinked = AUTOLINK_STARTS.sub(lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1:], text)
    return MARKDOWN_SPECIAL.sub(r"\\\1", unlinked)


def cross_filter_hint() -> None:
    if not state.presenting():
        st.caption(CROSS_FILTER_HINT)


def milestone_caption(projection: dict) -> None:
    """The next milestone's projection in a sentence (nothing when there is none to make)."""
    sentence = report.milestone_takeaway(projection)
    if sentence:
        st.caption(plain(sentence + "."))


def empty_state() -> None:
    st.info(
        "No engagements match these filters. Widen the date range or clear a filter "
        "(Reset filters in the sidebar).",
        icon=":material/filter_alt_off:",
    )


KPI_COLUMNS = 3


def _rows(items: list, size: int = KPI_COLUMNS):
    """Equal-width rows of tiles."""
    for start in range(0, len(items), size):
        yield zip(st.columns(size), items[start : start + size], strict=False)


def kpi_row(kpis: pd.DataFrame, previous: str | None = None) -> None:
    """KPI tiles with the change against the previous period, a sparkline, and the number of
    answers behind a survey rate."""
    for column, row in (pair for tiles in _rows(list(kpis.itertuples())) for pair in tiles):
        metric = registry.METRICS[row.metric]
        label = metric.label
        if pd.notna(row.n):
            label = f"{label} (n = {int(row.n):,})"
        column.metric(
            label,
            metric.format(row.value),
            delta=_delta(row.change, metric.fmt),
            delta_color="normal" if row.change else "off",
            help=metric.description,
            border=True,
            chart_data=row.sparkline or None,
        )
    if previous:
        st.caption(f"Changes compare with the previous period: {previous}.")


def _delta(change, fmt: str) -> str | None:
    if change is None or pd.isna(change):
        return None
    text = registry.format_value(abs(change), fmt).replace("%", " pts")
    return f"{'+' if change > 0 else '−' if change < 0 else '±'}{text}"


def chart(fig, key: str, table: pd.DataFrame | None = None, filter_on: str | None = None) -> None:
    """Draw a figure with our theme (not Streamlit's) and offer its numbers as CSV.

    ``filter_on`` names the URL parameter (topic, state, agency_type) that a click on an element
    narrows every page to, using the element's customdata[0]."""
    name = charts.slugify(fig.layout.title.text or key)
    # The filter sentence, data date, source and demo label are part of the figure, so an image
    # downloaded from the modebar stands on its own.
    fig = charts.with_context(
        fig,
        state.current().describe(),
        data.info("data_date"),
        data.info("is_demo"),
        background=None,
    )
    options: dict[str, Any] = {"theme": None, "key": key, "config": charts.modebar_config(name)}
    if filter_on:
        options.update(on_select=partial(_on_click, key, filter_on), selection_mode="points")
    takeaway = accessible.alt(fig)
    if accessible.as_table(key, table):
        accessible.show_table(table, key, takeaway, filter_on)
    else:
        st.plotly_chart(fig, alt=takeaway, **options)
    if table is not None and not table.empty:
        st.download_button(
            "Download these numbers (CSV)",
            partial(csv_bytes, table),  # built only when clicked
            f"{name}.csv",
            "text/csv",
            key=f"{key}_csv",
            icon=":material/download:",
        )


def row_downloads(filters: Filters, name: str) -> None:
    """CSV and Excel of every engagement row behind the figures; the file is only queried and
    built when a button is clicked, so a large selection costs nothing on every rerun."""

    def rows():
        return data.run(metrics.filtered_engagements, filters)

    left, right = st.columns(2)
    left.download_button("CSV", lambda: csv_bytes(rows()), f"{name}.csv", "text/csv",
                         icon=":material/download:", width="stretch")  # fmt: skip
    right.download_button(
        "Excel",
        lambda: excel_bytes(rows(), "engagements"),
        f"{name}.xlsx",
        icon=":material/download:",
        width="stretch",
        help=f"Excel holds at most {EXCEL_MAX_ROWS:,} rows; use CSV beyond that.",
    )


def _on_click(key: str, param: str) -> None:
    selection = st.session_state[key].selection
    values = [p["customdata"][0] for p in selection.get("points", []) if p.get("customdata")]
    if values:
        state.narrow(param, str(values[0]))


def item_label(item: str) -> str:
    return item.replace("_", " ").capitalize()


def dimension_label(name: str) -> str:
    return registry.DIMENSIONS.get(name, name)


def figure_row(values: dict, names: list[str], fmt: str | None = None) -> None:
    """Rows of plain figures (no comparison), labelled and formatted by the registry."""
    for column, name in (pair for tiles in _rows(names) for pair in tiles):
        metric = registry.METRICS.get(name)
        label = metric.label if metric else name.replace("_", " ").capitalize()
        text = registry.format_value(values[name], fmt or (metric.fmt if metric else "count"))
        column.metric(label, text, help=metric.description if metric else None, border=True)


def table(frame: pd.DataFrame, key: str, help_text: str | None = None) -> None:
    """A table; text cells are always shown as text (never rendered as HTML or Markdown)."""
    if help_text:
        st.caption(help_text)
    dates = {
        column: st.column_config.DateColumn(_header(column), format="YYYY-MM-DD")
        for column in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[column])
    }
    headers = {column: _header(column) for column in frame.columns if column not in dates}
    st.dataframe(
        frame, key=key, hide_index=True, width="stretch", column_config={**headers, **dates}
    )


def _header(column: str) -> str:
    return registry.DIMENSIONS.get(column) or column.replace("_", " ").capitalize()


def import_history(log: pd.DataFrame) -> None:
    if log.empty:
        st.info("Nothing has been imported yet.")
        return
    for row in log.itertuples():
        files = (
            ", ".join(f"{f['name']} (SHA-256 {f['sha256'][:12]}…)" for f in row.files) or row.source
        )
        counts = ", ".join(f"{n:,} {table}" for table, n in row.rows_by_table.items())
        with st.expander(
            f"{row.imported_at:%Y-%m-%d %H:%M} UTC · {counts}", expanded=row.Index == 0
        ):
            st.text(f"Source: {row.source}\nFiles: {files}")
            if row.warnings:
                st.warning(f"{len(row.warnings)} data-quality warning(s)")
                st.text("\n".join(row.warnings[:200]))
            else:
                st.caption("No data-quality warnings.")


def data_contract_markdown() -> str:
    return (
        CONTRACT.read_text(encoding="utf-8")
        if CONTRACT.exists()
        else "docs/data-contract.md is missing."
    )
