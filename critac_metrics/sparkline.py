"""A KPI tile's sparkline as a small inline SVG: no charting library, nothing run in the browser.

The app drew its sparklines with ``st.metric(chart_data=...)``, a Vega-Lite chart per tile that
logs "Infinite extent" warnings on every load and costs a chart each. This draws the same points as
a polyline. A point that is missing (None or NaN: a rate for a period without engagements) breaks
the line, so a gap is never bridged. The SVG carries ``role="img"`` and an ``aria-label`` that
states the trend, read from the values drawn.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

from . import palette

WIDTH = 100  # the viewBox: the SVG stretches to the tile's width (preserveAspectRatio="none")
HEIGHT = 40  # px on screen and in the viewBox
PAD = 3  # room for the stroke at the top and bottom
STROKE_PX = 2
# The line on the app's light and dark backgrounds: the first series colour on white, the sky blue
# of the same palette on dark (the first blue is too dark there).
LIGHT_COLOUR = palette.ACCENT
DARK_COLOUR = palette.CATEGORICAL[4]


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def segments(values: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """The points in viewBox coordinates, split where a value is missing. x spreads the periods
    evenly over the width (a missing period keeps its place); y runs from the lowest value at the
    bottom to the highest at the top (a flat series sits in the middle)."""
    numbers = [_number(v) for v in values]
    present = [v for v in numbers if v is not None]
    if not present:
        return []
    low, high = min(present), max(present)
    span = high - low
    step = WIDTH / (len(numbers) - 1) if len(numbers) > 1 else 0.0
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for index, value in enumerate(numbers):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        x = index * step if len(numbers) > 1 else WIDTH / 2
        share = (value - low) / span if span else 0.5
        y = PAD + (1 - share) * (HEIGHT - 2 * PAD)
        current.append((round(x, 2), round(y, 2)))
    if current:
        runs.append(current)
    return runs


def describe(label: str, values: Sequence[float | None], fmt: Callable[[float], str] = str) -> str:
    """The sparkline's accessible name: what it shows and its trend, e.g. "Engagements delivered
    per period, 24 periods: up from 45 to 62; lowest 30, highest 80"."""
    numbers = [_number(v) for v in values]
    present = [v for v in numbers if v is not None]
    if not present:
        return f"{label}: no periods to show"
    periods = f"{len(numbers)} period" + ("" if len(numbers) == 1 else "s")
    gaps = len(numbers) - len(present)
    gap_note = f" ({gaps} without a figure)" if gaps else ""
    first, last = present[0], present[-1]
    if len(present) == 1:
        return f"{label} per period, {periods}{gap_note}: {fmt(first)}"
    trend = "up" if last > first else "down" if last < first else "unchanged"
    where = f"from {fmt(first)} to {fmt(last)}" if trend != "unchanged" else f"at {fmt(last)}"
    return (
        f"{label} per period, {periods}{gap_note}: {trend} {where}; "
        f"lowest {fmt(min(present))}, highest {fmt(max(present))}"
    )


def svg(
    values: Sequence[float | None],
    label: str,
    fmt: Callable[[float], str] = str,
    dark: bool = False,
) -> str:
    """The sparkline as one line of SVG markup (empty when there is no value to draw). ``label``
    and ``fmt`` name and format the figure in the accessible name; ``dark`` picks the line colour
    for a dark background. Every run of consecutive values is a ``<polyline>``; a lone value
    between gaps is a dot (a zero-length round-capped line)."""
    runs = segments(values)
    if not runs:
        return ""
    colour = DARK_COLOUR if dark else LIGHT_COLOUR
    stroke = (
        f'fill="none" stroke="{colour}" stroke-width="{STROKE_PX}" stroke-linecap="round" '
        'stroke-linejoin="round" vector-effect="non-scaling-stroke"'
    )
    shapes = []
    for run in runs:
        if len(run) == 1:
            (x, y) = run[0]
            shapes.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y}" {stroke}/>')
        else:
            points = " ".join(f"{x},{y}" for x, y in run)
            shapes.append(f'<polyline points="{points}" {stroke}/>')
    name = html.escape(describe(label, values, fmt), quote=True)
    return (
        f'<svg class="critac-sparkline" role="img" aria-label="{name}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" height="{HEIGHT}" '
        f'preserveAspectRatio="none" style="display:block;overflow:visible">'
        f"<title>{name}</title>{''.join(shapes)}</svg>"
    )
