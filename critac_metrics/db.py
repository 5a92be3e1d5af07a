"""The DuckDB store: schema, derived tables, atomic publication of new versions.

Writers never touch the published file in place. An import copies the current database to a temporary
file beside it, loads and checkpoints there, keeps the old version under ``<db>.versions/`` and then
``os.replace``s the new file onto the published path. Readers that already hold the old file keep their
snapshot; new connections see the new one; a crash mid-import leaves the published file untouched.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb

from . import schema

if TYPE_CHECKING:
    import pandas as pd

KEEP_VERSIONS = 5
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


DERIVED_VERSION = 9  # bump when rebuild_derived changes shape; older stores are rebuilt on open


def rebuild_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Denormalised tables every metric reads.

    - survey_rollup: per engagement and wave, responses, respondents (responses answering at least
      one item), responses submitted after the data-through date, and the count of each answer to
      each item.
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
    for build in DERIVED_BUILDERS:
        build(con)


def _build_survey_rollup(con: duckdb.DuckDBPyConnection) -> None:
    item_counts = ",\n".join(
        f"(count(*) filter (where {item} = {answer}))::integer as {item}_{answer}"
        for item in schema.SURVEY_ITEMS
        for answer in range(1, 6)
    )
    any_answer = " or ".join(f"{item} is not null" for item in schema.SURVEY_ITEMS)
    con.execute(f"""
        create or replace table survey_rollup as
        select engagement_id, wave, count(*)::integer as responses,
        (count(*) filter (where {any_answer}))::integer as respondents,
        (count(*) filter (where submitted_on > (select max(greatest(requested_on,
            coalesce(completed_on, requested_on))) from engagements)))::integer as late_responses,
        {item_counts}
        from survey_responses
        group by engagement_id, wave
    """)  # noqa: S608 - only constants from schema.py are interpolated


def _survey_columns() -> str:
    # Each wave's rollup row is joined as sw_<wave> (at most one per engagement): no aggregation
    # over the wide answer columns, which is what made this statement memory-hungry.
    return ", ".join(
        [f"coalesce(sw_{w}.responses, 0)::integer as {w}_responses" for w in schema.WAVES]
        + [
            "(" + " + ".join(f"coalesce(sw_{w}.responses, 0)" for w in schema.WAVES) + ")::integer"
            " as responses"
        ]
        # respondents: responses that answered at least one item; late: submitted after the
        # last day of engagement data (store_meta.data_through)
        + [f"coalesce(sw_{w}.respondents, 0)::integer as {w}_respondents" for w in schema.WAVES]
        + [
            "("
            + " + ".join(f"coalesce(sw_{w}.late_responses, 0)" for w in schema.WAVES)
            + ")::integer as late_responses"
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


def _survey_joins() -> str:
    return "\n".join(
        f"left join survey_rollup sw_{w} on sw_{w}.engagement_id = e.engagement_id"
        f" and sw_{w}.wave = '{w}'"
        for w in schema.WAVES
    )


def _build_topic_sets(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table topic_sets as
        select (row_number() over (order by topics))::integer as topic_set_id, topics
        from (select distinct topics from engagements)
    """)


def _build_set_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table set_topics as
        select topic_set_id, unnest(topics) as topic from topic_sets order by all
    """)


def _build_set_topic_groups(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table set_topic_groups as
        select distinct s.topic_set_id, t.topic_group
        from set_topics s join topics t using (topic) order by all
    """)


def _build_engagement_facts(con: duckdb.DuckDBPyConnection) -> None:
    not_engaged = ", ".join(f"'{s}'" for s in schema.NOT_ENGAGED)
    survey_columns = _survey_columns()
    survey_joins = _survey_joins()
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
            -- n-th engagement of its agency (requests not accepted are not counted), and n-th
            -- delivered (completed) engagement, by request date
            select engagement_id,
                row_number() over (partition by agency_id order by requested_on, engagement_id)
                    as agency_engagement_seq,
                case when status = 'completed' then row_number() over (
                    partition by agency_id, status = 'completed'
                    order by requested_on, engagement_id) end as agency_delivery_seq
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
            ts.topic_set_id, tg.topic_groups, s.agency_engagement_seq, s.agency_delivery_seq,
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


