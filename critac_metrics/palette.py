"""The one theme: every colour the charts, the slide deck, the HTML report and the Streamlit app use.

Everything else reads its colours from here. ``.streamlit/config.toml`` can't import Python, so its
``[theme]`` colours are a copy: ``python -m critac_metrics.palette`` prints the lines to paste, and
``tests/test_palette_theme.py`` fails when the file and this module disagree. The colour properties
a reader depends on (contrast, colour-blind separation, scale order) are checked by
``tests/test_palette.py``.
"""

from __future__ import annotations

# Okabe–Ito, reordered so the first series read on white and on dark backgrounds; the grey and the
# yellow (weak on white) come last, and black (invisible on dark) is left out.
CATEGORICAL = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#999999",
    "#F0E442",
)
# Answers 1..5: vermillion, orange, neutral grey, sky blue, blue.
LIKERT = ("#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2")
# Pale to dark blue, as (stop, colour) pairs for Plotly colour scales.
SEQUENTIAL = (
    (0.0, "#d6e8f7"),
    (0.35, "#92c3e8"),
    (0.7, "#3d8fcc"),
    (0.9, "#0072B2"),
    (1.0, "#005488"),
)

ACCENT = CATEGORICAL[0]  # the first series; section labels in the deck
WARNING = "#D55E00"  # the synthetic-data label and warnings
TEXT = "#1f2937"  # body text on a white page (deck, HTML report); labels on pale tiles
INK = "#6b7280"  # chart text, mid grey: readable on white and on dark backgrounds; secondary text
MUTED = "#9ca3af"  # quieter chart text (notes, partial-period marks)
SOFT_TEXT = "#4b5563"  # labels on the zero-count tile
LINE = "#e5e7eb"  # hairlines in the HTML report
ZERO_TILE = LINE  # a map tile with no engagements
GRID = "rgba(107, 114, 128, 0.25)"  # INK at a quarter: axis and grid lines
TRANSPARENT = "rgba(0,0,0,0)"  # chart backgrounds: the page shows through
BACKGROUND = "#ffffff"  # the page of the deck and the HTML report
CARD = "#f9fafb"  # KPI cards in the HTML report
DECK_CARD = "#f3f4f6"  # KPI cards in the deck
DECK_CARD_LINE = "#d1d5db"  # their outline

# The app in a dark browser theme (charts.dark_variant); exports keep the light colours.
DARK_TEXT = "#d1d5db"  # light grey: titles, ticks and legends on a dark background
DARK_GRID = "rgba(209, 213, 219, 0.18)"
DARK_HOVER = "#1f2937"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """'#0072B2' -> (0, 114, 178)."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return red, green, blue


def rgba(hex_colour: str, alpha: float) -> str:
    """'#0072B2', 0.12 -> 'rgba(0, 114, 178, 0.12)'."""
    red, green, blue = rgb(hex_colour)
    return f"rgba({red}, {green}, {blue}, {alpha})"


def streamlit_theme() -> dict[str, list[str]]:
    """The ``[theme]`` keys of ``.streamlit/config.toml`` that come from this module."""
    return {"chartCategoricalColors": list(CATEGORICAL)}


def theme_toml() -> str:
    """Those keys as TOML lines, to paste under ``[theme]`` in ``.streamlit/config.toml``."""
    lines = []
    for key, colours in streamlit_theme().items():
        quoted = ", ".join(f'"{c}"' for c in colours)
        lines.append(f"{key} = [{quoted}]")
    return "\n".join(lines)


if __name__ == "__main__":
    print(theme_toml())
