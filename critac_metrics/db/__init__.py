"""The DuckDB store: schema, derived tables, atomic publication of new versions.

Writers never touch the published file in place. An import copies the current database to a temporary
file beside it, loads and checkpoints there, keeps the old version under ``<db>.versions/`` and then
``os.replace``s the new file onto the published path. Readers that already hold the old file keep their
snapshot; new connections see the new one; a crash mid-import leaves the published file untouched.

Callers import ``critac_metrics.db`` alone; the work is split along its seams:

- ``connection``: connections, snapshots for long-lived readers, the file's identity, damaged files.
- ``tables``: the stored tables' DDL, the topic catalogue, the derived tables (one builder each).
- ``files``: write errors, scratch folders in TMPDIR, the writer lock, working copies.
- ``publish``: new versions, upgrades of stores built by older code, kept versions, rollback.
"""

from .connection import (
    CONFIG,
    SNAPSHOT_CATALOG,
    WRITER_MEMORY_LIMIT,
    connect,
    file_identity,
    is_unreadable,
    limit_memory,
    open_snapshot,
    scalar,
    snapshot_cursor,
)
from .files import (
    SCRATCH_PREFIXES,
    UNLOCKED_SCRATCH_TTL,
    ScratchDir,
    WriteError,
    remove_stale_scratch,
    scratch_dir,
    writer_lock,
)
from .publish import (
    CONTRACT_TABLES,
    KEEP_VERSIONS,
    PUBLISHED,
    RollbackError,
    RolledBack,
    Version,
    derived_version,
    describe_version,
    list_versions,
    new_version,
    rollback,
    upgrade,
    versions,
    versions_dir,
)
from .tables import (
    DERIVED_BUILDERS,
    DERIVED_VERSION,
    SIZE_BAND_SQL,
    answer_column,
    create_schema,
    rebuild_derived,
    seed_topics,
)

__all__ = [
    "CONFIG",
    "CONTRACT_TABLES",
    "DERIVED_BUILDERS",
    "DERIVED_VERSION",
    "KEEP_VERSIONS",
    "PUBLISHED",
    "SCRATCH_PREFIXES",
    "SIZE_BAND_SQL",
    "SNAPSHOT_CATALOG",
    "UNLOCKED_SCRATCH_TTL",
    "WRITER_MEMORY_LIMIT",
    "RollbackError",
    "RolledBack",
    "ScratchDir",
    "Version",
    "WriteError",
    "answer_column",
    "connect",
    "create_schema",
    "derived_version",
    "describe_version",
    "file_identity",
    "is_unreadable",
    "limit_memory",
    "list_versions",
    "new_version",
    "open_snapshot",
    "rebuild_derived",
    "remove_stale_scratch",
    "rollback",
    "scalar",
    "scratch_dir",
    "seed_topics",
    "snapshot_cursor",
    "upgrade",
    "versions",
    "versions_dir",
    "writer_lock",
]
