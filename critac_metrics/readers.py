"""Read CSV, Parquet and Excel exports as frames of text, one sheet per table, with spreadsheet row
numbers.

Everything is read as text so that validation sees exactly what the user typed and can quote it back.
Native dates and numbers from Parquet and Excel are turned into their canonical text first.

A sheet's headers are read when it is opened (so a file that cannot be read at all fails at once);
its rows come in chunks of at most ``CHUNK_ROWS``, so a million-row CSV or Parquet file is never in
memory whole. A file can still turn out unreadable part-way through (a malformed line, a bad
byte): reading its chunks then raises ``ReadError``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .schema import TABLE_ORDER
from .text import CONTROL, TRIMMED, control_name

SUPPORTED = (".csv", ".parquet", ".xlsx")
ROW_COLUMN = "__row"  # spreadsheet row number of each record (the header is row 1)
CHUNK_ROWS = 122_880  # rows validated at a time: bounds an import's memory, not its size

# A workbook is read whole (openpyxl), so what it may expand to is bounded before it is read: a
# 400 KB file can hold a 400 MB cell. The zip's declared sizes can be trusted as bounds (zipfile
# stops reading a part at its declared size).
MAX_WORKBOOK_BYTES = 200 * 2**20  # all of its parts, uncompressed (bigger: use CSV or Parquet)
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed size of any part over RATIO_FROM_BYTES
RATIO_FROM_BYTES = 2**20  # (real sheets compress about 10:1; small parts may compress better)
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell


class ReadError(Exception):
    """A file that cannot be read at all; the message is one line meant for the user."""


@dataclass(frozen=True)
class Sheet:
    table: str
    source: str  # "engagements.csv" or "export.xlsx [agencies]"
    columns: tuple[str, ...]  # normalised headers
    read_chunks: Callable[[], Iterator[pd.DataFrame]]

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The rows, CHUNK_ROWS at a time: all columns text (stripped), headers normalised, plus
        ROW_COLUMN. Raises ReadError if the file turns out unreadable part-way through."""
        return self.read_chunks()


def table_for_name(name: str) -> str | None:
    """Which table a file stem or sheet name feeds: `engagements_2024` feeds engagements."""
    lowered = name.strip().lower()
    # Longest names first so that a future table named like a prefix of another still matches right.
    for table in sorted(TABLE_ORDER, key=len, reverse=True):
        if lowered.startswith(table):
            return table
    return None


def normalise_header(header: object) -> str:
    return re.sub(r"\s+", "_", str(header).strip()).lower()


def read_sheets(path: str | Path) -> tuple[list[Sheet], list[str]]:
    """Return the sheets in a file and warnings (ignored sheets). Raises ReadError."""
    path = Path(path)
    if path.is_symlink():  # refused before anything follows the link (nothing of it is read)
        raise ReadError(f"{path.name}: refused: a symbolic link; give the file it points to")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(
            f"{path.name}: unsupported file type {suffix or '(none)'!r}; use .csv, .parquet or .xlsx"
        )
    if not path.exists():
        raise ReadError(f"{path.name}: file not found")
    if not path.is_file():  # reading a pipe or a device could block or never end
        raise ReadError(f"{path.name}: refused: not a regular file (a folder, device or pipe)")
    if suffix == ".xlsx":
        return _read_workbook(path)
    table = table_for_name(path.stem)
    if table is None:
        raise ReadError(
            f"{path.name}: cannot tell which table this is; the file name must start with "
            + ", ".join(TABLE_ORDER)
        )
    sheet = _csv_sheet if suffix == ".csv" else _parquet_sheet
    return [sheet(path, table)], []


def _csv_sheet(path: Path, table: str) -> Sheet:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ReadError(f"{path.name}: the file is empty")
    if _binary(head):
        raise ReadError(f"{path.name}: this is a binary file, not UTF-8 CSV text")
    with _csv_errors(path):
        header = _open_csv(path, nrows=0).columns
    columns = _headers(header, path.name)

    def read_chunks() -> Iterator[pd.DataFrame]:
        with _csv_errors(path), _open_csv(path, chunksize=CHUNK_ROWS) as reader:
            yield from _numbered(reader, columns)

    return Sheet(table, path.name, columns, read_chunks)


def _binary(head: bytes) -> bool:
    """Whether the first bytes of a file are not text: NULs in what is not UTF-8, or NULs that
    are over a tenth of it (UTF-16). A stray NUL in text is left for validation to report by row
    and column."""
    if b"\x00" not in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut off at the end of the sample
            return True
    return head.count(b"\x00") * 10 > len(head)


def _open_csv(path: Path, **kwargs: Any) -> Any:  # a frame, or a chunk reader with chunksize
    return pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skip_blank_lines=True,
        **kwargs,
    )


