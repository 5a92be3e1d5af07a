"""Import fuzzing: whatever bytes arrive, an import is either loaded cleanly or rejected with messages.

Every example is fed through ``critac_metrics.ingest.ingest_files`` into a fresh copy of the tiny
database (see conftest.py) and must end in exactly one of two states:

* rejected: a list of one-line errors, the database file byte-for-byte unchanged, no version kept,
  no temporary file left beside it;
* accepted: every stored row passes the data contract again (the stored tables are read back and
  validated as if they had been imported), the derived tables are complete, and nothing that was
  stored before is lost.

No exception may escape ``ingest_files``. A handful of nasty files also go through the CLI, whose
stderr must never show a Python traceback. URL parameters are fuzzed the same way: whatever the
query string, ``Filters.from_query_params`` never raises and no value ever reaches SQL text.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from critac_metrics import db, schema
from critac_metrics.filters import LIST_FILTERS, QUERY_KEYS, Filters
from critac_metrics.ingest import ingest_files
from critac_metrics.readers import frame_to_sheet
from critac_metrics.validate import Existing, validate
from dashboard.pages import PAGES

from .conftest import ROOT, TINY, run_cli

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
TABLES = ("agencies", "engagements", "survey_responses")
DATA_TABLES = (*TABLES, "topics", "imports")
FORMULAS = (
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-2",
    '=HYPERLINK("http://evil.example","click")',
    "=1+1",
    "\t=1",
    "\r=1",
    "-3+4",
    "+A1",
)
# Values a spreadsheet or another system may put in a numeric or date column.
ODD_VALUES = (
    "",
    " ",
    "1.0",
    "1e3",
    "0x10",
    "1,000",
    "NaN",
    "nan",
    "null",
    "None",
    "NULL",
    "inf",
    "-0",
    "+0",
    "007",
    "99999999999999999999",
    "999999999999999",
    "-1",
    "٣",
    "２",
    "TRUE",
    "2023/01/01",
    "2023-1-1",
    "20230101",
    "2023-10-01T00:00:00",
    "2023-10-01 12:00",
    "2024-02-29",
    "2023-02-29",
    "2023-13-01",
    "0001-01-01",
    "9999-12-31",
    "1970-01-01",
    "A1",
    "A9",
    "E1",
    "E99",
    "completed",
    "post",
    "follow_up",
    "De-escalation",
    "=1+1",
    "5",
    "3",
)


# -- helpers ---------------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(path: Path) -> dict[str, list[tuple]]:
    con = db.connect(path)
    try:
        return {
            t: con.execute(f"select * from {t} order by all").fetchall()  # noqa: S608 - fixed names
            for t in DATA_TABLES
        }
    finally:
        con.close()


def _cell_text(value: object) -> str:
    """A stored value as the text a user would have to type to import it again."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)  # DuckDB hands back dates Python cannot hold (year 0) as text, e.g. '(BC)'


def assert_contract_holds(path: Path, before: dict[str, list[tuple]]) -> None:
    """Every stored row passes validation again; derived tables are complete; nothing was lost."""
    con = db.connect(path)
    try:
        sheets = []
        for table in TABLES:
            names = schema.TABLES[table].column_names
            rows = con.execute(f"select {', '.join(names)} from {table}").fetchall()  # noqa: S608
            frame = pd.DataFrame(
                [[_cell_text(v) for v in row] for row in rows], columns=list(names), dtype=str
            )
            sheets.append(frame_to_sheet(table, frame, f"stored {table}"))
        topics = tuple(r[0] for r in con.execute("select topic from topics").fetchall())
        counts = {
            "engagements": db.scalar(con, "select count(*) from engagements"),
            "facts": db.scalar(con, "select count(*) from engagement_facts"),
            "responses": db.scalar(con, "select count(*) from survey_responses"),
            "rollup": db.scalar(con, "select coalesce(sum(responses), 0) from survey_rollup"),
            "orphans": db.scalar(
                con,
                "select count(*) from engagements where agency_id not in (select agency_id from agencies)",
            ),
        }
    finally:
        con.close()
    again = validate(sheets, Existing(topics=topics))
    assert not again.errors, [str(p) for p in again.errors[:10]]
    assert counts["facts"] == counts["engagements"], counts
    assert counts["rollup"] == counts["responses"], counts
    assert counts["orphans"] == 0, counts
    after = _stored(path)
    for table in TABLES:
        key = 0  # the id is the first column of every contract table
        assert {r[key] for r in before[table]} <= {r[key] for r in after[table]}, table
    assert len(after["imports"]) == len(before["imports"]) + 1


