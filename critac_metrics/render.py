"""Static chart images: Kaleido driving ONE long-lived headless Chromium per process.

The first image starts the renderer (``render_session.Session``: Chromium and its tabs with
plotly.js loaded, ~0.6 s); every later image reuses it (0.1–0.3 s each, the tabs are not reloaded
between images). No Streamlit here: the app wraps ``start()`` in ``st.cache_resource``.

Every call waits with a timeout and fails with a clear error if the browser dies; a renderer whose
browser has died is started again by the next ``start()``. Calls are serialised (one batch of
images at a time, spread over the tabs).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import plotly.io as pio

if TYPE_CHECKING:
    from .render_session import Session

CHROMIUM_MISSING = "PowerPoint export needs Chromium for chart images: apt-get install chromium"
START_TIMEOUT = 90.0  # seconds for the browser to start with its tabs loaded
IMAGE_TIMEOUT = 90.0  # seconds for one image
TABS = 2  # browser tabs drawing at once: a deck's images come out ~1.5x faster on 2 cores than 1
# plotly.js with only the trace types critac_metrics/charts/ draws (tools/plotly_bundle), for the
# HTML report and the renderer's tabs: a tab loads it in a quarter of the full bundle's time
# (renderer started 1.5-1.9 s -> 0.6 s), and draws the same images byte for byte.
PLOTLY_JS = Path(__file__).parent / "assets" / "plotly-report.min.js"
# The trace types built into PLOTLY_JS: any other draws a blank image without an error, so it is
# refused before drawing (a browser test checks the bundle registers each of these).
BUNDLED_TRACES = frozenset({"bar", "funnel", "heatmap", "scatter"})

_LOCK = threading.RLock()
_state: dict[str, str | None] = {"browser": None, "broken": None}
_session: list[Session] = []  # the running renderer, if any


class ChromiumMissing(RuntimeError):
    """No Chromium-based browser to draw chart images with."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(CHROMIUM_MISSING + (f" ({detail})" if detail else ""))


class RenderError(RuntimeError):
    """The browser is there but could not draw an image."""


def _executable(path: str | None) -> bool:
    return path is not None and Path(path).is_file() and os.access(path, os.X_OK)


def browser_path() -> str | None:
    """The browser Kaleido will use: ``BROWSER_PATH`` or ``CHROMIUM_PATH`` when set (an explicit
    path that does not exist means no browser), else Chromium/Chrome found on this machine."""
    for variable in ("BROWSER_PATH", "CHROMIUM_PATH"):
        explicit = os.environ.get(variable)
        if explicit:
            return explicit if _executable(explicit) else None
    try:
        from choreographer.browsers.chromium import Chromium

        # skip_local: never the copy `plotly_get_chrome` downloads (it is not how we deploy).
        found = Chromium.find_browser(skip_local=True)
    except Exception:  # noqa: BLE001 - best effort; fall back to the usual Debian path
        found = None
    if _executable(found):
        return found
    return "/usr/bin/chromium" if _executable("/usr/bin/chromium") else None


def available() -> bool:
    return browser_path() is not None


def start() -> str:
    """Start the process's one renderer if it is not running; return the browser's path.

    Raises ChromiumMissing when there is no browser and RenderError when it cannot start.
    """
    with _LOCK:
        if _state["broken"]:
            raise RenderError(_state["broken"])
        if _session and _session[0].alive():
            return _state["browser"] or ""
        _close_session()  # its browser died: start a new one
        path = browser_path()
        if path is None:
            raise ChromiumMissing()
        from .render_session import Session

        try:
            _session.append(Session(path, TABS, START_TIMEOUT, PLOTLY_JS))
        except Exception as exc:
            _state["broken"] = f"the chart renderer could not start Chromium at {path}: {exc}"
            raise RenderError(_state["broken"]) from exc
        _state["browser"] = path
        return path


# Images already drawn, by (figure JSON, size): a deck built again for the same filters (or a chart
# that doesn't depend on them) reuses them. A deck's image is 50–250 kB; at most ~16 MB.
_IMAGES: OrderedDict[str, bytes] = OrderedDict()
MAX_IMAGES = 96


def _image_key(fig: go.Figure, width: int, height: int, scale: float) -> str:
    # Keys sorted: a figure built with plain-data layout (charts/spec.py) and its copy from
    # st.cache_data (pickled, so validated again) list the same properties in different orders,
    # and draw the same image.
    plain = json.loads(pio.to_json(fig, validate=False, pretty=False, remove_uids=True))
    spec = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{width}x{height}@{scale}:{spec}".encode()).hexdigest()


