"""Streamlit's own JavaScript and CSS, gzipped: an ASGI middleware for the app's server.

Streamlit serves its frontend (``/static/…``) uncompressed: a new viewer downloads about 8 MB for
the Overview, 4.7 MB of it the Plotly chunk, which is 1.4 MB gzipped. On a real network that is
most of a shared link's wait (docs/benchmarks.md). Those files have content hashes in their names
and never change while the server runs, so each is compressed once, off the event loop, and served
from memory from then on. A request for a file whose copy is not ready is answered as before
(uncompressed), so no request waits for compression. A revalidation of the uncompressed copy is
left to Streamlit, which answers it as before. While the server starts, every
shipped JavaScript and CSS file is also compressed in the background (largest first, one at a
time, in a low-priority thread, beside the app's own start-up), so the first viewers after a
restart get gzipped files too instead of the whole 8–10 MB.

Only successful, complete GET responses of text assets at ``/static/{js,css,media}/NAME`` (one
spelling per file, so the cache holds at most one copy of each) are compressed, for a client that
accepts gzip and asks for no byte range; everything else (pages, the websocket, media, health
checks, the app's own ``/app/static/`` files) passes through untouched, and every answer for an
asset says ``Vary: Accept-Encoding``. All cache bookkeeping runs on the event loop; only reading a
file and ``gzip.compress`` run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

log = logging.getLogger(__name__)

COMPRESSIBLE = ("application/javascript", "text/javascript", "text/css", "application/json",
                "image/svg+xml")  # fmt: skip
MINIMUM_BYTES = 1024  # below this, gzip's header costs more than it saves
LEVEL = 6  # the Plotly chunk: 4.7 MB -> 1.42 MB at 6, 1.41 MB at 9 in the same time
MAX_CACHED_BYTES = 32_000_000  # compressed bytes kept (Streamlit's whole frontend is ~8 MB gzipped)
ASSET = re.compile(r"(?:js|css|media)/[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # no "." or ".." segment


def static_prefix() -> str:
    """Where Streamlit serves its frontend: ``/static/`` under the server's base URL path (not the
    app's own ``/app/static/`` files, which may change while the server runs)."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/static/" if base else "/static/"


def shipped_assets(prefix: str) -> list[tuple[str, Path]]:
    """Streamlit's own JavaScript and CSS files worth compressing, largest first (the Plotly chunk,
    then Streamlit's main bundle, ...): the URL path each is served at, and the file."""
    import streamlit.file_util

    root = Path(streamlit.file_util.get_static_dir()) / "static"
    files = [
        (path.stat().st_size, f"{prefix}{folder}/{path.name}", path)
        for folder, suffix in (("js", ".js"), ("css", ".css"))
        for path in (root / folder).glob(f"*{suffix}")
        if path.is_file() and ASSET.fullmatch(f"{folder}/{path.name}")
    ]
    files.sort(key=lambda file: file[0], reverse=True)
    return [(url, path) for size, url, path in files if size >= MINIMUM_BYTES]


def _gzip_file(path: Path, size: int, level: int) -> bytes:
    """``path`` gzipped, if it still has the ``size`` the server announced for it."""
    body = path.read_bytes()
    if len(body) != size:
        raise ValueError(f"{path.name} is {len(body)} bytes; the server serves {size}")
    return gzip.compress(body, level, mtime=0)


def _lower_priority() -> None:
    """Run this thread at the lowest priority, so that compressing ahead never slows a viewer's
    page (on Linux a thread has a priority of its own; elsewhere the process's is left alone)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's value; repeated headers joined with commas (RFC 9110 5.3)."""
    values = [bytes(v) for k, v in scope.get("headers", []) if k.lower() == name]
    return b", ".join(values) if values else None


def _tags(if_none_match: bytes) -> set[bytes]:
    """The entity tags an ``If-None-Match`` names, compared weakly (RFC 9110 13.1.2: ``W/`` off)."""
    return {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",") if tag.strip()}


def accepts_gzip(scope: Scope) -> bool:
    accepted = (_header(scope, b"accept-encoding") or b"").decode("latin-1").lower()
    codings: dict[str, float] = {}
    for part in accepted.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding:
            codings[coding] = quality
    return codings.get("gzip", codings.get("*", 0.0)) > 0


