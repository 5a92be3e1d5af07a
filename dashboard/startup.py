"""Once per server process, on its first script run: what makes later runs cheaper."""

from __future__ import annotations

import atexit
import gc
import sys
import threading

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
