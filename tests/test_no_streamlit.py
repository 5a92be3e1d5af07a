"""The library never imports Streamlit: the CLI, the report and the import run without it."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import critac_metrics

from .conftest import ROOT

CHECK = """
import importlib, json, pkgutil, sys
import critac_metrics
names = [m.name for m in pkgutil.walk_packages(critac_metrics.__path__, "critac_metrics.")]
for name in names:
    if name != "critac_metrics.__main__":  # runs the CLI on import
        importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "streamlit")}))
"""


def test_critac_metrics_never_imports_streamlit() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Every module of the package was imported, not just the package itself.
    expected = {m.name for m in pkgutil.walk_packages(critac_metrics.__path__, "critac_metrics.")}
    assert set(result["modules"]) == expected
    assert {"critac_metrics.metrics", "critac_metrics.report", "critac_metrics.cli"} <= expected
    assert result["loaded"] == []
