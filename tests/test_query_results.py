"""Result shaping (critac_metrics.queries.results): a small result built from ``fetchall()`` rows is
the DataFrame DuckDB's ``.df()`` gives, for every column type, NULLs and empty results included."""

from __future__ import annotations

import warnings

import duckdb
import pandas as pd
import pytest

from critac_metrics.queries import results

# Each type with .df()'s own dtype in results._NUMPY_DTYPES (or VARCHAR, or DECIMAL) must give the
# same frame as .df(), dtypes included.
LISTED = {
    "BIGINT": "42::BIGINT",
    "INTEGER": "42::INTEGER",
    "SMALLINT": "42::SMALLINT",
    "TINYINT": "42::TINYINT",
    "UBIGINT": "42::UBIGINT",
    "UINTEGER": "42::UINTEGER",
    "USMALLINT": "42::USMALLINT",
    "UTINYINT": "42::UTINYINT",
    "HUGEINT": "42::HUGEINT",
    "DOUBLE": "1.5::DOUBLE",
    "FLOAT": "1.5::FLOAT",
    "DATE": "DATE '2024-02-29'",
    "BOOLEAN": "true",
    "VARCHAR": "'on site'",
    "DECIMAL": "1.5::DECIMAL(4, 1)",
}
# Types without a listed dtype: pandas infers one from the values (no KeyError, the same values).
UNLISTED = {
    "TIMESTAMP": "TIMESTAMP '2024-02-29 10:00:00'",
    "TIME": "TIME '10:30:00'",
    "INTERVAL": "INTERVAL 3 DAY",
    "INTEGER[]": "[1, 2]",
}


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _both(con, sql: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():  # a pandas deprecation inside duckdb's .df() in some versions
        warnings.simplefilter("ignore")
        expected = con.execute(sql).df()
    return results._frame(*results._fetch(con, sql, [])), expected


def _rows(value: str, nulls: bool) -> str:
    """Two rows of ``value`` (the second NULL with ``nulls``), as one column ``x``."""
    second = f"null::{_type(value)}" if nulls else value
    return f"select * from (select {value} as x union all select {second}) order by x nulls last"


def _type(value: str) -> str:
    return value.split("::")[-1] if "::" in value else {"true": "BOOLEAN"}.get(value, "VARCHAR")


@pytest.mark.parametrize("kind", list(LISTED))
@pytest.mark.parametrize("shape", ["rows", "nulls", "empty"])
def test_a_listed_type_gives_the_frame_df_gives(con, kind, shape):
    value = LISTED[kind]
    if kind == "DATE" and shape == "nulls":
        sql = "select * from (values (DATE '2024-02-29'), (null)) t(x)"
    elif kind == "VARCHAR" and shape == "nulls":
        sql = "select * from (values ('on site'), (null)) t(x)"
    else:
        sql = _rows(value, nulls=shape == "nulls")
    if shape == "empty":
        sql = f"select * from ({sql}) where false"
    actual, expected = _both(con, sql)
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


@pytest.mark.parametrize("kind", list(UNLISTED))
def test_an_unlisted_type_falls_back_to_the_values(con, kind):
    assert kind not in results._NUMPY_DTYPES
    sql = f"select {UNLISTED[kind]} as x, 7::BIGINT as n"
    actual, expected = _both(con, sql)
    assert list(actual.columns) == ["x", "n"] and len(actual) == 1
    assert actual["n"].dtype == expected["n"].dtype
    got, want = actual["x"].iloc[0], expected["x"].iloc[0]
    if kind == "INTEGER[]":
        assert list(got) == list(want)
    elif kind == "TIMESTAMP":
        assert pd.Timestamp(got) == pd.Timestamp(want)
    else:
        assert got == want
    empty, _ = _both(con, f"select * from ({sql}) where false")
    assert list(empty.columns) == ["x", "n"] and empty.empty


def test_a_metric_result_is_the_frame_df_gives(tiny_con):
    """A real query over the store: dates, counts, shares and text together."""
    sql = """
        select requested_on, engagement_id, agency_type, participants, sworn_officers,
            is_completed, days_to_completion * 1.0 as days
        from engagement_facts order by row_id
    """
    actual, expected = _both(tiny_con, sql)
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