def check_import(base: Path, files: dict[str, bytes], on_accept=None) -> object:
    """Import ``files`` into a copy of ``base`` and check the all-or-nothing outcome; return the report."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp) / "store"
        folder.mkdir()
        target = folder / "critac.duckdb"
        shutil.copyfile(base, target)
        before_digest, before = _digest(target), _stored(target)
        paths = []
        for name, content in files.items():
            path = Path(tmp) / "in" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            paths.append(path)

        report = ingest_files(target, paths)  # nothing may escape: an exception fails the test

        event("accepted" if report.ok else "rejected")
        assert report.ok == (not report.errors)
        assert report.loaded == report.ok
        for problem in [*report.errors, *report.warnings]:
            assert "\n" not in str(problem) and "\r" not in str(problem), str(problem)
            assert "Traceback" not in str(problem)
        if report.ok:
            assert_contract_holds(target, before)
            assert len(db.list_versions(target)) == 1
            # The database, the kept previous version, and the writers' lock file: no leftovers.
            assert sorted(os.listdir(folder)) == [
                "critac.duckdb",
                "critac.duckdb.lock",
                "critac.duckdb.versions",
            ]
            if on_accept is not None:
                on_accept(target)
        else:
            assert report.errors
            assert _digest(target) == before_digest, "a rejected import changed the database"
            assert _stored(target) == before
            assert os.listdir(folder) == ["critac.duckdb"], "a rejected import left files behind"
        return report


def _tiny_frames() -> dict[str, pd.DataFrame]:
    return {
        name.removesuffix(".csv"): pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        for name, text in TINY.items()
    }


@functools.cache
def tiny_binary(table: str, kind: str) -> bytes:
    """The tiny table as Parquet (native dates and numbers) or as an .xlsx workbook."""
    frame = _tiny_frames()[table]
    for col in schema.TABLES[table].columns:
        if col.kind == "date":
            frame[col.name] = pd.to_datetime(frame[col.name].replace("", None))
        elif col.kind == "int":
            frame[col.name] = pd.to_numeric(frame[col.name].replace("", None)).astype("Int64")
    buffer = io.BytesIO()
    if kind == "parquet":
        frame.to_parquet(buffer)
    else:
        frame = frame[~frame.get("comment", pd.Series("", index=frame.index)).str.startswith("=")]
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=table, index=False)
    return buffer.getvalue()


def _replace_cell(text: str, row: int, column: str, value: str) -> str:
    """The tiny CSV text with one cell (0-based data row) replaced, quoted as CSV needs."""
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if column not in frame:
        frame[column] = ""
    frame.loc[frame.index[row % len(frame)], column] = value
    return frame.to_csv(index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def base(tiny_db) -> Path:
    return tiny_db


# -- random bytes ----------------------------------------------------------------------------------

NAMES = st.sampled_from(
    [
        "agencies.csv",
        "engagements.csv",
        "survey_responses.csv",
        "agencies.parquet",
        "engagements.parquet",
        "agencies.xlsx",
        "survey_responses.xlsx",
        "export.xlsx",
        "AGENCIES.CSV",
        "agencies",
        "notes.txt",
    ]
)
PREFIXES = st.sampled_from(
    [
        b"",
        b"PK\x03\x04",
        b"PAR1",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"agency_id,agency_name,agency_type,state\n",
        TINY["engagements.csv"].splitlines()[0].encode() + b"\n",
    ]
)


@FUZZ
@given(name=NAMES, prefix=PREFIXES, body=st.binary(max_size=3000))
@example(name="agencies.csv", prefix=b"", body=b"\x00" * 10)
@example(name="agencies.xlsx", prefix=b"PK\x03\x04", body=b"\x14\x00" * 40)
@example(name="agencies.parquet", prefix=b"PAR1", body=b"\x00" * 64 + b"PAR1")
def test_random_bytes_are_rejected_or_loaded_cleanly(base, name, prefix, body):
    check_import(base, {name: prefix + body})


# -- truncated valid files -------------------------------------------------------------------------


@st.composite
def truncated_files(draw):
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["csv", "csv-crlf-bom", "parquet", "xlsx"]))
    if kind == "csv":
        content = TINY[f"{table}.csv"].encode()
    elif kind == "csv-crlf-bom":
        content = b"\xef\xbb\xbf" + TINY[f"{table}.csv"].replace("\n", "\r\n").encode()
    else:
        content = tiny_binary(table, kind)
    cut = draw(st.integers(0, len(content)))
    suffix = "csv" if kind.startswith("csv") else kind
    return {f"{table}.{suffix}": content[:cut]}


@FUZZ
@given(files=truncated_files())
@example(files={"engagements.csv": TINY["engagements.csv"].encode()[:200]})
@example(files={"agencies.csv": TINY["agencies.csv"].encode()[:60]})
def test_truncated_files_are_rejected_or_loaded_cleanly(base, files):
    check_import(base, files)


# -- wrong encodings -------------------------------------------------------------------------------

ENCODINGS = ("latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "mac_roman")
ACCENTED = st.text(alphabet="éüßñ©çÅØ€ ", min_size=0, max_size=12)


@settings(FUZZ, max_examples=15)
@given(
    table=st.sampled_from(TABLES),
    encoding=st.sampled_from(ENCODINGS),
    extra=ACCENTED,
    row=st.integers(0, 6),
)
@example(table="agencies", encoding="utf-16", extra="é", row=0)  # UTF-16 with a BOM
@example(table="agencies", encoding="latin-1", extra="Springfiéld", row=0)
def test_wrong_encodings_are_rejected_or_loaded_cleanly(base, table, encoding, extra, row):
    column = {"agencies": "agency_name", "engagements": "provider", "survey_responses": "comment"}
    text = _replace_cell(TINY[f"{table}.csv"], row, column[table], f"Name {extra}")
    report = check_import(base, {f"{table}.csv": text.encode(encoding, errors="replace")})
    if encoding.startswith(("utf-16", "utf-32")):
        assert not report.ok  # not UTF-8: must be refused, never loaded as mojibake


# -- huge fields -----------------------------------------------------------------------------------

HUGE = 1_000_000


@settings(FUZZ, max_examples=6)
@given(
    table=st.sampled_from(TABLES),
    column_index=st.integers(0, 11),
    char=st.sampled_from(["x", "é", "1", ";", '"']),
)
@example(table="engagements", column_index=5, char=";")  # topics: a million separators
@example(table="agencies", column_index=11, char="x")  # an unknown extra column
def test_huge_fields_are_rejected_or_loaded_cleanly(base, table, column_index, char):
    names = [*schema.TABLES[table].column_names, "extra_notes"]
    column = names[column_index % len(names)]
    text = _replace_cell(TINY[f"{table}.csv"], 0, column, char * HUGE)
    report = check_import(base, {f"{table}.csv": text.encode()})
    if column != "extra_notes":
        assert not report.ok  # every contract column has a length limit far below 1 MB


# -- formula-looking text --------------------------------------------------------------------------


@settings(FUZZ, max_examples=15)
@given(
    table=st.sampled_from(TABLES),
    column_index=st.integers(0, 10),
    row=st.integers(0, 6),
    formula=st.sampled_from(FORMULAS),
)
@example(table="agencies", column_index=1, row=0, formula="=cmd|' /C calc'!A0")
@example(table="survey_responses", column_index=10, row=1, formula="@SUM(1)")
@example(table="agencies", column_index=4, row=0, formula="+1")
@example(table="agencies", column_index=4, row=0, formula="-2")
def test_formula_text_is_stored_verbatim_or_rejected(base, table, column_index, row, formula):
    names = schema.TABLES[table].column_names
    column = names[column_index % len(names)]
    text = _replace_cell(TINY[f"{table}.csv"], row, column, formula)
    stored_column = schema.TABLES[table].column(column)

    def stored_verbatim(target: Path) -> None:
        if stored_column.kind != "text":
            return
        con = db.connect(target)
        try:
            values = {r[0] for r in con.execute(f"select {column} from {table}").fetchall()}
        finally:
            con.close()
        # The import stores what the user typed (trimmed); neutralising is the download's job.
        assert formula.strip() in values

    check_import(base, {f"{table}.csv": text.encode()}, on_accept=stored_verbatim)


# -- mixed types in numeric and date columns -------------------------------------------------------

TYPED_COLUMNS = {
    table: [c.name for c in schema.TABLES[table].columns if c.kind in ("int", "date", "enum")]
    for table in TABLES
}


@st.composite
def mixed_type_edits(draw):
    table = draw(st.sampled_from(TABLES))
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, 6),
                st.sampled_from(TYPED_COLUMNS[table]),
                st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=12)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return table, edits


@settings(FUZZ, max_examples=25)
@given(case=mixed_type_edits())
@example(case=("agencies", [(0, "sworn_officers", "1e3")]))
@example(case=("engagements", [(1, "requested_on", "2023-10-01T00:00:00")]))
@example(case=("survey_responses", [(0, "satisfaction", "4.0")]))
def test_mixed_types_in_typed_columns_are_rejected_or_loaded_cleanly(base, case):
    table, edits = case
    text = TINY[f"{table}.csv"]
    for row, column, value in edits:
        text = _replace_cell(text, row, column, value)
    check_import(base, {f"{table}.csv": text.encode()})


# -- Parquet and .xlsx with random content ---------------------------------------------------------

COLUMN_NAMES = st.sampled_from(
    sorted({c for t in TABLES for c in schema.TABLES[t].column_names}) + ["Agency ID", "x", ""]
)
ARROW_COLUMNS = {
    "string": (pa.string(), st.one_of(st.sampled_from(ODD_VALUES + FORMULAS), st.text(max_size=8))),
    "int": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": (pa.bool_(), st.booleans()),
    "date": (pa.date32(), st.dates(dt.date(1, 1, 2), dt.date(9999, 12, 31))),
    "timestamp": (pa.timestamp("us"), st.datetimes(dt.datetime(1900, 1, 1))),
    "timestamp_tz": (
        pa.timestamp("us", tz="UTC"),
        st.datetimes(dt.datetime(1900, 1, 1), timezones=st.just(dt.UTC)),
    ),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "list": (pa.list_(pa.string()), st.lists(st.text(max_size=4), max_size=3)),
}


@st.composite
def parquet_files(draw):
    rows = draw(st.integers(0, 5))
    names = draw(st.lists(COLUMN_NAMES, min_size=0, max_size=8, unique=True))
    columns = {}
    for name in names:
        arrow_type, values = ARROW_COLUMNS[draw(st.sampled_from(sorted(ARROW_COLUMNS)))]
        cells = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
        columns[name] = pa.array(cells, type=arrow_type)
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({}), buffer)
    return {f"{draw(st.sampled_from(TABLES))}.parquet": buffer.getvalue()}


XLSX_CELLS = st.one_of(
    st.none(),
    st.sampled_from(ODD_VALUES + FORMULAS + ("A1", "E1", "IL", "municipal", "training")),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.text(max_size=10).filter(lambda s: not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", s)),
)


@st.composite
def xlsx_files(draw):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in draw(
        st.lists(st.sampled_from([*TABLES, "Notes", "agencies_2024"]), max_size=3, unique=True)
    ):
        ws = book.create_sheet(sheet)
        width = draw(st.integers(0, 8))
        ws.append(draw(st.lists(COLUMN_NAMES, min_size=width, max_size=width)))
        for _ in range(draw(st.integers(0, 4))):
            ws.append(draw(st.lists(XLSX_CELLS, min_size=width, max_size=width)))
    if not book.sheetnames:
        book.create_sheet("empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return {draw(st.sampled_from(["export.xlsx", "agencies.xlsx"])): buffer.getvalue()}


NATIVE_VALUES = st.one_of(
    st.none(),
    st.integers(-5, 3000),
    st.floats(-5, 3000),
    st.booleans(),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 1, 1)),
    st.sampled_from(ODD_VALUES + FORMULAS),
)


@st.composite
def mutated_tiny_binaries(draw):
    """The tiny table as Parquet or .xlsx with native types, one column re-typed or one cell odd."""
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["parquet", "xlsx"]))
    frame = pd.read_parquet(io.BytesIO(tiny_binary(table, "parquet")))
    column = draw(st.sampled_from(list(frame.columns)))
    col_kind = schema.TABLES[table].column(column).kind
    ways = {"int": ["float", "int", "string", "cell"], "date": ["datetime", "string", "cell"]}
    how = draw(st.sampled_from(ways.get(col_kind, ["string", "cell"])))
    if how == "float":
        frame[column] = frame[column].astype("float64")
    elif how == "int":
        frame[column] = frame[column].astype("Int64")
    elif how == "string":
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else str(v)).astype(str)
    elif how == "datetime":
        frame[column] = frame[column] + pd.Timedelta(hours=draw(st.sampled_from([0, 0, 12])))
    else:
        frame[column] = frame[column].astype(object)
        frame.loc[draw(st.integers(0, len(frame) - 1)), column] = draw(NATIVE_VALUES)
    buffer = io.BytesIO()
    if kind == "parquet":
        try:
            frame.to_parquet(buffer)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, OverflowError):
            buffer = io.BytesIO()
            frame.astype(str).to_parquet(buffer)  # a column Arrow cannot type: write it as text
    else:
        for col in frame.columns:  # openpyxl writes text starting with "=" as a formula
            frame[col] = frame[col].map(lambda v: v if not str(v).startswith("=") else "x")
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=table, index=False)
    return {f"{table}.{kind}": buffer.getvalue()}


@settings(FUZZ, max_examples=30)
@given(files=st.one_of(parquet_files(), xlsx_files(), mutated_tiny_binaries()))
def test_random_parquet_and_xlsx_content_is_rejected_or_loaded_cleanly(base, files):
    check_import(base, files)


# -- dates the validator accepts must not break the dashboard --------------------------------------

# The pages that draw time series (by title, so that a moved file does not break the test).
PAGES_WITH_TIME_SERIES = tuple(
    p.path for p in PAGES if p.title in ("Overview", "Topics", "Agencies & reach")
)


@pytest.mark.parametrize("day", ["0000-01-01", "0001-01-01", "9999-12-31"])
def test_an_accepted_extreme_date_round_trips_and_every_page_still_runs(
    monkeypatch, tmp_path, tiny_db, day
):
    """An import either refuses a date or the data it accepted keeps every page working."""
    target = tmp_path / "extreme.duckdb"
    shutil.copyfile(tiny_db, target)
    before = _stored(target)
    header = TINY["engagements.csv"].splitlines()[0]
    path = tmp_path / "engagements_extreme.csv"
    path.write_text(
        f"{header}\nX1,A1,{day},completed,training,De-escalation,{day},{day},onsite,IACP,3\n",
        encoding="utf-8",
    )
    report = ingest_files(target, [path])
    if not report.ok:
        return  # refused with a message: fine
    assert_contract_holds(target, before)
    monkeypatch.setenv("CRITAC_DB", str(target))
    for page in PAGES_WITH_TIME_SERIES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        if page != "views/overview.py":
            at.switch_page(page).run()
        assert not at.exception, (day, page, [e.value for e in at.exception])


# -- the CLI never shows a traceback ---------------------------------------------------------------

SEEDED = random.Random(2018)
NASTY_FOR_CLI = {
    "random-bytes": ("agencies.csv", SEEDED.randbytes(2048)),
    "utf-16-bom": ("agencies.csv", TINY["agencies.csv"].encode("utf-16")),
    "latin-1": (
        "agencies.csv",
        TINY["agencies.csv"].replace("Springfield", "Springfiéld").encode("latin-1"),
    ),
    "huge-cell": (
        "agencies.csv",
        _replace_cell(TINY["agencies.csv"], 0, "agency_name", "x" * HUGE).encode(),
    ),
    "formula": (
        "agencies.csv",
        _replace_cell(TINY["agencies.csv"], 0, "agency_name", "=cmd|' /C calc'!A0").encode(),
    ),
    "garbage-parquet": ("engagements.parquet", b"PAR1" + SEEDED.randbytes(512) + b"PAR1"),
    "truncated-xlsx": ("agencies.xlsx", tiny_binary("agencies", "xlsx")[:700]),
    "truncated-parquet": ("agencies.parquet", tiny_binary("agencies", "parquet")[:-20]),
}


@pytest.mark.parametrize("case", sorted(NASTY_FOR_CLI))
def test_cli_ingest_of_nasty_files_never_shows_a_traceback(tmp_path, tiny_db, case):
    name, content = NASTY_FOR_CLI[case]
    target = tmp_path / "critac.duckdb"
    shutil.copyfile(tiny_db, target)
    before = _digest(target)
    path = tmp_path / name
    path.write_bytes(content)
    result = run_cli("ingest", "--db", target, path, ok=None)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 0:
        assert result.stdout.startswith("Loaded")
    else:
        assert result.returncode == 1
        assert result.stderr.startswith("REJECTED") and name in result.stderr
        assert _digest(target) == before


@pytest.mark.parametrize(
    "make_db",
    [
        pytest.param(lambda p: p.write_bytes(SEEDED.randbytes(4096)), id="random-bytes"),
        pytest.param(lambda p: p.write_text("not a database\n"), id="text-file"),
        pytest.param(lambda p: p.mkdir(), id="directory"),
    ],
)
def test_cli_ingest_into_a_db_that_is_not_a_database_says_so_without_a_traceback(
    tmp_path, tiny_dir, make_db
):
    target = tmp_path / "critac.duckdb"
    make_db(target)
    result = run_cli("ingest", "--db", target, tiny_dir / "agencies.csv", ok=False)
    assert "Traceback" not in result.stderr, result.stderr[-1500:]


# -- URL parameters --------------------------------------------------------------------------------

KNOWN_TOPICS = ("De-escalation", "School Safety", "Use of Force")
# The only SQL a filter can produce: fixed text, one "?" per bound value.
FIXED_CLAUSE = re.compile(
    r"true|requested_on >= \?|requested_on <= \?"
    r"|row_id in \(select row_id from fact_topics where topic = any\(\?::varchar\[\]\)\)"
    r"|(" + "|".join(s.column for s in LIST_FILTERS if s.field != "topics") + r") in \(\?(, \?)*\)"
)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "' OR 1=1 --",
            '"; DROP TABLE engagements; --',
            "tribal' --",
            "x" * 10_000,
            "De-escalation",
            "TRIBAL",
            " campus ",
            "2023-10-01",
            "2023-02-30",
            "ID",
        ]
    ),
    st.text(max_size=30),
)
URL_KEYS = st.one_of(st.sampled_from([*QUERY_KEYS, "_present", "colour"]), st.text(max_size=12))


@settings(FUZZ, max_examples=300)
@given(
    params=st.dictionaries(
        URL_KEYS,
        st.one_of(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=5)),
        max_size=6,
    ),
    repeats=st.sampled_from([1, 1, 1, 101, 1000]),
)
def test_url_parameters_never_raise_and_never_reach_sql_text(params, repeats):
    params = {
        k: ([v] * repeats if isinstance(v, str) and repeats > 1 else v) for k, v in params.items()
    }
    filters, notices = Filters.from_query_params(params, KNOWN_TOPICS)
    where, values = filters.where()
    assert all(FIXED_CLAUSE.fullmatch(clause) for clause in where.split(" and ")), where
    assert where.count("?") == len(values)
    allowed = {spec.field: spec.allowed or KNOWN_TOPICS for spec in LIST_FILTERS}
    for spec in LIST_FILTERS:
        assert set(getattr(filters, spec.field)) <= set(allowed[spec.field])
    for value in values:
        assert isinstance(value, dt.date | list | str)
    for notice in notices:
        assert "\n" not in notice and len(notice) < 200, notice
    # The same query string always gives the same Filters (a shared link is reproducible).
    assert Filters.from_query_params(filters.to_query_params(), KNOWN_TOPICS) == (filters, [])
