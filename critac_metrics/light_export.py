"""A chart's "Download plot as PNG" (the modebar) stays light when the app is drawn dark.

Plotly's modebar download renders the figure as it is on screen: the dark template's light-grey
text, unreadable on white paper. Its options (``toImageButtonOptions``) take only the format, file
name, size and scale, and Streamlit passes ``config=`` as JSON, so a custom button (a JavaScript
function) can't be given. So each figure carries in ``layout.meta`` (Plotly keeps ``meta`` as given and
draws nothing from it) the layout its image should have: its light template when it is drawn dark,
and white paper, as in the deck and the HTML report (a transparent PNG is often viewed on a dark or
checkered background). A small script on the page sets those on the chart for the moment the
download button copies the figure: Plotly copies ``gd.layout`` synchronously when the button is
clicked, so the image is drawn light, the same in either theme, while the chart on screen never
changes.

The module is plain data and strings (no Streamlit): ``in_theme`` for the figure, ``SCRIPT`` for
the page (``st.html(SCRIPT, unsafe_allow_javascript=True)``, trusted markup of our own).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from . import charts, palette
from .charts import spec

META_KEY = "critac_png_layout"

SCRIPT = (
    # The marker and the style hide the (otherwise empty) element, so it takes no room on the page.
    """<span class="critac-light-png" hidden></span>
<style>[data-testid="stElementContainer"]:has(.critac-light-png) { display: none; }</style>
<script>
(() => {
  if (window.__critacLightPng) return;
  window.__critacLightPng = true;
  // Capture phase: runs before plotly's own click handler on the button.
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element
      && event.target.closest('.modebar-btn[data-title^="Download plot"]');
    const gd = button && button.closest('.js-plotly-plot');
    const meta = gd && gd.layout && gd.layout.meta;
    const light = meta && typeof meta === 'object' && meta['"""
    + META_KEY
    + """'];
    if (!light) return;
    const shown = {};
    for (const [key, value] of Object.entries(light)) {
      shown[key] = gd.layout[key];
      gd.layout[key] = value;
    }
    // Plotly has copied the layout by the time the click is handled: put the screen's back.
    setTimeout(() => {
      for (const [key, value] of Object.entries(shown)) {
        if (value === undefined) delete gd.layout[key]; else gd.layout[key] = value;
      }
    }, 0);
  }, true);
})();
</script>"""
)


def in_theme(fig: go.Figure, dark: bool) -> go.Figure:
    """``charts.in_theme``, and in ``layout.meta`` what the modebar's PNG download draws instead
    (see the module's docstring): the light template when ``fig`` was drawn dark, and white paper
    (the deck's and the HTML report's) in either theme, so the image reads on any background.
    Returns a copy of ``fig``, or ``fig`` itself when there is nothing to set (drawn light, and
    its ``meta`` a list, which is left alone)."""
    light: dict[str, Any] = fig.layout.template.to_plotly_json()
    layout = charts.theme_layout(fig, dark, light)  # one copy of the figure for both changes
    export: dict[str, Any] = {"paper_bgcolor": palette.BACKGROUND}
    if layout.get("template", light) != light:
        export["template"] = light
    meta = fig.layout.meta
    if meta is None or isinstance(meta, dict):  # a list of meta values is left alone
        layout["meta"] = {**(meta or {}), META_KEY: export}
    return spec.updated(fig, replace=layout) if layout else fig
