"""Streamlit's own JavaScript and CSS, gzipped: an ASGI middleware for the app's server.

Streamlit serves its frontend (``/static/…``) uncompressed: a new viewer downloads about 8 MB for
the Overview, 4.7 MB of it the Plotly chunk, which is 1.4 MB gzipped. On a real network that is
most of a shared link's wait (docs/benchmarks.md). Those files have content hashes in their names
and never change while the server runs, so each is compressed once, off the event loop, and served
from memory from then on. The first request for a file is answered as before (uncompressed) while
its compressed copy is made, so no request waits for compression.

Only successful, complete GET responses of text assets at ``/static/{js,css,media}/NAME`` (one
spelling per file, so the cache holds at most one copy of each) are compressed, for a client that
accepts gzip and asks for no byte range; everything else (pages, the websocket, media, health
checks, the app's own ``/app/static/`` files) passes through untouched. All cache bookkeeping runs
on the event loop; only ``gzip.compress`` runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
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


def _header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's value; repeated headers joined with commas (RFC 9110 5.3)."""
    values = [bytes(v) for k, v in scope.get("headers", []) if k.lower() == name]
    return b", ".join(values) if values else None


def _accepts_gzip(scope: Scope) -> bool:
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


def _with_vary(message: Message) -> Message:
    return {**message, "headers": [*message.get("headers", []), (b"vary", b"Accept-Encoding")]}


class CompressedStatic:
    """Serve gzipped copies of Streamlit's ``/static/`` text assets, made once per file and
    process."""

    def __init__(
        self,
        app: ASGIApp,
        level: int = LEVEL,
        max_bytes: int = MAX_CACHED_BYTES,
        prefix: str | None = None,
    ):
        self.app = app
        self.prefix = prefix  # None: static_prefix(), read at the first request
        self.level = level
        self.max_bytes = max_bytes
        self.cache: dict[str, tuple[Headers, bytes]] = {}  # path -> gzipped headers and body
        self.cached_bytes = 0
        self.compressions = 0  # gzip.compress calls started (each file once, at most)
        self._claimed: set[str] = set()  # being kept or compressed, or refused: not again
        self._tasks: set[asyncio.Future[bytes]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.prefix is None:
            self.prefix = static_prefix()
        path = None
        if scope["type"] == "http" and scope.get("method") == "GET" and _accepts_gzip(scope):
            path = _asset_path(scope, self.prefix)
        if path is None or _header(scope, b"range"):
            await self.app(scope, receive, send)
            return
        hit = self.cache.get(path)
        if hit is not None:
            await self._send_hit(scope, send, *hit)
            return
        if path in self._claimed or _header(scope, b"if-none-match"):
            await self.app(scope, receive, send)
            return
        self._claimed.add(path)  # this response is the one kept: no other copy meanwhile
        compressing = False
        try:
            compressing = await self._keep(path, scope, receive, send)
        finally:
            if not compressing:
                self._claimed.discard(path)  # not compressible here, failed or cut short

    async def _send_hit(self, scope: Scope, send: Send, headers: Headers, body: bytes) -> None:
        tag = next((v for k, v in headers if k == b"etag"), None)
        asked = _header(scope, b"if-none-match")
        if tag is not None and asked is not None and tag in asked.split(b", "):
            kept = [(k, v) for k, v in headers if k in (b"etag", b"cache-control", b"vary")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _keep(self, path: str, scope: Scope, receive: Receive, send: Send) -> bool:
        """Pass the response on unchanged while keeping a copy of a compressible one; once it is
        complete, start its gzipped copy. True when the copy was started."""
        kept: dict[str, Any] = {"start": None, "chunks": [], "started": False}

        async def keeping_send(message: Message) -> None:
            if message["type"] == "http.response.start" and _compressible(message):
                kept["start"] = message
                message = _with_vary(message)
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

    def _compress_later(self, path: str, headers: Headers, body: bytes) -> None:
        self.compressions += 1
        loop = asyncio.get_running_loop()
        task = loop.run_in_executor(
            None, functools.partial(gzip.compress, body, self.level, mtime=0)
        )
        self._tasks.add(task)
        # The callback runs on the event loop: the cache is only ever changed there.
        task.add_done_callback(lambda done: self._store(path, list(headers), done))

    def _store(self, path: str, headers: Headers, done: asyncio.Future[bytes]) -> None:
        self._tasks.discard(done)
        if done.cancelled() or done.exception() is not None:
            log.warning(
                "could not gzip %s: %r", path, None if done.cancelled() else done.exception()
            )
            self._claimed.discard(path)  # tried again on a later request
            return
        compressed = done.result()
        if self.cached_bytes + len(compressed) > self.max_bytes:
            return  # stays claimed: served uncompressed from now on, never compressed again
        self.cache[path] = (_gzipped_headers(headers, len(compressed)), compressed)
        self.cached_bytes += len(compressed)
