"""A chart's "Download plot as PNG" (the modebar) in headless Chromium: in the dark theme the image
is the light one, pixel for pixel the image the light theme downloads, on white paper; the chart on
screen stays dark.

Shares the server and fixtures of tests/conftest.py (same skip rules without chromium).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageChops

from critac_metrics import charts, palette

from .browser_support import LOAD_MS, RERUN_MS, chart, playwright_expect, wait_idle

expect = playwright_expect()

# chromium, app_url and the browser's launch arguments are tests/conftest.py's.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

KEY = "overview_trend"
_FONT_JS = (
    "(key) => document.querySelector(`.st-key-${key} .js-plotly-plot`)._fullLayout.font.color"
)


def _download(browser, app_url, scheme: str) -> tuple[Image.Image, str]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, color_scheme=scheme, accept_downloads=True
    )
    try:
        page = context.new_page()
        page.goto(app_url + "/")
        figure = chart(page, KEY)
        expect(figure).to_be_visible(timeout=LOAD_MS)
        wanted = charts.DARK_TEXT if scheme == "dark" else charts.INK
        page.wait_for_function(
            f"(key) => ({_FONT_JS})(key) === '{wanted}'", arg=KEY, timeout=RERUN_MS
        )
        wait_idle(page, LOAD_MS)
        figure.hover()
        button = figure.locator('.modebar-btn[data-title="Download plot as a PNG"]')
        with page.expect_download(timeout=RERUN_MS) as download:
            button.click()
        image = Image.open(io.BytesIO(download.value.path().read_bytes())).convert("RGBA")
        page.wait_for_timeout(300)
        return image, page.evaluate(_FONT_JS, KEY)  # the font on screen after the download
    finally:
        context.close()


def test_the_modebar_png_is_light_and_opaque_in_the_dark_theme(browser, app_url):
    light, light_font = _download(browser, app_url, "light")
    dark, dark_font = _download(browser, app_url, "dark")
    assert (light_font, dark_font) == (charts.INK, charts.DARK_TEXT)  # the screens differ...
    assert dark.size == light.size
    assert ImageChops.difference(dark, light).getbbox() is None  # ...the downloads do not
    # White paper, and the text in the chart's ink (the dark theme's light grey would not read).
    width, height = dark.size
    assert dark.getpixel((2, 2)) == dark.getpixel((width - 3, height - 3)) == (255, 255, 255, 255)
    pixels = np.asarray(dark).reshape(-1, 4)
    ink = int((pixels == (*palette.rgb(charts.INK), 255)).all(axis=1).sum())
    pale = int((pixels == (*palette.rgb(charts.DARK_TEXT), 255)).all(axis=1).sum())
    assert ink > 100 and ink > pale, (ink, pale)
