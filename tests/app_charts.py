"""The dashboard's charts as AppTest sees them: the elements of ``dashboard.plotly_chart``'s
component, and the figure and accessible name each was drawn with."""

from __future__ import annotations

import json
from typing import Any

from dashboard import plotly_chart


def charts(at) -> list:
    return [el for el in at.get("bidi_component") if el.proto.component_name == plotly_chart.NAME]


def _data(element) -> dict[str, Any]:
    return json.loads(element.proto.bytes)


def figure(element) -> dict[str, Any]:
    """The figure's JSON (data, layout), as the browser receives it."""
    return _data(element)["figure"]


def alt(element) -> str:
    return _data(element)["alt"]


def figures(at) -> list[dict[str, Any]]:
    return [figure(el) for el in charts(at)]
