"""Streamlit's frontend files gzipped by the app's middleware (dashboard/compression.py): each text
asset under /static/ compressed once and served from memory, everything else untouched."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import streamlit
from streamlit import config

from dashboard.compression import CompressedStatic, static_prefix
from tests.browser_support import running_app

BODY = b"function plotly(){return 42}\n" * 400  # 11.6 kB of JavaScript
JS_HEADERS = [
    (b"content-type", b"application/javascript"),
    (b"content-length", str(len(BODY)).encode()),
    (b"etag", b'"abc123"'),
    (b"accept-ranges", b"bytes"),
    (b"cache-control", b"public, immutable, max-age=31536000"),
]


class FileApp:
    """An ASGI app that answers every request with ``body`` in two chunks and counts its calls."""

    def __init__(self, headers=JS_HEADERS, body: bytes = BODY, status: int = 200):
        self.headers, self.body, self.status, self.calls = headers, body, status, 0

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        half = len(self.body) // 2
        await send({"type": "http.response.body", "body": self.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": self.body[half:]})


def run(coroutine):
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def scope(path: str = "/static/js/PlotlyChart.abc.js", method: str = "GET", **headers: str):
    encoded = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "path": path, "headers": encoded}


async def request(app, s) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(s, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body


async def twice(app, s):
    """The same request twice, the compression of the first done in between."""
    first = await request(app, s)
    await asyncio.gather(*list(app._tasks))
    return first, await request(app, s)


def middleware(inner=None, **kwargs) -> CompressedStatic:
    return CompressedStatic(inner or FileApp(), prefix="/static/", **kwargs)


def test_first_request_is_answered_as_before_then_gzipped_from_memory():
    inner = FileApp()
    app = middleware(inner)
    (status1, headers1, body1), (status2, headers2, body2) = run(
        twice(app, scope(accept_encoding="gzip, deflate, br"))
    )
    assert (status1, body1) == (200, BODY)
    assert b"content-encoding" not in headers1
    assert headers1[b"vary"] == b"Accept-Encoding"
    assert status2 == 200
    assert headers2[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body2) == BODY
    assert int(headers2[b"content-length"]) == len(body2) < len(BODY) / 10
    assert headers2[b"etag"] == b'"abc123-gzip"'  # not the identity response's tag
    assert b"accept-ranges" not in headers2
    assert headers2[b"cache-control"] == b"public, immutable, max-age=31536000"
    assert headers2[b"content-type"] == b"application/javascript"
    assert inner.calls == 1  # the second came from memory


@pytest.mark.parametrize(
    "request_scope",
    [
        scope(),  # no Accept-Encoding
        scope(accept_encoding="br"),
        scope(accept_encoding="gzip;q=0, br"),
        scope(accept_encoding="gzip;q=0.00, br"),
        scope(accept_encoding="gzip;q=0, *"),
        scope(accept_encoding="gzip", range="bytes=0-99"),
        scope(accept_encoding="gzip", if_none_match='"abc123"'),
        scope(method="HEAD", accept_encoding="gzip"),
        scope(path="/app/static/report.js", accept_encoding="gzip"),  # the app's own files
        # Other spellings of a file: one cached copy per file, whatever the requests say.
        scope(path="/static/./js/PlotlyChart.abc.js", accept_encoding="gzip"),
        scope(path="/static//js/PlotlyChart.abc.js", accept_encoding="gzip"),
        scope(path="/static/js/../js/PlotlyChart.abc.js", accept_encoding="gzip"),
        scope(path="/static/js/sub/PlotlyChart.abc.js", accept_encoding="gzip"),
        scope(path="/", accept_encoding="gzip"),
        scope(path="/_stcore/health", accept_encoding="gzip"),
    ],
)
def test_other_requests_pass_through_untouched(request_scope):
    inner = FileApp()
    app = middleware(inner)
    (_, headers1, body1), (_, headers2, body2) = run(twice(app, request_scope))
    assert body1 == body2 == BODY
    assert b"content-encoding" not in headers1 and b"content-encoding" not in headers2
    assert inner.calls == 2 and app.cache == {} and app.compressions == 0


@pytest.mark.parametrize(
    "inner",
    [
        FileApp(headers=[(b"content-type", b"font/woff2"), *JS_HEADERS[1:]]),  # compressed already
        FileApp(headers=[(b"content-type", b"image/png"), *JS_HEADERS[1:]]),
        FileApp(status=404),
        FileApp(headers=[*JS_HEADERS, (b"content-encoding", b"br")]),
        FileApp(
            headers=[JS_HEADERS[0], (b"content-length", b"100")], body=b"x" * 100
        ),  # too small to gain
    ],
)
def test_responses_not_worth_or_not_safe_to_compress_are_not_kept(inner):
    app = middleware(inner)
    (_, _, body1), (_, headers2, body2) = run(twice(app, scope(accept_encoding="gzip")))
    assert body1 == body2 == inner.body
    assert b"content-encoding" not in headers2 or headers2[b"content-encoding"] == b"br"
    assert app.cache == {}


def test_a_revalidation_of_the_gzipped_copy_is_answered_not_modified():
    inner = FileApp()
    app = middleware(inner)

    async def steps():
        await twice(app, scope(accept_encoding="gzip"))
        return [
            await request(app, scope(accept_encoding="gzip", if_none_match=tags))
            for tags in ('"abc123-gzip"', 'W/"abc123-gzip"', '"x",W/"abc123-gzip" ', "*")
        ]

    for status, headers, body in run(steps()):
        assert (status, body) == (304, b"")
        assert headers[b"etag"] == b'"abc123-gzip"' and headers[b"vary"] == b"Accept-Encoding"
    assert inner.calls == 1  # all from memory


@pytest.mark.parametrize(
    "conditions",
    [
        {"if_none_match": '"abc123"'},  # the uncompressed copy, which the client holds
        {"if_none_match": '"old"'},
        {"if_modified_since": "Thu, 03 Dec 2026 10:00:00 GMT"},
    ],
)
def test_a_revalidation_of_another_copy_is_left_to_streamlit(conditions):
    """Streamlit answers for its own copy (304 when it is current), as before the gzipped copy
    existed: a client holding the uncompressed file is not sent the whole file again."""
    inner = FileApp()
    app = middleware(inner)

    async def steps():
        await twice(app, scope(accept_encoding="gzip"))
        return await request(app, scope(accept_encoding="gzip", **conditions))

    _, headers, body = run(steps())
    assert inner.calls == 2  # the second request reached Streamlit
    assert body == BODY and b"content-encoding" not in headers  # what FileApp answers
    assert headers[b"vary"] == b"Accept-Encoding"


@pytest.mark.parametrize(
    "request_scope",
    [
        scope(),  # no Accept-Encoding
        scope(accept_encoding="gzip", range="bytes=0-99"),
        scope(method="HEAD", accept_encoding="gzip"),
        scope(accept_encoding="gzip", if_none_match='"abc123"'),
    ],
)
def test_every_answer_for_an_asset_varies_by_accept_encoding(request_scope):
    """A shared cache must keep an asset's gzipped and plain answers apart (they say immutable)."""
    _, headers, _ = run(request(middleware(), request_scope))
    assert headers[b"vary"] == b"Accept-Encoding"
    _, headers, _ = run(request(middleware(), scope(path="/app/static/report.js")))
    assert b"vary" not in headers


