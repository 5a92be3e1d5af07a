"""Filter state: the URL query string is the source of truth, session state carries it across pages.

Opening a link parses its query parameters into a ``Filters`` value (unknown or malformed values are
dropped with a notice). Streamlit drops query parameters on a page switch, so the last value is kept
in session state and written back to the URL on every run.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from critac_metrics.filters import QUERY_KEYS, Filters

from . import data

FILTERS = "filters"
NOTICES = "filter_notices"
UI_PARAMS = ("_present", "_yoy")  # UI-only parameters start with "_" and are kept as they are


def topic_names() -> list[str]:
    return list(data.info("topic_catalogue")["topic"])


def history_navigation() -> bool:
    """Is this run the browser's Back or Forward? (Streamlit reruns with the restored URL.)"""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "is_history_navigation", False))


def current_filters() -> Filters:
    """Read the filters of this run from the URL (``app.py``, once per run; pages use ``current``).
    Each change is written to the URL, and Streamlit pushes a new
    browser history entry for each write, so Back undoes a filter change: on Back or Forward the
    restored URL wins, even when it has no filter parameters (the unfiltered view)."""
    params = st.query_params
    from_url = history_navigation() or any(key in params for key in QUERY_KEYS)
    if from_url or FILTERS not in st.session_state:
        filters, notices = Filters.from_query_params(params, topic_names())
        if st.session_state.get(FILTERS) != filters or notices:
            st.session_state[FILTERS] = filters
            st.session_state[NOTICES] = notices
    filters = st.session_state[FILTERS]
    _write_url(filters)
    return filters


def set_filters(filters: Filters) -> None:
    """Change the filters (from a widget, a reset or a chart click); the URL follows."""
    st.session_state[FILTERS] = filters
    st.session_state[NOTICES] = []
    _write_url(filters)


def _write_url(filters: Filters) -> None:
    wanted = filters.to_query_params()
    for key in UI_PARAMS:
        if key in st.query_params:
            wanted[key] = st.query_params.get_all(key)
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def current() -> Filters:
    """The filters of this run, as ``app.py`` read them (``current_filters``) before the page ran.

    Pages call this, not ``current_filters``: the URL is parsed once per run, in one place. A page
    run without ``app.py`` first (nothing read yet) reads the URL here."""
    if FILTERS not in st.session_state:
        return current_filters()
    return st.session_state[FILTERS]


def notices() -> list[str]:
    return st.session_state.get(NOTICES, [])


def presenting() -> bool:
    return st.query_params.get("_present") in ("1", "true")


def narrow(*pairs: tuple[str, str]) -> None:
    """Cross-filtering: a click on a chart element selects just its value(s), e.g.
    ("state", "CA") or ("topic", "De-escalation"), ("agency_type", "tribal") for a heatmap cell
    (checked like URL values, so a click on e.g. an 'unknown' bar is ignored)."""
    chosen: dict[str, list[str]] = {}
    for param, value in pairs:  # several pairs of one parameter: a set of values (a topic group)
        chosen.setdefault(param, []).append(value)
    params = {**current().to_query_params(), **chosen}
    filters, notices = Filters.from_query_params(params, topic_names())
    if not notices:
        set_filters(filters)


def group_topics(group: str) -> list[str]:
    """The topics of a topic group (a click on a group opens its topics)."""
    catalogue = data.info("topic_catalogue")
    return list(catalogue.loc[catalogue["topic_group"] == group, "topic"])


def flag(param: str) -> bool:
    """A UI-only switch kept in the URL (e.g. ``_yoy=1``), so a shared link reopens it."""
    return st.query_params.get(param) in ("1", "true")


def set_flag(param: str, on: bool) -> None:
    if on:
        st.query_params[param] = "1"
    elif param in st.query_params:
        del st.query_params[param]
