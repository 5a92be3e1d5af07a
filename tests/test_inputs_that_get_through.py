"""Inputs that used to get through the import: control characters, workbook bombs, symbolic links;
and imported text that reached the terminal raw (issue 13)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from critac_metrics import db, downloads, readers, report, validate
from critac_metrics.filters import Filters
from critac_metrics.ingest import ingest_files, validate_files
from critac_metrics.validate import LISTED_PER_RULE

from .conftest import TINY, run_cli, write_tiny
from .test_report import need_browser


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["whole", "chunks of 3"])
def chunking(request, monkeypatch) -> str:
    if request.param != "whole":
        monkeypatch.setattr(readers, "CHUNK_ROWS", 3)
    return request.param


def _rejected(target: Path, before: str, report_, source: str, row: int, column: str, code: str):
    """The import was refused with a message naming the file, row, column and character."""
    assert not report_.ok and not report_.loaded
    matching = [
        p
        for p in report_.errors
        if p.source == source and p.row == row and p.column == column and code in p.rule
    ]
    assert matching, [str(p) for p in report_.errors]
    line = str(matching[0])
    assert f"row {row}" in line and f"column {column}" in line and "control character" in line
    assert _digest(target) == before


# -- control characters -----------------------------------------------------------------------


def test_a_nul_after_the_first_64_kib_of_a_csv_is_refused(tmp_path, tiny_db, copy_db, chunking):
    """The reader's binary-file check sees only the first 64 KiB; the cell check sees every row."""
    target = copy_db(tiny_db)
    before = _digest(target)
    files = write_tiny(tmp_path)
    header, row = TINY["agencies.csv"].splitlines()[:2]
    rows = [row.replace("A1,", f"A{i},") for i in range(1, 2001)]
    rows[1499] = rows[1499].replace("Springfield", "Spring\x00field")  # spreadsheet row 1501
    text = "\n".join([header, *rows]) + "\n"
    assert text.index("\x00") > 65536
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")

    result = ingest_files(target, files)

    _rejected(target, before, result, "agencies.csv", 1501, "agency_name", "U+0000")
    assert len(result.errors) == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_file_is_still_called_binary(tmp_path, encoding):
    """Only a stray NUL in UTF-8 text is left to the cell check: UTF-16 (with or without its BOM)
    is half NULs, and still gets the one-line binary-file message."""
    path = tmp_path / "agencies.csv"
    path.write_text(TINY["agencies.csv"], encoding=encoding)

    [problem] = validate_files([path]).errors

    assert problem.rule == "this is a binary file, not UTF-8 CSV text"


CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f"]
# Python and Arrow count U+000B, U+000C and U+001C-U+001F as spaces: trimming a cell must keep them.
PLACES = [(c, "inside") for c in CONTROLS] + [
    (c, where) for c in ("\x0b", "\x1f") for where in ("at the end", "at the start")
]


@pytest.mark.parametrize(
    ("char", "where"), PLACES, ids=[f"U+{ord(c):04X} {where}" for c, where in PLACES]
)
def test_a_control_character_in_a_csv_cell_is_refused(tmp_path, tiny_db, copy_db, char, where):
    target = copy_db(tiny_db)
    before = _digest(target)
    files = write_tiny(tmp_path)
    cell = {"inside": "Use of\x00Force", "at the end": "Use of Force\x00"}.get(
        where, "\x00Use of Force"
    )
    text = TINY["engagements.csv"].replace("Use of Force", cell.replace("\x00", char), 1)
    (tmp_path / "engagements.csv").write_text(text, encoding="utf-8")

    result = ingest_files(target, files)

    _rejected(target, before, result, "engagements.csv", 2, "topics", f"U+{ord(char):04X}")


def test_tab_line_feed_and_carriage_return_are_allowed(tmp_path):
    files = write_tiny(tmp_path)
    comment = '"Very\tuseful\nsecond line\r\nthird"'
    text = TINY["survey_responses.csv"].replace("Very useful", comment, 1)
    (tmp_path / "survey_responses.csv").write_text(text, encoding="utf-8", newline="")
    target = tmp_path / "new.duckdb"

    result = ingest_files(target, files)

    assert result.ok, result.summary_lines()
    con = db.connect(target)
    try:
        [(stored,)] = con.execute(
            "select comment from survey_responses where response_id = 'R1'"
        ).fetchall()
    finally:
        con.close()
    assert stored == "Very\tuseful\nsecond line\r\nthird"


