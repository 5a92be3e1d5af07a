"""A test run leaves the tracked screenshots alone: the browser tests write docs/screenshots/ only
when asked with CRITAC_WRITE_SCREENSHOTS=1 (README: "Screenshots")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

TRACKED = ROOT / "docs" / "screenshots"


def _folder(env: dict[str, str]) -> Path:
    code = "from tests.browser_support import screenshot_folder; print(screenshot_folder())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


@pytest.mark.parametrize("value", [None, "", "0", "yes"])
def test_screenshots_go_outside_the_tree_unless_asked(value):
    env = dict(os.environ)
    env.pop("CRITAC_WRITE_SCREENSHOTS", None)
    if value is not None:
        env["CRITAC_WRITE_SCREENSHOTS"] = value
    folder = _folder(env).resolve()
    assert not folder.is_relative_to(ROOT), folder


def test_screenshots_replace_the_tracked_ones_when_asked():
    env = {**os.environ, "CRITAC_WRITE_SCREENSHOTS": "1"}
    assert _folder(env).resolve() == TRACKED.resolve()
    assert sorted(p.name for p in TRACKED.glob("*.png"))  # the README shows these
