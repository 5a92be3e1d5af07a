"""Opening the store: connections that never download extensions, snapshots for long-lived readers,
the file's identity (which changes with each published version) and what a damaged file raises."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


def connect(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config=CONFIG)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first value of the first row of ``sql``, a query that always returns a row."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"no row from: {sql}")
    return row[0]


def limit_memory(con: duckdb.DuckDBPyConnection, limit: str, spill_dir: str | Path) -> None:
    """Cap DuckDB's memory on ``con``; past it, DuckDB spills to ``spill_dir`` (a folder this code
    made, never user input)."""
    con.execute(f"set memory_limit = '{limit}'")
    con.execute(f"set temp_directory = '{spill_dir}'")


# What a writer (an import's load and rebuild) may hold in memory. At a million engagements the
# rebuild would otherwise take about 1 GB; capped, it spills to disk and takes a few seconds longer
# (benchmarks/imports.py measures the whole import's peak).
WRITER_MEMORY_LIMIT = "250MB"

SNAPSHOT_CATALOG = "store"


def open_snapshot(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the version published at ``path`` now, for long-lived readers.

    DuckDB shares one database instance per path within a process, so a plain ``connect`` after an
    import would keep answering from the old file while any old connection is open. Attaching the
    file into a private in-memory database opens the file itself (the new inode). Take cursors
    with ``snapshot_cursor``.
    """
    con = duckdb.connect(":memory:", config=CONFIG)
    con.execute(f"attach ? as {SNAPSHOT_CATALOG} (read_only)", [str(path)])
    return con


def snapshot_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of an ``open_snapshot`` connection, reading the attached database by default."""
    cursor = con.cursor()
    cursor.execute(f"use {SNAPSHOT_CATALOG}")
    return cursor


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """Changes whenever a new version is published; used to reopen cached read connections."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def is_unreadable(exc: BaseException) -> bool:
    """Whether a DuckDB error means the file itself can't be read (damaged, truncated, not a
    database, not readable) rather than a mistake in a query. A checksum mismatch is a bare
    ``duckdb.Error``."""
    return type(exc) is duckdb.Error or isinstance(
        exc, (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException)
    )
