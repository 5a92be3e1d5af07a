"""Properties of the chart colours that a reader depends on, checked by colour science rather than
against the hex values themselves: the categorical colours stay apart for readers with a colour
vision deficiency, text has contrast, the Likert scale diverges around a neutral middle and the
sequential scale darkens as values grow.

Colour differences are CIE76 ΔE*ab in CIELAB (D65). About 2.3 is just noticeable; 10 is taken here
as "different at a glance". Colour vision deficiencies are simulated with Machado, Oliveira and
Fernandes (2009) at full severity, in linear RGB."""

from __future__ import annotations

import itertools

import pytest

from critac_metrics import charts

WHITE = "#ffffff"
STREAMLIT_DARK = "#0e1117"  # Streamlit's dark theme background
AT_A_GLANCE = 10.0

_MACHADO = {
    "normal vision": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
VISION = list(_MACHADO)


def _linear(hex_colour: str) -> tuple[float, float, float]:
    def one(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return one(r), one(g), one(b)


def luminance(hex_colour: str) -> float:
    r, g, b = _linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def lab(hex_colour: str, vision: str = "normal vision") -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    r, g, b = (
        min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True))))
        for row in _MACHADO[vision]
    )
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: str, b: str, vision: str = "normal vision") -> float:
    return sum((p - q) ** 2 for p, q in zip(lab(a, vision), lab(b, vision), strict=True)) ** 0.5


def chroma(hex_colour: str) -> float:
    _, a, b = lab(hex_colour)
    return (a * a + b * b) ** 0.5


def test_the_colour_maths():
    # Known values, so the properties below rest on correct arithmetic.
    assert contrast("#000000", WHITE) == pytest.approx(21)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)
    assert lab(WHITE) == pytest.approx((100, 0, 0), abs=0.05)
    assert lab("#ff0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.05)
    # Red and green, far apart for most readers, nearly merge for a deuteranope.
    assert delta_e("#d62728", "#2ca02c") > 80
    assert delta_e("#d62728", "#2ca02c", "deuteranopia") < 25


# -- categorical ----------------------------------------------------------------------------------


def test_palette_colours_are_all_different():
    assert len(set(c.lower() for c in charts.PALETTE)) == len(charts.PALETTE)
    for a, b in itertools.combinations(charts.PALETTE, 2):
        assert delta_e(a, b) >= 2 * AT_A_GLANCE, (a, b)


@pytest.mark.parametrize("vision", VISION)
def test_series_colours_stay_apart_for_colour_blind_readers(vision):
    # Charts draw up to six series in the palette's first six colours (the grey and the yellow are
    # kept for the rare seventh and eighth). Each pair must stay clearly apart in every vision type.
    for a, b in itertools.combinations(charts.PALETTE[:6], 2):
        assert delta_e(a, b, vision) >= AT_A_GLANCE, (vision, a, b)


def test_the_colour_hardest_to_see_on_white_comes_last():
    assert min(charts.PALETTE, key=lambda c: contrast(c, WHITE)) == charts.PALETTE[-1]


def test_palette_has_no_black_or_background_colour():
    for colour in charts.PALETTE:
        assert contrast(colour, WHITE) > 1.2, colour  # a mark must show on the white page
        assert luminance(colour) > 0.05, colour  # and not read as text or an axis line


def test_chart_text_contrast():
    # WCAG AA: 4.5:1 for text on the white page; 3:1 (large text) on Streamlit's dark background.
    assert contrast(charts.INK, WHITE) >= 4.5
    assert contrast(charts.INK, STREAMLIT_DARK) >= 3


# -- Likert ---------------------------------------------------------------------------------------


def test_likert_scale_diverges_around_a_neutral_middle():
    low2, low, neutral, high, high2 = charts.LIKERT_COLORS
    assert chroma(neutral) < 5  # a grey: neither side
    assert min(chroma(c) for c in (low2, low, high, high2)) > 30
    # The two sides lie on opposite hues: warm (a* > 0, b* > 0) below, cool (b* < 0) above.
    assert all(lab(c)[1] > 0 and lab(c)[2] > 0 for c in (low2, low))
    assert all(lab(c)[2] < 0 for c in (high, high2))
    # The strongest answers are the darkest on their side.
    assert lab(low2)[0] < lab(low)[0] and lab(high2)[0] < lab(high)[0]


@pytest.mark.parametrize("vision", VISION)
def test_likert_answers_stay_apart_for_colour_blind_readers(vision):
    for a, b in itertools.combinations(charts.LIKERT_COLORS, 2):
        assert delta_e(a, b, vision) >= AT_A_GLANCE, (vision, a, b)


# -- sequential -----------------------------------------------------------------------------------


def test_sequential_scale_darkens_as_values_grow():
    lightness = [lab(charts.scale_colour(i / 20))[0] for i in range(21)]
    assert all(a > b for a, b in itertools.pairwise(lightness)), lightness
    assert lightness[0] - lightness[-1] > 50  # from a pale tint to a dark shade


def test_scale_passes_through_its_stops():
    for stop, colour in charts.SEQUENTIAL:
        assert charts.scale_colour(stop) == colour.lower()


@pytest.mark.parametrize("vision", VISION)
def test_zero_tile_differs_from_the_smallest_count(vision):
    # A tile with no engagements must not pass for the palest tile with some.
    assert delta_e(charts.ZERO_TILE, charts.SEQUENTIAL[0][1], vision) > 2 * 2.3
