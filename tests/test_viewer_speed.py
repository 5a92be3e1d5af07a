"""Issue 15 (speed a viewer feels): figures are cached by content and cheaper to build, yet the same.

No timings here: each test checks the behaviour a speed-up relies on (a cache hit, one annotation
assignment, no second validation) and that the figure is exactly the figure built the old way.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from critac_metrics import charts, figure_cache, metrics
from critac_metrics.filters import Filters

from . import app_charts

FY2024 = Filters(start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30))


def spec(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


@pytest.fixture(autouse=True)
def fresh_cache():
    figure_cache.clear()
    yield
    figure_cache.clear()


def overview_figures(con, filters: Filters = FY2024) -> list[go.Figure]:
    return [
        charts.volume_trend(metrics.volume_series(con.cursor(), filters, grain="month"), "month"),
        charts.cumulative(
            metrics.cumulative_engagements(con.cursor(), filters),
            metrics.milestones(con.cursor(), filters),
        ),
        charts.bar_breakdown(metrics.breakdown(con.cursor(), filters, dimension="topic"), "topic"),
        charts.state_map(metrics.engagements_by_state(con.cursor(), filters)),
        charts.likert_diverging(metrics.item_outcomes(con.cursor(), filters, "post")),
    ]


# -- the figure cache -----------------------------------------------------------------------------


def test_same_data_is_a_cache_hit_with_the_same_figure(demo_con):
    first = [spec(f) for f in overview_figures(demo_con)]
    assert figure_cache.STATS["misses"] == len(first)
    assert figure_cache.STATS["hits"] == 0
    again = [spec(f) for f in overview_figures(demo_con)]
    assert figure_cache.STATS["hits"] == len(first)
    assert again == first
    # ... and the same as the builders without the cache
    series = metrics.volume_series(demo_con.cursor(), FY2024, grain="month")
    assert spec(charts.volume_trend.uncached(series, "month")) == first[0]


def test_a_cache_hit_reads_like_the_built_figure_from_python(demo_con):
    """Trace data of a copy from the cache are arrays, as in a built figure (not plotly's encoded
    typed arrays): the accessible takeaway and the tests read them."""
    matrix = metrics.topic_by_agency_type(demo_con.cursor(), Filters())
    built = charts.topic_heatmap(matrix)
    hit = charts.topic_heatmap(matrix)
    assert figure_cache.STATS["hits"] == 1
    for fresh, copied in zip(built.data, hit.data, strict=True):
        for name in ("x", "y", "z"):
            want, got = getattr(fresh, name, None), getattr(copied, name, None)
            if want is None:
                assert got is None
            else:
                assert np.asarray(got).tolist() == np.asarray(want).tolist(), name


def test_other_data_is_another_figure(demo_con):
    texas = FY2024.replace(states=("TX",))
    a = spec(charts.state_map(metrics.engagements_by_state(demo_con.cursor(), FY2024)))
    b = spec(charts.state_map(metrics.engagements_by_state(demo_con.cursor(), texas)))
    assert figure_cache.STATS["misses"] == 2 and figure_cache.STATS["hits"] == 0
    assert a != b
    # An argument other than the data counts too.
    frame = metrics.volume_series(demo_con.cursor(), FY2024, grain="quarter")
    assert spec(charts.volume_trend(frame, "quarter")) != spec(charts.volume_trend(frame, "month"))


def test_a_changed_figure_does_not_change_the_cache(demo_con):
    topics = metrics.breakdown(demo_con.cursor(), FY2024, dimension="topic")
    original = spec(charts.bar_breakdown(topics, "topic"))
    mine = charts.bar_breakdown(topics, "topic")  # a hit: a copy
    mine.update_layout(title_text="changed")
    mine.data[0].update(name="changed")
    assert spec(charts.bar_breakdown(topics, "topic")) == original
    # ... nor does changing its arrays and nested properties in place (the copy shares none)
    copied = charts.bar_breakdown(topics, "topic")
    for trace in copied.data:
        for name in ("x", "y", "customdata"):
            value = getattr(trace, name, None)
            if isinstance(value, np.ndarray) and value.size and value.flags.writeable:
                value.flat[0] = value.flat[-1]
    copied.layout.title.font.size = 99
    copied.layout.margin.t = 1
    copied.layout.xaxis.title.text = "changed"
    assert spec(charts.bar_breakdown(topics, "topic")) == original
    from dashboard import show  # Streamlit, only for this part (as below)

    context = ("a", None, True, False)
    shown = figure_cache.derived(show._in_context, charts.bar_breakdown(topics, "topic"), *context)
    first_note = shown.layout.annotations[0].text
    shown.layout.annotations[0].text = "changed"  # the figure in context as built (a miss) ...
    again = figure_cache.derived(show._in_context, charts.bar_breakdown(topics, "topic"), *context)
    assert again.layout.annotations[0].text == first_note
    again.layout.annotations[0].text = "changed"  # ... and as copied from the cache (a hit)
    third = figure_cache.derived(show._in_context, charts.bar_breakdown(topics, "topic"), *context)
    assert third.layout.annotations[0].text == first_note


def test_one_changed_value_is_a_miss():
    frame = pd.DataFrame({"topic": ["A", "B"], "engagements": [3, 2], "agencies": [1, 1]})
    key = figure_cache.key("x", (frame,), {})
    changed = frame.copy()
    changed.loc[1, "engagements"] = 1
    assert figure_cache.key("x", (changed,), {}) != key
    assert figure_cache.key("x", (frame.copy(),), {}) == key
    assert figure_cache.key("x", (frame.rename(columns={"topic": "t"}),), {}) != key


def test_unhashable_arguments_are_built_every_time():
    calls = []

    @figure_cache.memoize
    def build(frame):
        calls.append(1)
        return go.Figure(go.Bar(x=[1], y=[len(frame)]))

    lists = pd.DataFrame({"a": [[1, 2], [3]]})  # lists in cells: no content hash
    build(lists), build(lists)
    assert len(calls) == 2 and figure_cache.STATS["uncached"] == 2


def test_a_figure_in_context_is_made_once_and_is_the_same(demo_con):
    """show.chart's figure (context footer, demo label, theme) is cached by the built figure's
    key and the context: a second draw is a copy, equal to making it again from scratch."""
    from dashboard import show

    frame = metrics.engagements_by_state(demo_con.cursor(), FY2024)
    context = ("FY2024, every topic", dt.date(2025, 9, 30), True, False)
    first = figure_cache.derived(show._in_context, charts.state_map(frame), *context)
    hits = figure_cache.STATS["hits"]
    again = figure_cache.derived(show._in_context, charts.state_map(frame), *context)
    assert figure_cache.STATS["hits"] == hits + 2  # the built figure and the figure in context
    fresh = show._in_context(charts.state_map.uncached(frame), *context)
    assert spec(again) == spec(first) == spec(fresh)
    assert any(a.name == "context-footer" for a in again.layout.annotations)
    # Another context, theme or figure is another figure.
    dark = figure_cache.derived(show._in_context, charts.state_map(frame), *context[:3], True)
    assert spec(dark) != spec(first) and spec(dark) == spec(
        show._in_context(charts.state_map.uncached(frame), *context[:3], True)
    )
    other = figure_cache.derived(show._in_context, charts.state_map(frame), "TX", *context[1:])
    assert spec(other) != spec(first)


def test_a_figure_without_a_key_is_made_every_time(demo_con):
    calls = []

    def decorate(fig, text):
        calls.append(text)
        return go.Figure(fig).update_layout(title_text=text)

    frame = metrics.breakdown(demo_con.cursor(), FY2024, dimension="topic")
    changed = figure_cache.untag(charts.bar_breakdown(frame, "topic").update_layout(height=999))
    figure_cache.derived(decorate, changed, "a")
    figure_cache.derived(decorate, changed, "a")
    assert calls == ["a", "a"]
    built = charts.bar_breakdown(frame, "topic")
    figure_cache.derived(decorate, built, "a")
    figure_cache.derived(decorate, charts.bar_breakdown(frame, "topic"), "a")
    assert calls == ["a", "a", "a"]


# -- cheaper to build, the same figure --------------------------------------------------------------


def test_annotations_are_added_in_one_assignment(demo_con, monkeypatch):
    """add_annotation re-validates every annotation already there (n labels cost n²)."""
    counted = []
    original = go.Figure.add_annotation

    def counting(self, *args, **kwargs):
        counted.append(kwargs.get("text"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(go.Figure, "add_annotation", counting)
    cum = charts.cumulative.uncached(
        metrics.cumulative_engagements(demo_con.cursor(), Filters()),
        metrics.milestones(demo_con.cursor(), Filters()),
    )
    likert = charts.likert_diverging.uncached(
        metrics.item_outcomes(demo_con.cursor(), Filters(), "post")
    )
    assert len(cum.layout.annotations) >= 2  # milestone labels are there...
    assert len(likert.layout.annotations) >= 4  # ... and the percentages at the bars' ends
    assert counted == []  # ... none of them one by one


def test_the_benchmark_protocol_client_runs_a_page(tmp_path, demo_db):
    """benchmarks/st_protocol.py drives a real server over the websocket (a tiny load-test run)."""
    import asyncio

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from st_protocol import Viewer

    from tests.browser_support import off_the_event_loop, start_app, stop, wait_healthy

    log = tmp_path / "streamlit.log"
    server, url = start_app(demo_db, tmp_path, log)
    try:
        wait_healthy(server, url, log, timeout=90)

        async def go_():
            async with Viewer(url) as viewer:
                first = await viewer.rerun("start=2023-10-01&end=2024-09-30")
                texas = await viewer.rerun("state=TX")
                # The Overview's Period control reruns the page: its trend's clicks drill down,
                # which changes the filters of every chart (a fragment would redraw only itself).
                period = await viewer.rerun("state=TX", choose={"Period": ["Month"]})
                topics = await viewer.rerun("state=TX", "topics")
                # The Agencies page's search redraws the table only.
                agencies = await viewer.rerun("state=TX", "agencies")
                search = await viewer.rerun(
                    "state=TX",
                    "agencies",
                    choose={"Search agency names": "county"},
                    fragment=viewer.fragments["Search agency names"],
                )
                return first, texas, period, topics, agencies, search

        # In a thread of its own: after a browser test, pytest-playwright keeps a loop running here.
        runs = off_the_event_loop(lambda: asyncio.run(go_()))
        first, texas, period, topics, agencies, search = runs
    finally:
        stop(server)
    for run in (first, texas, topics):
        assert run.status == "ok" and not run.exceptions
    assert period.status == "ok" and not period.exceptions and period.metrics >= 3
    assert agencies.status == "ok" and agencies.charts >= 3
    assert search.status == "ok (fragment)" and not search.exceptions
    assert search.charts == 0 and search.sizes_by_kind.get("dataframe")
    assert first.charts == texas.charts >= 4 and first.metrics >= 3
    assert topics.charts > 0 and topics.metrics == 0  # the Topics page: charts, no KPI tiles
    assert texas.chart_bytes != first.chart_bytes or texas.bytes != first.bytes

    with pytest.raises(ValueError, match="loopback"):
        Viewer("http://example.org:8501")


# -- the deck's images ----------------------------------------------------------------------------


def test_images_drawn_once_are_reused_in_order(monkeypatch):
    from .test_report import need_browser

    need_browser()  # skips without chromium, fails instead under CRITAC_REQUIRE_BROWSER=1
    import io

    from PIL import Image

    from critac_metrics import render

    colours = [(230, 25, 75), (60, 180, 75), (0, 130, 200)]
    figs = [
        go.Figure(go.Bar(y=[i + 1]), layout={"paper_bgcolor": f"rgb{c}"})
        for i, c in enumerate(colours)
    ]
    render._IMAGES.clear()
    first = render.to_pngs(figs, 120, 80, scale=1)
    batches = []
    original = render._draw

    def counting(figures, todo, *args):
        if threading.current_thread() is threading.main_thread():  # not images drawn ahead
            batches.append(len(todo))
        return original(figures, todo, *args)

    monkeypatch.setattr(render, "_draw", counting)
    # Two known, one new, in another order: only the new one is drawn, each image in its place.
    new = go.Figure(go.Bar(y=[9]), layout={"paper_bgcolor": "rgb(245, 130, 48)"})
    again = render.to_pngs([figs[2], new, figs[0]], 120, 80, scale=1)
    assert batches == [1]
    assert again[0] == first[2] and again[2] == first[0]
    corner = Image.open(io.BytesIO(again[1])).convert("RGB").getpixel((1, 1))
    assert corner == (245, 130, 48)
    # Another size is another image.
    render.to_pngs([figs[0]], 160, 80, scale=1)
    assert batches == [1, 1]


def test_the_report_page_starts_the_renderer_when_it_opens(monkeypatch, demo_db):
    """The deck's first build should not wait for Chromium: opening the page starts it, once."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from critac_metrics import render

    started = []
    monkeypatch.setattr(render, "warm_up", lambda: started.append(1))
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    st.cache_resource.clear()
    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.switch_page("views/report.py")
    at.run()
    assert not at.exception
    assert started == [1]
    at.run()
    assert started == [1]  # once per process, not per run


