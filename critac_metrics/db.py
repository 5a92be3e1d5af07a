"""The DuckDB store: schema, derived tables, atomic publication of new versions.

Writers never touch the published file in place. An import copies the current database to a temporary
file beside it, loads and checkpoints there, keeps the old version under ``<db>.versions/`` and then
``os.replace``s the new file onto the published path. Readers that already hold the old file keep their
snapshot; new connections see the new one; a crash mid-import leaves the published file untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import schema

KEEP_VERSIONS = 5
CONFIG = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def connect(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config=CONFIG)


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


def _table_ddl(table: schema.Table) -> str:
    cols = []
    for col in table.columns:
        not_null = " NOT NULL" if col.required else ""
        cols.append(f"{col.name} {col.sql_type}{not_null}")
    cols.append(f"PRIMARY KEY ({table.key})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table in schema.TABLES.values():
        con.execute(_table_ddl(table))
    con.execute(
        "create table if not exists topics (topic varchar primary key, topic_group varchar not null,"
        " in_catalogue boolean not null)"
    )
    con.execute(
        "create table if not exists imports (import_id integer primary key, imported_at timestamp,"
        " source varchar, files json, rows_by_table json, warnings json, is_demo boolean)"
    )


SIZE_BAND_SQL = """case
    when a.sworn_officers is null then 'Unknown'
    when a.sworn_officers < 50 then '< 50'
    when a.sworn_officers < 250 then '50–249'
    when a.sworn_officers < 1000 then '250–999'
    else '1,000+' end"""


_STATES_SQL = "[" + ", ".join(f"'{code}'" for code in schema.STATES) + "]"  # state_key order


def _region_sql() -> str:
    whens = " ".join(
        f"when '{code}' then '{region}'" for code, region in schema.STATE_REGION.items()
    )
    return f"case a.state {whens} else 'Unknown' end"


def answer_column(wave: str, item: str, answer: int) -> str:
    """The engagement_facts column counting one answer to one item in one wave."""
    return f"{wave}_{item}_{answer}"


DERIVED_VERSION = 8  # bump when rebuild_derived changes shape; older stores are rebuilt on open


def rebuild_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Denormalised tables every metric reads.

    - survey_rollup: per engagement and wave, responses and the count of each answer to each item.
    - engagement_facts: one row per engagement with its agency, flags, topics, day counts and, per
      wave, its responses and answer counts, so no metric needs a join. ``row_id`` numbers the rows
      in request order; ``agency_key`` and ``state_key`` are integers (bitmap distinct counts).
    - topic_sets, set_topics, set_topic_groups: every distinct list of topics an engagement has
      (35k at a million demo engagements), numbered, with its topics and topic groups.
      Sums by topic add up per topic set first and then spread over the set's topics.
    - fact_topics / fact_topic_groups: (value, row_id) for every topic and topic group of every
      engagement, ordered by value, for topic filters (a semi-join) and figures that do not add up
      (distinct agencies, medians) by topic.
    - comment_facts: the survey answers with a comment on an engagement, newest first, with the
      engagement's columns that the comments table shows and the filters read.
    - distinct_agencies(agency_key), distinct_states(state_key): macros counting with a bitmap.
    - store_meta: one row of facts about the whole store (the last day the data covers).
    """
    not_engaged = ", ".join(f"'{s}'" for s in schema.NOT_ENGAGED)
    item_counts = ",\n".join(
        f"(count(*) filter (where {item} = {answer}))::integer as {item}_{answer}"
        for item in schema.SURVEY_ITEMS
        for answer in range(1, 6)
    )
    con.execute(f"""
        create or replace table survey_rollup as
        select engagement_id, wave, count(*)::integer as responses,
        {item_counts}
        from survey_responses
        group by engagement_id, wave
    """)  # noqa: S608 - only constants from schema.py are interpolated
    # Each wave's rollup row is joined as sw_<wave> (at most one per engagement): no aggregation
    # over the wide answer columns, which is what made this statement memory-hungry.
    survey_columns = ", ".join(
        [f"coalesce(sw_{w}.responses, 0)::integer as {w}_responses" for w in schema.WAVES]
        + [
            "(" + " + ".join(f"coalesce(sw_{w}.responses, 0)" for w in schema.WAVES) + ")::integer"
            " as responses"
        ]
        + [
            f"coalesce(sw_{w}.{i}_{a}, 0)::integer as {answer_column(w, i, a)}"
            for w in schema.WAVES
            for i in schema.SURVEY_ITEMS
            for a in range(1, 6)
        ]
        + [
            "coalesce("
            + " + ".join(f"sw_{w}.{i}_{a}" for i in schema.SURVEY_ITEMS for a in answers)
            + f", 0)::integer as {w}_{name}"
            for w in ("post",)  # the KPI tile's positive outcome reads the post wave only
            for name, answers in (("answers", range(1, 6)), ("top2", (4, 5)))
        ]
    )
    survey_joins = "\n".join(
        f"left join survey_rollup sw_{w} on sw_{w}.engagement_id = e.engagement_id"
        f" and sw_{w}.wave = '{w}'"
        for w in schema.WAVES
    )
    con.execute("""
        create or replace table topic_sets as
        select (row_number() over (order by topics))::integer as topic_set_id, topics
        from (select distinct topics from engagements)
    """)
    con.execute("""
        create or replace table set_topics as
        select topic_set_id, unnest(topics) as topic from topic_sets order by all
    """)
    con.execute("""
        create or replace table set_topic_groups as
        select distinct s.topic_set_id, t.topic_group
        from set_topics s join topics t using (topic) order by all
    """)
    # Built in two steps so that no statement holds the survey rollups' hash tables together with
    # the windows and joins of the engagement columns (the peak memory of a large import).
    con.execute(f"""
        create or replace temp table engagement_spine as
        with topic_groups as (
            select topic_set_id, list(topic_group order by topic_group) as topic_groups
            from set_topic_groups group by topic_set_id
        ),
        request_order as (
            -- numbered on the narrow key columns, not on the wide result (windows hold every column)
            select engagement_id,
                (row_number() over (order by requested_on, engagement_id))::integer as row_id
            from engagements
        ),
        agency_keys as (
            select agency_id, (row_number() over (order by agency_id))::integer as agency_key
            from agencies
        ),
        agency_sequence as (
            -- n-th engagement of its agency (declined/withdrawn requests are not counted)
            select engagement_id,
                row_number() over (partition by agency_id order by requested_on, engagement_id)
                    as agency_engagement_seq
            from engagements
            where status not in ({not_engaged})
        )
        select
            o.row_id, e.engagement_id, e.agency_id, k.agency_key, a.agency_name, a.agency_type, a.state,
            list_position({_STATES_SQL}, a.state)::integer as state_key,
            {_region_sql()} as region,
            a.sworn_officers, {SIZE_BAND_SQL} as size_band,
            e.requested_on,
            year(e.requested_on) + (month(e.requested_on) >= 10)::int as fiscal_year,
            e.status,
            e.status not in ({not_engaged}) as is_engagement,
            e.status = 'completed' as is_completed,
            e.assistance_type, e.delivery_mode, e.provider, e.participants,
            e.topics, e.topics[1] as primary_topic, t.topic_group as primary_topic_group,
            ts.topic_set_id, tg.topic_groups, s.agency_engagement_seq,
            e.started_on, e.completed_on,
            date_diff('day', e.requested_on, e.started_on) as days_to_start,
            date_diff('day', e.started_on, e.completed_on) as days_start_to_completion,
            date_diff('day', e.requested_on, e.completed_on) as days_to_completion
        from engagements e
        join agencies a using (agency_id)
        join agency_keys k using (agency_id)
        join request_order o using (engagement_id)
        left join topics t on t.topic = e.topics[1]
        left join topic_sets ts on ts.topics = e.topics
        left join topic_groups tg on tg.topic_set_id = ts.topic_set_id
        left join agency_sequence s using (engagement_id)
    """)  # noqa: S608 - only constants from schema.py are interpolated
    con.execute(f"""
        create or replace table engagement_facts as
        select e.*, {survey_columns}
        from engagement_spine e
        {survey_joins}
        order by e.row_id
    """)  # noqa: S608 - only constants from schema.py are interpolated
    con.execute("drop table engagement_spine")
    con.execute("""
        create or replace table fact_topics as
        select topic, row_id from (select unnest(topics) as topic, row_id from engagement_facts)
        order by topic, row_id
    """)
    con.execute("""
        create or replace table fact_topic_groups as
        select topic_group, row_id
        from (select unnest(topic_groups) as topic_group, row_id from engagement_facts)
        order by topic_group, row_id
    """)
    con.execute("""
        create or replace table comment_facts as
        select s.submitted_on, s.response_id, s.comment, s.satisfaction, s.wave,
            s.respondent_role, f.row_id, f.requested_on, f.completed_on, f.agency_name,
            f.agency_type, f.state,
            f.primary_topic, f.assistance_type, f.delivery_mode
        from survey_responses s join engagement_facts f using (engagement_id)
        where s.comment is not null and s.comment <> '' and f.is_engagement
        order by s.submitted_on desc, s.response_id
    """)
    # Distinct agencies (and states) as a bitmap over integer keys: about twice as fast as
    # count(distinct). bitstring_agg needs its range as a constant, so the macro is written with
    # this store's agency count (a number read from the database, not user input).
    agency_count = con.execute("select greatest(count(*), 1) from agencies").fetchone()[0]
    for name, key, count in (
        ("distinct_agencies", "agency_key", int(agency_count)),
        ("distinct_states", "state_key", len(schema.STATES)),
    ):
        con.execute(
            f"create or replace macro {name}({key}) as"
            f" coalesce(bit_count(bitstring_agg({key}, 1, {count})), 0)"
        )
    con.execute(f"""
        create or replace table store_meta as
        select {DERIVED_VERSION} as derived_version,
            (select max(greatest(requested_on, coalesce(completed_on, requested_on)))
             from engagements) as data_through
    """)  # noqa: S608 - a constant


