"""Once per server process: what makes later runs cheaper, before the first session (``warm``,
from ``app.py``'s ``st.App``) and on the first script run (``once``)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import sys
import threading
from collections.abc import AsyncIterator

_LOCK = threading.Lock()
_DONE = False


def once() -> None:
    """Freeze the objects loaded so far (modules, Streamlit, pandas, plotly, DuckDB): the garbage
    collector never walks them again. With Streamlit's collection after every run turned off
    (``runner.postScriptGC`` in .streamlit/config.toml), Python's own full collections still run
    now and then; frozen, they cost a fraction (benchmarks/profile_server.py). Unfrozen at exit,
    so the interpreter's shutdown still frees them (DuckDB's bindings report objects left alive
    at exit as leaks)."""
    global _DONE
    if _DONE or "streamlit.testing.v1" in sys.modules:  # a server's only; AppTest's runner never
        return  # collects after a run, and a test process should keep freeing what tests leave
    with _LOCK:
        if _DONE:
            return
        _DONE = True
        # No gc.collect() first: it takes ~0.25 s of the first viewer's wait, for the little garbage
        # that importing left (kept for good, once).
        gc.freeze()
        atexit.register(gc.unfreeze)


def warm() -> None:
    """Before the server's first session (``lifespan``): import what every page imports (pandas,
    plotly, DuckDB, the dashboard), open the database, read what parsing a link needs, make the
    Overview as first seen (``landing_page``), pay the first run's one-off costs
    (``first_run_costs``), then freeze it all (``once``).

    The first viewer's run then starts like any other. Imports and the database (Overview at
    100k, alternating with the code before; three runs on a loaded machine): the first delta
    came 0.1-0.2 s after the session instead of 0.5-0.9 s, the run took 0.9-1.3 s instead of
    2.0-2.4 s. The landing page and first-run costs: the first run after a restart (websocket
    client, FY2024) 214-244 -> 125-134 ms; later runs take ~105 ms. /_stcore/health answers that
    much later; the server's socket is bound meanwhile, so a browser waits instead of failing."""
    from critac_metrics import charts, metrics  # noqa: F401
    from dashboard import data, layout, show, sidebar, state  # noqa: F401

    if not data.database_path().exists():  # the first page builds the demo database, as before
        return
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "missing ScriptRunContext": the caches work without one
    try:
        data.version()
        state.topic_names()
        landing_page()
        first_run_costs()
    except Exception as exc:  # noqa: BLE001 - the first page says what is wrong, as without this
        logging.getLogger(__name__).warning("start-up warm-up skipped: %s", exc)
        return
    finally:
        quiet.setLevel(level)
    once()


def landing_page() -> None:
    """The Overview as everyone first sees it (all data, by fiscal year): its metrics cached and
    its figures built, which also loads the plotly classes and pandas adapters every page's
    figures use (tests/test_viewer_speed.py checks this matches views/overview.py)."""
    from critac_metrics import charts, metrics
    from critac_metrics.filters import Filters
    from dashboard import data

    everything = Filters()
    data.metric(metrics.has_engagements, everything)  # show.stop_if_empty
    data.metric(metrics.kpis_with_comparison, everything)
    data.metric(metrics.comparison, everything)
    series = data.metric(metrics.volume_series, everything, grain="fiscal_year")
    charts.volume_trend(series, "fiscal_year")
    cumulative = data.metric(metrics.cumulative_engagements, everything)
    projection = data.metric(metrics.milestone_projection, everything)
    charts.cumulative(cumulative, data.metric(metrics.milestones, everything), projection)
    topics = data.metric(metrics.breakdown, everything, dimension="topic")
    charts.bar_breakdown(topics, "topic", top=12)
    charts.state_map(data.metric(metrics.engagements_by_state, everything))


def first_run_costs() -> None:
    """What a process's first page run pays once, paid before the first viewer arrives: the
    modules Streamlit loads on first use (PIL for the page icon, plotly.io's JSON for a chart,
    the material icon names, the page list), and ``inspect``'s index of modules by file, which
    Streamlit's first element builds through ``inspect.stack()`` (env_util.is_repl; the real
    path of every loaded module's file, ~40 ms)."""
    import inspect

    import PIL.PngImagePlugin  # noqa: F401
    import plotly.io
    import plotly.offline  # noqa: F401
    import streamlit.material_icon_names  # noqa: F401

    from dashboard import pages  # noqa: F401

    plotly.io.to_json({"data": [], "layout": {}}, validate=False)
    inspect.stack()


@contextlib.asynccontextmanager
async def lifespan(app: object) -> AsyncIterator[None]:
    """``st.App``'s lifespan (``app.py``): warm the process before the server takes sessions
    (/_stcore/health answers once this is done)."""
    import anyio

    await anyio.to_thread.run_sync(warm)
    yield
