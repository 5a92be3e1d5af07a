"""Accessible charts: each chart's accessible name states its takeaway (critac_metrics.alt_text),
and a "View as table" toggle shows the chart's numbers as a table instead; when the chart narrows
the filters on a click, a row of the table does the same from the keyboard."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from critac_metrics.alt_text import figure_takeaway

from . import state

TOGGLE = "View as table"


def alt(fig) -> str:
    return figure_takeaway(fig)


def as_table(key: str, table: pd.DataFrame | None) -> bool:
    """Draw the toggle (only when there are numbers to show); True when the table is wanted."""
    if table is None or table.empty:
        return False
    return st.toggle(TOGGLE, key=f"{key}_as_table", help="Show this chart's numbers as a table")


def _columns_for(table: pd.DataFrame, filter_on: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """The table's columns a selected row filters on (a heatmap's cell: topic and agency type)."""
    params = (filter_on,) if isinstance(filter_on, str) else filter_on or ()
    return tuple(p for p in params if p in table.columns)


def show_table(
    table: pd.DataFrame, key: str, takeaway: str, filter_on: str | tuple[str, ...] | None
) -> None:
    """The chart's numbers; with ``filter_on``, selecting a row narrows every page to its value."""
    from .show import _header, plain  # show imports this module

    st.caption(plain(takeaway))
    columns = _columns_for(table, filter_on)
    options: dict = {
        "key": f"{key}_table",
        "hide_index": True,
        "width": "stretch",
        "column_config": {c: _header(c) for c in table.columns},
    }
    if columns:
        options.update(on_select=partial(_on_row, key, table, columns), selection_mode="single-row")
    st.dataframe(table, **options)
    if columns:
        st.caption("Select a row to filter every page to it.")


def _on_row(key: str, table: pd.DataFrame, columns: tuple[str, ...]) -> None:
    rows = st.session_state[f"{key}_table"].selection.get("rows", [])
    if rows:
        row = table.iloc[rows[0]]
        pairs = [(column, str(row[column])) for column in columns if pd.notna(row[column])]
        if pairs:
            state.narrow(*pairs)
