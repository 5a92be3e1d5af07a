"""Tables offer no built-in "Download as CSV": it would write formula text raw.

st.dataframe's toolbar download (and clipboard copy) writes cells as they are, so an imported
comment like ``=cmd|' /C calc'!A0`` would run as a formula in a spreadsheet. The app turns that
export off (``client.disableDataExport``); its own buttons neutralise formulas
(critac_metrics/downloads.py). See docs/security.md.
"""

from __future__ import annotations

import os
import tomllib

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from critac_metrics.ingest import ingest_files

from .browser_support import CHROMIUM_ARGS, off_the_event_loop, start_app, stop, tail, wait_healthy
from .conftest import ROOT

OPTION = "client.disableDataExport"
FORMULA = "=cmd|' /C calc'!A0"


def test_the_app_turns_off_table_export_even_without_the_config_file(monkeypatch, demo_db):
    """A server started from another folder doesn't read .streamlit/config.toml: app.py sets it."""
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    before = config.get_option(OPTION)
    config.set_option(OPTION, False)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception
        assert config.get_option(OPTION) is True
    finally:
        config.set_option(OPTION, before)


def test_the_config_file_turns_off_table_export_from_the_first_run():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["client"]["disableDataExport"] is True


@pytest.fixture(scope="module")
def formula_server(tmp_path_factory, tiny_db):
    """The app on the tiny data plus a comment that is a spreadsheet formula."""
    folder = tmp_path_factory.mktemp("formula")
    target = folder / "formula.duckdb"
    target.write_bytes(tiny_db.read_bytes())
    source = folder / "survey_responses_formula.csv"
    source.write_text(
        "response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,"
        "service_delivery,operations_change,would_recommend,comment\n"
        f'RF1,E3,2024-05-05,post,Officer,5,5,5,5,5,"{FORMULA}"\n',
        encoding="utf-8",
    )
    report = ingest_files(target, [source])
    assert report.ok, report.summary_lines()
    log = folder / "server.log"
    process, url = start_app(target, folder, log)
    try:
        wait_healthy(process, url, log)
        yield url, folder, log
    finally:
        stop(process)


def _toolbar_buttons(url: str, home) -> tuple[list[list[str]], int]:
    """The labels of each table's toolbar buttons on ``url``, shown by hovering over it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(home)},
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            tables = page.locator("[data-testid=stDataFrame]")
            tables.first.wait_for(timeout=60_000)
            found = []
            for index in range(tables.count()):
                table = tables.nth(index)
                table.scroll_into_view_if_needed()
                table.hover()
                toolbar = page.locator("[data-testid=stElementToolbar]").nth(index)
                toolbar.get_by_role("button").first.wait_for(timeout=10_000)
                found.append(
                    [
                        b.get_attribute("aria-label") or b.inner_text()
                        for b in toolbar.get_by_role("button").all()
                    ]
                )
            # The page's own download buttons are still there.
            own = page.get_by_role("button", name="CSV").count()
        finally:
            browser.close()
    return found, own


@pytest.mark.browser
def test_no_table_offers_the_raw_csv_download(formula_server):
    url, home, log = formula_server
    for path in ("/outcomes", "/data"):
        toolbars, own = off_the_event_loop(_toolbar_buttons, url + path, home)
        assert toolbars, (path, tail(log))
        for labels in toolbars:
            assert any("Search" in label for label in labels), labels  # the toolbar did show
            assert not any("Download" in label for label in labels), (path, labels)
        if path == "/data":
            assert own >= 1  # the app's own (neutralising) CSV button
