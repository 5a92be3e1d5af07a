"""Static chart images: Kaleido driving ONE long-lived headless Chromium per process.

The first image starts the renderer (``kaleido.start_sync_server``, about 2–4 s); every later image
reuses it (0.3–0.5 s each). No Streamlit here: the app wraps ``start()`` in ``st.cache_resource``.

Kaleido's sync server hangs forever if its browser dies (its worker thread exits and the caller waits
on a queue that nobody serves), so every call here runs with a timeout and fails with a clear error.
Calls are serialised: the server answers one request at a time through shared queues, and two
threads calling it at once could receive each other's images.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import plotly.graph_objects as go
import plotly.io as pio

CHROMIUM_MISSING = "PowerPoint export needs Chromium for chart images: apt-get install chromium"
START_TIMEOUT = 90.0  # seconds for the browser to start and draw a first image
IMAGE_TIMEOUT = 90.0  # seconds for one image
TABS = 2  # browser tabs drawing at once: a deck's images come out ~1.7x faster on 2 cores than 1

_LOCK = threading.RLock()
_state: dict[str, str | None] = {"browser": None, "broken": None}


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


def _server_thread_alive() -> bool:
    """False once Kaleido's server thread has died (e.g. the browser closed right after starting)."""
    import kaleido

    server = getattr(kaleido, "_global_server", None)
    thread = getattr(server, "_thread", None)
    return thread is None or thread.is_alive()


_T = TypeVar("_T")


def _call(fn: Callable[[], _T], timeout: float) -> _T:
    """Run ``fn()`` on a helper thread; give up after ``timeout`` or when the server thread dies."""
    results: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            results.put((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            results.put((False, exc))

    worker = threading.Thread(target=work, name="critac-render", daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            ok, value = results.get(timeout=0.2)
        except queue.Empty:
            if not _server_thread_alive():
                raise RenderError(
                    f"the chart renderer stopped: Chromium at {_state['browser']} closed "
                    "(run it by hand to see why)"
                ) from None
            if time.monotonic() > deadline:
                raise RenderError(
                    f"drawing a chart image took longer than {timeout:.0f} s"
                ) from None
            continue
        if ok:
            return value
        raise value


def start() -> str:
    """Start the process's one renderer if it is not running; return the browser's path.

    Raises ChromiumMissing when there is no browser and RenderError when it cannot draw.
    """
    import kaleido

    with _LOCK:
        if _state["broken"]:
            raise RenderError(_state["broken"])
        if _state["browser"] and kaleido._global_server.is_running():
            return _state["browser"]
        path = browser_path()
        if path is None:
            raise ChromiumMissing()
        pio.defaults.headers = {}  # else a warning on every image
        kaleido.start_sync_server(n=TABS, mathjax=False, path=path, silence_warnings=True)
        _state["browser"] = path
        probe = go.Figure(go.Bar(y=[1]))
        try:
            _call(lambda: pio.to_image(probe, format="png", width=80, height=60), START_TIMEOUT)
        except Exception as exc:
            _state["broken"] = f"the chart renderer could not start Chromium at {path}: {exc}"
            kaleido.stop_sync_server(silence_warnings=True)
            raise RenderError(_state["broken"]) from exc
        return path


# Images already drawn, by (figure JSON, size): a deck built again for the same filters (or a chart
# that doesn't depend on them) reuses them. A deck's image is 50–250 kB; at most ~16 MB.
_IMAGES: OrderedDict[str, bytes] = OrderedDict()
MAX_IMAGES = 96


def _image_key(fig: go.Figure, width: int, height: int, scale: float) -> str:
    spec = pio.to_json(fig, validate=False, pretty=False, remove_uids=True)
    return hashlib.sha256(f"{width}x{height}@{scale}:{spec}".encode()).hexdigest()


def to_pngs(figs: Sequence[go.Figure], width: int, height: int, scale: float = 2) -> list[bytes]:
    """PNGs of several figures at once, drawn ``TABS`` at a time (a deck's chart images); images
    drawn before for the same figure and size come from memory."""
    if not figs:
        return []
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
    with tempfile.TemporaryDirectory(prefix="critac-render-") as folder:
        paths = [Path(folder) / f"{i:03d}.png" for i in todo]
        # Kaleido returns (does not raise) the errors of a batch: a missing file is the sign.
        batch = [figs[i] for i in todo]
        errors = _call(
            lambda: pio.write_images(batch, paths, width=width, height=height, scale=scale),
            IMAGE_TIMEOUT * len(batch),
        )
        missing = [i for i, path in zip(todo, paths, strict=True) if not path.exists()]
        if missing:
            raise RenderError(
                f"chart image {missing[0] + 1} of {len(figs)} was not drawn: {errors}"
            )
        return {i: path.read_bytes() for i, path in zip(todo, paths, strict=True)}


def warm_up() -> None:
    """Start the renderer on a background thread (a deck is often next); errors surface later,
    on the first real image, where they can be shown."""

    def start_quietly() -> None:
        with contextlib.suppress(Exception):  # reported by the call that needs an image
            start()

    if available():
        threading.Thread(target=start_quietly, name="critac-render-warm-up", daemon=True).start()


def stop() -> None:
    """Close the browser (tests; a process otherwise keeps it until exit)."""
    import kaleido

    with _LOCK:
        kaleido.stop_sync_server(silence_warnings=True)
        _state.update(browser=None, broken=None)