def test_first_requests_at_once_compress_the_file_once():
    inner = FileApp()
    app = middleware(inner)

    async def burst():
        first = await asyncio.gather(
            *(request(app, scope(accept_encoding="gzip")) for _ in range(10))
        )
        await asyncio.gather(*list(app._tasks))
        return first, await request(app, scope(accept_encoding="gzip"))

    first, (_, headers, body) = run(burst())
    assert all(b == BODY for _, _, b in first)
    assert app.compressions == 1
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(body) == BODY


def test_a_root_path_and_repeated_accept_encoding_headers():
    app = middleware()
    s = scope(path="/impact/static/js/PlotlyChart.abc.js")
    s["root_path"] = "/impact"
    s["headers"] = [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")]
    _, (_, headers, body) = run(twice(app, s))
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(body) == BODY


def test_a_response_cut_short_is_not_kept_and_the_next_one_is():
    class Failing(FileApp):
        async def __call__(self, scope, receive, send):
            self.calls += 1
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            await send({"type": "http.response.body", "body": BODY[:100], "more_body": True})
            raise ConnectionResetError("client went away")

    failing = Failing()
    app = middleware(failing)
    with pytest.raises(ConnectionResetError):
        run(request(app, scope(accept_encoding="gzip")))
    assert app.cache == {} and app.compressions == 0
    app.app = FileApp()
    _, (_, headers, body) = run(twice(app, scope(accept_encoding="gzip")))
    assert gzip.decompress(body) == BODY and app.compressions == 1


def test_the_websocket_and_lifespan_pass_through():
    seen: list[str] = []

    async def inner(s, receive, send):
        seen.append(s["type"])

    app = middleware(inner)
    for kind in ("websocket", "lifespan"):
        run(app({"type": kind, "path": "/static/x.js", "headers": []}, None, None))
    assert seen == ["websocket", "lifespan"]


def test_memory_is_bounded():
    app = middleware(max_bytes=len(gzip.compress(BODY, 6, mtime=0)) + 10)

    async def three_files():
        for name in ("a", "b", "c"):
            await twice(app, scope(path=f"/static/js/{name}.js", accept_encoding="gzip"))

    run(three_files())
    assert list(app.cache) == ["/static/js/a.js"]
    assert app.cached_bytes <= app.max_bytes
    # A file over the budget is compressed once, then served as it is: never compressed again.
    assert app.compressions == 3
    run(twice(app, scope(path="/static/js/b.js", accept_encoding="gzip")))
    assert app.compressions == 3


class StartingApp(FileApp):
    """``FileApp`` that also runs the server's lifespan, and answers HEAD without a body."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await asyncio.sleep(0.05)  # the app's own start-up
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": b""})


class Sent(list):
    async def append_async(self, message) -> None:
        self.append(message)


async def started(app, then, after_shutdown=None):
    """``then()`` once ``app`` has started as a server starts it, then the shutdown, then
    ``after_shutdown()`` (still in the server's event loop)."""
    events: asyncio.Queue = asyncio.Queue()
    sent = Sent()
    await events.put({"type": "lifespan.startup"})
    server = asyncio.create_task(app({"type": "lifespan"}, events.get, sent.append_async))
    while not sent:
        await asyncio.sleep(0.01)
    result = await then()
    await events.put({"type": "lifespan.shutdown"})
    await server
    if after_shutdown is not None:
        await asyncio.sleep(0.05)
        return result, after_shutdown()
    return result


def test_the_shipped_files_are_gzipped_as_the_server_starts(tmp_path):
    """Each file of ``ahead`` is kept gzipped from the server's start: the first viewer's first
    request is answered from memory. A file that is not what the server serves is left to the
    requests."""
    (tmp_path / "a.js").write_bytes(BODY)
    (tmp_path / "changed.js").write_bytes(BODY + b"//")  # not the length the server announces
    inner = StartingApp()
    app = middleware(inner, ahead=lambda prefix: [(f"{prefix}js/{name}", tmp_path / name)
                                                  for name in ("a.js", "changed.js")])  # fmt: skip

    async def first_requests():
        await app.ahead_task
        answers = [
            await request(app, scope(path=f"/static/js/{name}", accept_encoding="gzip"))
            for name in ("a.js", "changed.js")
        ]
        await asyncio.gather(*list(app._tasks))
        return answers

    (status, headers, body), (_, changed_headers, changed_body) = run(started(app, first_requests))
    assert status == 200 and headers[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body) == BODY
    assert headers[b"etag"] == b'"abc123-gzip"'
    assert b"content-encoding" not in changed_headers and changed_body == BODY  # as before
    assert inner.calls == 3  # a HEAD for each file; only the changed file's GET reached the app
    assert list(app.cache) == ["/static/js/a.js", "/static/js/changed.js"]  # from its request


def test_nothing_is_compressed_ahead_unless_asked():
    inner = StartingApp()
    app = middleware(inner, ahead=None)
    run(started(app, lambda: asyncio.sleep(0)))
    assert app.ahead_task is None and app.compressions == 0 and inner.calls == 0


class HeadFails(StartingApp):
    """A HEAD for a.js raises and one for b.js is not found; c.js is served."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            if scope["path"].endswith("a.js"):
                raise RuntimeError("no such route")
            if scope["path"].endswith("b.js"):
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await super().__call__(scope, receive, send)


def ahead_of(tmp_path, *names: str):
    for name in names:
        (tmp_path / name).write_bytes(BODY)
    return lambda prefix: [(f"{prefix}js/{name}", tmp_path / name) for name in names]


def test_a_file_that_fails_at_start_is_left_to_its_requests_and_the_rest_go_on(tmp_path):
    app = middleware(HeadFails(), ahead=ahead_of(tmp_path, "a.js", "b.js", "c.js"))

    async def wait():
        await app.ahead_task

    run(started(app, wait))
    assert list(app.cache) == ["/static/js/c.js"]
    assert app._claimed == {"/static/js/c.js"}  # a.js and b.js: compressed on request instead


def test_memory_is_bounded_ahead_too(tmp_path):
    one = len(gzip.compress(BODY, 6, mtime=0))
    app = middleware(StartingApp(), ahead=ahead_of(tmp_path, "a.js", "b.js"), max_bytes=one)

    async def wait():
        await app.ahead_task

    run(started(app, wait))
    assert list(app.cache) == ["/static/js/a.js"] and app.compressions == 1  # then it stopped
    assert "/static/js/b.js" not in app._claimed  # still compressed on request, memory allowing


class HeadWaits(StartingApp):
    """A HEAD is answered once ``go`` is set."""

    def __init__(self):
        super().__init__()
        self.go = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            await self.go.wait()
        await super().__call__(scope, receive, send)


def test_a_viewer_asking_while_a_file_is_compressed_ahead_gets_it_as_before(tmp_path):
    inner = HeadWaits()
    app = middleware(inner, ahead=ahead_of(tmp_path, "a.js"))
    get = scope(path="/static/js/a.js", accept_encoding="gzip")

    async def meanwhile():
        await asyncio.sleep(0.05)
        during = await request(app, get)
        inner.go.set()
        await app.ahead_task
        return during, await request(app, get)

    (_, during_headers, during_body), (_, headers, body) = run(started(app, meanwhile))
    assert during_body == BODY and b"content-encoding" not in during_headers
    assert during_headers[b"vary"] == b"Accept-Encoding"
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(body) == BODY
    assert app.compressions == 1  # the viewer's request did not compress it a second time


def test_shutdown_stops_compressing_ahead(tmp_path):
    inner = HeadWaits()  # never answers: the server stops meanwhile
    app = middleware(inner, ahead=ahead_of(tmp_path, "a.js", "b.js"))

    async def stop_soon():
        await asyncio.sleep(0.05)

    def state():
        return app.ahead_task.cancelled(), set(app._claimed), dict(app.cache), set(app._tasks)

    _, (cancelled, claimed, cache, tasks) = run(started(app, stop_soon, state))
    assert cancelled  # by the shutdown, not by the loop's end
    assert claimed == set() and cache == {} and tasks == set()


def test_the_prefix_follows_the_base_url_path():
    old = config.get_option("server.baseUrlPath")
    try:
        config.set_option("server.baseUrlPath", "")
        assert static_prefix() == "/static/"
        config.set_option("server.baseUrlPath", "/impact/")
        assert static_prefix() == "/impact/static/"
    finally:
        config.set_option("server.baseUrlPath", old)


def test_the_app_server_serves_the_plotly_chunk_gzipped_from_the_first_request(demo_db, tmp_path):
    """The real server (``streamlit run app.py``): the Plotly chunk, 4.7 MB, is gzipped while the
    server starts, so even the first request for it gets the gzipped copy, which unpacks to the
    very file Streamlit ships."""
    chunks = Path(streamlit.__file__).parent / "static" / "static" / "js"
    plotly_chunk = next(chunks.glob("PlotlyChart.*.js"))
    with running_app(demo_db, tmp_path, tmp_path / "streamlit.log") as (_, url):

        def fetch(**headers: str) -> tuple[dict[str, str], bytes]:
            wanted = urllib.request.Request(
                f"{url}/static/js/{plotly_chunk.name}",
                headers={"Accept-Encoding": "gzip", **headers},
            )
            with urllib.request.urlopen(wanted, timeout=30) as response:
                return {k.lower(): v for k, v in response.headers.items()}, response.read()

        # A conditional request is never the one a copy is made from, and one naming the gzipped
        # copy's tag is answered 304 once that copy exists: then it was made ahead, as the server
        # started (on a busy machine it may still be compressing, hence the wait).
        head = urllib.request.Request(f"{url}/static/js/{plotly_chunk.name}", method="HEAD")
        with urllib.request.urlopen(head, timeout=30) as response:
            gzip_tag = response.headers["ETag"][:-1] + '-gzip"'
        for _ in range(300):
            try:
                fetch(**{"If-None-Match": gzip_tag})
            except urllib.error.HTTPError as not_modified:
                assert not_modified.code == 304
                break
            time.sleep(0.1)
        headers, body = fetch()  # the first plain request
        assert headers.get("content-encoding") == "gzip"
        assert len(body) < os.path.getsize(plotly_chunk) / 2
        assert gzip.decompress(body) == plotly_chunk.read_bytes()