def _build_fact_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table fact_topics as
        select topic, row_id from (select unnest(topics) as topic, row_id from engagement_facts)
        order by topic, row_id
    """)


def _build_fact_topic_groups(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table fact_topic_groups as
        select topic_group, row_id
        from (select unnest(topic_groups) as topic_group, row_id from engagement_facts)
        order by topic_group, row_id
    """)


def _build_comment_facts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table comment_facts as
        select s.submitted_on, s.response_id, s.comment, s.satisfaction, s.wave,
            s.respondent_role, f.row_id, f.requested_on, f.completed_on, f.agency_name,
            f.agency_type, f.state, f.primary_topic, f.assistance_type, f.delivery_mode,
            f.responses as engagement_responses
        from survey_responses s join engagement_facts f using (engagement_id)
        where s.comment is not null and s.comment <> '' and f.is_engagement
        order by s.submitted_on desc, s.response_id
    """)


def _build_distinct_macros(con: duckdb.DuckDBPyConnection) -> None:
    # Distinct agencies (and states) as a bitmap over integer keys: about twice as fast as
    # count(distinct). bitstring_agg needs its range as a constant, so the macro is written with
    # this store's agency count (a number read from the database, not user input).
    agency_count = scalar(con, "select greatest(count(*), 1) from agencies")
    for name, key, count in (
        ("distinct_agencies", "agency_key", int(agency_count)),
        ("distinct_states", "state_key", len(schema.STATES)),
    ):
        con.execute(
            f"create or replace macro {name}({key}) as"
            f" coalesce(bit_count(bitstring_agg({key}, 1, {count})), 0)"
        )


def _build_store_meta(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        create or replace table store_meta as
        select {DERIVED_VERSION} as derived_version,
            (select max(greatest(requested_on, coalesce(completed_on, requested_on)))
             from engagements) as data_through
    """)  # noqa: S608 - a constant


# One builder per derived table, in the order rebuild_derived runs them: each reads only the stored
# tables and the derived tables built before it.
DERIVED_BUILDERS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    _build_survey_rollup,
    _build_topic_sets,
    _build_set_topics,
    _build_set_topic_groups,
    _build_engagement_facts,
    _build_fact_topics,
    _build_fact_topic_groups,
    _build_comment_facts,
    _build_distinct_macros,
    _build_store_meta,
)


def seed_topics(con: duckdb.DuckDBPyConnection, catalogue: pd.DataFrame) -> None:
    con.register("catalogue_df", catalogue)
    con.execute(
        "insert into topics select topic, topic_group, true from catalogue_df"
        " on conflict do nothing"
    )
    con.unregister("catalogue_df")


class WriteError(OSError):
    """A folder or file could not be written (read-only, full disk, no permission) and nothing was
    changed. ``str()`` is one line for the user; ``reason`` is the system's reason alone."""

    def __init__(self, message: str, reason: str, cause: OSError | None = None) -> None:
        super().__init__(cause.errno if cause else None, cause.strerror if cause else reason)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def _reason(exc: BaseException) -> str:
    """One short line saying why a write failed, with the file's name but not the server's path."""
    if isinstance(exc, OSError):
        text = exc.strerror or type(exc).__name__
        return f"{text}: {Path(os.fsdecode(exc.filename)).name}" if exc.filename else text
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


@contextmanager
def _write_errors(path: Path, action: str) -> Iterator[None]:
    """Turn a failed write to the store (a read-only folder, a full disk) into one WriteError."""
    try:
        yield
    except WriteError:
        raise
    except (OSError, duckdb.IOException) as exc:
        reason = _reason(exc)
        cause = exc if isinstance(exc, OSError) else None
        if cause is None and "no space left" in reason.lower():
            cause = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise WriteError(
            f"{path}: could not {action} ({reason}); nothing was changed", reason, cause
        ) from exc


# -- scratch folders in TMPDIR ----------------------------------------------------------------------

