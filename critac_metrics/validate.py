"""Validate sheets of text against the data contract and stage their typed rows for the load.

Every problem is collected (not just the first) with file, spreadsheet row, column, value and rule.
Sheets are checked a chunk at a time (``readers.CHUNK_ROWS`` rows) with vectorised checks, and each
chunk's typed rows go to a ``Staging`` database; the checks that need every row at once (duplicate
ids, references) are queries over the staged tables. A million-row import validates in seconds in
bounded memory.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .readers import ROW_COLUMN, ReadError, Sheet
from .staging import Found, Staging
from .text import CONTROL_CLASS, control_name

ENUM_DISPLAY_LIMIT = 10


# A file with the same mistake in every row (dates written 10/01/2023, say) lists this many rows
# per file, column and rule, and counts the rest: a million listed problems would take gigabytes.
LISTED_PER_RULE = 100


@dataclass(frozen=True)
class Problem:
    source: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    more: int = 0  # further rows of this file with this problem in this column, not listed

    @property
    def detail(self) -> str:
        """The rule, and how many more rows break it where there are too many to list."""
        return self.rule + (f" (and {self.more:,} more row(s) like this)" if self.more else "")

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = "" if self.value is None else f" {self.value[:80]!r}:"
        return f"{where}:{value} {self.detail}"


@dataclass
class Validated:
    """What validation found; the typed rows themselves are in the ``Staging`` it was given."""

    rows: dict[str, int] = field(default_factory=dict)  # rows per table in the import
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    new_topics: list[str] = field(default_factory=list)
    # per (file, column, rule): rows listed in ``errors`` so far, and rows found beyond those
    listed: Counter[tuple[str, str | None, str]] = field(default_factory=Counter)
    unlisted: Counter[tuple[str, str | None, str]] = field(default_factory=Counter)

    def flag(
        self,
        found: Iterable[tuple[str, int, str | None]],
        column: str | None,
        rule: str,
        beyond: dict[str, int] | None = None,
    ) -> None:
        """Add the rows (source, row, value) that break ``rule``, up to LISTED_PER_RULE per file,
        and count the rest; ``beyond`` counts rows per file found but not passed in ``found``."""
        for source, row, value in found:
            key = (source, column, rule)
            if self.listed[key] < LISTED_PER_RULE:
                self.errors.append(Problem(source, int(row), column, value, rule))
                self.listed[key] += 1
            else:
                self.unlisted[key] += 1
        for source, rows in (beyond or {}).items():
            self.unlisted[source, column, rule] += rows

    def count_unlisted(self) -> None:
        """Note on the last listed row of each (file, column, rule) how many more there were."""
        last = {(p.source, p.column, p.rule): i for i, p in enumerate(self.errors)}
        for key, more in self.unlisted.items():
            i = last[key]
            self.errors[i] = replace(self.errors[i], more=self.errors[i].more + more)
        self.unlisted.clear()


@dataclass(frozen=True)
class Existing:
    """What the database already holds: its topics, and the database itself (references to
    stored rows are checked against it)."""

    topics: tuple[str, ...] = ()
    store: Path | None = None


def _flag(
    out: Validated, frame: pd.DataFrame, mask: pd.Series, column: str | None, rule: str
) -> None:
    """Flag the rows of ``frame`` (one chunk of one file) where ``mask`` holds."""
    if not mask.any():
        return
    bad = frame.loc[mask]
    shown = bad.head(LISTED_PER_RULE)  # no more can be listed; the rest are only counted
    values = shown[column] if column in shown else [None] * len(shown)
    rows = zip(shown["__source"], shown[ROW_COLUMN], values, strict=True)
    out.flag(rows, column, rule, beyond={frame["__source"].iat[0]: len(bad) - len(shown)})


def _describe_allowed(allowed: tuple[str, ...]) -> str:
    shown = ", ".join(allowed[:ENUM_DISPLAY_LIMIT])
    return shown + (", ..." if len(allowed) > ENUM_DISPLAY_LIMIT else "")


class _TableCheck:
    """Checks one table's combined rows (from all of its files) column by column."""

    def __init__(self, table: schema.Table, frame: pd.DataFrame, out: Validated):
        self.table, self.frame, self.out = table, frame, out
        self.typed: dict[str, pd.Series] = {}

    def error(self, mask: pd.Series, column: str | None, rule: str) -> None:
        _flag(self.out, self.frame, mask, column, rule)

    def run(self) -> pd.DataFrame:
        for col in self.table.columns:
            self.check_column(col)
        return pd.DataFrame(self.typed)

    def check_column(self, col: schema.Column) -> None:
        text = self.frame[col.name]
        blank = text == ""
        if col.required:
            self.error(blank, col.name, "a value is required")
        too_long = text.str.len() > col.max_length
        self.error(too_long, col.name, f"longer than {col.max_length} characters")
        if col.kind == "text" or col.kind == "topics":
            self.typed[col.name] = text.where(~blank, None)
        elif col.kind == "enum":
            self.typed[col.name] = self.check_enum(col, text, blank)
        elif col.kind == "int":
            self.typed[col.name] = self.check_int(col, text, blank)
        elif col.kind == "date":
            self.typed[col.name] = self.check_date(col, text, blank)

    def check_enum(self, col: schema.Column, text: pd.Series, blank: pd.Series) -> pd.Series:
        # Case-insensitive; spaces and hyphens read as underscores ("In Progress" -> in_progress).
        # An enum column has few distinct values, so each is resolved once.
        lookup = {_enum_key(value): value for value in col.allowed}
        resolved = {value: lookup.get(_enum_key(value)) for value in text.unique()}
        canonical = text.map(resolved)
        self.error(
            canonical.isna() & ~blank, col.name, f"must be one of {_describe_allowed(col.allowed)}"
        )
        return canonical.where(~blank, None)

    def check_int(self, col: schema.Column, text: pd.Series, blank: pd.Series) -> pd.Series:
        numbers = _whole_numbers(text.where(text.str.fullmatch(r"[+-]?[0-9]{1,15}"), None))
        self.error(numbers.isna() & ~blank, col.name, "must be a whole number")
        if col.minimum is not None:
            self.error((numbers < col.minimum).fillna(False), col.name, _range_rule(col))
        if col.maximum is not None:
            self.error((numbers > col.maximum).fillna(False), col.name, _range_rule(col))
        return numbers

    def check_date(self, col: schema.Column, text: pd.Series, blank: pd.Series) -> pd.Series:
        shaped = text.where(text.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), None)
        dates = pd.to_datetime(shaped, format="%Y-%m-%d", errors="coerce")
        self.error(dates.isna() & ~blank, col.name, "must be a date written YYYY-MM-DD")
        low, high = (pd.Timestamp(d) for d in schema.DATE_RANGE)
        self.error(
            (dates < low) | (dates > high),
            col.name,
            f"must be between {schema.DATE_RANGE[0]} and {schema.DATE_RANGE[1]}",
        )
        return dates


