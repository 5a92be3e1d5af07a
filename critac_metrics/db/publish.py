"""Versions of the store: publishing a new version atomically, upgrading a store built by older
code, the kept versions and rolling back to one of them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import tables
from .connection import CONFIG, WRITER_MEMORY_LIMIT, connect, file_identity, limit_memory, scalar
from .files import (
    _give_access,
    _remove_stale_copies,
    _working_copy,
    _write_errors,
    scratch_dir,
    writer_lock,
)

KEEP_VERSIONS = 5


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
                tables.create_schema(con)
                yield con
                tables.rebuild_derived(con)
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
    return version is None or version < tables.DERIVED_VERSION


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
