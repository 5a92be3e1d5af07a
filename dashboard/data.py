"""Cached access to the store: one read-only connection per published database version.

Every query runs on its own ``cursor()`` of that connection (a shared DuckDB connection is not safe
across Streamlit's script threads). Results are cached by (metric, Filters, arguments, database
version), so a new import is picked up on the next rerun without restarting the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from critac_metrics import db, store
from critac_metrics.filters import Filters

_BUILD_LOCK = threading.Lock()
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


def version() -> tuple[int, int] | None:
    path = database_path()
    _ensure(path)
    return db.file_identity(path)


def run(fn, *args, **kwargs):
    """Call ``fn(cursor, *args, **kwargs)`` on a fresh cursor of the current version's connection."""
    current = version()
    cursor = db.snapshot_cursor(_connection(str(database_path()), current))
    try:
        return fn(cursor, *args, **kwargs)
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
    """Facts about the store (store.topic_catalogue, is_demo, import_log, row_counts), cached."""
    return _info(name, version())