def _asset_path(scope: Scope, prefix: str) -> str | None:
    """The asset's one canonical path (``prefix`` + js|css|media/NAME), or None for any other
    request, other spelling (``./``, ``//``) included. A root path (``uvicorn --root-path``, a
    mount) is left out first, as Streamlit's own routes do."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "")).rstrip("/")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    if not path.startswith(prefix) or not ASSET.fullmatch(path[len(prefix) :]):
        return None
    return path


def _compressible(start: Message) -> bool:
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
    return (
        start["status"] == 200
        and media_type in COMPRESSIBLE
        and b"content-encoding" not in headers
        and int(headers.get(b"content-length", b"0") or 0) >= MINIMUM_BYTES
    )


def _gzipped_headers(headers: Headers, size: int) -> Headers:
    """The identity response's headers for its gzipped copy: its own length and entity tag, no
    byte ranges (they would count compressed bytes)."""
    out: Headers = []
    for key, value in headers:
        name = key.lower()
        if name in (b"content-length", b"accept-ranges", b"vary"):
            continue
        if name == b"etag":
            value = value[:-1] + b'-gzip"' if value.endswith(b'"') else value + b"-gzip"
        out.append((key, value))
    return [*out, (b"content-encoding", b"gzip"), (b"content-length", str(size).encode()),
            (b"vary", b"Accept-Encoding")]  # fmt: skip


def _varying(send: Send) -> Send:
    """``send`` with ``Vary: Accept-Encoding`` on the response: an asset's answer may be gzipped or
    not, so a shared cache must keep the two apart (its headers say ``immutable``)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"vary" for k, _ in headers):
                message = {**message, "headers": [*headers, (b"vary", b"Accept-Encoding")]}
        await send(message)

    return sending


