"""A scratch DuckDB file that holds an import's typed rows between validation and load.

Validation reads a file a chunk at a time and appends each chunk's typed rows here, with where
each row came from (``__source``, ``__row``) and its order in the import (``__seq``). The checks
that need every row at once (duplicate ids, references between tables and to the stored rows)
then run as queries, and the load copies the staged tables into the new database version. So an
import's memory does not grow with its size: DuckDB spills to disk past ``MEMORY_LIMIT``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa

from . import db, schema
from .readers import ROW_COLUMN

MEMORY_LIMIT = "200MB"
STORE = "store"  # the catalog name of the stored database, attached for reference checks


def staged(table: str) -> str:
    """The staging table of a contract table."""
    return f"staged_{table}"


class Staging:
    """Use as a context manager; the scratch folder is removed on exit (or, if the process is
    killed, by the next import: ``db.ScratchDir``)."""

    def __init__(self) -> None:
        self._folder = db.ScratchDir("critac-import-")
        self.path = self._folder.path / "staging.duckdb"
        self.rows: dict[str, int] = {}  # staged rows per table
        self._next_seq = 0
        self._store_attached = False
        try:
            self._con: duckdb.DuckDBPyConnection | None = db.connect(self.path, read_only=False)
            db.limit_memory(self._con, MEMORY_LIMIT, self._folder.path / "spill")
        except BaseException:
            self._folder.cleanup()
            raise

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._folder.cleanup()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("the staging database is closed")
        return self._con

    def close(self) -> None:
        """Close the connection (the load attaches the file read-only)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def append(self, table: schema.Table, typed: pd.DataFrame, text: pd.DataFrame) -> None:
        """Stage a chunk: ``typed`` values, with ``text``'s source and spreadsheet row numbers."""
        name = staged(table.name)
        if table.name not in self.rows:
            columns = ", ".join(f"{c.name} {c.sql_type}" for c in table.columns)
            self.con.execute(
                f"create table {name} ({columns}, __source varchar, __row bigint, __seq bigint)"
            )
            self.rows[table.name] = 0
        chunk = typed.assign(
            __source=text["__source"].to_numpy(),
            __row=text[ROW_COLUMN].to_numpy(),
            __seq=range(self._next_seq, self._next_seq + len(typed)),
        )
        casts = ", ".join(f"{c.name}::{c.sql_type}" for c in table.columns)
        self.con.register("chunk", pa.Table.from_pandas(chunk, preserve_index=False))
        try:
            insert = f"insert into {name} select {casts}, __source, __row, __seq from chunk"  # noqa: S608 - names come from schema.py
            self.con.execute(insert)
        finally:
            self.con.unregister("chunk")
        self.rows[table.name] += len(typed)
        self._next_seq += len(typed)

    def duplicates(self, table: str, column: str, listed: int) -> list[Found]:
        """Staged rows whose ``column`` value occurs more than once (the first ``listed`` per file)."""
        name = staged(table)
        return self._first_per_file(
            f"""
            select __source, __row, {column} as value, __seq from {name}
            where {column} in (
                select {column} from {name} where {column} is not null
                group by all having count(*) > 1
            )""",  # noqa: S608 - names come from schema.py
            listed,
        )

    def attach_store(self, path: str | Path) -> None:
        """Make the stored rows visible to ``missing_references``."""
        self.con.execute(f"attach ? as {STORE} (read_only)", [str(path)])
        self._store_attached = True

    def missing_references(self, child: str, column: str, parent: str, listed: int) -> list[Found]:
        """Staged ``child`` rows whose ``column`` names no ``parent`` row, staged or stored (the
        first ``listed`` per file)."""
        key = schema.TABLES[parent].key
        parents = [staged(parent)] if parent in self.rows else []
        if self._store_attached:
            parents.append(f"{STORE}.{parent}")
        absent = "".join(
            f" and not exists (select 1 from {p} where {p}.{key} = c.{column})"  # noqa: S608 - names come from schema.py
            for p in parents
        )
        return self._first_per_file(
            f"""
            select __source, __row, {column} as value, __seq from {staged(child)} c
            where {column} is not null{absent}""",  # noqa: S608 - names come from schema.py
            listed,
        )

    def _first_per_file(self, rows_sql: str, listed: int) -> list[Found]:
        found = self.con.execute(
            f"""
            select __source, __row, value, count(*) over (partition by __source) as total
            from ({rows_sql})
            qualify row_number() over (partition by __source order by __seq) <= ?
            order by __seq
            """,  # noqa: S608 - the caller's SQL is built from schema.py names
            [listed],
        ).fetchall()
        return [Found(*row) for row in found]


class Found(NamedTuple):
    """A row a staged check found, and how many rows of its file that check found in all."""

    source: str
    row: int
    value: str
    total: int
