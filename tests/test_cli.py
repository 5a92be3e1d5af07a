"""The command line end to end, in a subprocess (`python -m critac_metrics ...`), checked against
the plain-pandas reference over the same CSV files."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from critac_metrics import db
from critac_metrics import demo as demo_module

from . import reference as ref
from .conftest import ROOT, TINY, run_cli, write_tiny

D = dt.date


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity (not JSON): missing figures must be null."""

    def refuse(constant: str):
        raise AssertionError(f"invalid JSON constant {constant} in CLI output")

    return json.loads(text, parse_constant=refuse)


def same(actual, expected, where: str = "") -> None:
    """Equal JSON values: same dict keys, floats within pytest.approx, None only as null."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(expected), f"{where}: keys differ: {set(actual) ^ set(expected)}"
        for key, value in expected.items():
            same(actual[key], value, f"{where}.{key}")
    elif expected is None:
        assert actual is None, f"{where}: expected null, got {actual!r}"
    elif isinstance(expected, bool):
        assert actual is expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), where
        assert actual == pytest.approx(float(expected), rel=1e-9, abs=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def as_python(value):
    """The reference's numpy scalars as plain Python values."""
    if isinstance(value, dict):
        return {str(k): as_python(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


SUMMARY_KEYS = [
    "requests", "engagements", "completed", "completion_rate", "agencies_served",
    "states_reached", "survey_responses", "response_rate", "responded_engagements",
    "outcomes", "follow_up_outcomes", "by_topic", "by_agency_type", "response_rates",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_cli_db(tmp_path_factory, tiny_dir) -> Path:
    """The tiny files loaded with `ingest` (one import: no earlier version is kept)."""
    path = tmp_path_factory.mktemp("cli") / "tiny.duckdb"
    proc = run_cli("ingest", "--db", path, *sorted(tiny_dir.glob("*.csv")))
    assert "Loaded" in proc.stdout
    assert path.exists()
    return path


@pytest.fixture(scope="module")
def demo_data():
    return ref.load(ROOT / "data")


# -- demo ----------------------------------------------------------------------------------------


def test_demo_builds_a_database(tmp_path):
    path = tmp_path / "demo300.duckdb"
    run_cli("demo", "--db", path, "--engagements", "300", "--seed", "7")
    expected = demo_module.generate(300, 7)
    con = db.connect(path)
    try:
        counts = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in ("agencies", "engagements", "survey_responses", "engagement_facts")
        }
    finally:
        con.close()
    assert counts == {
        "agencies": len(expected["agencies"]),
        "engagements": 300,
        "survey_responses": len(expected["survey_responses"]),
        "engagement_facts": 300,
    }


# -- summary -------------------------------------------------------------------------------------


def test_ingest_then_summary_json_equals_reference(tiny_cli_db, tiny_dir):
    proc = run_cli("summary", "--db", tiny_cli_db, "--json")
    result = strict_json(proc.stdout)
    assert list(result) == SUMMARY_KEYS
    expected = as_python(ref.summary(ref.load(tiny_dir), ref.Selection()))
    same(result, expected, "summary")
    # Figures that do not exist are null, not 0 or NaN: operations_change has 4 post answers.
    assert result["outcomes"]["operations_change"] == {
        "n": 4, "top2_pct": None, "mean": None, "suppressed": True,
    }  # fmt: skip


SUMMARY_CASES = {
    "fy2024": (["--start", "2023-10-01", "--end", "2024-09-30"],
               {"start": D(2023, 10, 1), "end": D(2024, 9, 30)}),
    "topic+types": (["--topic", "De-escalation", "--agency-type", "tribal", "--agency-type", "campus"],
                    {"topics": ["De-escalation"], "agency_types": ["tribal", "campus"]}),
    "state+assistance+min-n": (
        ["--state", "TX", "--state", "CA", "--assistance-type", "training", "--min-n", "12"],
        {"states": ["TX", "CA"], "assistance_types": ["training"]}),
    "combined": (
        ["--start", "2021-01-01", "--end", "2024-12-31", "--topic", "School Safety",
         "--topic", "Active Shooter Response", "--agency-type", "municipal", "--agency-type",
         "campus", "--assistance-type", "training", "--assistance-type", "onsite_consultation",
         "--delivery-mode", "onsite", "--min-n", "3"],
        {"start": D(2021, 1, 1), "end": D(2024, 12, 31),
         "topics": ["School Safety", "Active Shooter Response"],
         "agency_types": ["municipal", "campus"],
         "assistance_types": ["training", "onsite_consultation"], "delivery_modes": ["onsite"]}),
    "empty-future": (["--start", "2031-01-01", "--end", "2031-12-31"],
                     {"start": D(2031, 1, 1), "end": D(2031, 12, 31)}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SUMMARY_CASES))
def test_summary_with_filters_equals_reference_on_demo(demo_db, demo_data, case):
    args, selection = SUMMARY_CASES[case]
    min_n = int(args[args.index("--min-n") + 1]) if "--min-n" in args else 5
    proc = run_cli("summary", "--db", demo_db, "--json", *args)
    result = strict_json(proc.stdout)
    assert list(result) == SUMMARY_KEYS
    expected = as_python(ref.summary(demo_data, ref.Selection(**selection), min_n))
    same(result, expected, case)
    counts = list(result["by_topic"].values())
    assert counts == sorted(counts, reverse=True), "topics listed most engaged first"


def test_summary_without_json_prints_a_readable_table(demo_db, demo_data):
    proc = run_cli("summary", "--db", demo_db, "--start", "2023-10-01", "--end", "2024-09-30")
    out = proc.stdout
    expected = ref.summary(demo_data, ref.Selection(start=D(2023, 10, 1), end=D(2024, 9, 30)))
    assert not out.lstrip().startswith("{")
    assert "FY2024" in out.splitlines()[0]  # the selection described in words
    lines = {
        line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")
    }
    assert "Requests" in lines and f"{expected['requests']:,}" in lines["Requests"]
    assert (
        "Engagements accepted" in lines
        and f"{expected['engagements']:,}" in lines["Engagements accepted"]
    )
    assert f"{expected['completion_rate']:.1f}%" in out
    for heading in (
        "Outcomes (post)",
        "Follow-up",
        "Engagements by topic",
        "Engagements by agency type",
    ):
        assert heading in out
    top_topic = max(expected["by_topic"], key=lambda t: (expected["by_topic"][t], t))
    assert top_topic in out
    assert "nan" not in out.lower()


# -- series --------------------------------------------------------------------------------------

SERIES_CASES = [
    ("tiny", "quarter", []),
    ("tiny", "fiscal_year", []),
    ("demo", "month", ["--topic", "Active Shooter Response", "--state", "TX"]),
]


@pytest.mark.parametrize(("dataset", "grain", "args"), SERIES_CASES)
def test_series_json_periods_in_order_with_zero_filled_gaps(
    tiny_cli_db, tiny_dir, demo_db, demo_data, dataset, grain, args
):
    path, data = (tiny_cli_db, ref.load(tiny_dir)) if dataset == "tiny" else (demo_db, demo_data)
    proc = run_cli("series", "--db", path, "--grain", grain, "--json", *args)
    records = strict_json(proc.stdout)
    sel = ref.Selection()
    if args:
        sel = ref.Selection(topics=[args[1]], states=[args[3]])
    expected = ref.volume_series(data, sel, grain).to_dict("records")
    assert records == [as_python(r) for r in expected]
    if grain != "fiscal_year":
        assert any(r["requests"] == 0 for r in records), "the case has a gap to fill"
    assert [r["period"] for r in records] == sorted(r["period"] for r in records)
    if dataset == "tiny" and grain == "fiscal_year":
        # E7 2022-12-01, E1 2023-09-30: FY2023; E2 2023-10-01 .. E4 2024-09-30: FY2024; E5: FY2025
        assert [(r["period"], r["requests"]) for r in records] == [
            ("FY2023", 2), ("FY2024", 4), ("FY2025", 1),
        ]  # fmt: skip


# -- validate ------------------------------------------------------------------------------------


def test_validate_exit_codes(tmp_path, tiny_dir):
    proc = run_cli("validate", *sorted(tiny_dir.glob("*.csv")))
    assert "Valid" in proc.stdout
    bad = tmp_path / "bad"
    write_tiny(bad)
    text = TINY["engagements.csv"].replace(
        ",completed,virtual_consultation", ",done,virtual_consultation"
    )
    (bad / "engagements.csv").write_text(text, encoding="utf-8")
    proc = run_cli("validate", *sorted(bad.glob("*.csv")), ok=False)
    assert proc.returncode == 1
    message = proc.stderr + proc.stdout
    assert "REJECTED" in message
    assert "row 3" in message and "status" in message and "'done'" in message
    assert "Traceback" not in message


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--agency-type", "martian"], ["agency_type", "martian"]),
        (["--start", "2024-13-01"], ["not a date", "2024-13-01"]),
    ],
)
def test_unknown_filter_value_fails_with_a_clear_message(tiny_cli_db, args, words):
    proc = run_cli("summary", "--db", tiny_cli_db, "--json", *args, ok=False)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    for word in words:
        assert word in proc.stderr


