"""The data contract, rule by rule: one bad file per rule, the message it gets, and nothing changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from critac_metrics import db, readers
from critac_metrics.ingest import ingest_files, validate_files
from critac_metrics.validate import LISTED_PER_RULE

from .conftest import TINY, run_cli, write_tiny


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    con = db.connect(path)
    try:
        return {
            t: con.execute(f"select * from {t} order by 1").df()  # noqa: S608 - fixed names
            for t in ("agencies", "engagements", "survey_responses", "topics", "engagement_facts")
        }
    finally:
        con.close()


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture text {old!r} not found"
    return text.replace(old, new, 1)


# (file, old text, new text, expected column, expected spreadsheet row, expected words in rule)
BAD_CASES = [
    ("agencies.csv", "A1,Springfield", ",Springfield", "agency_id", 2, "a value is required"),
    ("agencies.csv", ",municipal,IL", ",city,IL", "agency_type", 2, "must be one of"),
    ("agencies.csv", ",tribal,AZ", ",tribal,ZZ", "state", 3, "must be one of"),
    ("agencies.csv", ",IL,40,", ",IL,forty,", "sworn_officers", 2, "whole number"),
    ("agencies.csv", ",IL,40,", ",IL,-3,", "sworn_officers", 2, "0 or more"),
    ("agencies.csv", "A2,Navajo", "A1,Navajo", "agency_id", 3, "duplicate id"),
    (
        "engagements.csv",
        "E2,A1,2023-10-01",
        "E2,A9,2023-10-01",
        "agency_id",
        3,
        "no such agency_id",
    ),
    (
        "engagements.csv",
        "2023-10-01,completed",
        "10/01/2023,completed",
        "requested_on",
        3,
        "YYYY-MM-DD",
    ),
    (
        "engagements.csv",
        "2023-10-01,completed",
        "2023-02-30,completed",
        "requested_on",
        3,
        "YYYY-MM-DD",
    ),
    (
        "engagements.csv",
        ",completed,virtual_consultation",
        ",done,virtual_consultation",
        "status",
        3,
        "must be one of",
    ),
    (
        "engagements.csv",
        ",training,De-escalation; Use",
        ",lecture,De-escalation; Use",
        "assistance_type",
        2,
        "must be one of",
    ),
    ("engagements.csv", "De-escalation; Use of Force", "", "topics", 2, "a value is required"),
    (
        "engagements.csv",
        "De-escalation; Use of Force",
        "De-escalation;;Use of Force",
        "topics",
        2,
        "non-empty",
    ),
    (
        "engagements.csv",
        ",2023-10-10,2023-11-01",
        ",2023-09-01,2023-11-01",
        "started_on",
        2,
        "not be before requested_on",
    ),
    (
        "engagements.csv",
        ",2023-10-10,2023-11-01",
        ",2023-10-10,2023-10-09",
        "completed_on",
        2,
        "not be before started_on",
    ),
    (
        "engagements.csv",
        ",2023-10-05,2023-10-20",
        ",2023-10-05,",
        "completed_on",
        3,
        "required when status is completed",
    ),
    (
        "engagements.csv",
        ",onsite,IACP,25",
        ",in person,IACP,25",
        "delivery_mode",
        2,
        "must be one of",
    ),
    ("engagements.csv", ",IACP,25", ",IACP,2.5", "participants", 2, "whole number"),
    ("survey_responses.csv", "R2,E1", "R1,E1", "response_id", 3, "duplicate id"),
    ("survey_responses.csv", "R4,E2", "R4,E99", "engagement_id", 5, "no such engagement_id"),
    (
        "survey_responses.csv",
        "Chief,5,4,4,,5",
        "Chief,6,4,4,,5",
        "satisfaction",
        2,
        "between 1 and 5",
    ),
    (
        "survey_responses.csv",
        "Officer,4,3,,2,4",
        "Officer,4,0,,2,4",
        "knowledge_gain",
        3,
        "between 1 and 5",
    ),
    (
        "survey_responses.csv",
        ",post,Chief,5,5,5",
        ",during,Chief,5,5,5",
        "wave",
        6,
        "must be one of",
    ),
    ("survey_responses.csv", "2023-11-05,post", ",post", "submitted_on", 2, "a value is required"),
    ("survey_responses.csv", "Very useful", "x" * 5001, "comment", 2, "longer than 5000"),
]


@pytest.fixture(params=["whole", "chunks of 2"])
def chunking(request, monkeypatch) -> str:
    """Run a test with files read whole and again two rows at a time (every check then has to
    work across chunk boundaries: duplicates, references, row numbers, new topics)."""
    if request.param != "whole":
        monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    return request.param


@pytest.mark.parametrize(("name", "old", "new", "column", "row", "rule"), BAD_CASES)
def test_each_rule_rejects_the_import_and_changes_nothing(
    tmp_path, tiny_db, copy_db, chunking, name, old, new, column, row, rule
):
    target = copy_db(tiny_db)
    before_hash, before = _digest(target), _tables(target)
    files = write_tiny(tmp_path / "in")
    bad = tmp_path / "in" / name
    bad.write_text(_edit(TINY[name], old, new), encoding="utf-8")

    report = ingest_files(target, files)

    assert not report.ok and not report.loaded
    matching = [p for p in report.errors if p.column == column and p.row == row and rule in p.rule]
    assert matching, [str(p) for p in report.errors]
    assert matching[0].source == name
    assert name in str(matching[0]) and f"row {row}" in str(matching[0])
    assert _digest(target) == before_hash
    for table, frame in _tables(target).items():
        pd.testing.assert_frame_equal(frame, before[table])


def test_missing_required_column_is_named(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["agencies.csv"].replace("agency_type,", "kind,")
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")
    report = validate_files(files)
    assert any(
        p.column == "agency_type" and "required column is missing" in p.rule for p in report.errors
    )
    assert any("unknown column(s) ignored: kind" in p.rule for p in report.warnings)


def test_every_error_is_reported_not_just_the_first(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["agencies.csv"].replace(",municipal,", ",city,").replace(",tribal,", ",band,")
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")
    report = validate_files(files)
    rows = sorted(p.row for p in report.errors if p.column == "agency_type")
    assert rows == [2, 3]


def test_a_valid_import_loads_every_row(tiny_db, tiny_dir):
    tables = _tables(tiny_db)
    assert len(tables["agencies"]) == 4
    assert len(tables["engagements"]) == 7
    assert len(tables["survey_responses"]) == 7
    e3 = tables["engagements"].set_index("engagement_id").loc["E3"]
    assert list(e3["topics"]) == ["Officer Safety and Wellness", "De-escalation", "School Safety"]
    r4 = tables["survey_responses"].set_index("response_id").loc["R4"]
    assert r4["wave"] == "post"  # blank wave defaults to post
    r1 = tables["survey_responses"].set_index("response_id").loc["R1"]
    assert pd.isna(r1["operations_change"])  # blank answer is not answered, not 0


def test_reimporting_the_same_files_changes_nothing(tmp_path, tiny_dir):
    target = tmp_path / "x.duckdb"
    files = sorted(tiny_dir.glob("*.csv"))
    assert ingest_files(target, files).ok
    first = _tables(target)
    assert ingest_files(target, files).ok
    for table, frame in _tables(target).items():
        pd.testing.assert_frame_equal(frame, first[table])


def test_reimport_replaces_a_record_with_the_same_id(tmp_path, tiny_db, copy_db):
    target = copy_db(tiny_db)
    path = tmp_path / "engagements_update.csv"
    header = TINY["engagements.csv"].splitlines()[0]
    path.write_text(
        header + "\nE5,A3,2024-10-01,completed,assessment,Active Shooter Response,"
        "2024-10-15,2024-11-20,onsite,IACLEA,30\n",
        encoding="utf-8",
    )
    report = ingest_files(target, [path])
    assert report.ok, report.summary_lines()
    engagements = _tables(target)["engagements"].set_index("engagement_id")
    assert len(engagements) == 7
    assert engagements.loc["E5", "status"] == "completed"
    assert engagements.loc["E5", "participants"] == 30


def test_references_may_point_at_stored_rows(tmp_path, tiny_db, copy_db):
    target = copy_db(tiny_db)
    path = tmp_path / "survey_responses_late.csv"
    header = TINY["survey_responses.csv"].splitlines()[0]
    path.write_text(header + "\nR8,E7,2023-01-10,follow_up,Sheriff,4,4,4,4,4,\n", encoding="utf-8")
    assert ingest_files(target, [path]).ok


def test_unknown_topic_is_kept_with_a_warning(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["engagements.csv"].replace("Crisis Intervention,2022", "Drone Programs,2022")
    (tmp_path / "engagements.csv").write_text(text, encoding="utf-8")
    target = tmp_path / "t.duckdb"
    report = ingest_files(target, files)
    assert report.ok
    assert any(
        p.value == "Drone Programs" and "not in the catalogue" in p.rule for p in report.warnings
    )
    topics = _tables(target)["topics"].set_index("topic")
    assert not topics.loc["Drone Programs", "in_catalogue"]


def test_headers_and_enums_are_matched_leniently(tmp_path):
    files = write_tiny(tmp_path)
    text = TINY["agencies.csv"].replace("agency_id,agency_name", " Agency ID , Agency Name")
    text = text.replace(",municipal,IL", ",Municipal,il")
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")
    text = TINY["engagements.csv"].replace(",de-escalation", ",DE-ESCALATION")
    text = text.replace(",in_progress,", ",In Progress,")
    (tmp_path / "engagements.csv").write_text(text, encoding="utf-8")
    target = tmp_path / "t.duckdb"
    report = ingest_files(target, files)
    assert report.ok, report.summary_lines()
    tables = _tables(target)
    assert set(tables["agencies"]["agency_type"]) <= {
        "municipal",
        "tribal",
        "campus",
        "territorial",
    }
    assert "in_progress" in set(tables["engagements"]["status"])
    assert "IL" in set(tables["agencies"]["state"])


def test_csv_with_bom_and_crlf(tmp_path):
    files = write_tiny(tmp_path)
    for path in files:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_text().replace("\n", "\r\n").encode())
    report = ingest_files(tmp_path / "t.duckdb", files)
    assert report.ok, report.summary_lines()
    assert report.rows == {"agencies": 4, "engagements": 7, "survey_responses": 7}


def _tiny_frames(directory: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in TINY:
        frame = pd.read_csv(directory / name)
        for col in ("requested_on", "started_on", "completed_on", "submitted_on"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col])  # native dates, as Parquet/Excel carry them
        frames[name.removesuffix(".csv")] = frame
    return frames


def test_parquet_with_native_types_loads_the_same_rows(tmp_path, tiny_db, tiny_dir):
    files = []
    for table, frame in _tiny_frames(tiny_dir).items():
        path = tmp_path / f"{table}.parquet"
        frame.to_parquet(path)
        files.append(path)
    target = tmp_path / "p.duckdb"
    report = ingest_files(target, files)
    assert report.ok, report.summary_lines()
    for table, frame in _tables(target).items():
        pd.testing.assert_frame_equal(frame, _tables(tiny_db)[table])


def test_excel_workbook_with_one_sheet_per_table(tmp_path, tiny_db, tiny_dir):
    path = tmp_path / "critac_export.xlsx"
    frames = _tiny_frames(tiny_dir)
    # openpyxl writes a text starting with "=" as a formula, which has no cached value to read back
    # (test_a_formula_without_a_saved_value_rejects_the_workbook).
    formula_like = frames["survey_responses"]["comment"].str.startswith("=", na=False)
    assert formula_like.any()
    frames["survey_responses"] = frames["survey_responses"][~formula_like]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in frames.items():
            frame.to_excel(writer, sheet_name=table, index=False)
        pd.DataFrame({"note": ["ignore me"]}).to_excel(writer, sheet_name="Notes", index=False)
    target = tmp_path / "x.duckdb"
    report = ingest_files(target, [path])
    assert report.ok, report.summary_lines()
    assert any("Notes" in p.rule for p in report.warnings)
    expected = _tables(tiny_db)
    expected["survey_responses"] = expected["survey_responses"].query("response_id != 'R7'")
    for table in ("agencies", "engagements", "survey_responses"):
        pd.testing.assert_frame_equal(
            _tables(target)[table].reset_index(drop=True),
            expected[table].reset_index(drop=True),
            check_dtype=False,  # without R7 no answer is blank, so DuckDB returns int64, not Int64
        )


def test_excel_errors_name_the_sheet_and_row(tmp_path, tiny_dir):
    path = tmp_path / "export.xlsx"
    frames = _tiny_frames(tiny_dir)
    frames["agencies"].loc[2, "state"] = "XX"
    comments = frames["survey_responses"]["comment"]  # R7's '=HYPERLINK' would be a formula
    frames["survey_responses"] = frames["survey_responses"][~comments.str.startswith("=", na=False)]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in frames.items():
            frame.to_excel(writer, sheet_name=table, index=False)
    report = validate_files([path])
    assert [str(p) for p in report.errors] == [
        "export.xlsx [agencies], row 4, column state: 'XX': must be one of AL, AK, AZ, AR, CA, CO, "
        "CT, DE, FL, GA, ..."
    ]


def test_a_formula_without_a_saved_value_rejects_the_workbook(tmp_path, tiny_db, copy_db, tiny_dir):
    """openpyxl writes a formula with no saved value; read as it is, the cell would be blank. (So
    does to_excel with R7's comment, the text '=HYPERLINK("x")'.)"""
    target = copy_db(tiny_db)
    before = _digest(target)
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in _tiny_frames(tiny_dir).items():
            frame.to_excel(writer, sheet_name=table, index=False)
        writer.book["engagements"]["K3"] = "=20+5"  # E2's participants (row 3, column K)

    report = ingest_files(target, [path])

    [problem] = report.errors
    assert problem.source == "export.xlsx"
    assert "2 formula cell(s) have no saved value" in problem.rule
    assert "sheet 'engagements', cell K3, =20+5" in problem.rule
    assert _digest(target) == before


UNREADABLE = [
    ("agencies.csv", b"", "the file is empty"),
    ("agencies.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("agencies.csv", b'agency_id,agency_name\nA1,"unterminated\n', "malformed CSV"),
    ("agencies.csv", "agency_id,agency_name\nA1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("agencies.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
    ("agencies.xlsx", b"PK\x03\x04 broken zip", "not a readable .xlsx workbook"),
    ("agencies.txt", b"agency_id\n", "unsupported file type"),
    ("budget.csv", b"a,b\n1,2\n", "cannot tell which table"),
    ("agencies.csv", b"agency_id,agency_name,agency_type,state\n", "no data rows"),
]


@pytest.mark.parametrize(("name", "content", "message"), UNREADABLE)
def test_unreadable_files_get_one_clear_line_from_the_cli(
    tmp_path, tiny_db, copy_db, name, content, message
):
    target = copy_db(tiny_db)
    before = _digest(target)
    path = tmp_path / name
    path.write_bytes(content)
    result = run_cli("ingest", "--db", target, path, ok=None)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert name in result.stderr
    assert _digest(target) == before


# -- files read a chunk at a time ---------------------------------------------------------------


def test_a_file_read_in_chunks_stores_exactly_what_a_whole_read_stores(
    tmp_path, tiny_db, tiny_dir, monkeypatch
):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    parquet = []
    for table, frame in _tiny_frames(tiny_dir).items():
        parquet.append(tmp_path / f"{table}.parquet")
        frame.to_parquet(parquet[-1])
    for kind, files in (("csv", sorted(tiny_dir.glob("*.csv"))), ("parquet", parquet)):
        target = tmp_path / f"{kind}.duckdb"
        report = ingest_files(target, files)
        assert report.ok, report.summary_lines()
        assert report.rows == {"agencies": 4, "engagements": 7, "survey_responses": 7}
        for table, frame in _tables(target).items():
            pd.testing.assert_frame_equal(frame, _tables(tiny_db)[table], obj=f"{kind} {table}")


def test_duplicates_and_new_topics_are_found_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    files = write_tiny(tmp_path)
    text = TINY["engagements.csv"]
    text = _edit(text, "E6,A4", "E1,A4")  # row 7 repeats row 2's id, three chunks later
    text = _edit(text, "De-escalation; Use of Force", "Drone Programs; Use of Force")  # row 2
    text = _edit(text, "Crisis Intervention,2022", "drone programs,2022")  # row 8
    (tmp_path / "engagements.csv").write_text(text, encoding="utf-8")

    report = validate_files(files)

    duplicates = [p for p in report.errors if "duplicate id" in p.rule]
    assert [(p.row, p.value) for p in duplicates] == [(2, "E1"), (7, "E1")]
    [warning] = [p for p in report.warnings if "not in the catalogue" in p.rule]
    assert (warning.row, warning.value) == (2, "Drone Programs")
    assert "(2 row(s))" in warning.rule


def test_a_malformed_line_after_the_first_chunk_rejects_the_import(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    target = tmp_path / "new.duckdb"
    files = write_tiny(tmp_path)
    text = _edit(TINY["agencies.csv"], "GU,1000,", "GU,1000,,extra,fields")  # row 5, third chunk
    (tmp_path / "agencies.csv").write_text(text, encoding="utf-8")

    report = ingest_files(target, files)

    assert not report.ok and not report.loaded
    # The one error: not also "no such agency_id A4" for E6, whose agency was in the broken line.
    [problem] = report.errors
    assert problem.source == "agencies.csv" and "malformed CSV" in problem.rule
    assert not target.exists()


def test_a_mistake_in_every_row_lists_the_first_rows_and_counts_the_rest(tmp_path, chunking):
    """A date format typo in a big export: the first rows are listed, the rest counted."""
    header, row = TINY["agencies.csv"].splitlines()[:2]
    rows = [row.replace("A1,", f"A{i},").replace(",municipal,", ",city,") for i in range(1, 251)]
    (tmp_path / "agencies.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    report = validate_files([tmp_path / "agencies.csv"])

    flagged = [p for p in report.errors if p.column == "agency_type"]
    assert len(flagged) == LISTED_PER_RULE
    assert [p.row for p in flagged] == list(range(2, LISTED_PER_RULE + 2))
    assert [p.more for p in flagged] == [0] * (LISTED_PER_RULE - 1) + [250 - LISTED_PER_RULE]
    assert report.error_count == 250
    lines = report.summary_lines()
    assert lines[0] == "REJECTED: 250 error(s); nothing was changed."
    assert f"(and {250 - LISTED_PER_RULE} more row(s) like this)" in "\n".join(lines)


def test_duplicates_and_missing_references_are_listed_and_counted_per_file(tmp_path, chunking):
    files = write_tiny(tmp_path)
    header, row = TINY["survey_responses.csv"].splitlines()[:2]
    rows = [row.replace(",E1,", ",E404,") for _ in range(LISTED_PER_RULE + 20)]  # all "R1"
    (tmp_path / "survey_responses.csv").write_text(
        "\n".join([header, *rows]) + "\n", encoding="utf-8"
    )

    report = validate_files(files)

    for rule in ("duplicate id", "no such engagement_id"):
        found = [p for p in report.errors if rule in p.rule]
        assert len(found) == LISTED_PER_RULE, rule
        assert sum(1 + p.more for p in found) == LISTED_PER_RULE + 20, rule
    assert report.error_count == 2 * (LISTED_PER_RULE + 20)
