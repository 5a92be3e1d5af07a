"""The one sidebar of filters. Widgets mirror the current Filters; changing one sets new Filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from urllib.parse import urlencode

import streamlit as st

from critac_metrics import dimensions, registry, schema
from critac_metrics.filters import (
    DATE_BASES,
    LIST_FILTERS,
    Filters,
    fiscal_year_bounds,
    fiscal_year_of,
    picker_bounds,
    year_before,
)

from . import data, share_link, state

ALL_TIME, LAST_12, CUSTOM = "All time", "Last 12 months", "Custom range"
DATE_BASIS_LABELS = {"requested": "Requested", "completed": "Completed"}
FIRST_FISCAL_YEAR = 2018  # CRI-TAC launched in March 2018 (FY2018)


def _options(field: str) -> tuple[list[str], Callable[[str], str]]:
    if field == "topics":
        # The label is the topic's name alone: with its group in the label, typing a topic's name
        # matched every topic of a group of that name ("De-escalation" picked "Select 6 matches").
        # The groups are in the box's help (topic_help) and the options are listed by group.
        return list(data.info("topic_catalogue")["topic"]), str
    if field == "states":
        return list(schema.STATES), lambda s: f"{s} – {schema.STATE_NAMES[s]}"
    spec = next(s for s in LIST_FILTERS if s.field == field)
    assert spec.allowed is not None  # only topics are checked against the database
    return list(spec.allowed), partial(registry.value_label, spec.param)


def topic_help() -> str:
    """The topic groups and their topics, for the Topics box's help (Markdown)."""
    catalogue = data.info("topic_catalogue")
    lines = [
        f"**{group}**: {', '.join(part['topic'])}"
        for group, part in catalogue.groupby("topic_group", sort=False)
    ]
    return "Topics are listed by group:\n\n" + "\n\n".join(lines)


def current_day() -> dt.date:
    """Today, as the presets see it (tests replace this to run the app on a given day)."""
    return dt.date.today()


def last_12_months(today: dt.date) -> tuple[dt.date, dt.date]:
    """The year ending today: on 29 February 2028, 1 March 2027 – 29 February 2028."""
    return year_before(today) + dt.timedelta(days=1), today


def date_presets(today: dt.date) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    presets: dict[str, tuple[dt.date | None, dt.date | None]] = {
        ALL_TIME: (None, None),
        LAST_12: last_12_months(today),
    }
    for fy in range(fiscal_year_of(today), FIRST_FISCAL_YEAR - 1, -1):
        presets[f"FY{fy}"] = fiscal_year_bounds(fy)
    return presets


def _preset_of(filters: Filters, presets) -> str:
    for name, bounds in presets.items():
        if (filters.start, filters.end) == bounds:
            return name
    return CUSTOM


def _sync_widgets(filters: Filters, presets) -> None:
    """Make widget state show ``filters`` (they may have changed by URL, click or reset)."""
    shown = st.session_state.get("_shown_filters")
    if shown == filters:
        return
    st.session_state["w_preset"] = _preset_of(filters, presets)
    st.session_state["w_date_basis"] = filters.date_basis
    st.session_state["w_dates"] = tuple(d for d in (filters.start, filters.end) if d)
    for spec in LIST_FILTERS:
        st.session_state[f"w_{spec.field}"] = list(getattr(filters, spec.field))
    st.session_state["_shown_filters"] = filters


def _apply(presets) -> None:
    preset = st.session_state["w_preset"]
    if preset == CUSTOM:
        dates = tuple(st.session_state.get("w_dates") or ())
        start, end = (dates + (None, None))[:2]
        if start and not end:
            end = start
    else:
        start, end = presets[preset]
    lists = {spec.field: tuple(st.session_state[f"w_{spec.field}"]) for spec in LIST_FILTERS}
    if not st.session_state.get("w_date_basis"):  # clicking the chosen segment unsets it
        st.session_state["w_date_basis"] = "requested"
    basis = st.session_state["w_date_basis"]
    filters = Filters(start=start, end=end, date_basis=basis, **lists)
    st.session_state["_shown_filters"] = filters
    state.set_filters(filters)


def _reset() -> None:
    state.set_filters(Filters())


def render(filters: Filters, today: dt.date | None = None) -> None:
    presets = date_presets(today or current_day())
    _sync_widgets(filters, presets)
    with st.sidebar:
        st.header("Filters")
        st.segmented_control(
            "Dates are when engagements were",
            DATE_BASES,
            key="w_date_basis",
            format_func=DATE_BASIS_LABELS.__getitem__,
            on_change=_apply,
            args=(presets,),
            help="Requested: every request made in the period. Completed: the engagements "
            "completed in the period (requests not completed are left out).",
        )
        st.selectbox(
            DATE_BASIS_LABELS[filters.date_basis],
            [*presets, CUSTOM],
            key="w_preset",
            on_change=_apply,
            args=(presets,),
            help=f"Filters on the date the engagement was {filters.date_basis}. "
            "Fiscal years are federal: FY2024 = 1 Oct 2023 – 30 Sep 2024.",
        )
        if st.session_state["w_preset"] == CUSTOM:
            # The picker's range always includes the dates it shows (a shared link may hold any
            # calendar date), or Streamlit raises instead of drawing the page.
            low, high = picker_bounds(
                filters.start, filters.end, *st.session_state.get("w_dates") or ()
            )
            st.date_input(
                "Date range",
                key="w_dates",
                on_change=_apply,
                args=(presets,),
                min_value=low,
                max_value=high,
                format="YYYY-MM-DD",
            )
        for spec in LIST_FILTERS:
            options, label = _options(spec.field)
            st.multiselect(
                dimensions.DIMENSIONS[spec.param].labels,
                options,
                key=f"w_{spec.field}",
                format_func=label,
                on_change=_apply,
                args=(presets,),
                placeholder="All",
                help=topic_help() if spec.field == "topics" else None,
            )
        st.button("Reset filters", on_click=_reset, width="stretch", disabled=filters.is_empty)
        _share_link(filters)


def _share_link(filters: Filters) -> None:
    query = urlencode(filters.to_query_params(), doseq=True)
    base = st.context.url or ""
    st.caption(f"{share_link.LABEL}:")
    url = f"{base}?{query}" if query else base or "(this page)"
    st.html(share_link.share_link_html(url), unsafe_allow_javascript=True)