@contextmanager
def _csv_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{path.name}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise ReadError(f"{path.name}: the file is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ReadError(f"{path.name}: malformed CSV ({detail})") from None


def _parquet_sheet(path: Path, table: str) -> Sheet:
    with _parquet_errors(path):
        schema = pq.ParquetFile(path).schema_arrow
    # Files written by pandas keep the frame's index as a column; it is not data.
    index = {
        c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)
    }
    columns = _headers([name for name in schema.names if name not in index], path.name)

    def read_chunks() -> Iterator[pd.DataFrame]:
        with _parquet_errors(path):
            batches = pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS)
            frames = (_as_text(batch.to_pandas().reset_index(drop=True)) for batch in batches)
            yield from _numbered(frames, columns)

    return Sheet(table, path.name, columns, read_chunks)


@contextmanager
def _parquet_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise ReadError(
            f"{path.name}: not a readable Parquet file ({type(exc).__name__})"
        ) from None


def _read_workbook(path: Path) -> tuple[list[Sheet], list[str]]:
    _check_expansion(path)
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
        unsaved = _formulas_without_values(path, [n for n in book if table_for_name(str(n))])
    except Exception as exc:  # openpyxl/zipfile raise many types for corrupt files
        kind = type(exc).__name__
        raise ReadError(f"{path.name}: not a readable .xlsx workbook ({kind})") from None
    if unsaved:
        sheet, cell, formula = unsaved[0]
        raise ReadError(
            f"{path.name}: {len(unsaved):,} formula cell(s) have no saved value and would import"
            f" as blank (first: sheet {sheet!r}, cell {cell}, {formula[:60]}); open and save the"
            " workbook in Excel or LibreOffice, or paste the values, and import it again"
        )
    sheets, warnings = [], []
    for name, frame in book.items():
        _check_cell_lengths(frame, path.name, str(name))
        frame = frame.map(_unescape_xstring)
        table = table_for_name(str(name))
        if table is None:
            warnings.append(f"{path.name}: sheet {name!r} ignored (no table of that name)")
            continue
        sheets.append(frame_to_sheet(table, frame, f"{path.name} [{name}]"))
    if not sheets:
        raise ReadError(
            f"{path.name}: no sheet is named after a table (" + ", ".join(TABLE_ORDER) + ")"
        )
    return sheets, warnings


