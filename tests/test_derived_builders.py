"""db.rebuild_derived runs one builder per derived table, in order: each builder makes the table it
is named after from the stored tables and the derived tables built before it, and the builders run
one at a time give the same derived tables as the store was published with."""

from __future__ import annotations

import duckdb
import pandas as pd

from critac_metrics import db
from critac_metrics.store import build_demo_database

MACROS = {"_build_distinct_macros": ("distinct_agencies", "distinct_states")}


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}


def _macros(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select function_name from duckdb_functions() where function_name like 'distinct_%'"
        " and function_type like '%macro%'"
    ).fetchall()
    return {r[0] for r in rows}


def test_each_builder_makes_its_table_from_earlier_ones_and_the_result_is_unchanged(tmp_path):
    path = tmp_path / "store.duckdb"
    build_demo_database(path, 400, 11)
    con = duckdb.connect(str(path))
    try:
        derived = [b.__name__.removeprefix("_build_") for b in db.DERIVED_BUILDERS]
        derived_tables = [t for t in derived if t != "distinct_macros"]
        published = {t: con.execute(f"select * from {t}").df() for t in derived_tables}
        assert set(derived_tables) <= _tables(con)
        for table in derived_tables:
            con.execute(f"drop table {table}")
        for name in MACROS["_build_distinct_macros"]:
            con.execute(f"drop macro {name}")
        contract = _tables(con)

        for build, table in zip(db.DERIVED_BUILDERS, derived, strict=True):
            before = _tables(con)
            build(con)  # fails if it reads a derived table a later builder makes
            if build.__name__ in MACROS:
                assert _tables(con) == before
                assert _macros(con) == set(MACROS[build.__name__])
            else:
                assert _tables(con) - before == {table}, build.__name__
        assert _tables(con) == contract | set(derived_tables)

        for table, frame in published.items():
            rebuilt = con.execute(f"select * from {table}").df()
            if table == "survey_rollup":  # grouped without an order
                keys = ["engagement_id", "wave"]
                frame = frame.sort_values(keys, ignore_index=True)
                rebuilt = rebuilt.sort_values(keys, ignore_index=True)
            pd.testing.assert_frame_equal(rebuilt, frame, obj=table)
    finally:
        con.close()