def seed_topics(con: duckdb.DuckDBPyConnection, catalogue) -> None:
    con.register("catalogue_df", catalogue)
    con.execute(
        "insert into topics select topic, topic_group, true from catalogue_df"
        " on conflict do nothing"
    )
    con.unregister("catalogue_df")


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """One writer at a time per database (imports, demo rebuilds, rollbacks), across processes.

    A second writer waits; without this, two imports that copied the same version would each
    publish their copy and the later one would silently drop the other's rows.
    """
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale_copies(path: Path) -> None:
    """Copies left by a writer that was killed (only called while holding the writer lock)."""
    for pattern in (f".{path.name}.*.new", f".{path.name}.*.new.wal"):
        for stale in path.parent.glob(pattern):
            stale.unlink(missing_ok=True)


@contextmanager
def new_version(path: str | Path, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable copy of the database at ``path`` (an empty database if ``fresh``) and
    publish it atomically if the block succeeds; the version it replaces is kept for rollback.

    The derived tables are rebuilt before publishing, so every published version is complete.
    On an exception, or if the process dies, the published database is exactly as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path), _publish_copy(path, fresh=fresh, keep_previous=True) as con:
        yield con


@contextmanager
def _publish_copy(
    path: Path, fresh: bool, keep_previous: bool
) -> Iterator[duckdb.DuckDBPyConnection]:
    """new_version's work; the caller holds the writer lock."""
    _remove_stale_copies(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if path.exists() and not fresh:
            shutil.copyfile(path, tmp)
        else:
            tmp.unlink()
        con = connect(tmp, read_only=False)
        try:
            with tempfile.TemporaryDirectory(prefix="critac-spill-") as spill:
                limit_memory(con, WRITER_MEMORY_LIMIT, spill)
                create_schema(con)
                yield con
                rebuild_derived(con)
                con.execute("checkpoint")
        finally:
            con.close()
        if keep_previous:
            _keep_version(path)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)