def test_the_server_does_not_collect_garbage_after_every_run():
    """Streamlit's gc.collect(2) after every run cost ~100 ms of CPU per rerun at 100k (with the
    GIL held); AppTest never runs it, so only the config can keep it off in a real server."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    app = (root / "app.py").read_text()
    assert "startup.once()" in app


def test_the_start_up_freeze_runs_once(monkeypatch):
    import gc

    from dashboard import startup

    frozen = []
    monkeypatch.delitem(sys.modules, "streamlit.testing.v1", raising=False)  # as in a server
    monkeypatch.setattr(startup, "_DONE", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(startup.atexit, "register", lambda fn: None)
    startup.once()
    startup.once()
    assert frozen == [1]


def test_a_test_process_is_not_frozen(monkeypatch):
    import gc

    from streamlit.testing.v1 import AppTest  # noqa: F401 - AppTest loaded: a test process

    from dashboard import startup

    frozen = []
    monkeypatch.setattr(startup, "_DONE", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    startup.once()
    assert frozen == []


def test_streamlit_run_serves_the_app_warmed_by_its_lifespan():
    """`streamlit run app.py` finds app.py's st.App (and serves it with its lifespan, which warms
    the process before the first session); run as the page script, app.py draws the page."""
    import subprocess

    from streamlit.web.server.app_discovery import discover_asgi_app

    root = Path(__file__).resolve().parent.parent
    assert discover_asgi_app(root / "app.py").import_string == "app:app"
    # Imported as the server imports it (in a process of its own: st.App sets process-wide config).
    check = (
        "import app, dashboard.startup as s, pathlib; "
        "assert app.app._user_lifespan is s.lifespan; "
        "assert pathlib.Path(app.app.script_path).resolve() == pathlib.Path('app.py').resolve()"
    )
    subprocess.run([sys.executable, "-c", check], cwd=root, check=True, timeout=120)


def test_the_warm_up_opens_the_database_and_freezes_once(monkeypatch, demo_db):
    import gc

    from dashboard import data, startup

    frozen = []
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    monkeypatch.setattr(data, "_OPENED", {})
    monkeypatch.delitem(sys.modules, "streamlit.testing.v1", raising=False)  # as in a server
    monkeypatch.setattr(startup, "_DONE", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(startup.atexit, "register", lambda fn: None)
    startup.warm()
    assert str(data.database_path()) in data._OPENED
    assert frozen == [1]


def test_the_warm_up_has_the_overview_as_first_seen_ready(monkeypatch, demo_db):
    """After the warm-up, the Overview with no filters (everyone's first page) runs no metric
    query and builds no figure: startup.landing_page asks for what views/overview.py draws."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import data, startup

    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    monkeypatch.setattr(data, "_OPENED", {})
    monkeypatch.setattr(startup, "_DONE", True)  # no freezing in a test process
    st.cache_data.clear()
    startup.warm()
    queried = []
    run_on = data._run_on  # every query: data.run's, and those data.ahead starts

    def counted(con, fn, *args, **kwargs):
        if args and isinstance(args[0], Filters):  # a metric (data.info's calls take no filters)
            queried.append(fn.__qualname__)
        return run_on(con, fn, *args, **kwargs)

    monkeypatch.setattr(data, "_run_on", counted)
    warmed = set(figure_cache._FIGURES)
    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "CRI-TAC impact overview"
    assert len(app_charts.charts(at)) >= 4
    assert queried == []
    made = {name for name, _ in set(figure_cache._FIGURES) - warmed}
    assert made == {"dashboard.show._in_context"}  # no builder ran, only the theme and footer
    at.query_params["state"] = "TX"  # the counter sees a page that does query
    at.run()
    assert queried


def test_the_warm_up_leaves_a_missing_database_to_the_first_page(monkeypatch, tmp_path):
    from dashboard import data, startup

    monkeypatch.setenv("CRITAC_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.setattr(data, "_OPENED", {})
    monkeypatch.setattr(startup, "_DONE", False)
    startup.warm()  # builds nothing (the first page builds the demo database, with a spinner)
    assert not (tmp_path / "none.duckdb").exists()
    assert data._OPENED == {}


def test_a_renderer_whose_browser_died_is_started_again():
    """A long-lived server keeps one Chromium; if it dies, the next deck starts a new one."""
    from .test_report import need_browser

    need_browser()
    from critac_metrics import render

    render.start()
    first = render._session[0]
    first._browser.subprocess.kill()
    first._browser.subprocess.wait(timeout=10)
    assert not first.alive()
    render._IMAGES.clear()
    (png,) = render.to_pngs([go.Figure(go.Bar(y=[3]))], 120, 80, scale=1)
    assert png.startswith(b"\x89PNG")
    assert render._session[0] is not first and render._session[0].alive()


def test_tabs_kept_between_images_draw_what_a_fresh_page_draws():
    """The renderer's tabs are not reloaded between images: nothing of one figure may show in the
    next (same bytes as the figure drawn first on freshly loaded tabs)."""
    from .test_report import need_browser

    need_browser()
    from critac_metrics import render

    figs = [
        go.Figure(go.Bar(y=[1, 3, 2]), layout={"title": {"text": "first"}}),
        go.Figure(
            go.Scatter(y=[4, 1, 5], mode="lines+markers"),
            layout={"template": "plotly_dark", "annotations": [{"text": "note", "x": 1, "y": 4}]},
        ),
        go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]), layout={"font": {"size": 20}}),
    ]
    render.stop()
    render._IMAGES.clear()
    fresh = render.to_pngs([figs[0]], 300, 200, scale=2)
    for others in (figs[1:], figs[::-1][:2]):
        render._IMAGES.clear()
        render.to_pngs(others, 300, 200, scale=2)
    render._IMAGES.clear()
    assert render.to_pngs([figs[0], figs[0]], 300, 200, scale=2) == fresh * 2


