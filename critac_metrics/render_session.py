"""One Kaleido browser (headless Chromium) on its own event loop thread, its tabs kept loaded.

Kaleido's own sync server (``kaleido.start_sync_server``) reloads a tab after every image so that
nothing of one figure can leak into the next. The reload parses and runs plotly.js again (with
the full 4.8 MB bundle: 0.1–0.3 s a tab, more than the image itself; a deck's 15 images: 3–4.5 s
with the reloads, 1.1–1.7 s without, on 2 cores). The tabs load the trimmed bundle the HTML
report inlines (``render.PLOTLY_JS``). Plotly.toImage draws into a detached element that it purges
itself, and the deck's images drawn without the reloads were byte-identical to those drawn with
them, so here a tab is reloaded only after a failed image (``reload_tabs``).

Imported by ``render.start()`` only: kaleido and choreographer load when a deck is built.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kaleido import Kaleido

_T = TypeVar("_T")
POLL = 0.1  # seconds between checks that the browser is still there while waiting


class Stopped(RuntimeError):
    """The browser process has exited."""


class _KeptTabs(Kaleido):  # type: ignore[misc]  # kaleido ships no types
    """Kaleido whose tabs go back to the queue as they are (plotly.js still loaded), and which is
    open as soon as its first tab has loaded plotly.js (~0.5 s); the other tabs load meanwhile
    and take images once they are ready (stock Kaleido loads its tabs one after the other and
    opens after the last)."""

    _more_tabs: asyncio.Future[Any] | None = None

    async def _return_kaleido_tab(self, tab: Any) -> None:
        await self.tabs_ready.put(tab)

    async def populate_targets(self) -> None:
        await super(Kaleido, self).populate_targets()  # the browser's own tab, not yet loaded
        existing = list(self.tabs.values())
        await self._conform_tabs(existing)
        if self._more_tabs is None:  # a tab that fails to load leaves fewer tabs, not an error
            more = (self._create_kaleido_tab() for _ in range(self._n - len(existing)))
            self._more_tabs = asyncio.gather(*more, return_exceptions=True)
            self._more_tabs.add_done_callback(_retrieved)

    async def reload_tabs(self) -> None:
        """A fresh page in every tab (after a failed image), once they are all back."""
        tabs = [await self.tabs_ready.get() for _ in range(self._total_tabs)]
        try:
            await asyncio.gather(*(tab.reload() for tab in tabs))
        finally:
            for tab in tabs:
                self.tabs_ready.put_nowait(tab)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a background future's outcome as seen (its tabs were closed with the browser)."""
    if not future.cancelled():
        future.exception()


async def _cancel_the_rest() -> None:
    """Cancel every other task on this loop (Kaleido's watchdog, a batch cut short) and wait."""
    rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class Session:
    """A started browser with ``tabs`` tabs; ``pngs`` draws figures on them, ``close`` ends it."""

    def __init__(self, path: str, tabs: int, timeout: float, plotly_js: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="critac-render", daemon=True
        )
        self._thread.start()
        self._browser: Any = None
        self._timeout = timeout
        try:
            self._browser = self.run(self._open(path, tabs, plotly_js), timeout)
        except BaseException:
            self.close()
            raise

    async def _open(self, path: str, tabs: int, plotly_js: Path) -> Any:
        browser = _KeptTabs(
            n=tabs, mathjax=False, path=path, timeout=self._timeout, plotlyjs=str(plotly_js)
        )
        self._browser = browser  # so that a browser dying while it opens is noticed
        await browser.open()
        return browser

    def alive(self) -> bool:
        process = getattr(self._browser, "subprocess", None)
        return self._thread.is_alive() and (process is None or process.poll() is None)

    def run(self, work: Coroutine[Any, Any, _T], timeout: float) -> _T:
        """Run ``work`` on the browser's loop; Stopped if the browser exits, TimeoutError after
        ``timeout`` seconds (the work is cancelled in both cases)."""
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        deadline = time.monotonic() + timeout
        while not concurrent.futures.wait([future], timeout=POLL).done:
            if not self.alive() or time.monotonic() > deadline:
                future.cancel()
                if not self.alive():
                    raise Stopped("the browser closed")
                raise TimeoutError(f"took longer than {timeout:.0f} s")
        return future.result()

    def pngs(
        self, figs: Sequence[Any], width: int, height: int, scale: float
    ) -> list[bytes | BaseException]:
        """Each figure's PNG, or the error that stopped it; the tabs share the work."""
        opts = {"format": "png", "width": width, "height": height, "scale": scale}

        async def draw() -> list[bytes | BaseException]:
            return await asyncio.gather(
                *(self._browser.calc_fig(fig, opts=opts) for fig in figs), return_exceptions=True
            )

        drawn = self.run(draw(), self._timeout * max(1, len(figs)))
        if any(isinstance(image, BaseException) for image in drawn):
            self.run(self._browser.reload_tabs(), self._timeout)
        return drawn

    def close(self) -> None:
        """Close the browser and end the loop's thread (errors ignored: it may be gone already)."""
        if self._browser is not None and self.alive():
            closing = asyncio.run_coroutine_threadsafe(self._browser.close(), self._loop)
            with contextlib.suppress(Exception):  # not run(): the browser exiting is the point
                closing.result(timeout=10)
        if self._thread.is_alive():
            ending = asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop)
            with contextlib.suppress(Exception):
                ending.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