def test_summary_on_a_missing_database_fails_clearly(tmp_path):
    proc = run_cli("summary", "--db", tmp_path / "nowhere.duckdb", ok=False)
    assert "Traceback" not in proc.stderr
    assert "no database" in proc.stderr


# -- rollback ------------------------------------------------------------------------------------


def test_rollback_with_no_kept_version_errors_clearly(tiny_cli_db):
    proc = run_cli("rollback", "--db", tiny_cli_db, ok=False)
    assert "Traceback" not in proc.stderr
    assert "no earlier version" in proc.stderr


def _engagements(path: Path) -> dict[str, str]:
    con = db.connect(path)
    try:
        rows = con.execute("select engagement_id, status from engagements").fetchall()
    finally:
        con.close()
    return dict(rows)


def test_rollback_after_two_ingests_restores_the_first_version(tmp_path, tiny_dir):
    path = tmp_path / "store.duckdb"
    run_cli("ingest", "--db", path, *sorted(tiny_dir.glob("*.csv")))
    first = _engagements(path)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    (second_dir / "engagements.csv").write_text(
        TINY["engagements.csv"].replace(
            "E5,A3,2024-10-01,in_progress", "E5,A3,2024-10-01,withdrawn"
        )
        + "E8,A4,2025-01-15,requested,training,Crisis Intervention,,,,,\n",
        encoding="utf-8",
    )
    run_cli("ingest", "--db", path, second_dir / "engagements.csv")
    second = _engagements(path)
    assert second["E5"] == "withdrawn" and "E8" in second
    proc = run_cli("rollback", "--db", path)
    assert "Restored" in proc.stdout
    assert _engagements(path) == first


@pytest.mark.parametrize(
    ("argv", "early"),
    [
        (["report", "--db", "x.duckdb", "--format", "pptx"], True),
        (["report", "--format=pptx", "--db", "x.duckdb"], True),
        (["report", "--db", "x.duckdb", "--format", "html"], False),
        (["report", "--db", "x.duckdb"], False),
        (["summary", "--db", "pptx", "--json"], False),
    ],
)
def test_a_deck_command_starts_chromium_before_the_command_loads(monkeypatch, argv, early):
    """`report --format pptx` starts the renderer before pandas and DuckDB load (about 0.5 s)."""
    import runpy

    from critac_metrics import cli, render

    calls: list[str] = []
    monkeypatch.setattr(render, "warm_up", lambda: calls.append("warm_up"))
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 0)
    monkeypatch.setattr(sys, "argv", ["critac_metrics", *argv])
    with pytest.raises(SystemExit):
        runpy.run_module("critac_metrics", run_name="__main__")
    assert calls == (["warm_up", "main"] if early else ["main"])
