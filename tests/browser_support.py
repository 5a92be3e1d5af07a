"""Helpers for the browser tests: run the app, ask the CLI for the expected figures, read the page.

Kept free of pytest fixtures so the helpers can be read (and reused, by the benchmarks too) on their
own; the browser tests' fixtures (chromium, one app server, ``app``) live in tests/conftest.py.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent

# Set in CI: a browser test fails, instead of skipping, without chromium or playwright.
REQUIRE_BROWSER = os.environ.get("CRITAC_REQUIRE_BROWSER") == "1"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Waits, in milliseconds. A cold page (2 cores): first metric after 3–5 s, Plotly SVG after 5–6 s.
LOAD_MS = 60_000
RERUN_MS = 30_000

MAIN = "[data-testid=stMain]"
CHART = ".critac-chart"  # a chart's div (dashboard/plotly_chart.js), where plotly.js draws
PLOTLY_SVG = f"{CHART} .main-svg"


# -- the browser ----------------------------------------------------------------------------------


def chromium_path() -> str | None:
    """The chromium to drive (CHROMIUM_PATH, else Debian's /usr/bin/chromium), or None if absent."""
    wanted = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    found = wanted if os.path.isabs(wanted) else shutil.which(wanted)
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return found
    return None


def playwright_expect() -> Any:
    """Playwright's ``expect``, for a browser test module to call at import: without playwright the
    module is skipped (under CRITAC_REQUIRE_BROWSER=1 the ImportError stands)."""
    try:
        from playwright.sync_api import expect
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        if REQUIRE_BROWSER:
            raise
        import pytest

        pytest.skip("playwright is not installed", allow_module_level=True)
    return expect


# -- the app server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    db: Path,
    home: Path,
    log: Path,
    port: int | None = None,
    root: Path = ROOT,
    script: str = "app.py",
    flags: tuple[str, ...] = (),
) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` (or ``script``) from ``root`` (the project, or a copy of it)
    against ``db`` on ``port`` (default: a free one); return (process, base URL). The benchmarks
    start their servers with this too."""
    port = port or free_port()
    env = {**os.environ, "CRITAC_DB": str(db), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        # Other people edit the project while tests run: never reload the app under a test.
        "--server.fileWatcherType",
        "none",
        *flags,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


@contextmanager
def running_app(
    db: Path,
    home: Path,
    log: Path,
    root: Path = ROOT,
    timeout: float = 60,
    base: str = "",
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``start_app`` for the block (served under ``base``, server.baseUrlPath, when given):
    (process, the app's URL) once it answers /_stcore/health (within ``timeout`` seconds); stopped
    after the block."""
    flags = ("--server.baseUrlPath", base) if base else ()
    process, url = start_app(db, home, log, root=root, flags=flags)
    url += f"/{base}" if base else ""
    try:
        wait_healthy(process, url, log, timeout)
        yield process, url
    finally:
        stop(process)


def wait_healthy(process: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout} s:\n{tail(log)}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


# -- expected figures, from the command line ------------------------------------------------------


def query_pairs(url_or_query: str) -> tuple[tuple[str, str], ...]:
    query = urlsplit(url_or_query).query if "?" in url_or_query else url_or_query.lstrip("?")
    return tuple(parse_qsl(query))


@functools.cache
def cli_summary(db: str, pairs: tuple[tuple[str, str], ...]) -> dict:
    """``python -m critac_metrics summary --db DB --key value ... --json`` for URL-style pairs."""
    command = [sys.executable, "-m", "critac_metrics", "summary", "--db", db, "--json"]
    for key, value in pairs:
        if not key.startswith("_"):
            command += ["--" + key.replace("_", "-"), value]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr}"
    return json.loads(done.stdout)


def expected_kpis(db: Path, pairs) -> dict[str, str]:
    """The two headline tiles as the app shows them (thousands separators)."""
    summary = cli_summary(str(db), tuple(pairs))
    return {
        "Engagements accepted": f"{summary['engagements']:,}",
        "Agencies served": f"{summary['agencies_served']:,}",
    }


# -- reading and waiting on the page --------------------------------------------------------------


def page_url(spec) -> str:
    """The path of a page (a ``dashboard.pages.PAGES`` entry): st.navigation serves the default
    (first) page at / and the others at /<file stem>."""
    from dashboard.pages import PAGES

    return "/" if spec is PAGES[0] else "/" + Path(spec.path).stem


def metric_value(page, label: str):
    """The value locator of the KPI tile in the main area whose label is exactly ``label``.

    A tile left over from the previous run (``data-stale``) is skipped: during a rerun Streamlit
    can show it beside its replacement, and the locator must name one tile.
    """
    current = "[data-testid=stMetric]:not([data-stale=true] [data-testid=stMetric])"
    tile = page.locator(f"{MAIN} {current}").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return tile.get_by_test_id("stMetricValue")


def read_kpis(page, labels=("Engagements accepted", "Agencies served")) -> dict[str, str]:
    return {label: metric_value(page, label).inner_text().strip() for label in labels}


def no_exception(page) -> None:
    """The page shows no Streamlit exception box."""
    playwright_expect()(page.locator("[data-testid=stException]")).to_have_count(0)


def filter_caption(page):
    """The one-sentence filter caption under the page title (the first caption in the main area)."""
    return page.locator(f"{MAIN} [data-testid=stCaptionContainer]").first


_BUSY_JS = """() => {
  const status = document.querySelector('[data-testid=stStatusWidget]');
  const running = !!status && /Stop|Running/i.test(status.innerText || '');
  const stale = document.querySelectorAll('[data-stale=true]').length;
  const charts = document.querySelectorAll('.critac-chart').length;
  const drawn = document.querySelectorAll('.critac-chart .main-svg').length;
  return running || stale > 0 || drawn < charts;
}"""


def wait_idle(page, timeout_ms: int = RERUN_MS, settle_ms: int = 400) -> None:
    """Wait until the script has finished, nothing is stale and every Plotly chart has drawn.

    Requires that state twice in a row ``settle_ms`` apart (a rerun can start right after one ends).
    """
    deadline = time.monotonic() + timeout_ms / 1000
    quiet = 0
    while time.monotonic() < deadline:
        if page.evaluate(_BUSY_JS):
            quiet = 0
        else:
            quiet += 1
            if quiet >= 2:
                return
        page.wait_for_timeout(settle_ms)
    raise AssertionError(f"the app did not settle within {timeout_ms / 1000:.0f} s")


def screenshot_folder() -> Path:
    """Where the browser tests put their screenshots: docs/screenshots/ (tracked, shown in the
    README) only when ``CRITAC_WRITE_SCREENSHOTS=1``; otherwise a temporary folder, so a test run
    does not rewrite the tracked images (each run gives new bytes for the same picture)."""
    if os.environ.get("CRITAC_WRITE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return Path(tempfile.gettempdir()) / "critac-screenshots"


def full_screenshot(page, path: Path, width: int = 1400, max_height: int = 12_000) -> None:
    """Screenshot the whole page, cropped to its content.

    Streamlit scrolls inside stMain, not the document, so a full-page screenshot would stop at the
    viewport: grow the viewport to stMain's full height first (and restore it afterwards)."""
    before = page.viewport_size
    height = page.evaluate(
        "() => Math.ceil(document.querySelector('[data-testid=stMain]').scrollHeight)"
    )
    if before is None or height > before["height"] or width != before["width"]:
        page.set_viewport_size(
            {
                "width": width,
                "height": min(max(height, before["height"] if before else 0), max_height),
            }
        )
        page.wait_for_timeout(600)  # let Plotly and the data grid re-layout
        wait_idle(page)
    bottom = page.evaluate(
        """() => {
             const main = document.querySelector('[data-testid=stMainBlockContainer]');
             const side = document.querySelector('[data-testid=stSidebarUserContent]');
             const sideBottom = side && side.offsetParent ? side.getBoundingClientRect().bottom : 0;
             return Math.ceil(Math.max(main.getBoundingClientRect().bottom, sideBottom));
           }"""
    )
    size = page.viewport_size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(path),
        clip={"x": 0, "y": 0, "width": size["width"], "height": min(bottom, size["height"])},
    )
    if before and page.viewport_size != before:
        page.set_viewport_size(before)


def choose_agency_type(page, label: str) -> None:
    """Add ``label`` in the sidebar's "Agency types" multiselect, typed and entered as a keyboard
    user would (a click on the option in the dropdown once went unregistered in CI: the box stayed
    empty, the URL unchanged), and close the dropdown."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.filter(has_text="Agency types").locator("input").click()
    page.keyboard.type(label)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def chart(page, key: str):
    """The element container of the chart drawn with ``show.chart(..., key)`` (class st-key-<key>)."""
    return page.locator(f".st-key-{key} .js-plotly-plot").first


def click_centre(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box, "element has no box (not rendered?)"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def point_customdata(page, key: str, index: int, trace: int = 0):
    """customdata[0] of point ``index`` of ``trace`` in the chart ``key`` (read from plotly.js)."""
    return page.evaluate(
        """([key, trace, index]) => {
             const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
             const cd = gd.data[trace].customdata[index];
             return Array.isArray(cd) ? cd[0] : cd;
           }""",
        [key, trace, index],
    )


def off_the_event_loop(fn, *args):
    """Run ``fn(*args)`` in a fresh thread and return its result (or raise its exception).

    pytest-playwright keeps an asyncio loop running in the main thread once a browser test has
    run, and Playwright's sync API refuses to start inside it; tests that drive a browser of
    their own (not the fixture's) do it from a thread without a loop.
    """
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
