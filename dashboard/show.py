"""The one place that draws: KPI tiles, charts with their downloads, captions, banners, states."""

from __future__ import annotations

import re
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from critac_metrics import (
    charts,
    dimensions,
    figure_cache,
    light_export,
    metrics,
    registry,
    report,
    sparkline,
)
from critac_metrics.downloads import EXCEL_MAX_ROWS, csv_bytes, excel_bytes
from critac_metrics.filters import Filters, fiscal_year_spanned
from critac_metrics.words import plural

from . import accessible, chips, data, plotly_chart, state

DEMO_BANNER = (
    "**Synthetic demo data.** Every record shown here is invented for demonstration; no "
    "engagement-level CRI-TAC data is public. Point `CRITAC_DB` at your own database to see real figures."
)

GRAIN_LABELS = dimensions.GRAIN_LABELS
WAVE_LABELS = dimensions.WAVE_LABELS
CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "data-contract.md"
CROSS_FILTER_HINT = "Click a bar, cell or state to filter every page to it."
COMMENTS_HIDDEN = (
    "Comments are shown when the selection has at least {min_n} survey respondents, so that no "
    "comment points at a person. Widen the selection to read them."
)
COMMENTS_NOTE = (
    "Score (satisfaction) and role are blank for engagements with fewer than {min_n} respondents."
)


# Wide charts keep their width on a phone and scroll sideways (a 46 x 8 heatmap squeezed into
# 390 px has unreadable cells); the class is set by chart(min_width=True).
CHART_CSS = """
<style>
[class*="st-key-wide-"] { overflow-x: auto; }
[class*="st-key-wide-"] > div { min-width: 640px; }
</style>
"""
MODEBAR_PX = 84  # the modebar (download and full-screen buttons) at a chart's top right


def page_header(title: str, filters: Filters, noun: str = "Engagements") -> None:
    """Title, demo banner, URL notices and the one-sentence filter caption, for every page."""
    st.html(CHART_CSS)
    st.html(light_export.SCRIPT, unsafe_allow_javascript=True)
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


EMPTY_STATE = (
    "No engagements match these filters. Widen the date range or clear a filter "
    "(Reset filters in the sidebar)."
)


def milestone_caption(projection: dict) -> None:
    """The next milestone's projection in a sentence (nothing when there is none to make)."""
    sentence = report.milestone_takeaway(projection)
    if sentence:
        st.caption(plain(sentence + "."))


def empty_state() -> None:
    st.info(EMPTY_STATE, icon=":material/filter_alt_off:")


def nothing_matches(filters: Filters, head: dict[str, Any] | None = None) -> bool:
    """The one test of every page's empty state: no engagements (requests that were not declined
    or withdrawn) match the filters. A page that shows the headline passes it (``head``); any
    other asks for a one-row scan instead of the whole headline."""
    if head is not None:
        return head["engagements"] == 0
    return not data.metric(metrics.has_engagements, filters)


def stop_if_empty(filters: Filters, head: dict[str, Any] | None = None) -> None:
    """Show the empty state and end the page when nothing matches (the same on every page)."""
    if nothing_matches(filters, head):
        empty_state()
        st.stop()


KPI_COLUMNS = 3


def _rows(items: list, size: int = KPI_COLUMNS):
    """Equal-width rows of tiles."""
    for start in range(0, len(items), size):
        yield zip(st.columns(size), items[start : start + size], strict=False)


def kpi_row(kpis: pd.DataFrame, comparison: str | None = None) -> None:
    """KPI tiles with the change against the previous period, a sparkline, and the number of
    respondents behind a survey rate; ``comparison`` says what the changes compare (or why
    none)."""
    for column, row in (pair for tiles in _rows(list(kpis.itertuples())) for pair in tiles):
        metric = registry.METRICS[row.metric]
        label = metric.label
        if pd.notna(row.n):
            label = f"{label} (n = {plural(int(row.n), 'respondent')})"
        help_text = metric.description + (f"\n\n{comparison}" if comparison else "")
        # The border is the container's, so the sparkline sits inside the tile; the sparkline is
        # our own SVG, not st.metric(chart_data=...): that Vega chart logged "Infinite extent".
        with column.container(border=True, gap="xxsmall", key=f"kpi-{row.metric}"):
            st.metric(
                label,
                metric.format(row.value),
                help=help_text,
                **delta_options(row.change, metric),
            )
            line = sparkline.svg(row.sparkline or [], metric.label, metric.format, dark_theme())
            if line:
                # st.html would strip the SVG (its sanitiser keeps HTML only); markdown keeps it.
                # The markup is built from numbers and an escaped label, never from user input.
                st.markdown(f'<div class="critac-spark">{line}</div>', unsafe_allow_html=True)
    if comparison:
        st.caption(plain(comparison))