def test_images_drawn_ahead_are_not_drawn_again_and_only_the_latest_request_is_drawn(monkeypatch):
    """The Report page draws its deck's images in the background; the deck then draws none, and a
    request replaced by a newer one before it started is never drawn."""
    from .test_report import need_browser

    need_browser()
    from critac_metrics import render

    def figure(i: int) -> go.Figure:
        return go.Figure(go.Bar(y=[i + 1]), layout={"title": {"text": f"ahead {i}"}})

    render._IMAGES.clear()
    render.start()
    with render._ahead_wake:  # the worker waits: the first request is replaced before it starts
        render.draw_ahead([figure(0), figure(1)], 120, 80, scale=1)
        render.draw_ahead([figure(i) for i in range(2, 6)], 120, 80, scale=1)
    wanted = [render._image_key(figure(i), 120, 80, 1) for i in range(6)]
    deadline = time.monotonic() + 60
    while not all(k in render._IMAGES for k in wanted[2:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(k in render._IMAGES for k in wanted[2:])
    assert not any(k in render._IMAGES for k in wanted[:2])
    drawn = []
    monkeypatch.setattr(render, "_draw", lambda figs, todo, *a: drawn.append(todo) or {})
    assert len(render.to_pngs([figure(i) for i in range(2, 6)], 120, 80, scale=1)) == 4
    assert drawn == []


def test_a_cached_copy_of_a_report_figure_has_the_figures_image_key(demo_con):
    """The Report page's preview comes from st.cache_data, a pickled copy on every run: its
    figures must find the images drawn for the figures of another run (the layout built as plain
    data lists its properties in another order once the copy validates it again)."""
    import pickle

    from critac_metrics import render, report

    built = report.collect(demo_con, FY2024, None)
    copy = pickle.loads(pickle.dumps(built))
    size = (report.IMAGE_WIDTH, report.IMAGE_HEIGHT, report.IMAGE_SCALE)
    assert len(built.charts) > 1
    for chart, copied in zip(built.charts, copy.charts, strict=True):
        assert render._image_key(chart.figure, *size) == render._image_key(copied.figure, *size)
    other = report.collect(demo_con, Filters(states=("TX",)), None)
    assert render._image_key(other.charts[0].figure, *size) != render._image_key(
        built.charts[0].figure, *size
    )


def test_the_report_page_builds_its_deck_from_the_images_drawn_ahead(monkeypatch, demo_db):
    """Opening the Report page draws the deck's images in the background; pressing Build on a
    later run (another copy of the cached preview) draws none of them again."""
    from streamlit.testing.v1 import AppTest

    from critac_metrics import render, report

    from .test_report import need_browser

    need_browser()
    drawn: dict[str, int] = {}
    draw = render._draw

    def counted(figs, todo, *args):
        name = threading.current_thread().name
        drawn[name] = drawn.get(name, 0) + len(todo)
        return draw(figs, todo, *args)

    monkeypatch.setattr(render, "_draw", counted)
    render._IMAGES.clear()
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.query_params["state"] = "CA"
    at.session_state["report_sections"] = ["pipeline"]
    at.switch_page("views/report.py")
    at.run()
    charts_in_deck = report.chart_count(["pipeline"])
    deadline = time.monotonic() + 60
    while drawn.get("critac-render-ahead", 0) < charts_in_deck and time.monotonic() < deadline:
        time.sleep(0.05)
    assert drawn.get("critac-render-ahead") == charts_in_deck
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("PowerPoint" in b.label for b in at.download_button)
    assert set(drawn) == {"critac-render-ahead"}  # the press drew nothing


def test_the_browser_profile_adds_self_time_by_script_file():
    """benchmarks/browser_profile.py: a CDP profile's samples become ms per script file and per
    function, with Chrome's native work under its own names."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from browser_profile import self_times

    def node(id_, url, name):
        return {"id": id_, "callFrame": {"url": url, "functionName": name}}

    profile = {
        "nodes": [
            node(1, "", "(root)"),
            node(2, "http://host/static/js/PlotlyChart.abc.js", "draw"),
            node(3, "http://host/static/js/react-dom.def.js", "commit"),
            node(4, "", "(program)"),
            node(5, "", "getBBox"),
        ],
        "samples": [2, 2, 3, 4, 5, 2],
        "timeDeltas": [1000, 500, 250, 4000, 125, 1500],  # microseconds
    }
    by_file, by_function = self_times(profile)
    assert by_file == {
        "PlotlyChart.abc.js": 3.0,
        "react-dom.def.js": 0.25,
        "(program)": 4.0,
        "(native: getBBox)": 0.125,
    }
    assert by_function["PlotlyChart.abc.js draw"] == 3.0
    assert sum(by_file.values()) == sum(profile["timeDeltas"]) / 1000


def test_the_filter_timeline_reads_a_change_from_the_pages_events():
    """benchmarks/filter_timeline.py: the phases of one filter change, in ms after its start,
    from the events the page recorded (events before the start belong to an earlier change)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from filter_timeline import summarise

    t0 = 1000.0
    events = [
        ["message", 990.0, None],  # the previous change's
        ["settled", 995.0, None],
        ["request", 1004.0, None],
        ["running", 1010.0, None],
        ["message", 1020.0, None],
        ["draw", 1100.0, "overview_trend"],
        ["message", 1150.0, None],
        ["drawn", 1130.0, "overview_trend"],
        ["settled", 1180.0, None],
        ["draw", 1185.0, "overview_map"],
        ["drawn", 1245.0, "overview_map"],
    ]
    out = summarise(events, t0)
    assert out["request"] == 4
    assert (out["first_message"], out["last_message"]) == (20, 150)
    assert out["settled"] == 180
    assert (out["first_draw"], out["all_drawn"]) == (100, 245)
    assert out["charts"] == {"overview_trend": 30, "overview_map": 60}
    assert out["drawing"] == 90
    # Settled already when the last message came (nothing left to draw): the run ended with it.
    assert summarise([["running", 1001.0, None], ["settled", 1040.0, None],
                      ["message", 1050.0, None]], t0)["settled"] == 50  # fmt: skip
