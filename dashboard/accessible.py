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


def _column_for(table: pd.DataFrame, param: str) -> str | None:
    return param if param in table.columns else None


def show_table(table: pd.DataFrame, key: str, takeaway: str, filter_on: str | None) -> None:
    """The chart's numbers; with ``filter_on``, selecting a row narrows every page to its value."""
    from .show import _header, plain  # show imports this module

    st.caption(plain(takeaway))
    column = _column_for(table, filter_on) if filter_on else None
    options: dict = {
        "key": f"{key}_table",
        "hide_index": True,
        "width": "stretch",
        "column_config": {c: _header(c) for c in table.columns},
    }
    if column:
        options.update(on_select=partial(_on_row, key, table, column), selection_mode="single-row")
    st.dataframe(table, **options)
    if column:
        st.caption("Select a row to filter every page to it.")


def _on_row(key: str, table: pd.DataFrame, column: str) -> None:
    rows = st.session_state[f"{key}_table"].selection.get("rows", [])
    if rows:
        value = table.iloc[rows[0]][column]
        if pd.notna(value):
            state.narrow(column, str(value))