DELTA_COLORS = {"higher": "normal", "lower": "inverse", "neutral": "off"}


def delta_options(change, metric: registry.Metric) -> dict:
    """st.metric's delta arguments: a drop shows the down arrow, a rise the up arrow, coloured
    by whether that direction is good news for this measure (registry ``better``); no change
    shows no arrow."""
    text = registry.change_text(None if change is None or pd.isna(change) else change, metric.fmt)
    if not text:
        return {"delta": None}
    if change == 0:
        return {"delta": text, "delta_color": "off", "delta_arrow": "off"}
    return {
        "delta": text,
        "delta_color": DELTA_COLORS[metric.better],
        "delta_arrow": "down" if change < 0 else "up",
    }


def chart(
    fig,
    key: str,
    table: pd.DataFrame | None = None,
    filter_on: str | tuple[str, ...] | None = None,
    wide: bool = False,
    drill: dict[str, Any] | None = None,
) -> None:
    """Draw a figure with our theme (not Streamlit's) and offer its numbers as CSV.

    ``filter_on`` names the URL parameter (topic, state, agency_type) that a click on an element
    narrows every page to, using the element's customdata[0]; a tuple of parameters takes
    customdata[0], customdata[1], … (a heatmap cell: topic and agency type). ``wide`` keeps the
    chart at least 640 px wide, scrolling sideways on a narrower screen. ``drill`` holds widget
    values set along with the filter (a fiscal year opened at the month grain); ``filter_on=
    "topic_group"`` narrows to the clicked group's topics."""
    name = charts.slugify(re.sub(r"<[^>]+>", " ", fig.layout.title.text or key))
    # The filter sentence, data date, source and demo label are part of the figure, so an image
    # downloaded from the modebar stands on its own. Made once per (figure, context, theme): a
    # figure seen before (a revisit, another viewer, a widget that redraws one chart of the page)
    # costs a copy instead of another validated copy of the whole figure (~20-50 ms a chart).
    fig = figure_cache.derived(
        _in_context,
        fig,
        state.current().describe(),
        data.info("data_date"),
        bool(data.info("is_demo")),
        dark_theme(),
    )
    on_click = partial(_on_click, filter_on, drill) if filter_on else None
    takeaway = accessible.alt(fig)
    if accessible.as_table(key, table):
        accessible.show_table(table, key, takeaway, filter_on)
    else:
        with st.container(key=f"wide-{key}") if wide else nullcontext():
            plotly_chart.draw(
                fig, key, alt=takeaway, config=charts.modebar_config(name), on_click=on_click
            )
    if table is not None and not table.empty:
        st.download_button(
            "Download these numbers (CSV)",
            partial(csv_bytes, table),  # built only when clicked
            f"{name}.csv",
            "text/csv",
            key=f"{key}_csv",
            icon=":material/download:",
        )


def _in_context(fig, sentence: str, data_date, is_demo: bool, dark: bool):
    """``fig`` as the app draws it: with its context (charts.with_context), the demo label clear
    of the modebar, in the viewer's theme."""
    # The modebar shows on hover at the top right: keep the demo label clear of it.
    fig = charts.with_context(
        fig, sentence, data_date, is_demo, background=None, label_shift=MODEBAR_PX
    )
    return light_export.in_theme(fig, dark)  # the modebar's PNG stays light in the dark


def dark_theme() -> bool:
    """Is the app drawn dark (the viewer's browser prefers dark, or chose it in the menu)?"""
    return st.context.theme.type == "dark"


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


def _on_click(param: str | tuple[str, ...], drill: dict | None, customdata: Any) -> None:
    """A click on a chart's element: narrow every page to its ``customdata`` (a list, one value
    per parameter of ``param``)."""
    params = (param,) if isinstance(param, str) else param
    values = customdata if isinstance(customdata, list) else [customdata]
    if not values:
        return
    if params == ("topic_group",):
        state.narrow(*(("topic", topic) for topic in state.group_topics(str(values[0]))))
    else:
        state.narrow(*((name, str(value)) for name, value in zip(params, values, strict=False)))
    st.session_state.update(drill or {})


def chosen(key: str, default: Any) -> Any:
    """The value of the widget ``key`` before the page draws it in this run (``default`` on a
    first visit, or when the widget holds no value): for ``data.ahead``, where a guess that the
    widget then changes costs one query in the background, never a figure."""
    return st.session_state.get(key) or default


