"""Cached access to the store: one read-only connection per published database version.

Every query runs on its own ``cursor()`` of that connection (a shared DuckDB connection is not safe
across Streamlit's script threads). Results are cached by (metric, Filters, arguments, database
version), so a new import is picked up on the next rerun without restarting the server. A page can
start the metrics it will show in the background (``ahead``) so that their queries run while it
draws.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from critac_metrics import db, store
from critac_metrics.filters import Filters

_BUILD_LOCK = threading.Lock()
log = logging.getLogger(__name__)

UNREADABLE = (
    "The dashboard can't read its database: the file is damaged, is not a dashboard database, or "
    "the server may not read it. An administrator can restore the previous version "
    "(`python -m critac_metrics rollback --db FILE`) or import the data again; the server log "
    "names the file and the cause."
)


class Unreadable(Exception):
    """The database can't be opened or read. The message says what to do and names no server path
    (the log has the details)."""

    def __init__(self) -> None:
        super().__init__(UNREADABLE)


def _unreadable(exc: BaseException) -> Unreadable:
    log.error("cannot read the database %s: %s", database_path(), exc)
    return Unreadable()


T = TypeVar("T")


def _ensure(path: Path) -> None:
    if path.exists():
        try:
            _upgraded(str(path), db.file_identity(path))
        except OSError as exc:
            st.error(
                f"This database was built by an earlier version of the dashboard and its summary "
                f"tables must be rebuilt once, but its folder cannot be written "
                f"({exc.strerror or type(exc).__name__}). Open it once where it can be written, "
                f"e.g. `python -m critac_metrics summary --db PATH`.",
                icon=":material/database:",
            )
            st.stop()
        return
    with _BUILD_LOCK, st.spinner("Building the demo database from data/*.csv (first start only)…"):
        store.ensure_database(path)


@st.cache_resource(max_entries=4, show_spinner=False)
def _upgraded(path: str, identity: tuple[int, int] | None) -> bool:
    """Bring a store built by older code up to date, once per published file (db.upgrade)."""
    with _BUILD_LOCK, st.spinner("Updating the database's summary tables for this version…"):
        return db.upgrade(path)


@st.cache_resource(max_entries=2)
def _connection(path: str, version: tuple[int, int] | None) -> duckdb.DuckDBPyConnection:
    # One read-only snapshot per published version; see db.open_snapshot for why not db.connect.
    return db.open_snapshot(path)


def database_path() -> Path:
    return store.database_path()


_OPENED: dict[str, tuple[int, int]] = {}  # path -> the version last opened there without error


def version() -> tuple[int, int] | None:
    """The published version's identity, after opening it (raises Unreadable if it can't be read,
    FileNotFoundError if there is none). A page asks for it with every metric: a version opened
    before costs one ``stat``, not three cache look-ups (about 0.3 ms each)."""
    path = database_path()
    try:
        current = db.file_identity(path)
        if current is not None and _OPENED.get(str(path)) == current:
            return current
        _ensure(path)
        current = db.file_identity(path)
        _connection(str(path), current)  # opened here, so a damaged file is found on every page
    except FileNotFoundError:
        raise
    except (duckdb.Error, OSError) as exc:  # not a database, damaged, a folder, no permission
        raise _unreadable(exc) from None
    if current is not None:
        _OPENED[str(path)] = current
    return current


def run(fn, *args, **kwargs):
    """Call ``fn(cursor, *args, **kwargs)`` on a fresh cursor of the current version's connection."""
    current = version()
    try:
        con = _connection(str(database_path()), current)
    except (duckdb.Error, OSError) as exc:  # opened again after a cache clear, and now unreadable
        raise _unreadable(exc) from None
    return _run_on(con, fn, *args, **kwargs)


def _run_on(con: duckdb.DuckDBPyConnection, fn, *args, **kwargs):
    """``run`` on a connection already opened (no Streamlit call: also for a background thread)."""
    try:
        cursor = db.snapshot_cursor(con)
    except (duckdb.Error, OSError) as exc:
        raise _unreadable(exc) from None
    try:
        return fn(cursor, *args, **kwargs)
    except duckdb.Error as exc:
        if db.is_unreadable(exc):  # a damaged block further into the file, found by this query
            raise _unreadable(exc) from None
        raise
    finally:
        cursor.close()