class CompressedStatic:
    """Serve gzipped copies of Streamlit's ``/static/`` text assets, made once per file and
    process."""

    def __init__(
        self,
        app: ASGIApp,
        level: int = LEVEL,
        max_bytes: int = MAX_CACHED_BYTES,
        prefix: str | None = None,
        ahead: Callable[[str], list[tuple[str, Path]]] | None = shipped_assets,
    ):
        self.app = app
        self.prefix = prefix  # None: static_prefix(), read at the first request
        self.level = level
        self.max_bytes = max_bytes
        self.ahead = ahead  # the files compressed as the server starts (None: none)
        self.cache: dict[str, tuple[Headers, bytes]] = {}  # path -> gzipped headers and body
        self.cached_bytes = 0
        # Compressions started: one per file, or two for a file tried again after a failure.
        self.compressions = 0
        self._claimed: set[str] = set()  # being kept or compressed, or refused: not again
        self._tasks: set[asyncio.Future[bytes]] = set()
        self.ahead_task: asyncio.Task[None] | None = None  # compressing ahead (done or not)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.prefix is None:
            self.prefix = static_prefix()
        if scope["type"] == "lifespan":
            lifespan_receive = self._start_ahead_on_startup(scope, receive)
            await self.app(scope, lifespan_receive, self._cancel_ahead_on_shutdown(send))
            return
        path = _asset_path(scope, self.prefix) if scope["type"] == "http" else None
        if path is None:
            await self.app(scope, receive, send)
            return
        send = _varying(send)
        if scope.get("method") != "GET" or not accepts_gzip(scope) or _header(scope, b"range"):
            await self.app(scope, receive, send)
            return
        hit = self.cache.get(path)
        if hit is not None and await self._send_hit(scope, send, *hit):
            return
        conditional = _header(scope, b"if-none-match") or _header(scope, b"if-modified-since")
        if hit is not None or path in self._claimed or conditional:
            await self.app(scope, receive, send)
            return
        self._claimed.add(path)  # this response is the one kept: no other copy meanwhile
        compressing = False
        try:
            compressing = await self._keep(path, scope, receive, send)
        finally:
            if not compressing:
                self._claimed.discard(path)  # not compressible here, failed or cut short

    async def _send_hit(self, scope: Scope, send: Send, headers: Headers, body: bytes) -> bool:
        """Answer from memory: 304 to a revalidation of the gzipped copy, the copy itself to a plain
        request. False, nothing sent, for a conditional request about another copy (the
        uncompressed one, which Streamlit revalidates itself)."""
        if_none_match = _header(scope, b"if-none-match")
        if if_none_match is not None:
            tag = next((v for k, v in headers if k == b"etag"), b"").removeprefix(b"W/")
            asked = _tags(if_none_match)
            if not tag or not (tag in asked or b"*" in asked):
                return False
            kept = [(k, v) for k, v in headers if k in (b"etag", b"cache-control", b"vary")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return True
        if _header(scope, b"if-modified-since") is not None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _keep(self, path: str, scope: Scope, receive: Receive, send: Send) -> bool:
        """Pass the response on unchanged while keeping a copy of a compressible one; once it is
        complete, start its gzipped copy. True when the copy was started."""
        kept: dict[str, Any] = {"start": None, "chunks": [], "started": False}

        async def keeping_send(message: Message) -> None:
            if message["type"] == "http.response.start" and _compressible(message):
                kept["start"] = message
            elif message["type"] == "http.response.body" and kept["start"] is not None:
                kept["chunks"].append(message.get("body", b""))
            await send(message)
            if (
                message["type"] == "http.response.body"
                and kept["start"] is not None
                and not message.get("more_body", False)
            ):
                self._compress_later(path, kept["start"]["headers"], b"".join(kept["chunks"]))
                kept["start"], kept["started"] = None, True

        await self.app(scope, receive, keeping_send)
        return bool(kept["started"])

    def _compress_later(
        self, path: str, headers: Headers, body: bytes | Path, executor: Executor | None = None
    ) -> asyncio.Future[bytes]:
        """Start gzipping ``body`` (the response's bytes, or the file it was read from) in a worker
        thread; its copy is kept once done."""
        self.compressions += 1
        loop = asyncio.get_running_loop()
        if isinstance(body, Path):
            size = int({k.lower(): v for k, v in headers}.get(b"content-length", b"-1"))
            work = functools.partial(_gzip_file, body, size, self.level)
        else:
            work = functools.partial(gzip.compress, body, self.level, mtime=0)
        task = loop.run_in_executor(executor, work)
        self._tasks.add(task)
        # The callback runs on the event loop: the cache is only ever changed there.
        task.add_done_callback(lambda done: self._store(path, list(headers), done))
        return task

    def _start_ahead_on_startup(self, lifespan: Scope, receive: Receive) -> Receive:
        """``receive`` for the server's lifespan: as the server starts, compress ahead, alongside
        the app's own start-up (``dashboard.startup.warm``, one core of Python), so that the files
        are ready when the first viewer arrives."""

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and self.ahead is not None:
                self.ahead_task = asyncio.get_running_loop().create_task(self._ahead(lifespan))
            return message

        return receiving

    def _cancel_ahead_on_shutdown(self, send: Send) -> Send:
        """``send`` for the server's lifespan: compressing ahead stops at shutdown (a file being
        compressed at that moment is finished first: its thread can't be interrupted)."""

        async def sending(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown") and self.ahead_task is not None:
                self.ahead_task.cancel()
            await send(message)

        return sending

    async def _ahead(self, lifespan: Scope) -> None:
        """Keep a gzipped copy of each of ``ahead``'s files, one at a time in a low-priority
        thread: the headers from a HEAD request to the app (what a viewer's GET would get), the
        bytes read from the file itself. A file a viewer asked for meanwhile is left to that
        request."""
        assert self.ahead is not None and self.prefix is not None
        pool = ThreadPoolExecutor(1, "critac-gzip-ahead", initializer=_lower_priority)
        try:
            for path, file in self.ahead(self.prefix):
                if self.cached_bytes >= self.max_bytes:
                    break  # the rest are compressed on request, as long as memory allows
                if path in self._claimed or path in self.cache:
                    continue
                self._claimed.add(path)
                headers = None
                try:
                    headers = await self._head(path, lifespan)
                except Exception as exc:  # noqa: BLE001 - this file is left to its requests
                    log.warning("could not ask for %s to gzip it: %r", path, exc)
                finally:
                    if headers is None:  # not worth keeping, or failed: left to a viewer's request
                        self._claimed.discard(path)
                if headers is None:
                    continue
                # A failure is logged by _store, and the next file goes on.
                with contextlib.suppress(Exception):
                    await self._compress_later(path, headers, file, executor=pool)
        except Exception:  # never take the server down: the files stay compressed on request
            log.exception("compressing Streamlit's files ahead stopped")
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def _head(self, path: str, lifespan: Scope) -> Headers | None:
        """The headers of the app's answer to a HEAD request for ``path``, when a GET's body
        would be worth keeping gzipped."""
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "HEAD",
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": b"", "headers": [(b"host", b"localhost")], "client": None,
            "server": None,
            **({"app": lifespan["app"]} if "app" in lifespan else {}),
            "state": dict(lifespan.get("state") or {}),  # a request's own copy, as a server's
        }  # fmt: skip
        sent: list[Message] = []
        requested, finished = False, asyncio.Event()

        async def receive() -> Message:
            # The request once; then, as a real client, nothing until the response is over (a
            # response may listen for a disconnect meanwhile).
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished.set()

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        start = sent[0] if sent else {}
        if start.get("type") != "http.response.start" or not _compressible(start):
            return None
        return list(start["headers"])

    def _store(self, path: str, headers: Headers, done: asyncio.Future[bytes]) -> None:
        self._tasks.discard(done)
        if done.cancelled() or done.exception() is not None:
            if not done.cancelled():  # cancelled: the server is stopping
                log.warning("could not gzip %s: %r", path, done.exception())
            self._claimed.discard(path)  # tried again on a later request
            return
        compressed = done.result()
        if self.cached_bytes + len(compressed) > self.max_bytes:
            return  # stays claimed: served uncompressed from now on, never compressed again
        self.cache[path] = (_gzipped_headers(headers, len(compressed)), compressed)
        self.cached_bytes += len(compressed)
