"""Streamlit's own JavaScript and CSS, gzipped: an ASGI middleware for the app's server.

Streamlit serves its frontend (``/static/…``) uncompressed: a new viewer downloads about 7 MB of
JavaScript for the Overview, 4.7 MB of it the Plotly chunk, which is 1.4 MB gzipped. On a real
network that is most of a shared link's wait (docs/benchmarks.md). Those files have content
hashes in their names and never change while the server runs, so each is compressed once, off the
event loop, and served from memory from then on. The first request for a file is answered as
before (uncompressed) while its compressed copy is made, so no request waits for compression.

Only successful, complete GET responses of text assets under ``/static/`` are compressed, for a
client that accepts gzip and asks for neither a range nor a conditional response; everything else
(pages, the websocket, media, health checks) passes through untouched.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COMPRESSIBLE = ("application/javascript", "text/javascript", "text/css", "application/json",
                "image/svg+xml")  # fmt: skip
MINIMUM_BYTES = 1024  # below this, gzip's header costs more than it saves
LEVEL = 6  # the Plotly chunk: 4.7 MB -> 1.42 MB at 6, 1.41 MB at 9 in the same time
MAX_CACHED_BYTES = 32_000_000  # compressed bytes kept (Streamlit's whole frontend is ~8 MB gzipped)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _accepts_gzip(scope: Scope) -> bool:
    accepted = (_header(scope, b"accept-encoding") or b"").decode("latin-1").lower()
    for part in accepted.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def static_prefix() -> str:
    """Where Streamlit serves its frontend: ``/static/`` under the server's base URL path (not the
    app's own ``/app/static/`` files, which may change while the server runs)."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/static/" if base else "/static/"


def _wanted(scope: Scope, prefix: str) -> bool:
    return (
        scope["type"] == "http"
        and scope.get("method") == "GET"
        and scope.get("path", "").startswith(prefix)
        and _accepts_gzip(scope)
        and not any(_header(scope, h) for h in (b"range", b"if-none-match", b"if-modified-since"))
    )


def _compressible(start: Message) -> bool:
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
    return (
        start["status"] == 200
        and media_type in COMPRESSIBLE
        and b"content-encoding" not in headers
        and int(headers.get(b"content-length", b"0") or 0) >= MINIMUM_BYTES
    )


def _gzipped_headers(headers: list[tuple[bytes, bytes]], size: int) -> list[tuple[bytes, bytes]]:
    """The identity response's headers for its gzipped copy: its own length and entity tag, no
    byte ranges (they would count compressed bytes)."""
    out: list[tuple[bytes, bytes]] = []
    for key, value in headers:
        name = key.lower()
        if name in (b"content-length", b"accept-ranges", b"vary"):
            continue
        if name == b"etag":
            value = value[:-1] + b'-gzip"' if value.endswith(b'"') else value + b"-gzip"
        out.append((key, value))
    return [*out, (b"content-encoding", b"gzip"), (b"content-length", str(size).encode()),
            (b"vary", b"Accept-Encoding")]  # fmt: skip


class CompressedStatic:
    """Serve gzipped copies of ``/static/`` text assets, made once per file and process."""

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
        self.cache: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def cached_bytes(self) -> int:
        return sum(len(body) for _, body in self.cache.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.prefix is None:
            self.prefix = static_prefix()
        if not _wanted(scope, self.prefix):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        hit = self.cache.get(path)
        if hit is not None:
            headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, self._keeping(path, send))

    def _keeping(self, path: str, send: Send) -> Send:
        """``send``, passing the response on unchanged while keeping a copy of a compressible one;
        once it is complete, its gzipped copy is made in a worker thread."""
        kept: dict[str, Any] = {"start": None, "chunks": []}

        async def keeping_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if _compressible(message) and path not in self._pending:
                    kept["start"] = message
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"vary", b"Accept-Encoding")]}  # fmt: skip
            elif message["type"] == "http.response.body" and kept["start"] is not None:
                kept["chunks"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._compress_later(path, kept["start"], b"".join(kept["chunks"]))
                    kept["start"] = None
            await send(message)

        return keeping_send

    def _compress_later(self, path: str, start: Message, body: bytes) -> None:
        self._pending.add(path)
        loop = asyncio.get_running_loop()
        task = loop.run_in_executor(None, self._compress, path, list(start["headers"]), body)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _compress(self, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        try:
            compressed = gzip.compress(body, self.level, mtime=0)
            if self.cached_bytes + len(compressed) <= self.max_bytes:
                self.cache[path] = (_gzipped_headers(headers, len(compressed)), compressed)
        finally:
            self._pending.discard(path)
