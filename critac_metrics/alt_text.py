"""A one-sentence takeaway for any chart, read from the figure's own data: the accessible name
(aria-label) of each chart on screen, so a screen-reader user hears what the chart shows.

The sentence is the chart's title and what stands out in its data: the highest bar (or cell, or
state), the first and last point of a line, the first and last stage of a funnel. It is derived
from the figure passed to the page, so it always says what the chart draws."""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

NO_DATA = "no data match these filters"


def _plain(text: object) -> str:
    """Plotly pseudo-HTML to plain text: tags dropped, <br> as a space, entities decoded."""
    spaced = re.sub(r"<br\s*/?>", " ", str(text), flags=re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", spaced)).split())


def _value(v: Any) -> str:
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer()):
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return _label(v)


def _label(v: Any) -> str:
    if isinstance(v, (pd.Timestamp, dt.date, np.datetime64)):
        return f"{pd.Timestamp(v):%b %Y}"
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", v):
        return f"{pd.Timestamp(v):%b %Y}"
    return _plain(v)


def _decoded(values: Any) -> Any:
    """Plotly's typed arrays ({"dtype": "i2", "bdata": base64}) as a numpy array."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        if "shape" in values:  # "3, 4"
            shape = values["shape"]
            if isinstance(shape, str):
                shape = tuple(int(n) for n in shape.split(",") if n.strip())
            return array.reshape(shape)
        return array
    return values


def _numbers(values: Sequence[Any] | None) -> list[float | None]:
    values = _decoded(values)
    out: list[float | None] = []
    for v in values if values is not None else ():
        try:
            number = float(v)
        except (TypeError, ValueError):
            number = None
        out.append(None if number is None or math.isnan(number) else number)
    return out


def _tick_names(axis: Any) -> dict[str, Any]:
    """Category positions drawn as numbers with text ticks (tickvals -> ticktext)."""
    if axis is None or axis.tickvals is None or axis.ticktext is None:
        return {}
    return {
        _label(v): text
        for v, text in zip(_decoded(axis.tickvals), _decoded(axis.ticktext), strict=False)
    }


def _bars(traces: list[Any], layout: Any) -> str | None:
    bars = [t for t in traces if t.type == "bar"]
    if not bars:
        return None
    totals: dict[str, float] = {}
    negative = False
    horizontal = bars[0].orientation == "h"
    names = _tick_names(layout.yaxis if horizontal else layout.xaxis)
    value_axis = layout.xaxis if horizontal else layout.yaxis
    suffix = "%" if value_axis is not None and value_axis.ticksuffix == "%" else ""
    for t in bars:
        cats, vals = (t.y, t.x) if t.orientation == "h" else (t.x, t.y)
        for c, v in zip(cats if cats is not None else (), _numbers(vals), strict=False):
            if v is None:
                continue
            negative |= v < 0
            key = _label(names.get(_label(c), c))
            totals[key] = totals.get(key, 0.0) + v
    if not totals:
        return NO_DATA
    if negative:  # a diverging chart: its rows, not a total
        rows = list(totals)
        return f"{len(rows)} rows, {rows[0]} to {rows[-1]}"
    if len(totals) == 1 and len(bars) > 1:  # one row of parts: name each part
        parts = [
            f"{_plain(t.name)} {_value(v)}{suffix}"
            for t in bars
            for v in _numbers(t.x if horizontal else t.y)[:1]
            if v is not None and t.name
        ]
        return f"{next(iter(totals))}: {', '.join(parts)}"
    top = max(totals, key=lambda c: totals[c])
    unit = f" {_plain(bars[0].name).lower()}" if len(bars) == 1 and bars[0].name else ""
    text = f"highest {top} ({_value(totals[top])}{suffix}{unit})"
    if len(totals) > 2:
        low = min(totals, key=lambda c: totals[c])
        text += f", lowest {low} ({_value(totals[low])}{suffix}), of {len(totals)}"
    return text


def _lines(traces: list[Any]) -> str | None:
    for t in traces:
        if t.type == "scatter" and "lines" in (t.mode or "lines") and t.x is not None:
            xs = _decoded(t.x)
            points = [(x, y) for x, y in zip(xs, _numbers(t.y), strict=False) if y is not None]
            if len(points) >= 2:
                (x0, y0), (x1, y1) = points[0], points[-1]
                name = f"{_plain(t.name)} " if t.name else ""
                return f"{name}from {_value(y0)} in {_label(x0)} to {_value(y1)} in {_label(x1)}"
    return None


def _heatmap(traces: list[Any]) -> str | None:
    for t in traces:
        if t.type == "heatmap" and t.z is not None:
            best: tuple[float, str, str] | None = None
            for i, row in enumerate(_decoded(t.z)):
                for j, v in enumerate(_numbers(row)):
                    if v is not None and (best is None or v > best[0]):
                        y = t.y[i] if t.y is not None else i
                        x = t.x[j] if t.x is not None else j
                        best = (v, _label(y), _label(x))
            if best is None:
                return NO_DATA
            return f"highest {best[1]} and {best[2]} ({_value(best[0])})"
    return None


def _funnel(traces: list[Any]) -> str | None:
    for t in traces:
        if t.type == "funnel" and t.y is not None:
            vals = _numbers(t.x)
            if len(vals) >= 2 and vals[0] is not None and vals[-1] is not None:
                return (
                    f"{_label(t.y[0])} {_value(vals[0])} down to "
                    f"{_label(t.y[-1])} {_value(vals[-1])}"
                )
    return None


def _markers(traces: list[Any]) -> str | None:
    """A tile map: customdata rows of (name, number, ...)."""
    for t in traces:
        rows = _decoded(t.customdata) if t.type == "scatter" else None
        if rows is not None and len(rows) and len(rows[0]) >= 2:
            pairs: list[tuple[Any, float]] = []
            for r in rows:
                number = _numbers([r[1]])[0]
                if number is not None:
                    pairs.append((r[0], number))
            if pairs:
                name, top = max(pairs, key=lambda p: p[1])
                count = len([v for _, v in pairs if v > 0])
                return f"highest {_label(name)} ({_value(top)}); {count} of {len(pairs)} above zero"
    return None


def _centred_note(fig: Any) -> str:
    """The text of an annotation centred on the plot (``charts.layout.centred_note``: why it is
    empty)."""
    for note in fig.layout.annotations:
        if (note.xref, note.yref, note.x, note.y) == ("paper", "paper", 0.5, 0.5) and note.text:
            return _plain(note.text)
    return ""


def figure_takeaway(fig: Any) -> str:
    """'<title>: <what stands out>.' for a Plotly figure (see the module docstring)."""
    title = _plain(fig.layout.title.text or "Chart")
    traces = [t for t in fig.data if t.visible is not False]
    if not traces:
        return f"{title}: {NO_DATA}."
    if not any(len(t.x if t.x is not None else t.y if t.y is not None else ()) for t in traces):
        # Axes without a point (every row suppressed): the figure's own centred note says why.
        return f"{title}: {_centred_note(fig) or NO_DATA}."
    found = (
        _heatmap(traces)
        or _funnel(traces)
        or _bars(traces, fig.layout)
        or _lines(traces)
        or _markers(traces)
    )
    if found:
        return f"{title}: {found}."
    return f"{title}."
