"""Active-filter chips under each page's title: one per filter value, each removable on its own,
and "Reset all". Every change goes through state.set_filters, so the URL and the sidebar follow."""

from __future__ import annotations

import dataclasses
import html

import streamlit as st

from critac_metrics import charts, dimensions
from critac_metrics.filters import LIST_FILTERS, Filters

from . import state

DATES = "dates"
RESET_ALL = "Reset all"


def chips(filters: Filters) -> list[tuple[str, str, str | None]]:
    """(text, field, value) per active filter value, in the sidebar's order; the date range is
    one chip (field ``dates``, value None)."""
    out: list[tuple[str, str, str | None]] = []
    if filters.start or filters.end:
        out.append((f"Requested: {filters.period_text()}", DATES, None))
    for spec in LIST_FILTERS:
        name = dimensions.label(spec.param)
        for value in getattr(filters, spec.field):
            label = html.unescape(charts.category_label(spec.param, value))
            out.append((f"{name}: {label}", spec.field, value))
    return out


def without(filters: Filters, field: str, value: str | None) -> Filters:
    """``filters`` with one chip removed."""
    if field == DATES:
        return dataclasses.replace(filters, start=None, end=None)
    kept = tuple(v for v in getattr(filters, field) if v != value)
    return dataclasses.replace(filters, **{field: kept})  # type: ignore[arg-type]


def _remove(field: str, value: str | None) -> None:
    state.set_filters(without(state.current(), field, value))


def _reset() -> None:
    state.set_filters(Filters())


def render(filters: Filters) -> None:
    """The chips row (nothing without filters, or when presenting)."""
    active = chips(filters)
    if not active or state.presenting():
        return
    from .show import plain  # show imports this module

    with st.container(horizontal=True, gap="small", key="filter_chips"):
        for text, field, value in active:
            st.button(
                plain(text),
                key=f"chip_{field}_{value}",
                on_click=_remove,
                args=(field, value),
                icon=":material/close:",
                icon_position="right",
                help=f"Remove this filter ({text})",
            )
        st.button(
            RESET_ALL,
            key="chip_reset_all",
            on_click=_reset,
            type="tertiary",
            icon=":material/filter_alt_off:",
        )