def test_a_control_character_in_an_ignored_column_is_refused_too(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["agencies.csv"].replace("population_served\n", "population_served,notes\n", 1)
    text = text.replace("IL,40,110000\n", "IL,40,110000,bell\x07\n", 1)
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")

    result = validate_files(files)

    [problem] = result.errors
    assert (problem.source, problem.row, problem.column) == ("agencies.csv", 2, "notes")
    assert "U+0007" in problem.rule


def test_a_control_character_in_a_header_is_one_line(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["agencies.csv"].replace("agency_name", "agency\x1b[2J_name", 1)
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")

    result = validate_files(files)

    [problem] = result.errors
    assert problem.source == "agencies.csv"
    assert "row 1, column 2" in problem.rule and "U+001B" in problem.rule


def test_the_same_control_character_in_every_row_is_listed_up_to_the_cap(tmp_path, chunking):
    header, row = TINY["agencies.csv"].splitlines()[:2]
    rows = [
        row.replace("A1,", f"A{i},").replace("Springfield", "Spring\x0bfield") for i in range(250)
    ]
    (tmp_path / "agencies.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    result = validate_files([tmp_path / "agencies.csv"])

    flagged = [p for p in result.errors if "U+000B" in p.rule]
    assert len(flagged) == LISTED_PER_RULE
    assert [p.row for p in flagged] == list(range(2, 2 + LISTED_PER_RULE))
    assert flagged[-1].more == 250 - LISTED_PER_RULE
    assert result.error_count == 250


def _frames(tiny_dir: Path) -> dict[str, pd.DataFrame]:
    return {name.removesuffix(".csv"): pd.read_csv(tiny_dir / name, dtype=str) for name in TINY}


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x7f"])
def test_a_control_character_in_a_parquet_cell_is_refused(
    tmp_path, tiny_db, copy_db, tiny_dir, chunking, char
):
    target = copy_db(tiny_db)
    before = _digest(target)
    files = []
    for table, frame in _frames(tiny_dir).items():
        if table == "agencies":
            frame.loc[3, "agency_name"] = f"Guam{char}Police"  # row 5
        files.append(tmp_path / f"{table}.parquet")
        frame.to_parquet(files[-1])

    result = ingest_files(target, files)

    _rejected(target, before, result, "agencies.parquet", 5, "agency_name", f"U+{ord(char):04X}")


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x7f"])
def test_a_control_character_in_an_excel_cell_is_refused(
    tmp_path, tiny_db, copy_db, tiny_dir, char
):
    """Excel (and xlsxwriter) write a control character as the escape _xHHHH_; openpyxl leaves the
    escape in the text, so the reader decodes it to what Excel shows."""
    target = copy_db(tiny_db)
    before = _digest(target)
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for table, frame in _frames(tiny_dir).items():
            if table == "survey_responses":
                frame.loc[1, "comment"] = f"fine{char}"  # row 3
            frame.to_excel(writer, sheet_name=table, index=False)

    result = ingest_files(target, [path])

    code = f"U+{ord(char):04X}"
    _rejected(target, before, result, "export.xlsx [survey_responses]", 3, "comment", code)


def test_an_excel_escape_of_an_ordinary_character_reads_as_that_character(tmp_path, tiny_dir):
    path = tmp_path / "export.xlsx"
    frames = _frames(tiny_dir)
    frames["survey_responses"].loc[1, "comment"] = "snake_case and _x005F_x0041_ stay"
    frames["survey_responses"].loc[6, "comment"] = "no formula"  # openpyxl would save none
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in frames.items():
            frame.to_excel(writer, sheet_name=table, index=False)
    target = tmp_path / "new.duckdb"

    result = ingest_files(target, [path])

    assert result.ok, result.summary_lines()
    con = db.connect(target)
    try:
        [(stored,)] = con.execute(
            "select comment from survey_responses where response_id = 'R2'"
        ).fetchall()
    finally:
        con.close()
    assert stored == "snake_case and _x0041_ stay"  # _x005F_ is Excel's escaped underscore


# -- exports from a store written before imports refused control characters ---------------------


@pytest.fixture(scope="module")
def older_store(tmp_path_factory) -> Path:
    """A store holding control characters, as code older than the check could write one."""
    folder = tmp_path_factory.mktemp("older")
    write_tiny(folder)
    text = TINY["engagements.csv"].replace("De-escalation", "De-\x0bescalation")
    text = text.replace("Use of Force", "Use of \x1b[2JForce")
    (folder / "engagements.csv").write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate, "_check_controls", lambda chunk, out: None, raising=False)
        result = ingest_files(folder / "older.duckdb", sorted(folder.glob("*.csv")))
    assert result.ok, result.summary_lines()
    return folder / "older.duckdb"


def _older_report(path: Path) -> report.Report:
    con = db.connect(path)
    try:
        filters, notices = Filters.from_query_params(
            {"topic": ["De-\x0bescalation"]}, ("De-\x0bescalation",)
        )
        assert not notices
        return report.collect(con, filters, ["topics"])
    finally:
        con.close()


def test_excel_download_of_text_with_a_control_character(older_store):
    from critac_metrics import metrics

    con = db.connect(older_store)
    try:
        frame = metrics.breakdown(con, Filters(), "topic")
    finally:
        con.close()
    assert frame["topic"].str.contains("\x0b").any()  # the store does hold one

    book = openpyxl.load_workbook(io.BytesIO(downloads.excel_bytes(frame, "topics")))

    cells = [c.value for row in book["topics"].iter_rows() for c in row]
    assert "De-\ufffdescalation" in cells and "Use of \ufffd[2JForce" in cells


def test_html_report_and_deck_of_text_with_a_control_character(older_store):
    need_browser()
    built = _older_report(older_store)
    assert "\x0b" not in built.sentence and "De-\ufffdescalation" in built.sentence

    page = report.build_html(built)
    deck = report.build_deck(built)

    assert "\x0b" not in page and "\x1b" not in page
    assert deck.startswith(b"PK")


# -- workbook decompression bombs ---------------------------------------------------------------


def _workbook(path: Path, tiny_dir: Path, cell: str, inline: bool = False) -> Path:
    """The tiny data set as a workbook, with ``cell`` as R1's comment (sheet survey_responses,
    row 2, column 11: K2): in the shared strings (written as Excel does, whatever its length: the
    writers truncate to 32,767 characters), or ``inline`` in the sheet's own XML."""
    frames = _frames(tiny_dir)
    frames["survey_responses"].loc[0, "comment"] = "PLACEHOLDER"
    frames["survey_responses"].loc[6, "comment"] = "no formula"
    if inline:  # xlsxwriter's constant_memory mode writes strings inline, row after row
        book = xlsxwriter.Workbook(path, {"constant_memory": True})
        for table, frame in frames.items():
            sheet = book.add_worksheet(table)
            sheet.write_row(0, 0, list(frame.columns))
            for number, values in enumerate(frame.itertuples(index=False), start=1):
                for col, value in enumerate(values):
                    if isinstance(value, str):
                        sheet.write_string(number, col, cell if value == "PLACEHOLDER" else value)
        book.close()
        return path
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in frames.items():
            frame.to_excel(writer, sheet_name=table, index=False)
    parts = {}
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            parts[name] = book.read(name).replace(b"PLACEHOLDER", cell.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return path


def _refused_workbook(tmp_path, tiny_db, copy_db, path: Path, *words: str) -> str:
    target = copy_db(tiny_db)
    before = _digest(target)
    result = ingest_files(target, [path])
    assert not result.ok and not result.loaded
    [problem] = result.errors
    line = str(problem)
    assert line.startswith(f"{path.name}: refused") or path.name in line, line
    for word in words:
        assert word in line, line
    assert _digest(target) == before
    return line


def test_a_workbook_that_expands_far_more_than_a_real_one_is_refused(
    tmp_path, tiny_db, copy_db, tiny_dir, monkeypatch
):
    """One cell of 3 MB of one letter: the file is a few KB (the issue's was 400 KB holding
    400 MB). Checked from the zip's directory, before anything is parsed."""
    path = _workbook(tmp_path / "bomb.xlsx", tiny_dir, "A" * 3_000_000)
    assert path.stat().st_size < 100_000
    parsed = []
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: parsed.append(a) or {})

    line = _refused_workbook(
        tmp_path, tiny_db, copy_db, path, "xl/worksheets/", "decompression bomb"
    )

    assert "expands" in line and not parsed


def test_a_workbook_bigger_than_the_bound_is_refused(
    tmp_path, tiny_db, copy_db, tiny_dir, monkeypatch
):
    monkeypatch.setattr(readers, "MAX_WORKBOOK_BYTES", 20_000)
    path = _workbook(tmp_path / "big.xlsx", tiny_dir, "fine")

    _refused_workbook(tmp_path, tiny_db, copy_db, path, "expands to", "CSV or Parquet")


def test_a_text_too_long_for_a_cell_is_refused_before_parsing(
    tmp_path, tiny_db, copy_db, tiny_dir, monkeypatch
):
    """Incompressible text (no ratio alarm) in an inline string of the sheet itself: the scan of
    the sheet's XML finds it and names the cell."""
    monkeypatch.setattr(readers, "MAX_CELL_CHARS", 100)
    text = "".join(chr(0x41 + (i * 7919 + i // 3) % 26) for i in range(5_000))
    path = _workbook(tmp_path / "long.xlsx", tiny_dir, text, inline=True)
    parsed = []
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: parsed.append(a) or {})

    _refused_workbook(
        tmp_path, tiny_db, copy_db, path, "cell K2 of xl/worksheets/", "100 characters"
    )

    assert not parsed


def test_a_text_just_too_long_for_a_cell_is_refused_with_its_row_and_column(
    tmp_path, tiny_db, copy_db, tiny_dir, monkeypatch
):
    monkeypatch.setattr(readers, "MAX_CELL_CHARS", 100)
    path = _workbook(tmp_path / "long.xlsx", tiny_dir, "x" * 150)

    _refused_workbook(
        tmp_path,
        tiny_db,
        copy_db,
        path,
        "sheet 'survey_responses', row 2, column 11",
        "150 characters",
    )


def test_an_ordinary_workbook_is_within_every_bound(tmp_path, tiny_db, tiny_dir):
    path = _workbook(tmp_path / "export.xlsx", tiny_dir, "y" * 4_000)
    result = validate_files([path], tiny_db)
    assert result.ok, result.summary_lines()


class _Upload:
    def __init__(self, path: Path):
        self.name, self._data = path.name, path.read_bytes()
        self.size = len(self._data)

    def getvalue(self) -> bytes:
        return self._data


def test_the_admin_import_shows_any_failure_as_a_message(tmp_path, tiny_dir, monkeypatch):
    """The issue's bomb ended in _duckdb.OutOfMemoryException on the page: any exception an
    import raises becomes the message box's one line."""
    import duckdb

    from dashboard import admin

    monkeypatch.setattr(admin.data, "database_path", lambda: tmp_path / "store.duckdb")

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(admin, "ingest_files", out_of_memory)

    shown = admin._import([_Upload(tiny_dir / "agencies.csv")])

    assert isinstance(shown, str)
    assert shown.startswith("Import failed; nothing was changed. OutOfMemoryException")
    assert "could not allocate block" in shown and "\n" not in shown


# -- terminal escapes ---------------------------------------------------------------------------


def test_summary_escapes_control_characters_from_the_store(older_store):
    """An ANSI sequence in a topic would clear the user's terminal; it is printed escaped."""
    shown = run_cli("summary", "--db", older_store)

    assert "\x1b" not in shown.stdout and "\x0b" not in shown.stdout
    assert "Use of \\x1b[2JForce" in shown.stdout and "De-\\x0bescalation" in shown.stdout
    as_json = json.loads(run_cli("summary", "--db", older_store, "--json").stdout)
    assert as_json["by_topic"]["Use of \x1b[2JForce"] == 1  # JSON keeps the text exact


def test_file_names_in_import_messages_are_escaped(tmp_path):
    named = tmp_path / "budget\x1b]0;owned\x07.csv"
    named.write_text("a,b\n1,2\n", encoding="utf-8")

    shown = run_cli("validate", named, ok=False)

    assert "\x1b" not in shown.stderr and "\x07" not in shown.stderr
    assert "budget\\x1b]0;owned\\x07.csv: cannot tell which table" in shown.stderr


# -- symbolic links -----------------------------------------------------------------------------


def test_a_symbolic_link_to_a_system_file_is_refused_without_reading_it(tmp_path, tiny_db, copy_db):
    """A link to the password database used to be read as a CSV, and the warning about its
    unknown column echoed the file's first line."""
    target = copy_db(tiny_db)
    before = _digest(target)
    link = tmp_path / "agencies.csv"
    link.symlink_to("/etc/passwd")
    first_line = Path("/etc/passwd").read_text().splitlines()[0]

    shown = run_cli("ingest", "--db", target, link, ok=False)

    output = shown.stdout + shown.stderr
    assert "agencies.csv: refused: a symbolic link" in shown.stderr
    assert first_line not in output and first_line[:6] not in output
    assert len(shown.stderr.strip().splitlines()) == 2  # REJECTED, then the one error line
    assert _digest(target) == before


@pytest.mark.parametrize("points_to", ["a valid export", "nothing"])
def test_every_symbolic_link_is_refused(tmp_path, tiny_dir, monkeypatch, points_to):
    """The check looks at the link itself: it is refused whatever it points to (even nothing),
    and no reader opens it."""
    link = tmp_path / "agencies.csv"
    link.symlink_to(tiny_dir / "agencies.csv" if points_to == "a valid export" else tmp_path / "x")
    opened = []
    monkeypatch.setattr(readers, "_csv_sheet", lambda *a: opened.append(a))

    result = validate_files([link])

    [problem] = result.errors
    assert (problem.source, problem.rule) == (
        "agencies.csv",
        "refused: a symbolic link; give the file it points to",
    )
    assert not opened


def test_a_pipe_is_refused_rather_than_read(tmp_path):
    pipe = tmp_path / "agencies.csv"
    os.mkfifo(pipe)

    result = validate_files([pipe])

    [problem] = result.errors
    assert "not a regular file" in problem.rule