def item_label(item: str) -> str:
    return registry.value_label("item", item)


def dimension_label(name: str) -> str:
    return dimensions.label(name)


def survey_caption(rates: dict, min_n: int) -> str:
    """What the survey figures count, and the responses dated after the last engagement date."""
    text = (
        f"Figures on fewer than {min_n} respondents are suppressed. Rates: completed engagements "
        f"with a response, of {rates['completed']:,} completed."
    )
    late = rates["late_responses"]
    if late:
        through = rates.get("data_through")
        day = f" ({through})" if through else ""
        text += (
            f" {late:,} response{'s were' if late != 1 else ' was'} submitted after the last "
            f"engagement date{day}; they are counted with their engagements."
        )
    return text


ALL_FIRST_TIME = (
    "With no start date, every agency served is first-time: its first engagement ever is in the "
    "selection. Choose a start date (a fiscal year, say) to see which agencies came back."
)


def all_first_time(filters: Filters, reach: dict) -> bool:
    """Does the reach row read "first-time = all, repeat 0" only because the selection starts
    at the beginning of the records (no start date), not because no agency came back?"""
    return filters.start is None and reach["agencies_served"] > 0 and not reach["repeat_agencies"]


def figure_row(values: dict, names: list[str], fmt: str | None = None) -> None:
    """Rows of plain figures (no comparison), labelled and formatted by the registry."""
    for column, name in (pair for tiles in _rows(names) for pair in tiles):
        metric = registry.METRICS.get(name)
        label = metric.label if metric else name.replace("_", " ").capitalize()
        text = registry.format_value(values[name], fmt or (metric.fmt if metric else "count"))
        column.metric(label, text, help=metric.description if metric else None, border=True)


def table(
    frame: pd.DataFrame, key: str, help_text: str | None = None, lazy: bool | None = None
) -> None:
    """A table; text cells are always shown as text (never rendered as HTML or Markdown).
    ``lazy``: the browser gets the first 1,000 rows and asks the server for more as the reader
    scrolls or sorts (st.dataframe's lazy loading), instead of every row on every run; None lets
    Streamlit choose (lazy above 150,000 rows). Its limits (no grid search, CSV download or row
    selection) are features this app turns off anyway."""
    if help_text:
        st.caption(help_text)
    dates = {
        column: st.column_config.DateColumn(_header(column), format="YYYY-MM-DD")
        for column in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[column])
    }
    headers = {column: _header(column) for column in frame.columns if column not in dates}
    st.dataframe(
        labelled(frame),
        key=key,
        hide_index=True,
        width="stretch",
        column_config={**headers, **dates},
        lazy=lazy,
    )


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for display: coded values ('municipal', 'follow_up') shown with the registry's
    labels, as in the charts and captions (downloads keep the codes)."""
    coded = [c for c in frame.columns if c in dimensions.CODED_COLUMNS]
    if not coded:
        return frame
    return frame.assign(
        **{c: frame[c].map(partial(registry.value_label, c), na_action="ignore") for c in coded}
    )


def _header(column: str) -> str:
    known = dimensions.DIMENSIONS.get(column)
    return known.label if known else dimensions.humanised(column)


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


YOY_LABEL = "Compare with the previous fiscal year"
YOY_HELP = "Overlay the fiscal year before, month by month (October first). Kept in the link."


def year_over_year_toggle(key: str) -> bool:
    """The year-over-year switch of a trend chart; its state is the URL's ``_yoy`` (one switch
    for every trend chart, so a shared link reopens it)."""
    st.session_state[key] = state.flag("_yoy")  # the URL wins (a link, Back)
    return st.toggle(
        YOY_LABEL,
        key=key,
        help=YOY_HELP,
        on_change=lambda: state.set_flag("_yoy", st.session_state[key]),
    )


def all_years_button(filters: Filters, grain_key: str) -> None:
    """After a fiscal year was opened (the dates span exactly one), a way back to every year at
    the fiscal-year grain (Back in the browser undoes it too)."""
    fy = fiscal_year_spanned(filters.start, filters.end) if filters.start and filters.end else None
    if fy is None or state.presenting():
        return

    def back() -> None:
        state.set_filters(filters.replace(start=None, end=None))
        st.session_state[grain_key] = "fiscal_year"

    st.button(
        f"All fiscal years (close FY{fy})",
        key=f"{grain_key}_all_years",
        icon=":material/arrow_back:",
        on_click=back,
    )
