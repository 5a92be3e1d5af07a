"""Validate text frames against the data contract and turn them into typed frames ready to load.

Every problem is collected (not just the first) with file, spreadsheet row, column, value and rule.
All checks are vectorised so that a million-row import validates in seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from . import schema
from .readers import ROW_COLUMN, Sheet

ENUM_DISPLAY_LIMIT = 10


@dataclass(frozen=True)
class Problem:
    source: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = "" if self.value is None else f" {self.value[:80]!r}:"
        return f"{where}:{value} {self.rule}"


@dataclass
class Validated:
    """Typed frames per table (only tables present in the import), plus what was found."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    new_topics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Existing:
    """What the database already holds, for references and the topic catalogue."""

    agency_ids: frozenset[str] = frozenset()
    engagement_ids: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()


def _problems(frame: pd.DataFrame, mask: pd.Series, column: str | None, rule: str) -> list[Problem]:
    bad = frame.loc[mask]
    values = bad[column] if column in bad else pd.Series([None] * len(bad), index=bad.index)
    return [
        Problem(src, int(row), column, value, rule)
        for src, row, value in zip(bad["__source"], bad[ROW_COLUMN], values, strict=True)
    ]


def _describe_allowed(allowed: tuple[str, ...]) -> str:
    shown = ", ".join(allowed[:ENUM_DISPLAY_LIMIT])
    return shown + (", ..." if len(allowed) > ENUM_DISPLAY_LIMIT else "")


class _TableCheck:
    """Checks one table's combined rows (from all of its files) column by column."""

    def __init__(self, table: schema.Table, frame: pd.DataFrame, out: Validated):
        self.table, self.frame, self.out = table, frame, out
        self.typed: dict[str, pd.Series] = {}

    def error(self, mask: pd.Series, column: str | None, rule: str) -> None:
        if mask.any():
            self.out.errors.extend(_problems(self.frame, mask, column, rule))

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
        if col.unique:
            dup = text.duplicated(keep=False) & ~blank
            self.error(dup, col.name, "duplicate id in this import (ids must be unique)")

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
        numbers = pd.to_numeric(
            text.where(text.str.fullmatch(r"[+-]?[0-9]{1,15}"), None), errors="coerce"
        )
        self.error(numbers.isna() & ~blank, col.name, "must be a whole number")
        if col.minimum is not None:
            self.error(numbers < col.minimum, col.name, _range_rule(col))
        if col.maximum is not None:
            self.error(numbers > col.maximum, col.name, _range_rule(col))
        return numbers.astype("Int64")

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


def _enum_key(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def _range_rule(col: schema.Column) -> str:
    if col.maximum is None:
        return f"must be {col.minimum} or more"
    return f"must be between {col.minimum} and {col.maximum}"


def _combine(sheets: list[Sheet], table: schema.Table, out: Validated) -> pd.DataFrame | None:
    frames = []
    for sheet in sheets:
        frame = sheet.frame
        missing = [c.name for c in table.columns if c.required and c.name not in frame]
        for name in missing:
            out.errors.append(Problem(sheet.source, 1, name, None, "required column is missing"))
        extra = [c for c in frame.columns if c != ROW_COLUMN and c not in table.column_names]
        if extra:
            out.warnings.append(
                Problem(
                    sheet.source, 1, None, None, f"unknown column(s) ignored: {', '.join(extra)}"
                )
            )
        if len(frame) == 0:
            out.errors.append(Problem(sheet.source, None, None, None, "the file has no data rows"))
        if missing or len(frame) == 0:
            continue
        frame = frame.reindex(columns=[*table.column_names, ROW_COLUMN], fill_value="")
        frames.append(frame.assign(__source=sheet.source))
    return pd.concat(frames, ignore_index=True) if frames else None


def validate(sheets: list[Sheet], existing: Existing = Existing()) -> Validated:
    out = Validated()
    combined: dict[str, pd.DataFrame] = {}
    for name in schema.TABLE_ORDER:
        table_sheets = [s for s in sheets if s.table == name]
        if table_sheets:
            frame = _combine(table_sheets, schema.TABLES[name], out)
            if frame is not None:
                combined[name] = frame
    for name, frame in combined.items():
        typed = _TableCheck(schema.TABLES[name], frame, out).run()
        out.frames[name] = typed
    if "engagements" in out.frames:
        _check_engagements(combined["engagements"], out, existing)
    if "survey_responses" in out.frames:
        _check_responses(combined["survey_responses"], out, existing)
    _check_reference(combined, out, "engagements", "agency_id", "agencies", existing.agency_ids)
    _check_reference(
        combined, out, "survey_responses", "engagement_id", "engagements", existing.engagement_ids
    )
    return out


def _check_reference(combined, out, child, column, parent, stored_ids) -> None:
    if child not in combined:
        return
    frame = combined[child]
    known = pd.Index(list(stored_ids), dtype="str")
    if parent in combined:
        known = known.append(pd.Index(combined[parent][schema.TABLES[parent].key]))
    missing = ~frame[column].isin(known) & (frame[column] != "")
    out.errors.extend(_problems(frame, missing, column, f"no such {column} in {parent}"))


def _check_engagements(text: pd.DataFrame, out: Validated, existing: Existing) -> None:
    typed = out.frames["engagements"]
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
        out.errors.extend(_problems(text, mask.fillna(False), column, rule))
    typed["topics"] = _parse_topics(text, out, existing)


@dataclass(frozen=True)
class _TopicCell:
    topics: list[str] | None  # resolved names, de-duplicated, primary first
    has_empty_part: bool  # e.g. "A;;B"
    unknown: frozenset[str]  # lower-cased names not in the catalogue


def _parse_topics(text: pd.DataFrame, out: Validated, existing: Existing) -> pd.Series:
    """Resolve each cell to a de-duplicated list of catalogue names (first = primary).

    Cells repeat a lot (the same topic combinations), so each distinct cell is parsed once.
    """
    catalogue = {t.lower(): t for t in existing.topics}
    new_topics: dict[str, str] = {}  # lower-cased -> as first written

    def parse(cell: str) -> _TopicCell:
        names = [part.strip() for part in cell.split(schema.TOPIC_SEPARATOR)]
        keys = [name.lower() for name in names if name]
        for name in names:
            if name and name.lower() not in catalogue:
                new_topics.setdefault(name.lower(), name)
        resolved = [catalogue.get(key) or new_topics[key] for key in keys]
        unknown = frozenset(key for key in keys if key not in catalogue)
        return _TopicCell(list(dict.fromkeys(resolved)) or None, "" in names, unknown)

    cells = text["topics"]
    parsed = {cell: parse(cell) for cell in cells.unique()}
    flags = cells.map(lambda cell: parsed[cell].has_empty_part & (cell != "")).astype(bool)
    out.errors.extend(
        _problems(text, flags, "topics", "each topic between ';' separators must be non-empty")
    )
    for key, name in new_topics.items():
        rows = text.loc[cells.map(lambda cell, key=key: key in parsed[cell].unknown).astype(bool)]
        first = rows.iloc[0]
        out.warnings.append(
            Problem(
                first["__source"],
                int(first[ROW_COLUMN]),
                "topics",
                name,
                f"topic not in the catalogue; kept as a new topic ({len(rows)} row(s))",
            )
        )
    out.new_topics = list(new_topics.values())
    return cells.map(lambda cell: parsed[cell].topics).astype(object)


def _check_responses(text: pd.DataFrame, out: Validated, existing: Existing) -> None:
    typed = out.frames["survey_responses"]
    typed["wave"] = typed["wave"].fillna("post")
