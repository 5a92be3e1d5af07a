from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from critac_metrics import db
from critac_metrics.ingest import ingest_files
from critac_metrics.store import DEMO_FILES

from .browser_support import (
    CHROMIUM_ARGS,
    LOAD_MS,
    MAIN,
    PLOTLY_SVG,
    REQUIRE_BROWSER,
    chromium_path,
    playwright_expect,
    running_app,
    wait_idle,
)

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

# A small hand-made data set with the edge cases the metrics must get right: multi-topic
# engagements, fiscal-year boundaries (30 Sep / 1 Oct), declined and withdrawn requests,
# unanswered survey items and a follow-up wave.
TINY = {
    "agencies.csv": """agency_id,agency_name,agency_type,state,sworn_officers,population_served
A1,Springfield Police Department,municipal,IL,40,110000
A2,Navajo Nation Police Department,tribal,AZ,250,170000
A3,State University Police Department,campus,TX,,30000
A4,Guam Police Department,territorial,GU,1000,
""",
    "engagements.csv": """engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,completed_on,delivery_mode,provider,participants
E1,A1,2023-09-30,completed,training,De-escalation; Use of Force,2023-10-10,2023-11-01,onsite,IACP,25
E2,A1,2023-10-01,completed,virtual_consultation,De-escalation,2023-10-05,2023-10-20,virtual,IACP,
E3,A2,2024-03-15,completed,training,Officer Safety and Wellness; De-escalation; School Safety,2024-04-01,2024-05-01,hybrid,NTOA,40
E4,A3,2024-09-30,declined,policy_review,School Safety,,,,,
E5,A3,2024-10-01,in_progress,assessment,Active Shooter Response,2024-10-15,,onsite,IACLEA,
E6,A4,2024-06-01,withdrawn,training,Crisis Intervention,,,,,
E7,A2,2022-12-01,completed,expert_briefing,Crisis Intervention,2022-12-05,2022-12-05,virtual,FBINAA,12
""",
    "survey_responses.csv": """response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,service_delivery,operations_change,would_recommend,comment
R1,E1,2023-11-05,post,Chief,5,4,4,,5,Very useful
R2,E1,2023-11-06,post,Officer,4,3,,2,4,
R3,E1,2024-05-01,follow_up,Chief,5,5,4,4,5,We changed our policy
R4,E2,2023-10-25,,Lieutenant,2,4,3,3,1,<b>too short</b> & rushed
R5,E3,2024-05-03,post,Chief,5,5,5,4,5,
R6,E3,2024-05-04,post,Sergeant,4,4,5,,4,
R7,E7,2022-12-10,post,Sheriff,3,,4,5,5,=HYPERLINK("x")
""",
}


def run_cli(*args: str | Path, ok: bool | None = True) -> subprocess.CompletedProcess:
    """Run ``python -m critac_metrics ARGS``; ``ok=True`` asserts exit 0, ``ok=False`` a non-zero
    exit, ``ok=None`` neither."""
    proc = subprocess.run(
        [sys.executable, "-m", "critac_metrics", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok is True:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    elif ok is False:
        assert proc.returncode != 0, proc.stdout
    return proc


def write_tiny(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in TINY.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny")
    write_tiny(directory)
    return directory


def ingested(directory: Path, path: Path) -> Path:
    """A database at ``path`` holding the CSV files in ``directory`` (the import must pass)."""
    report = ingest_files(path, sorted(directory.glob("*.csv")))
    assert report.ok, report.summary_lines()
    return path


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory, tiny_dir) -> Path:
    return ingested(tiny_dir, tmp_path_factory.mktemp("tinydb") / "tiny.duckdb")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo database, built from the committed data/*.csv exactly as the app builds it."""
    path = tmp_path_factory.mktemp("demodb") / "demo.duckdb"
    report = ingest_files(path, list(DEMO_FILES), is_demo=True)
    assert report.ok, report.summary_lines()
    return path


@pytest.fixture
def tiny_con(tiny_db):
    con = db.connect(tiny_db)
    yield con
    con.close()


@pytest.fixture
def demo_con(demo_db):
    con = db.connect(demo_db)
    yield con
    con.close()


@pytest.fixture
def copy_db(tmp_path):
    def _copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        return target

    return _copy


def unescape(markdown: str) -> str:
    """The text a Markdown element shows for a string escaped by dashboard.show.plain."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture
def demo_app(monkeypatch, demo_db):
    """``demo_app(page=None, **params)``: the app (AppTest) on the demo database, opened with URL
    ``params``, switched to ``page`` when given."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CRITAC_DB", str(demo_db))

    def make(page: str | None = None, **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params.update(params)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        return at

    return make


# -- the browser tests: chromium, its HOME, and one app server for the session ---------------------
# Used by tests/test_browser*.py and test_ui_defects.py; pytest-playwright provides ``page``.

VIEWPORT = {"width": 1400, "height": 1000}  # grown to the full page for screenshots


@pytest.fixture(scope="session")
def chromium() -> str:
    """Skip the browser tests without chromium; in CI (CRITAC_REQUIRE_BROWSER=1) fail instead."""
    path = chromium_path()
    if path is None:
        wanted = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        reason = (
            f"no chromium at {wanted} (apt-get install chromium, or set CHROMIUM_PATH); "
            "`playwright install` does not work offline"
        )
        if REQUIRE_BROWSER:
            pytest.fail(f"CRITAC_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory) -> Path:
    """HOME for chromium and the server (chromium as root writes ~/.config/chromium)."""
    return tmp_path_factory.mktemp("browser-home")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium, browser_home):
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": CHROMIUM_ARGS,
        "env": {**os.environ, "HOME": str(browser_home)},
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def app_url(chromium, demo_db, browser_home, tmp_path_factory) -> Iterator[str]:
    """One Streamlit server for the session, on a free port, reading a fresh demo database."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with running_app(demo_db, browser_home, log) as (_, url):
        yield url


@pytest.fixture
def app(page, app_url):
    """``app(path="/", charts=True)``: open a path of the app in chromium and wait for its heading
    (and first chart) to render; the test fails on any uncaught JavaScript error."""
    expect = playwright_expect()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def open_(path: str = "/", charts: bool = True):
        page.goto(app_url + path)
        expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=LOAD_MS)
        if charts:
            expect(page.locator(PLOTLY_SVG).first).to_be_visible(timeout=LOAD_MS)
        wait_idle(page, LOAD_MS)
        return page

    yield open_
    assert not errors, f"uncaught JavaScript errors: {errors}"