def derived_version(path: str | Path) -> int | None:
    """The shape of the derived tables in the database at ``path`` (None: older than store_meta)."""
    con = connect(path, read_only=True)
    try:
        return con.execute("select derived_version from store_meta").fetchone()[0]
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def _outdated(path: Path) -> bool:
    version = derived_version(path)
    return version is None or version < DERIVED_VERSION


def upgrade(path: str | Path) -> bool:
    """Rebuild the derived tables of a store built by older code (same records, new shape), as an
    atomic replace under the writer lock. Returns whether it did.

    The rebuilt file is not kept as a version of its own: the records did not change, so a later
    rollback goes back to the previous import (and that store is upgraded again when opened)."""
    path = Path(path)
    if not _outdated(path):
        return False
    with writer_lock(path):
        if not _outdated(path):  # another process upgraded it while this one waited
            return False
        with _publish_copy(path, fresh=False, keep_previous=False):
            pass
    return True


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def _keep_version(path: Path) -> None:
    if not path.exists():
        return
    folder = versions_dir(path)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    os.link(path, folder / f"{stamp}.duckdb")  # a hard link: the old inode survives the replace
    for old in sorted(folder.glob("*.duckdb"))[:-KEEP_VERSIONS]:
        old.unlink()


def list_versions(path: str | Path) -> list[Path]:
    return sorted(versions_dir(Path(path)).glob("*.duckdb"))


def rollback(path: str | Path) -> Path:
    """Publish the newest kept version again (atomically); return the version restored."""
    path = Path(path)
    with writer_lock(path):
        versions = list_versions(path)
        if not versions:
            raise FileNotFoundError(f"no earlier version of {path} is kept in {versions_dir(path)}")
        newest = versions[-1]
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".rollback", dir=path.parent
        )
        os.close(fd)
        shutil.copyfile(newest, tmp_name)
        os.replace(tmp_name, path)
        newest.unlink()
    return newest


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """Changes whenever a new version is published; used to reopen cached read connections."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)