Key = tuple[str, Filters, tuple[tuple[str, Any], ...], "tuple[int, int] | None"]

# Metrics a page asked for ahead (``ahead``): computed on these threads while the page draws what
# it has (DuckDB runs a statement without Python's lock, so a query and the drawing of a chart
# overlap). Keyed like the cache; the first ``metric`` call that needs one takes it.
_AHEAD_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="critac-ahead")
_AHEAD: OrderedDict[Key, Future[Any]] = OrderedDict()
_AHEAD_LOCK = threading.Lock()
_AHEAD_MAX = 64  # futures nobody took (a run stopped early, a widget changed) beyond this go
# Keys computed before, most likely still in the cache, per generation of the cache (a cleared
# cache starts a new one, so its metrics are computed ahead again).
_SEEN: OrderedDict[tuple[str, Key], None] = OrderedDict()
_SEEN_MAX = 4000


@st.cache_data(show_spinner=False)
def _generation() -> str:
    """A token that changes whenever ``st.cache_data`` is cleared."""
    return uuid.uuid4().hex


def _key(
    fn: Callable[..., Any],
    filters: Filters,
    kwargs: dict[str, Any],
    current: tuple[int, int] | None,
) -> Key:
    name = f"{fn.__module__}.{fn.__qualname__}"
    return (name, filters, tuple(sorted(kwargs.items())), current)


def ahead(filters: Filters, *calls: tuple[Callable[..., Any], dict[str, Any]]) -> None:
    """Start computing ``metric(fn, filters, **kwargs)`` for each of ``calls`` in the background,
    for metrics the page will ask for further down whatever its widgets say. One computed before
    (most likely cached) is not started again. Errors come out where ``metric`` asks for it."""
    current = version()
    try:
        con = _connection(str(database_path()), current)
    except (duckdb.Error, OSError) as exc:
        raise _unreadable(exc) from None
    generation = _generation()
    # Keyed by the version ``con`` reads (not asked again: an import published meanwhile must not
    # file the old file's results under the new version).
    wanted = [(_key(fn, filters, kwargs, current), fn, kwargs) for fn, kwargs in calls]
    with _AHEAD_LOCK:
        for key, fn, kwargs in wanted:
            if (generation, key) in _SEEN or key in _AHEAD:
                continue
            _AHEAD[key] = _AHEAD_POOL.submit(_run_on, con, fn, filters, **kwargs)
        while len(_AHEAD) > _AHEAD_MAX:
            _AHEAD.popitem(last=False)[1].cancel()  # not started yet: never run


def _take_ahead(key: Key, generation: str) -> Future[Any] | None:
    """The future computing ``key`` ahead, if there is one and it has started (one not started
    yet is cancelled: the caller computes it at once rather than wait behind the others). The
    key counts as computed from now on, so no other page starts it again meanwhile."""
    with _AHEAD_LOCK:
        future = _AHEAD.pop(key, None)
        _SEEN[(generation, key)] = None
        while len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)
    if future is None or future.cancel():
        return None
    return future


@st.cache_data(max_entries=2000, show_spinner=False)
def _cached(
    name: str,
    _fn: Callable[..., Any],
    filters: Filters,
    kwargs: tuple[tuple[str, Any], ...],
    current: tuple[int, int] | None,
) -> Any:
    # ``name`` (the function's qualified name) is the function's part of the cache key; ``_fn`` is
    # left out of it (a leading underscore tells st.cache_data not to hash it).
    future = _take_ahead((name, filters, kwargs, current), _generation())
    return future.result() if future is not None else run(_fn, filters, **dict(kwargs))


def metric(fn: Callable[..., T], filters: Filters, **kwargs: Any) -> T:
    """``fn(cursor, filters, **kwargs)`` for a function of critac_metrics.metrics, passed by
    reference (a typo fails when the page is imported and in mypy, not in front of a reader), cached
    by the function's qualified name, its arguments and the data version."""
    name, _, args, current = _key(fn, filters, kwargs, version())
    result: T = _cached(name, fn, filters, args, current)
    return result


@st.cache_data(max_entries=20, show_spinner=False)
def _info(name: str, current: tuple[int, int] | None):
    return run(getattr(store, name))


def info(name: str):
    """Facts about the store (store.topic_catalogue, is_demo, import_log, row_counts, data_date,
    data_through), cached."""
    return _info(name, version())