def _check_expansion(path: Path) -> None:
    """Refuse a workbook that would expand past the bounds above (a decompression bomb), before
    anything parses it. A file that is not a zip is left to the reader to report."""
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
            total = sum(part.file_size for part in parts)
            if total > MAX_WORKBOOK_BYTES:
                raise ReadError(
                    f"{path.name}: refused: the workbook expands to {total / 2**20:,.0f} MB, more"
                    f" than the {MAX_WORKBOOK_BYTES / 2**20:,.0f} MB allowed; import the sheets as"
                    " CSV or Parquet files instead"
                )
            for part in parts:
                ratio = part.file_size / max(part.compress_size, 1)
                if part.file_size > RATIO_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    raise ReadError(
                        f"{path.name}: refused: {part.filename} expands {ratio:,.0f} times (to"
                        f" {part.file_size / 2**20:,.0f} MB), more than a real workbook does"
                        f" ({MAX_COMPRESSION_RATIO} times); it may be a decompression bomb"
                    )
            for part in parts:
                name = part.filename
                if name == "xl/sharedStrings.xml" or (
                    name.startswith("xl/worksheets/") and name.endswith(".xml")
                ):
                    _check_text_runs(path, book, name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        return  # not a readable zip: pandas says so, in the reader's own words


# Text in the XML is at most this many bytes per character (an entity such as &#x1F600;).
_XML_BYTES_PER_CHAR = 10
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')


def _check_text_runs(path: Path, book: zipfile.ZipFile, part: str) -> None:
    """Refuse a part holding a text longer than a cell may be, reading it a block at a time:
    a text node holds no '<', so the longest run between two '<' bounds the longest text."""
    limit = MAX_CELL_CHARS * _XML_BYTES_PER_CHAR
    run = 0  # bytes since the last '<'
    ref = b""  # the last cell reference seen (worksheets)
    with book.open(part) as stream:
        while block := stream.read(1 << 20):
            data = np.frombuffer(block, dtype=np.uint8)
            opens = np.flatnonzero(data == ord("<"))
            if opens.size == 0:
                longest, run = run + len(block), run + len(block)
            else:
                gaps = np.diff(opens, prepend=-1 - run)
                at = int(gaps.argmax())
                longest = int(gaps[at])
                run = len(block) - 1 - int(opens[-1])
                if longest <= limit and run > limit:
                    longest = run
            if longest > limit:
                end = int(opens[at]) if opens.size else len(block)
                ref = ([ref, *_CELL_REF.findall(block, 0, end)])[-1]
                where = f"cell {ref.decode()} of {part}" if ref else part
                raise ReadError(
                    f"{path.name}: refused: {where} holds a text longer than {MAX_CELL_CHARS:,}"
                    " characters, more than an Excel cell can hold"
                )
            refs = _CELL_REF.findall(block)
            if refs:
                ref = refs[-1]


def _check_cell_lengths(frame: pd.DataFrame, file: str, sheet: str) -> None:
    for number, column in enumerate(frame.columns):
        lengths = frame[column].map(lambda v: len(v) if isinstance(v, str) else 0)
        if len(lengths) and lengths.max() > MAX_CELL_CHARS:
            row = int(lengths.to_numpy().argmax()) + 2
            raise ReadError(
                f"{file}: sheet {sheet!r}, row {row}, column {number + 1}: a text of"
                f" {lengths.max():,} characters;"
                f" a cell holds at most {MAX_CELL_CHARS:,}"
            )


def _unescape_xstring(value: object) -> object:
    """Text as Excel shows it: a workbook writes a character XML cannot hold (a control
    character) as ``_xHHHH_``, and openpyxl leaves the escape in the text."""
    if isinstance(value, str) and "_x" in value:
        return _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value


_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _formulas_without_values(path: Path, sheets: list[str]) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) of each formula in ``sheets`` the workbook saved no value for.

    pandas reads the values a workbook saved with its formulas: Excel and LibreOffice save them,
    but a workbook written by a script (openpyxl) often has none, and such a cell would read as
    blank without a word."""
    import openpyxl  # here, not at the top: every dashboard page imports this module (0.3 s)

    formulas: dict[tuple[str, str], str] = {}
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for name in sheets:
            for row in book[name].iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        formulas[name, cell.coordinate] = str(cell.value)
    finally:
        book.close()
    if not formulas:
        return []
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        empty = {
            (name, cell.coordinate)
            for name in {name for name, _ in formulas}
            for row in book[name].iter_rows()
            for cell in row
            if (name, getattr(cell, "coordinate", None)) in formulas and cell.value is None
        }
    finally:
        book.close()
    return [
        (name, cell, formula) for (name, cell), formula in formulas.items() if (name, cell) in empty
    ]


def frame_to_sheet(table: str, frame: pd.DataFrame, source: str) -> Sheet:
    """An in-memory frame (a workbook's sheet, generated demo data) as if it had been read from a
    file; its chunks are slices of it."""
    columns = _headers(frame.columns, source)

    def read_chunks() -> Iterator[pd.DataFrame]:
        slices = (frame.iloc[i : i + CHUNK_ROWS] for i in range(0, len(frame), CHUNK_ROWS))
        return _numbered((_as_text(piece) for piece in slices), columns)

    return Sheet(table, source, columns, read_chunks)


def _headers(headers: Iterable[object], source: str) -> tuple[str, ...]:
    for number, header in enumerate(headers, start=1):
        if isinstance(header, str) and (found := CONTROL.search(header)):
            raise ReadError(
                f"{source}: row 1, column {number}: header {header[:80]!r} contains the control"
                f" character {control_name(found.group())}; only tab, line feed and carriage"
                " return are allowed in text"
            )
    names = [normalise_header(h) for h in headers]
    if not names:
        raise ReadError(f"{source}: the file has no header row")
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:
        raise ReadError(f"{source}: duplicate column header(s) {', '.join(dupes)}")
    return tuple(names)


def _numbered(frames: Iterable[pd.DataFrame], columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    """Each frame with the normalised headers, every cell stripped text, and its spreadsheet row
    numbers (counting on from the previous frame's)."""
    next_row = 2
    for frame in frames:
        frame = frame.set_axis(list(columns), axis=1)
        # Trimmed of spaces but not of control characters: validation refuses those.
        frame = frame.astype(str).apply(lambda col: col.str.strip(TRIMMED))
        frame[ROW_COLUMN] = range(next_row, next_row + len(frame))
        next_row += len(frame)
        yield frame


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({name: _column_as_text(frame[name]) for name in frame.columns})


def _column_as_text(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_localize(None)
        text = col.dt.strftime("%Y-%m-%d")
        timed = col.notna() & (col != col.dt.normalize())  # a time of day: keep it visible
        if timed.any():
            text = text.where(~timed, col.astype(str))
        return text.fillna("")
    if pd.api.types.is_integer_dtype(col) or pd.api.types.is_bool_dtype(col):
        return col.astype(str).where(col.notna(), "")
    if pd.api.types.is_string_dtype(col) and col.dtype != object:
        return col.fillna("")
    if pd.api.types.is_float_dtype(col):
        whole = col.dropna()
        if (whole == whole.round()).all() and whole.abs().max(skipna=True) < 2**53:
            return col.astype("Int64").astype(str).where(col.notna(), "")
    return col.map(_cell_as_text).astype(str)  # mixed cells (Excel): one by one


def _cell_as_text(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
