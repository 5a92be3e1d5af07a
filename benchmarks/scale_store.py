"""A store k times the size of a demo store: every agency, engagement and response repeated k times
with new ids, then the derived tables rebuilt by the library (``db.new_version``).

    python benchmarks/scale_store.py --source demo_1000000.duckdb --times 10 --db demo_10000000.duckdb

The demo command holds a whole import in pandas (2.3 GB at 1M engagements on this machine, so about
23 GB at 10M), so the 10M benchmark store is built from the 1M demo store in DuckDB instead. Copy 0
keeps the original ids; copy i appends ``-R<i>`` to every id. Distributions stay those of the demo
data; there are k times as many agencies (a national roll-up of k programs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from critac_metrics import db, schema  # noqa: E402

# Columns holding an id that must stay unique (or keep pointing at its copy) in every copy.
ID_COLUMNS = {
    "agencies": ("agency_id",),
    "engagements": ("engagement_id", "agency_id"),
    "survey_responses": ("response_id", "engagement_id"),
}


def scale(source: Path, target: Path, times: int, memory_limit: str = "12GB") -> None:
    with db.new_version(target, fresh=True) as con:
        con.execute(f"set memory_limit = '{memory_limit}'")  # a constant of this script
        con.execute("attach ? as source (read_only)", [str(source)])
        con.execute("insert into topics select * from source.topics")
        for name in schema.TABLE_ORDER:
            replaced = ", ".join(
                f"{column} || case when copy = 0 then '' else '-R' || copy end as {column}"
                for column in ID_COLUMNS[name]
            )
            columns = ", ".join(schema.TABLES[name].column_names)
            con.execute(
                f"insert into {name} ({columns}) select {columns} from ("  # noqa: S608 - schema names
                f" select * replace ({replaced})"
                f" from source.{name} cross join (select range as copy from range(?)))",
                [times],
            )
        con.execute(
            "insert into imports select import_id, imported_at, source || ?, files, rows_by_table,"
            " warnings, is_demo from source.imports",
            [f" (repeated {times}x by benchmarks/scale_store.py)"],
        )
        con.execute("detach source")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    scale(args.source, args.db, args.times)
    print(f"built {args.db} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
