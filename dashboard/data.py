"""Cached access to the store: one read-only connection per published database version.

Every query runs on its own ``cursor()`` of that connection (a shared DuckDB connection is not safe
across Streamlit's script threads). Results are cached by (metric, Filters, arguments, database
version), so a new import is picked up on the next rerun without restarting the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
        cursor = db.snapshot_cursor(_connection(str(database_path()), current))
    except (duckdb.Error, OSError) as exc:  # opened again after a cache clear, and now unreadable
        raise _unreadable(exc) from None
    try:
        return fn(cursor, *args, **kwargs)
    except duckdb.Error as exc:
        if db.is_unreadable(exc):  # a damaged block further into the file, found by this query
            raise _unreadable(exc) from None
        raise
    finally:
        cursor.close()


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
    return run(_fn, filters, **dict(kwargs))


def metric(fn: Callable[..., T], filters: Filters, **kwargs: Any) -> T:
    """``fn(cursor, filters, **kwargs)`` for a function of critac_metrics.metrics, passed by
    reference (a typo fails when the page is imported and in mypy, not in front of a reader), cached
    by the function's qualified name, its arguments and the data version."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    result: T = _cached(name, fn, filters, tuple(sorted(kwargs.items())), version())
    return result


@st.cache_data(max_entries=20, show_spinner=False)
def _info(name: str, current: tuple[int, int] | None):
    return run(getattr(store, name))


def info(name: str):
    """Facts about the store (store.topic_catalogue, is_demo, import_log, row_counts, data_date,
    data_through), cached."""
    return _info(name, version())
