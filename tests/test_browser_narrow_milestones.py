"""The cumulative chart's milestone labels on a phone (390 px) in headless Chromium: no label
touches the axes' tick labels (they ran into the y axis' "1,000" before), for all time and for a
span of fiscal years. Measured on the drawn SVG, not on the figure's numbers.

Shares the server and fixtures of tests/conftest.py (same skip rules without chromium).
"""

from __future__ import annotations

import pytest

from .browser_support import LOAD_MS, chart, playwright_expect, wait_idle

expect = playwright_expect()

# chromium, app_url and the browser's launch arguments are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

KEY = "overview_cumulative"
GAP_PX = 2  # a label closer than this to a tick label reads as touching it

_BOXES_JS = """(key) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const box = (e) => { const r = e.getBoundingClientRect();
                       return {text: e.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  // Milestone labels: the annotations drawn with an arrow.
  const labels = [...gd.querySelectorAll('g.annotation')]
      .filter((g) => g.querySelector('path.annotation-arrow, g.annotation-arrow-g path'))
      .map((g) => box(g.querySelector('.annotation-text')));
  const ticks = [...gd.querySelectorAll('g.xtick text, g.ytick text')].map(box);
  return {labels, ticks};
}"""


def _touch(a: dict, b: dict) -> bool:
    return not (
        a["r"] + GAP_PX <= b["l"]
        or b["r"] + GAP_PX <= a["l"]
        or a["b"] + GAP_PX <= b["t"]
        or b["b"] + GAP_PX <= a["t"]
    )


@pytest.mark.parametrize("query", ["", "?start=2019-10-01&end=2024-09-30"])
def test_milestone_labels_keep_clear_of_the_tick_labels_at_390_px(page, app_url, query):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(app_url + "/" + query)
    figure = chart(page, KEY)
    expect(figure).to_be_visible(timeout=LOAD_MS)
    wait_idle(page, LOAD_MS)
    figure.scroll_into_view_if_needed()
    boxes = page.evaluate(_BOXES_JS, KEY)
    assert len(boxes["labels"]) >= 2, boxes["labels"]  # the milestones are labelled
    assert boxes["ticks"], boxes
    touching = [
        (label["text"], tick["text"])
        for label in boxes["labels"]
        for tick in boxes["ticks"]
        if _touch(label, tick)
    ]
    assert not touching, touching
    for one, other in (
        (a, b) for i, a in enumerate(boxes["labels"]) for b in boxes["labels"][i + 1 :]
    ):
        assert not _touch(one, other), (one["text"], other["text"])