SCRATCH_PREFIXES = ("critac-import-", "critac-spill-")
_HELD = ".held"  # inside a scratch folder, locked (flock) by the process that uses the folder
# A scratch folder without a lock file is one being made right now, or one left by older code.
UNLOCKED_SCRATCH_TTL = 3600.0


class ScratchDir:
    """A private folder in TMPDIR for one import's staging or spill files.

    The process that made it holds an exclusive ``flock`` on ``.held`` inside it for as long as it
    uses it. ``cleanup()`` removes it; if the process is killed first, the next ``ScratchDir`` (the
    next import) finds the lock free and removes the folder (``remove_stale_scratch``). A lock,
    not a process id, says who is alive: it is released by the kernel when the process dies,
    whatever PID namespace the processes are in, and a reused PID cannot keep it."""

    def __init__(self, prefix: str) -> None:
        remove_stale_scratch()
        root = tempfile.gettempdir()
        try:
            self.path = Path(tempfile.mkdtemp(prefix=prefix))
        except OSError as exc:
            reason = _reason(exc)
            raise WriteError(
                f"could not make a scratch folder in {root} ({reason}); nothing was changed."
                " Set TMPDIR to a writable folder with free space.",
                reason,
                exc,
            ) from exc
        try:
            # Locked before it gets its final name, so a cleaner never finds it free while alive.
            pending = self.path / f"{_HELD}.pending"
            handle = pending.open("w")
            fcntl.flock(handle, fcntl.LOCK_EX)
            pending.rename(self.path / _HELD)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._finalizer = weakref.finalize(self, _remove_scratch, self.path, handle)

    def cleanup(self) -> None:
        self._finalizer()


