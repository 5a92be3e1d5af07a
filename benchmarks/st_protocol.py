"""A Streamlit session without a browser: the websocket protocol the frontend speaks, in asyncio.

The browser opens ``/_stcore/stream`` (subprotocol ``streamlit``), sends ``BackMsg`` protobufs and
receives one ``ForwardMsg`` per binary frame (``streamlit.proto``). A run is requested with
``BackMsg.rerun_script`` (a ``ClientState``: the URL's query string, the page, widget states) and
ends with a ``ForwardMsg.script_finished``. This client does exactly that and nothing else: it draws
nothing, so a load test with it measures the server, not browsers.

    async with Viewer(url) as viewer:
        run = await viewer.rerun("state=TX")        # a run with these URL parameters
        run.seconds, run.frames, run.bytes, run.charts, run.exceptions

Loopback only: ``Viewer`` refuses any host but 127.0.0.1/localhost.
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard.plotly_chart import NAME as CHART  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "interrupted by a rerun",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok (fragment)",
}


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float = 0.0  # rerun request sent -> script_finished received
    first_delta_s: float | None = None  # request -> first element
    frames: int = 0
    bytes: int = 0
    charts: int = 0
    chart_bytes: int = 0  # bytes of the Plotly figure specs in this run
    metrics: int = 0
    status: str = ""
    exceptions: list[str] = field(default_factory=list)
    fragment_ids: set[str] = field(default_factory=set)  # of the elements sent in this run
    sizes_by_kind: dict[str, int] = field(default_factory=dict)  # bytes per element kind


class ProtocolError(RuntimeError):
    pass


class Viewer:
    """One browser tab's worth of session, driven over the websocket."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname not in LOOPBACK:
            raise ValueError(f"loopback only, not {parts.hostname!r}")
        self.ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.timeout = timeout
        self._ws: Any = None  # a websockets ClientConnection once connected
        self.session_id: str | None = None
        self.page_hashes: dict[str, str] = {}  # url path name -> page_script_hash
        self.widgets: dict[str, str] = {}  # a widget's label -> its id (last run that drew it)
        self.fragments: dict[str, str] = {}  # a widget's label -> the fragment it was drawn in

    async def __aenter__(self) -> Viewer:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        import websockets

        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            max_size=None,
            open_timeout=self.timeout,
            ping_interval=None,
            compression=None,  # the browser's permessage-deflate is off in Streamlit's server too
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def rerun(
        self,
        query_string: str = "",
        page: str = "",
        choose: dict[str, list[str] | str] | None = None,
        fragment: str = "",
    ) -> Run:
        """Ask for a run with these URL parameters on ``page`` (its URL path name, "" = the
        default page) and wait for it to finish. ``choose`` sets widgets by label: option
        widgets (segmented controls, multiselects) to the options shown, text inputs to a text; ``fragment`` reruns only that
        fragment (as the browser does for a widget inside one)."""
        if self._ws is None:
            raise ProtocolError("not connected")
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query_string
        state.page_name = page
        if page and page in self.page_hashes:
            state.page_script_hash = self.page_hashes[page]
        state.widget_states.SetInParent()
        for label, values in (choose or {}).items():
            widget = state.widget_states.widgets.add()
            widget.id = self.widgets[label]
            if isinstance(values, str):  # a text input
                widget.string_value = values
            else:  # options shown (segmented control, multiselect, ...)
                widget.string_array_value.data.extend(values)
        state.fragment_id = fragment
        run = Run()
        started = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise ProtocolError(f"no script_finished within {self.timeout:.0f} s")
            data = await asyncio.wait_for(self._ws.recv(), remaining)
            if isinstance(data, str):
                raise ProtocolError("text frame from the server")
            run.frames += 1
            run.bytes += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":
                for page_info in fwd.navigation.app_pages:
                    self.page_hashes[page_info.url_pathname] = page_info.page_script_hash
            elif kind == "delta":
                if run.first_delta_s is None:
                    run.first_delta_s = time.perf_counter() - started
                delta = fwd.delta
                if delta.fragment_id:
                    run.fragment_ids.add(delta.fragment_id)
                if delta.WhichOneof("type") == "new_element":
                    element: str = delta.new_element.WhichOneof("type") or "?"
                    inner = getattr(delta.new_element, element, None)
                    if (
                        element == "bidi_component"
                        and getattr(inner, "component_name", "") == CHART
                    ):
                        element = "chart"  # dashboard.plotly_chart's
                    fields = inner.DESCRIPTOR.fields_by_name if inner is not None else {}
                    if inner is not None and "id" in fields and "label" in fields and inner.id:
                        self.widgets[inner.label] = inner.id
                        self.fragments[inner.label] = delta.fragment_id
                    run.sizes_by_kind[element] = run.sizes_by_kind.get(element, 0) + len(data)
                    if element == "chart":
                        run.charts += 1
                        run.chart_bytes += len(data)
                    elif element == "metric":
                        run.metrics += 1
                    elif element == "exception":
                        run.exceptions.append(delta.new_element.exception.message[:300])
            elif kind == "script_finished":
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # our own request superseded an earlier run; keep waiting
                run.status = FINISHED.get(status, str(status))
                run.seconds = time.perf_counter() - started
                return run
