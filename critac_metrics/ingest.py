"""Import exports into the store: read -> validate -> load atomically -> report. All or nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from . import db, schema
from .catalogue import load_topic_catalogue
from .readers import ReadError, Sheet, frame_to_sheet, read_sheets
from .staging import Staging, staged
from .validate import Existing, Problem, Validated, validate

UNKNOWN_TOPIC_GROUP = "Other (not in catalogue)"


@dataclass
class ImportReport:
    files: list[dict[str, object]] = field(default_factory=list)  # name, sha256, bytes
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    loaded: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        """Rows with a problem, including those counted but not listed (Problem.more)."""
        return sum(1 + p.more for p in self.errors)

    def summary_lines(self, max_errors: int = 200) -> list[str]:
        lines = []
        if self.errors:
            lines.append(f"REJECTED: {self.error_count:,} error(s); nothing was changed.")
            lines += [f"  error: {p}" for p in self.errors[:max_errors]]
            if len(self.errors) > max_errors:
                lines.append(f"  ... and {len(self.errors) - max_errors} more error(s)")
        else:
            verb = "Loaded" if self.loaded else "Valid"
            counts = ", ".join(f"{table}: {n:,}" for table, n in self.rows.items())
            lines.append(f"{verb}: {counts or 'no rows'}")
        lines += [f"  warning: {p}" for p in self.warnings]
        return lines


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_files(paths: Sequence[str | Path], report: ImportReport) -> list[Sheet]:
    sheets: list[Sheet] = []
    for raw in paths:
        path = Path(raw)
        try:
            found, warnings = read_sheets(path)
        except ReadError as exc:
            report.errors.append(Problem(path.name, None, None, None, str(exc).split(": ", 1)[-1]))
            continue
        except Exception as exc:  # a reader bug must still surface as a message, not a traceback
            report.errors.append(
                Problem(path.name, None, None, None, f"could not be read ({type(exc).__name__})")
            )
            continue
        size = path.stat().st_size
        report.files.append({"name": path.name, "sha256": _sha256(path), "bytes": size})
        sheets += found
        report.warnings += [
            Problem(path.name, None, None, None, w.split(": ", 1)[-1]) for w in warnings
        ]
    return sheets


def what_is_stored(path: str | Path | None) -> Existing:
    """The topic catalogue (the built-in one and any topics the store added) and the store."""
    catalogue = tuple(load_topic_catalogue()["topic"])
    if path is None or not Path(path).exists():
        return Existing(topics=catalogue)
    con = db.connect(path, read_only=True)
    try:
        topics = con.execute("select topic from topics").fetchall()
    finally:
        con.close()
    return Existing(
        topics=tuple(dict.fromkeys([*catalogue, *(r[0] for r in topics)])), store=Path(path)
    )


def _opened(paths: Sequence[str | Path]) -> tuple[ImportReport, list[Sheet]]:
    """A report for an import of ``paths``, with the files' sheets (and any that cannot be read)."""
    report = ImportReport()
    sheets = read_files(paths, report)
    if not paths:
        report.errors.append(Problem("(import)", None, None, None, "no files given"))
    return report, sheets


def validate_files(paths: list[str | Path], db_path: str | Path | None = None) -> ImportReport:
    """Check ``paths`` as an import into ``db_path`` would, without loading anything."""
    report, sheets = _opened(paths)
    with Staging() as staging:
        _validate_sheets(sheets, report, db_path, staging)
    return report


def _validate_sheets(
    sheets: list[Sheet], report: ImportReport, db_path: str | Path | None, staging: Staging
) -> Validated | None:
    if report.errors:
        return None
    try:
        existing = what_is_stored(db_path)
    except duckdb.Error as exc:
        name = Path(db_path).name if db_path else "database"
        reason = str(exc).strip().splitlines()[0][:200]
        report.errors.append(Problem(name, None, None, None, f"not a readable database ({reason})"))
        return None
    result = validate(sheets, existing, staging)
    report.errors += result.errors
    report.warnings += result.warnings
    report.rows = result.rows
    return result


