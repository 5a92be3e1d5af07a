"""One theme: the Streamlit config, the charts, the deck and the HTML report take their colours from
``critac_metrics.palette``; nothing restates a hex value of its own."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from critac_metrics import charts, palette, report

ROOT = Path(__file__).resolve().parent.parent
# A hex colour, an rgb()/rgba() with numbers, or a byte written in hex (a colour tuple).
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b|rgba?\(\s*\d|0x[0-9A-Fa-f]{2}\b")


def test_streamlit_config_theme_equals_the_palette():
    # config.toml can't import Python: when this fails, paste `python -m critac_metrics.palette`.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    # A light and a dark theme (the app follows the viewer's setting): both take the palette.
    for mode in ("light", "dark"):
        theme = config["theme"][mode]
        for key, colours in palette.streamlit_theme().items():
            assert theme.get(key) == colours, f"theme.{mode}.{key}"


def test_theme_toml_is_what_the_config_holds():
    text = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    for line in palette.theme_toml().splitlines():
        assert line in text.splitlines()


def test_charts_and_exports_read_the_palette():
    assert charts.PALETTE == palette.CATEGORICAL
    assert charts.LIKERT_COLORS == palette.LIKERT
    assert charts.SEQUENTIAL == palette.SEQUENTIAL
    assert charts.INK == palette.INK and charts.ZERO_TILE == palette.ZERO_TILE
    assert f"--warn: {palette.WARNING}" in report.CSS
    assert f"--ink: {palette.TEXT}" in report.CSS


def test_rgb_and_rgba():
    assert palette.rgb("#0072B2") == (0, 114, 178)
    assert palette.rgba("#0072B2", 0.12) == "rgba(0, 114, 178, 0.12)"
    assert palette.rgba(palette.INK, 0.25) == palette.GRID


def test_no_colour_literals_outside_the_palette():
    # Python sources only; the palette module is the one place a colour is written down.
    offenders = []
    for folder in ("critac_metrics", "dashboard", "views"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "palette.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if HEX.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    for path in (ROOT / "app.py",):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HEX.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