def _whole_numbers(digits: pd.Series) -> pd.Series:
    """Int64 values of text already known to be an optional sign and at most 15 digits (or
    missing). Arrow parses them ten times faster than pd.to_numeric; it rejects a leading '+'."""
    values = pc.cast(pc.utf8_ltrim(pa.array(digits, type=pa.string()), "+"), pa.int64())
    return pd.Series(pd.arrays.ArrowExtensionArray(values), index=digits.index).astype("Int64")


def _enum_key(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def _range_rule(col: schema.Column) -> str:
    if col.maximum is None:
        return f"must be {col.minimum} or more"
    return f"must be between {col.minimum} and {col.maximum}"


DUPLICATE_RULE = "duplicate id in this import (ids must be unique)"
REFERENCES = (
    ("engagements", "agency_id", "agencies"),
    ("survey_responses", "engagement_id", "engagements"),
)


def validate(
    sheets: list[Sheet], existing: Existing = Existing(), staging: Staging | None = None
) -> Validated:
    """Check every sheet and stage its typed rows in ``staging`` (a scratch one if not given)."""
    if staging is None:
        with Staging() as scratch:
            return validate(sheets, existing, scratch)
    out = Validated()
    topics = _TopicParser(existing.topics)
    read_through = True
    for name in schema.TABLE_ORDER:
        table = schema.TABLES[name]
        for sheet in (s for s in sheets if s.table == name):
            read_through &= _check_sheet(sheet, table, out, staging, topics)
        for col in table.columns:
            if col.unique and name in staging.rows:
                found = staging.duplicates(name, col.name, LISTED_PER_RULE)
                _add(out, found, col.name, DUPLICATE_RULE)
    topics.report(out)
    if existing.store is not None:
        staging.attach_store(existing.store)
    # A file that broke off part-way has rows missing: references to them would be false alarms.
    for child, column, parent in REFERENCES if read_through else ():
        if child in staging.rows:
            missing = staging.missing_references(child, column, parent, LISTED_PER_RULE)
            _add(out, missing, column, f"no such {column} in {parent}")
    out.count_unlisted()
    out.rows = dict(staging.rows)
    return out


def _add(out: Validated, found: list[Found], column: str, rule: str) -> None:
    """Flag what a staged check found (the first rows per file, each with the file's total)."""
    passed = Counter(f.source for f in found)
    beyond = {f.source: f.total - passed[f.source] for f in found}
    out.flag([(f.source, f.row, f.value) for f in found], column, rule, beyond)


def _check_sheet(
    sheet: Sheet, table: schema.Table, out: Validated, staging: Staging, topics: _TopicParser
) -> bool:
    """Check a sheet's columns and rows and stage them; False if the file broke off part-way."""
    missing = [c.name for c in table.columns if c.required and c.name not in sheet.columns]
    for name in missing:
        out.errors.append(Problem(sheet.source, 1, name, None, "required column is missing"))
    extra = [c for c in sheet.columns if c not in table.column_names]
    if extra:
        out.warnings.append(
            Problem(sheet.source, 1, None, None, f"unknown column(s) ignored: {', '.join(extra)}")
        )
    if missing:
        return True
    rows = 0
    try:
        for chunk in sheet.chunks():
            rows += len(chunk)
            _check_controls(chunk.assign(__source=sheet.source), out)
            text = chunk.reindex(columns=[*table.column_names, ROW_COLUMN], fill_value="")
            text = text.assign(__source=sheet.source)
            typed = _TableCheck(table, text, out).run()
            if table.name == "engagements":
                _check_engagements(text, typed, out, topics)
            elif table.name == "survey_responses":
                typed["wave"] = typed["wave"].fillna("post")
            staging.append(table, typed, text)
    except ReadError as exc:
        out.errors.append(Problem(sheet.source, None, None, None, str(exc).split(": ", 1)[-1]))
        return False
    if rows == 0:
        out.errors.append(Problem(sheet.source, None, None, None, "the file has no data rows"))
    return True


def _check_controls(chunk: pd.DataFrame, out: Validated) -> None:
    """Flag every cell, in any column (known or not), holding a control character."""
    for column in chunk.columns:
        if column in (ROW_COLUMN, "__source"):
            continue
        text = chunk[column]
        has = text.str.contains(f"[{CONTROL_CLASS}]", regex=True)
        if not has.any():
            continue
        first = text[has].str.extract(f"([{CONTROL_CLASS}])", expand=False)
        for char in first.unique():
            rule = (
                f"contains the control character {control_name(char)}; only tab, line feed and"
                " carriage return are allowed in text"
            )
            _flag(out, chunk, (first == char).reindex(chunk.index, fill_value=False), column, rule)


def _check_engagements(
    text: pd.DataFrame, typed: pd.DataFrame, out: Validated, topics: _TopicParser
) -> None:
    requested, started, completed = (
        typed["requested_on"],
        typed["started_on"],
        typed["completed_on"],
    )
    checks = [
        (started < requested, "started_on", "must not be before requested_on"),
        (completed < started, "completed_on", "must not be before started_on"),
        (completed < requested, "completed_on", "must not be before requested_on"),
        (
            (typed["status"] == "completed") & completed.isna() & (text["completed_on"] == ""),
            "completed_on",
            "is required when status is completed",
        ),
    ]
    for mask, column, rule in checks:
        _flag(out, text, mask.fillna(False), column, rule)
    typed["topics"] = topics.parse(text, out)


def _objects(values: list[object]) -> np.ndarray:
    """A 1-d object array of ``values`` (np.array would make a list of lists 2-d)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


@dataclass(frozen=True)
class _TopicCell:
    topics: list[str] | None  # resolved names, de-duplicated, primary first
    has_empty_part: bool  # e.g. "A;;B"
    unknown: frozenset[str]  # lower-cased names not in the catalogue


class _TopicParser:
    """Resolves topic cells to de-duplicated lists of catalogue names (first = primary), chunk
    after chunk, and keeps what it met that the catalogue lacks for one warning per new topic.

    Cells repeat a lot (the same topic combinations), so each distinct cell is parsed once."""

    def __init__(self, known: tuple[str, ...]):
        self.catalogue = {t.lower(): t for t in known}
        self.new_topics: dict[str, str] = {}  # lower-cased -> as first written
        self.cells: dict[str, _TopicCell] = {}
        self.first_seen: dict[str, tuple[str, int]] = {}  # new topic -> (source, row)
        self.rows: Counter[str] = Counter()  # new topic -> rows naming it

    def _parse(self, cell: str) -> _TopicCell:
        names = [part.strip() for part in cell.split(schema.TOPIC_SEPARATOR)]
        keys = [name.lower() for name in names if name]
        for name in names:
            if name and name.lower() not in self.catalogue:
                self.new_topics.setdefault(name.lower(), name)
        resolved = [self.catalogue.get(key) or self.new_topics[key] for key in keys]
        unknown = frozenset(key for key in keys if key not in self.catalogue)
        return _TopicCell(list(dict.fromkeys(resolved)) or None, "" in names, unknown)

    def parse(self, text: pd.DataFrame, out: Validated) -> pd.Series:
        codes, distinct = pd.factorize(text["topics"])
        parsed = [self.cells.get(cell) or self._remember(cell) for cell in distinct]

        def per_row(values: list[object]) -> np.ndarray:
            return _objects(values)[codes]

        empty_part = per_row(
            [p.has_empty_part and cell != "" for p, cell in zip(parsed, distinct, strict=True)]
        )
        _flag(
            out,
            text,
            pd.Series(empty_part.astype(bool), index=text.index),
            "topics",
            "each topic between ';' separators must be non-empty",
        )
        for key in dict.fromkeys(k for p in parsed for k in p.unknown):
            naming = per_row([key in p.unknown for p in parsed]).astype(bool)
            self.rows[key] += int(naming.sum())
            if key not in self.first_seen:
                first = text.iloc[int(naming.argmax())]
                self.first_seen[key] = (first["__source"], int(first[ROW_COLUMN]))
        return pd.Series(per_row([p.topics for p in parsed]), index=text.index, dtype=object)

    def _remember(self, cell: str) -> _TopicCell:
        self.cells[cell] = self._parse(cell)
        return self.cells[cell]

    def report(self, out: Validated) -> None:
        for key, name in self.new_topics.items():
            source, row = self.first_seen[key]
            rule = f"topic not in the catalogue; kept as a new topic ({self.rows[key]} row(s))"
            out.warnings.append(Problem(source, row, "topics", name, rule))
        out.new_topics = list(self.new_topics.values())