def ingest_files(
    db_path: str | Path, paths: Sequence[str | Path], source: str = "import", is_demo: bool = False
) -> ImportReport:
    """Validate ``paths`` and, only if there is no error, publish a new database version with them."""
    report, sheets = _opened(paths)
    with Staging() as staging:
        result = _validate_sheets(sheets, report, db_path, staging)
        if report.ok and result is not None:
            load(db_path, staging, result, report, source=source, is_demo=is_demo)
    return report


def ingest_frames(
    db_path: str | Path,
    frames: dict[str, pd.DataFrame],
    source: str,
    is_demo: bool = False,
    fresh: bool = False,
) -> ImportReport:
    """The same validation and load for in-memory frames (the demo generator uses it).

    ``fresh`` publishes a database holding only these frames (atomically, like any import)."""
    sheets = [
        frame_to_sheet(table, frame, f"{source} [{table}]") for table, frame in frames.items()
    ]
    report = ImportReport()
    with Staging() as staging:
        result = _validate_sheets(sheets, report, None if fresh else db_path, staging)
        if report.ok and result is not None:
            load(db_path, staging, result, report, source=source, is_demo=is_demo, fresh=fresh)
    return report


def load(
    db_path: str | Path,
    staging: Staging,
    result: Validated,
    report: ImportReport,
    source: str,
    is_demo: bool,
    fresh: bool = False,
) -> None:
    """Publish a new version with the staged rows (each record replaces a stored one with its id).

    A folder that cannot be written or a full disk is reported as the import's one error."""
    staging.close()
    # Arrow's allocator keeps what validation freed for reuse; hand it back before the rebuild.
    pa.default_memory_pool().release_unused()
    try:
        _publish(db_path, staging, result, report, source, is_demo, fresh)
    except db.WriteError as exc:
        report.errors.append(
            Problem(
                Path(db_path).name,
                None,
                None,
                None,
                f"the files are valid, but the database could not be written ({exc.reason})",
            )
        )
        return
    report.loaded = True


def _publish(
    db_path: str | Path,
    staging: Staging,
    result: Validated,
    report: ImportReport,
    source: str,
    is_demo: bool,
    fresh: bool,
) -> None:
    with db.new_version(db_path, fresh=fresh) as con:
        db.seed_topics(con, load_topic_catalogue())
        for topic in result.new_topics:
            con.execute(
                "insert into topics values (?, ?, false) on conflict do nothing",
                [topic, UNKNOWN_TOPIC_GROUP],
            )
        con.execute("attach ? as staging (read_only)", [str(staging.path)])
        for name in schema.TABLE_ORDER:
            if name in result.rows:
                _upsert(con, schema.TABLES[name], f"staging.{staged(name)}")
        con.execute("detach staging")
        _record_import(con, report, source, is_demo)


def _upsert(con: duckdb.DuckDBPyConnection, table: schema.Table, incoming: str) -> None:
    columns = ", ".join(table.column_names)
    key = table.key
    con.execute(f"delete from {table.name} where {key} in (select {key} from {incoming})")  # noqa: S608 - names come from schema.py
    con.execute(f"insert into {table.name} ({columns}) select {columns} from {incoming}")  # noqa: S608 - names come from schema.py


def _record_import(
    con: duckdb.DuckDBPyConnection, report: ImportReport, source: str, is_demo: bool
) -> None:
    next_id = db.scalar(con, "select coalesce(max(import_id), 0) + 1 from imports")
    con.execute(
        "insert into imports values (?, ?, ?, ?, ?, ?, ?)",
        [
            next_id,
            datetime.now(UTC).replace(tzinfo=None),
            source,
            json.dumps(report.files),
            json.dumps(report.rows),
            json.dumps([str(w) for w in report.warnings]),
            is_demo,
        ],
    )
