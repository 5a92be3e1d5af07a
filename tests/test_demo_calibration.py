"""The demo generator's calibration files (data/calibration/*.json): every table says what it is and
where it comes from, every published source is one data/README.md cites, and the generator reads
every table (none is left behind when the code changes) and no table it does not have."""

from __future__ import annotations

import json
import re

from critac_metrics.demo import calibration

from .conftest import ROOT

CALIBRATION = ROOT / "data" / "calibration"
SOURCE_CODE = (ROOT / "critac_metrics" / "demo" / "calibration.py").read_text(encoding="utf-8")


def _files() -> dict[str, dict[str, dict[str, object]]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))["tables"]
        for path in sorted(CALIBRATION.glob("*.json"))
    }


def test_every_table_has_a_note_a_source_and_values():
    files = _files()
    assert files, f"no calibration files in {CALIBRATION}"
    for name, tables in files.items():
        for table, entry in tables.items():
            assert set(entry) == {"note", "source", "values"}, (name, table)
            assert isinstance(entry["note"], str) and entry["note"].strip(), (name, table)
            assert isinstance(entry["source"], str) and entry["source"].strip(), (name, table)


def test_every_cited_address_is_one_the_data_readme_lists():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"https?://[^\s|;)]+", readme))
    for name, tables in _files().items():
        for table, entry in tables.items():
            for url in re.findall(r"https?://[^\s|;)]+", str(entry["source"])):
                assert url in listed, f"{name}.json {table}: {url} is not cited in data/README.md"


def test_the_generator_reads_every_table_and_only_those():
    read = set(re.findall(r'_(?:values|rows)\(\s*"(\w+)",\s*"(\w+)"', SOURCE_CODE))
    present = {(name, table) for name, tables in _files().items() for table in tables}
    assert read == present
    assert calibration.CALIBRATION_DIR == CALIBRATION


def test_dates_and_records_are_read_as_the_generator_uses_them():
    tables = _files()
    assert calibration.day(str(tables["timeline"]["launch"]["values"])) == calibration.LAUNCH
    assert str(calibration.LAUNCH_AGENCIES[0][0]) == "Cedar Rapids Police Department"
    assert all(isinstance(row, tuple) for row in calibration.TRIBAL)
    # County, territorial and other agencies share the municipal respondent roles.
    assert calibration.ROLE_WEIGHTS["county"] == calibration.ROLE_WEIGHTS["municipal"]