def _remove_scratch(path: Path, handle: IO[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
    handle.close()  # released after removal: no cleaner can take a half-removed folder for stale


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A ``ScratchDir`` for the block's duration."""
    scratch = ScratchDir(prefix)
    try:
        yield scratch.path
    finally:
        scratch.cleanup()


def remove_stale_scratch(root: str | Path | None = None) -> list[Path]:
    """Remove this user's scratch folders in ``root`` (default TMPDIR) left by killed processes:
    those whose ``.held`` lock no process holds (and, from older code, unlocked ones more than an
    hour old). Returns what it removed; never raises."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for prefix in SCRATCH_PREFIXES:
        try:
            candidates = list(root.glob(prefix + "*"))
        except OSError:
            continue
        for folder in candidates:
            with suppress(OSError):
                info = folder.lstat()
                if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                    continue  # a symbolic link, a file, or another user's folder
                if _stale(folder, info):
                    removed.append(folder)
    return removed


def _stale(folder: Path, info: os.stat_result) -> bool:
    """Whether ``folder`` is left by a dead process; if so, remove it (holding its lock)."""
    try:
        handle = (folder / _HELD).open("r")
    except FileNotFoundError:
        if time.time() - info.st_mtime < UNLOCKED_SCRATCH_TTL:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # held by a live process
        shutil.rmtree(folder, ignore_errors=True)
        return True


# -- writers ----------------------------------------------------------------------------------------


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


# What a killed writer leaves beside the database: an import's or upgrade's working copy (and
# its WAL), a rollback's copy. Readers never open them; the next writer removes them.
_WORKING_COPY_SUFFIXES = (".new", ".new.wal", ".rollback")


def _remove_stale_copies(path: Path) -> None:
    """Copies left by a writer that was killed (only called while holding the writer lock)."""
    for suffix in _WORKING_COPY_SUFFIXES:
        for stale in path.parent.glob(f".{path.name}.*{suffix}"):
            stale.unlink(missing_ok=True)


def _working_copy(path: Path, suffix: str) -> tuple[Path, int]:
    """A new empty file ``.<name>.<random><suffix>`` beside ``path``, and the mode a new file gets
    here (0666 less the umask: unlike ``mkstemp``'s 0600, which readers running as another user
    could not open)."""
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            return candidate, stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)


def _give_access(copy: Path, published: Path, default_mode: int) -> None:
    """Give ``copy`` the mode, owner and group of the ``published`` file it will replace (a new
    database: ``default_mode``), so whoever could read the database still can after a publish.

    The owner can be kept only by root; otherwise the group is kept if this user is in it."""
    try:
        before = os.stat(published)
    except FileNotFoundError:
        os.chmod(copy, default_mode)
        return
    for owner in (before.st_uid, -1):
        try:
            os.chown(copy, owner, before.st_gid)
            break
        except PermissionError:
            continue
    os.chmod(copy, stat.S_IMODE(before.st_mode))  # after chown, which may clear setgid bits


@contextmanager
def new_version(path: str | Path, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable copy of the database at ``path`` (an empty database if ``fresh``) and
    publish it atomically if the block succeeds; the version it replaces is kept for rollback.

    The derived tables are rebuilt before publishing, so every published version is complete.
    On an exception, or if the process dies, the published database is exactly as it was.
    A folder that cannot be written or a full disk raises ``WriteError`` (one line, nothing left
    behind). The new file keeps the published file's mode, owner and group.
    """
    path = Path(path)
    with _write_errors(path, "write a new version"):
        path.parent.mkdir(parents=True, exist_ok=True)
        with writer_lock(path), _publish_copy(path, fresh=fresh, keep_previous=True) as con:
            yield con


@contextmanager
def _publish_copy(
    path: Path, fresh: bool, keep_previous: bool
) -> Iterator[duckdb.DuckDBPyConnection]:
    """new_version's work; the caller holds the writer lock."""
    _remove_stale_copies(path)
    tmp, default_mode = _working_copy(path, ".new")
    try:
        if path.exists() and not fresh:
            shutil.copyfile(path, tmp)
        else:
            tmp.unlink()
        con = connect(tmp, read_only=False)
        try:
            with scratch_dir("critac-spill-") as spill:
                limit_memory(con, WRITER_MEMORY_LIMIT, spill)
                create_schema(con)
                yield con
                rebuild_derived(con)
                con.execute("checkpoint")
        finally:
            con.close()
        _give_access(tmp, path, default_mode)
        kept = _keep_version(path) if keep_previous else None
        try:
            os.replace(tmp, path)
        except OSError:
            if kept is not None:
                kept.unlink(missing_ok=True)
            raise
        if kept is not None:
            _prune_versions(path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            with suppress(OSError):
                leftover.unlink(missing_ok=True)


def derived_version(path: str | Path) -> int | None:
    """The shape of the derived tables in the database at ``path`` (None: older than store_meta)."""
    con = connect(path, read_only=True)
    try:
        return scalar(con, "select derived_version from store_meta")
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
    with _write_errors(path, "rebuild its summary tables"), writer_lock(path):
        if not _outdated(path):  # another process upgraded it while this one waited
            return False
        with _publish_copy(path, fresh=False, keep_previous=False):
            pass
    return True


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def _keep_version(path: Path) -> Path | None:
    """Keep the published file as a version (a hard link: the old inode survives the replace)."""
    if not path.exists():
        return None
    folder = versions_dir(path)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = folder / f"{stamp}.duckdb"
    os.link(path, kept)
    return kept


def _prune_versions(path: Path) -> None:
    """Keep the newest KEEP_VERSIONS (after a publish: a failure here must not undo it)."""
    for old in list_versions(path)[:-KEEP_VERSIONS]:
        with suppress(OSError):
            old.unlink()


def list_versions(path: str | Path) -> list[Path]:
    """The kept versions' files, oldest first; a version's name is its file's stem."""
    return sorted(versions_dir(Path(path)).glob("*.duckdb"))


CONTRACT_TABLES = ("agencies", "engagements", "survey_responses")
PUBLISHED = "published"  # the name ``Version`` gives the published file


@dataclass(frozen=True)
class Version:
    """What a database version holds: its last import and its row counts."""

    name: str  # a kept version's name (``rollback --to NAME``), or PUBLISHED
    path: Path
    last_import: int | None = None
    imported_at: datetime | None = None  # UTC, as recorded in the import log
    source: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    readable: bool = True

    def describe(self) -> str:
        """One line, e.g. ``import 3 of 2026-11-27 10:11 UTC (cli): 4 agencies, 9 engagements,
        7 survey responses``."""
        if not self.readable:
            return "not readable"
        if self.last_import is None:
            what = "no import recorded"
        else:
            when = f"{self.imported_at:%Y-%m-%d %H:%M:%S} UTC" if self.imported_at else "unknown"
            what = f"import {self.last_import} of {when} ({self.source})"
        counts = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in self.rows.items())
        return f"{what}: {counts}"

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.name,
            "last_import": self.last_import,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
            "source": self.source,
            "rows": self.rows,
            "readable": self.readable,
        }


def describe_version(file: str | Path, name: str = PUBLISHED) -> Version:
    """Read a version's last import and row counts (a private read-only attach: no file lock is
    held after it returns, and DuckDB's per-path instance cache is not involved)."""
    file = Path(file)
    con = duckdb.connect(":memory:", config=CONFIG)
    try:
        con.execute("attach ? as version (read_only)", [str(file)])
        last = con.execute(
            "select import_id, imported_at, source from version.imports"
            " order by import_id desc limit 1"
        ).fetchall()
        rows = {
            table: scalar(con, f"select count(*) from version.{table}")  # noqa: S608 - fixed names
            for table in CONTRACT_TABLES
        }
    except duckdb.Error:
        return Version(name, file, readable=False)
    finally:
        con.close()
    last_import, imported_at, source = last[0] if last else (None, None, None)
    return Version(name, file, last_import, imported_at, source, rows)


def versions(path: str | Path) -> list[Version]:
    """The kept versions, oldest first, described."""
    return [describe_version(kept, kept.stem) for kept in list_versions(path)]


class RollbackError(Exception):
    """A rollback that was refused (nothing kept, no such version, the database changed while the
    command waited). Nothing was changed; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class RolledBack:
    """What a rollback did: the version it replaced and the one it published again."""

    replaced: Version
    restored: Version
    dropped: tuple[str, ...]  # kept versions newer than the restored one, removed with it


def rollback(path: str | Path, to: str | None = None) -> RolledBack:
    """Publish a kept version again (atomically, with the published file's mode and group).

    ``to`` names the kept version to restore (``versions`` lists them). Without it, the newest
    version kept *when this function is called* is restored, and only if the published file is
    still the one it was then: if another writer publishes while this call waits for the writer
    lock (an import finishing), the call is refused (``RollbackError``) instead of undoing that
    import. With ``to``, exactly the named version is restored, whatever was published meanwhile.

    The restored version and every kept version newer than it leave the list (history goes back to
    it); the replaced file is not kept. A folder that cannot be written or a full disk raises
    ``WriteError`` (one line; the published file unchanged, no copy left behind).
    """
    path = Path(path)
    seen = file_identity(path)
    named = to is not None
    if to is None:
        kept = list_versions(path)
        if not kept:
            raise RollbackError(f"no earlier version of {path} is kept in {versions_dir(path)}")
        to = kept[-1].stem
    to = to.removesuffix(".duckdb")
    with _write_errors(path, "roll back"), writer_lock(path):
        if not named and file_identity(path) != seen:
            now = describe_version(path)
            raise RollbackError(
                f"{path} changed while this rollback waited (another writer published"
                f" {now.describe()}); nothing was restored. See `rollback --list` and name the"
                " version with `--to VERSION`."
            )
        kept = list_versions(path)
        names = [p.stem for p in kept]
        if to not in names:
            raise RollbackError(
                f"no kept version of {path} is named {to!r}; `rollback --list` shows them"
            )
        index = names.index(to)
        replaced, restored = describe_version(path), describe_version(kept[index], to)
        _remove_stale_copies(path)
        tmp, default_mode = _working_copy(path, ".rollback")
        try:
            shutil.copyfile(kept[index], tmp)
            _give_access(tmp, path, default_mode)
            os.replace(tmp, path)
        finally:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
        for gone in kept[index:]:  # published now, or newer than what is published
            with suppress(OSError):
                gone.unlink()
    return RolledBack(replaced, restored, tuple(names[index + 1 :]))


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
