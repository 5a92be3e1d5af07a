"""Result shaping: running a query and handing back its rows as a DataFrame or a dict.

``_frame`` builds the DataFrame that DuckDB's ``.df()`` gives (same columns, dtypes and values)
from ``fetchall()`` rows, which costs a fraction of ``.df()`` for the small results the metrics
return. The dtype of each DuckDB type follows ``.df()``; a type not listed in ``_NUMPY_DTYPES``
(none that the metrics return today) gets the dtype pandas infers from its values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pandas as pd

Connection = duckdb.DuckDBPyConnection
Params = list[Any]  # bound parameters, one per ``?``
Row = tuple[Any, ...]
Description = list[tuple[Any, ...]]  # per column: name, DuckDB type, ... (DB-API)


def query(con: Connection, sql: str, params: Params | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _fetch(con: Connection, sql: str, params: Params) -> tuple[list[Row], Description]:
    """The rows ``sql`` returns and its column descriptions (name, type, ...)."""
    rows = con.execute(sql, params).fetchall()
    return rows, con.description or []


# The dtype ``.df()`` gives a column of each DuckDB type (a column of an integer or boolean type
# with NULLs in it takes pandas' nullable dtype of that name: Int64, boolean).
_NUMPY_DTYPES = {
    "BIGINT": "int64",
    "INTEGER": "int32",
    "SMALLINT": "int16",
    "TINYINT": "int8",
    "UBIGINT": "uint64",
    "UINTEGER": "uint32",
    "USMALLINT": "uint16",
    "UTINYINT": "uint8",
    "HUGEINT": "float64",
    "DOUBLE": "float64",
    "FLOAT": "float32",
    "DATE": "datetime64[us]",
    "BOOLEAN": "bool",
}
_NULLABLE = {"int64": "Int64", "int32": "Int32", "int16": "Int16", "int8": "Int8"}
_NULLABLE |= {f"u{k}": f"U{v}" for k, v in _NULLABLE.items()} | {"bool": "boolean"}


def _frame(rows: list[Row], description: Description) -> pd.DataFrame:
    """``rows`` as the DataFrame ``.df()`` returns (same columns and dtypes); for a small result,
    building it from ``fetchall()`` rows costs a fraction of ``.df()``."""
    columns = zip(*rows, strict=True) if rows else ((),) * len(description)
    return pd.DataFrame(
        {
            d[0]: _column(list(values), str(d[1]))
            for d, values in zip(description, columns, strict=True)
        }
    )


def _column(values: list[Any], kind: str) -> Any:
    """One column of ``_frame``: the values of DuckDB type ``kind`` with ``.df()``'s dtype (a
    DECIMAL as float64, as ``.df()`` gives it), or for a type without a listed dtype (a timestamp,
    an interval, a list) the dtype pandas infers from the values: the same values, where ``.df()``
    might choose another dtype, rather than a KeyError."""
    if kind == "VARCHAR":  # pandas infers "str" as .df() does (object when empty or all NULL)
        return values if values else np.array([], dtype=object)
    if kind.startswith("DECIMAL"):
        return np.array(values, dtype="float64")  # None becomes NaN
    dtype = _NUMPY_DTYPES.get(kind)
    if dtype is None:
        return pd.Series(values, dtype=None if values else object)
    if None in values and dtype in _NULLABLE:
        return pd.array(values, dtype=_NULLABLE[dtype])
    return np.array(values, dtype=dtype)


def _record(con: Connection, sql: str, params: Params) -> dict[str, Any]:
    """The one row ``sql`` returns, as a dict (no DataFrame for a single row)."""
    row = con.execute(sql, params).fetchone()
    if row is None or con.description is None:
        raise LookupError(f"no row from: {sql}")
    return dict(zip((d[0] for d in con.description), row, strict=True))


def _pct(part: float, whole: float) -> float | None:
    return part / whole * 100 if whole else None


def _none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _as_date(value: Any) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return value if type(value) is dt.date else pd.Timestamp(value).date()


def data_through(con: Connection) -> dt.date | None:
    """The last day of engagement data (``store_meta.data_through``)."""
    row = con.execute("select data_through from store_meta").fetchone()
    return _as_date(row[0]) if row else None


def _gapped(values: list[int | None]) -> np.ndarray[Any, Any]:
    """Counts with gaps (None): int64 without any, else float64 with NaN in them."""
    return np.array(values, dtype="float64" if None in values else "int64")