def traces_not_bundled(figs: Sequence[go.Figure]) -> set[str]:
    """The trace types of ``figs`` that the trimmed plotly.js lacks: it would draw them as nothing,
    without an error."""
    return {trace.type for fig in figs for trace in fig.data} - BUNDLED_TRACES


def to_pngs(figs: Sequence[go.Figure], width: int, height: int, scale: float = 2) -> list[bytes]:
    """PNGs of several figures at once, drawn ``TABS`` at a time (a deck's chart images); images
    drawn before for the same figure and size come from memory."""
    if not figs:
        return []
    unknown = traces_not_bundled(figs)
    if unknown:
        raise RenderError(
            f"chart type {', '.join(sorted(unknown))} is not in the renderer's plotly.js "
            "(rebuild it with tools/plotly_bundle/build.sh)"
        )
    keys = [_image_key(fig, width, height, scale) for fig in figs]
    with _LOCK:
        start()  # a deck needs the renderer even when its images are all in memory
        todo = [i for i, k in enumerate(keys) if k not in _IMAGES]
        drawn = _draw(figs, todo, width, height, scale) if todo else {}
        out = []
        for i, k in enumerate(keys):
            image = drawn[i] if i in drawn else _IMAGES[k]
            _IMAGES[k] = image
            _IMAGES.move_to_end(k)
            out.append(image)
        while len(_IMAGES) > MAX_IMAGES:
            _IMAGES.popitem(last=False)
        return out


def _draw(figs: Sequence[go.Figure], todo: list[int], width: int, height: int,
          scale: float) -> dict[int, bytes]:  # fmt: skip
    """The images of ``figs[i]`` for ``i`` in ``todo``, drawn in one batch on the renderer."""
    from .render_session import Stopped

    try:
        drawn = _session[0].pngs([figs[i] for i in todo], width, height, scale)
    except Stopped:
        raise RenderError(
            f"the chart renderer stopped: Chromium at {_state['browser']} closed "
            "(run it by hand to see why)"
        ) from None
    except TimeoutError:
        raise RenderError(
            f"drawing {len(todo)} chart images took longer than {IMAGE_TIMEOUT:.0f} s each"
        ) from None
    for i, image in zip(todo, drawn, strict=True):
        if isinstance(image, BaseException):
            raise RenderError(f"chart image {i + 1} of {len(figs)} was not drawn: {image}")
    return {i: image for i, image in zip(todo, drawn, strict=True) if isinstance(image, bytes)}


# Images drawn ahead: the latest request only (a newer one replaces it), by one background thread.
_Job = tuple[list[go.Figure], int, int, float]
_ahead: list[_Job] = []
_ahead_wake = threading.Condition()
_ahead_worker: list[threading.Thread] = []


def draw_ahead(figs: Sequence[go.Figure], width: int, height: int, scale: float = 2) -> None:
    """Draw these images in the background into the images in memory (a deck likely to be asked
    for next), ``TABS`` at a time so that a real request waits for one small batch at most. Only
    the latest request is kept; errors are left for the real request, which reports them."""
    with _ahead_wake:
        _ahead[:] = [(list(figs), width, height, scale)]
        _ahead_wake.notify()
        if not _ahead_worker:
            worker = threading.Thread(target=_draw_ahead_forever, name="critac-render-ahead")
            worker.daemon = True
            _ahead_worker.append(worker)
            worker.start()


def _next_ahead() -> _Job:
    with _ahead_wake:
        _ahead_wake.wait_for(lambda: bool(_ahead))
        return _ahead.pop()


def _draw_ahead_forever() -> None:
    while True:
        figs, width, height, scale = _next_ahead()
        for first in range(0, len(figs), TABS):
            if _ahead:  # a newer request: this one is no longer wanted
                break
            with contextlib.suppress(Exception):
                to_pngs(figs[first : first + TABS], width, height, scale)


def warm_up() -> None:
    """Start the renderer on a background thread (a deck is often next); errors surface later,
    on the first real image, where they can be shown."""

    def start_quietly() -> None:
        with contextlib.suppress(Exception):  # reported by the call that needs an image
            start()

    if available():
        threading.Thread(target=start_quietly, name="critac-render-warm-up", daemon=True).start()


def _close_session() -> None:
    while _session:
        _session.pop().close()


def stop() -> None:
    """Close the browser (tests, and at exit: Chromium runs in its own session and would outlive
    the process)."""
    with _LOCK:
        _close_session()
        _state.update(browser=None, broken=None)


atexit.register(stop)
