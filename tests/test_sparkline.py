"""The KPI tiles' SVG sparkline (critac_metrics.sparkline): every value is a point, in order, scaled
into the box; a missing value breaks the line; the accessible name states the trend; the markup
is one line that Markdown passes through and that escapes the label."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from critac_metrics import palette, registry, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    # The markup has no namespace (HTML's parser adds it); give it one to parse as XML.
    return ET.fromstring(markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def _points(element: ET.Element) -> list[list[tuple[float, float]]]:
    runs = []
    for shape in element:
        if shape.tag == f"{SVG}polyline":
            pairs = (p.split(",") for p in shape.attrib["points"].split())
            runs.append([(float(x), float(y)) for x, y in pairs])
        elif shape.tag == f"{SVG}line":
            runs.append([(float(shape.attrib["x1"]), float(shape.attrib["y1"]))])
    return runs


def test_every_value_is_a_point_in_order_highest_at_the_top():
    values = [7.0, 42.0, 41.0, 37.0, 36.0]
    element = _parse(sparkline.svg(values, "Engagements delivered"))
    (run,) = _points(element)
    assert len(run) == len(values)
    xs = [x for x, _ in run]
    assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == sparkline.WIDTH
    ys = [y for _, y in run]
    # SVG's y grows downwards: the highest value has the smallest y, the lowest the largest.
    assert ys[values.index(max(values))] == min(ys) == sparkline.PAD
    assert ys[values.index(min(values))] == max(ys) == sparkline.HEIGHT - sparkline.PAD
    # The order of the heights is the order of the values.
    assert sorted(range(len(values)), key=lambda i: -values[i]) == sorted(
        range(len(values)), key=lambda i: ys[i]
    )


@pytest.mark.parametrize("gap", [None, math.nan])
def test_a_missing_value_breaks_the_line_and_keeps_its_place(gap):
    values = [10.0, 20.0, gap, 30.0, gap, 5.0, 15.0]
    runs = _points(_parse(sparkline.svg(values, "Completed within 180 days")))
    assert [len(r) for r in runs] == [2, 1, 2]
    step = sparkline.WIDTH / (len(values) - 1)
    assert [x for r in runs for x, _ in r] == [
        pytest.approx(i * step, abs=0.01) for i in (0, 1, 3, 5, 6)
    ]


def test_no_values_draw_nothing_and_a_flat_series_sits_in_the_middle():
    assert sparkline.svg([], "x") == ""
    assert sparkline.svg([None, math.nan], "x") == ""
    (run,) = _points(_parse(sparkline.svg([4, 4, 4], "x")))
    assert {y for _, y in run} == {sparkline.HEIGHT / 2}
    (single,) = _points(_parse(sparkline.svg([4], "x")))
    assert single == [(sparkline.WIDTH / 2, sparkline.HEIGHT / 2)]


@pytest.mark.parametrize(
    ("values", "trend"),
    [
        ([1, 5, 3, 8], "up from 1 to 8"),
        ([9, 2, 4], "down from 9 to 4"),
        ([3, 1, 3], "unchanged at 3"),
    ],
)
def test_the_accessible_name_states_the_trend(values, trend):
    element = _parse(
        sparkline.svg(values, "Agencies served", registry.METRICS["engagements"].format)
    )
    assert element.attrib["role"] == "img"
    name = element.attrib["aria-label"]
    assert name.startswith(f"Agencies served per period, {len(values)} periods: {trend};"), name
    assert f"lowest {min(values)}, highest {max(values)}" in name
    assert element.find(f"{SVG}title").text == name


def test_the_name_uses_the_metric_format_and_counts_gaps():
    fmt = registry.METRICS["timely_completion_rate"].format
    name = sparkline.describe("Completed within 180 days", [90.0, None, 95.25], fmt)
    assert name == (
        "Completed within 180 days per period, 3 periods (1 without a figure): "
        "up from 90.0% to 95.2%; lowest 90.0%, highest 95.2%"
    )


def test_the_label_is_escaped_and_the_markup_is_one_line():
    markup = sparkline.svg([1, 2], 'Say "hi" <script>&')
    assert "\n" not in markup  # a blank line would end Markdown's HTML block
    assert "<script>" not in markup
    assert 'aria-label="Say &quot;hi&quot; &lt;script&gt;&amp;' in markup


@pytest.mark.parametrize("dark", [False, True])
def test_the_line_colour_comes_from_the_palette_for_light_and_dark(dark):
    markup = sparkline.svg([1, 2, 3], "x", dark=dark)
    strokes = set(re.findall(r'stroke="(#[0-9A-Fa-f]{6})"', markup))
    assert strokes == {palette.CATEGORICAL[4] if dark else palette.ACCENT}


def _contrast(a: str, b: str) -> float:
    def lum(colour: str) -> float:
        channels = [c / 255 for c in palette.rgb(colour)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_line_stands_out_on_the_light_and_the_dark_page():
    """WCAG's 3:1 for graphics, against Streamlit's default light and dark backgrounds."""
    assert _contrast(sparkline.LIGHT_COLOUR, "#ffffff") >= 3
    assert _contrast(sparkline.DARK_COLOUR, "#0e1117") >= 3
