"""Figures changed as plain data, without plotly validating what it validated before.

Every ``update_layout``/``update_xaxes``/``add_annotation`` call makes plotly walk and validate the
properties it is given (a few ms each), and ``template="critac"`` makes it copy and validate the
whole template again. The values the builders add after their traces (titles, margins, axis
settings, the template, footers) are literals known to be valid, so they are merged into the
figure's plain data here and the figure is made again once with ``_validate=False``: the same
``to_dict()`` as the validated updates, at a fraction of the cost. Traces are still made with
validation (plotly turns their data into the typed arrays it sends).
"""

from __future__ import annotations

import copy
from typing import Any

import plotly.graph_objects as go


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in place as ``update_layout`` merges: nested dicts merge,
    None removes a property, anything else (lists, text, numbers) replaces it."""
    for key, value in update.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict):
            inner = merge(dict(base.get(key) or {}), value)
            if inner or key in base:  # as plotly: an emptied property stays, as {}
                base[key] = inner
        else:
            base[key] = value
    return base


def updated(
    fig: go.Figure,
    *layouts: dict[str, Any],
    replace: dict[str, Any] | None = None,
    annotations: list[dict[str, Any]] | tuple[()] = (),
) -> go.Figure:
    """A copy of ``fig`` with each of ``layouts`` merged into its layout in turn (``merge``), the
    properties in ``replace`` set whole (a template, ``meta``: ``update_layout`` does not merge
    into those), and ``annotations`` appended to its own."""
    # fig's own data, not copied: go.Figure(..., _validate=False) below deep-copies what it is given,
    # and merge copies each dict it changes, so fig is left as it was.
    own: dict[str, Any] = dict(fig._layout)
    for layout in layouts:
        merge(own, copy.deepcopy(layout))
    own.update(copy.deepcopy(replace or {}))
    if annotations:
        own["annotations"] = [*own.get("annotations", []), *copy.deepcopy(list(annotations))]
    traces = [dict(trace) for trace in fig._data]
    return go.Figure({"data": traces, "layout": own}, _validate=False)  # validated before
