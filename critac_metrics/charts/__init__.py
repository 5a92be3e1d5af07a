"""Pure Plotly figure builders and the one chart theme (the registered template ``"critac"``).

Every builder takes the DataFrame (or dict) that a function in ``metrics`` returns and gives back a
``go.Figure``: no database, no files, no Streamlit. Points that stand for a filterable value (topic,
agency type, state, assistance type, delivery mode) carry the RAW value at ``customdata[0]``, so a
clicked point can cross-filter. The dashboard draws the figures as they are
(``dashboard.plotly_chart``), with no Streamlit theme over the template's colours.

The builders live in modules along their seams, and this package re-exports them (callers write
``charts.volume_trend``):

- ``theme``: the template, the colour names the builders use, the dark variant;
- ``layout``: what every chart shares (title and subtitle, the empty figure, count axes, labels);
- ``trends``: engagements per period, by a dimension, first-time and repeat, year over year;
- ``milestones``: the running total, its milestones and the projection of the next one;
- ``breakdowns``: bars by one dimension, the topic × agency type heatmap;
- ``reach``: the state tile map and the reach against the whole field;
- ``outcomes``: the survey charts;
- ``pipeline``: the funnel, timeliness and the backlog;
- ``export``: a figure with its context for an image or slide, the download button's config;
- ``spec``: layout settings merged as plain data into one unvalidated copy of a figure (used by
  ``finish``, ``with_context`` and ``in_theme``: plotly validated the traces already).

Every figure builder (a public function that returns a new ``go.Figure`` from data; not
``with_context`` or ``in_theme``, which take a figure) is memoised by the contents of its arguments
(``figure_cache.memoize``): the same metric result drawn again (another viewer, a widget that changes
one chart of a page, a revisit, the report) costs a copy of the figure instead of building and
validating it again. ``builder.uncached`` is the builder itself.
"""

from __future__ import annotations

from .breakdowns import bar_breakdown, topic_heatmap
from .export import (
    DEMO_ROW,
    FOOTER_LINE,
    FOOTER_WIDTH,
    MODEBAR_REMOVED,
    TICK_CHAR_PX,
    modebar_config,
    slugify,
    with_context,
)
from .layout import (
    EMPTY_MESSAGE,
    MULTI_TOPIC_NOTE,
    NO_ANSWERS_MESSAGE,
    SHORT_LABEL,
    SUBTITLE_LINE,
    SUBTITLE_WIDTH,
    TITLE_LINE,
    TITLE_WIDTH,
    category_label,
    empty_figure,
    short_labels,
    wrap_subtitle,
)
from .milestones import (
    MILESTONE_CHAR_PX,
    MILESTONE_LABEL_PX,
    MILESTONE_OFFSET,
    MILESTONE_OFFSET_EARLY,
    MILESTONE_PLOT,
    cumulative,
)
from .outcomes import (
    LEVEL_LABELS,
    WAVE_WHEN,
    evidence_levels,
    likert_diverging,
    post_vs_follow_up,
    top2_by_segment,
    wave_comparison,
)
from .pipeline import TIMELINESS_BAR, TIMELINESS_STAGES, backlog, funnel, timeliness
from .reach import TILE_GRID, TILE_HALF, field_reach, scale_colour, state_map
from .theme import (
    DARK_GRID,
    DARK_HOVER,
    DARK_TEXT,
    FONT,
    GRID,
    INK,
    LIKERT_COLORS,
    LIKERT_LABELS,
    MUTED,
    PALETTE,
    SEQUENTIAL,
    TEMPLATE,
    TITLE_PAD_TOP,
    WARNING,
    ZERO_TILE,
    dark_variant,
    in_theme,
    theme_layout,
)
from .trends import (
    GRAIN_NOUNS,
    MAX_PERIOD_TICKS,
    PARTIAL_OPACITY,
    PARTIAL_PATTERN,
    first_time_vs_repeat,
    series_by_dimension,
    volume_trend,
    year_over_year,
)

__all__ = [
    "DARK_GRID",
    "DARK_HOVER",
    "DARK_TEXT",
    "DEMO_ROW",
    "EMPTY_MESSAGE",
    "FONT",
    "FOOTER_LINE",
    "FOOTER_WIDTH",
    "GRAIN_NOUNS",
    "GRID",
    "INK",
    "LEVEL_LABELS",
    "LIKERT_COLORS",
    "LIKERT_LABELS",
    "MAX_PERIOD_TICKS",
    "MEMOISED",
    "MILESTONE_CHAR_PX",
    "MILESTONE_LABEL_PX",
    "MILESTONE_OFFSET",
    "MILESTONE_OFFSET_EARLY",
    "MILESTONE_PLOT",
    "MODEBAR_REMOVED",
    "MULTI_TOPIC_NOTE",
    "MUTED",
    "NO_ANSWERS_MESSAGE",
    "PALETTE",
    "PARTIAL_OPACITY",
    "PARTIAL_PATTERN",
    "SEQUENTIAL",
    "SHORT_LABEL",
    "SUBTITLE_LINE",
    "SUBTITLE_WIDTH",
    "TEMPLATE",
    "TICK_CHAR_PX",
    "TILE_GRID",
    "TILE_HALF",
    "TIMELINESS_BAR",
    "TIMELINESS_STAGES",
    "TITLE_LINE",
    "TITLE_PAD_TOP",
    "TITLE_WIDTH",
    "WARNING",
    "WAVE_WHEN",
    "ZERO_TILE",
    "backlog",
    "bar_breakdown",
    "category_label",
    "cumulative",
    "dark_variant",
    "empty_figure",
    "evidence_levels",
    "field_reach",
    "first_time_vs_repeat",
    "funnel",
    "in_theme",
    "likert_diverging",
    "modebar_config",
    "post_vs_follow_up",
    "scale_colour",
    "series_by_dimension",
    "short_labels",
    "slugify",
    "state_map",
    "theme_layout",
    "timeliness",
    "top2_by_segment",
    "topic_heatmap",
    "volume_trend",
    "wave_comparison",
    "with_context",
    "wrap_subtitle",
    "year_over_year",
]

# The memoised figure builders (each has ``.uncached``), by name.
MEMOISED = tuple(name for name in __all__ if hasattr(globals().get(name), "uncached"))
