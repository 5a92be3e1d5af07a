"""Reliability and security: kill-safety, readers during an import, versions and rollback, hostile
URLs, formula-safe downloads and small-cell suppression in the CLI.

See docs/reliability.md for what each test guarantees.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics import db, metrics, registry, store
from critac_metrics.downloads import FORMULA_STARTS, csv_bytes, excel_bytes
from critac_metrics.filters import LIST_FILTERS, QUERY_KEYS, Filters
from critac_metrics.ingest import ingest_files

from .browser_support import CHROMIUM_ARGS, off_the_event_loop
from .conftest import ROOT, TINY, unescape

PY = sys.executable
TIMEOUT = 60
STATE_TABLES = (
    "agencies",
    "engagements",
    "survey_responses",
    "topics",
    "engagement_facts",
    "survey_rollup",
)
ENGAGEMENT_HEADER = TINY["engagements.csv"].splitlines()[0]


# -- helpers ---------------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(path: Path) -> dict[str, object]:
    """Every table's rows (sorted), plus the import log without its timestamps."""
    con = db.connect(path)
    try:
        state: dict[str, object] = {
            t: con.execute(f"select * from {t} order by all").fetchall()  # noqa: S608 - fixed names
            for t in STATE_TABLES
        }
        state["imports"] = con.execute(
            "select import_id, source, rows_by_table from imports order by import_id"
        ).fetchall()
    finally:
        con.close()
    return state


def _count(path: Path, sql: str = "select count(*) from engagements") -> int:
    con = db.connect(path)
    try:
        return db.scalar(con, sql)
    finally:
        con.close()


def _write_engagements(path: Path, n: int, prefix: str = "BIG", status: str = "completed") -> Path:
    """A valid engagements CSV of ``n`` new records for the tiny agencies A1..A4."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(ENGAGEMENT_HEADER + "\n")
        for i in range(n):
            day = dt.date(2021, 1, 1) + dt.timedelta(days=i % 1000)
            done = day + dt.timedelta(days=30)
            fh.write(
                f"{prefix}{i},A{1 + i % 4},{day},{status},training,De-escalation; Use of Force,"
                f"{day},{done if status == 'completed' else ''},onsite,IACP,{i % 50}\n"
            )
    return path


def _temp_files(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.glob(f".{name}.*"))


def _copy(source: Path, folder: Path, name: str = "critac.duckdb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(source.read_bytes())
    return target


def _ingest_cmd(target: Path, *files: Path) -> list[str]:
    return [PY, "-m", "critac_metrics", "ingest", "--db", str(target), *map(str, files)]


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> bool:
    """Poll ``condition`` every 5 ms while ``proc`` runs; True once it holds, False if proc ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.005)
    raise AssertionError("timed out waiting for the import")


# -- kill mid-import -------------------------------------------------------------------------------


BIG_ROWS = 300_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    return _write_engagements(folder / "engagements_big.csv", BIG_ROWS)


def _has_open(proc: subprocess.Popen, path: Path) -> bool:
    try:
        fds = os.listdir(f"/proc/{proc.pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == str(path):
                return True
    return False


def test_kill_during_validation_leaves_the_published_database_exactly_as_it_was(
    tmp_path, tiny_db, big_csv
):
    target = _copy(tiny_db, tmp_path / "store")
    before_digest, before = _digest(target), _state(target)
    proc = subprocess.Popen(_ingest_cmd(target, big_csv), cwd=ROOT, stdout=subprocess.DEVNULL)
    # Validating: the CSV has been read (opened, then closed) and no working copy exists yet.
    # Found by watching /proc rather than by a fixed delay, because that is 1 s on a quiet
    # machine and 15 s on a busy one.
    seen_open = False

    def validating() -> bool:
        nonlocal seen_open
        is_open = _has_open(proc, big_csv)
        seen_open = seen_open or is_open
        return (seen_open and not is_open) or bool(_temp_files(target.parent, target.name))

    _wait_for(validating, proc)
    loading = bool(_temp_files(target.parent, target.name))
    assert proc.poll() is None, "the import finished before it could be killed"
    _kill(proc)
    assert not loading, "the kill came too late (the import was already loading)"

    assert _digest(target) == before_digest
    assert _state(target) == before
    assert db.list_versions(target) == []
    assert _temp_files(target.parent, target.name) == []  # killed before any copy was made


def test_kill_while_loading_leaves_the_published_database_exactly_as_it_was(
    tmp_path, tiny_db, big_csv
):
    target = _copy(tiny_db, tmp_path / "store")
    before_digest, before = _digest(target), _state(target)
    proc = subprocess.Popen(_ingest_cmd(target, big_csv), cwd=ROOT, stdout=subprocess.DEVNULL)
    loading = _wait_for(lambda: bool(_temp_files(target.parent, target.name)), proc)
    _kill(proc)
    assert loading, "never saw the import's working copy (.new) before it ended"

    assert _digest(target) == before_digest
    assert _state(target) == before
    # The killed writer's working copy stays behind (nothing can delete it after SIGKILL); it
    # is named .critac.duckdb.<random>.new, is never opened by readers, and does not stop the
    # next import, which publishes normally.
    leftovers = _temp_files(target.parent, target.name)
    assert all(name.endswith((".new", ".new.wal")) for name in leftovers), leftovers
    small = _write_engagements(tmp_path / "engagements_after.csv", 3, prefix="AFTER")
    assert ingest_files(target, [small]).ok
    assert _count(target) == 7 + 3


def test_kill_at_any_moment_leaves_either_the_old_or_the_new_version(tmp_path, tiny_db):
    source = _write_engagements(tmp_path / "engagements_mid.csv", 10_000, prefix="MID")
    reference = _copy(tiny_db, tmp_path / "reference")
    started = time.monotonic()
    subprocess.run(_ingest_cmd(reference, source), cwd=ROOT, check=True, capture_output=True)
    duration = time.monotonic() - started
    old, new = _state(tiny_db), _state(reference)

    outcomes = []
    for i, fraction in enumerate((0.3, 0.6, 0.85, 0.95, 1.05)):
        target = _copy(tiny_db, tmp_path / f"run{i}")
        proc = subprocess.Popen(_ingest_cmd(target, source), cwd=ROOT, stdout=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        _kill(proc)
        state = _state(target)  # the published file must always open
        assert state in (old, new), f"kill at {fraction:.0%} of the import left a mixed database"
        outcomes.append("new" if state == new else "old")
    assert "old" in outcomes  # the kills really landed before publication at least once


def test_kill_during_a_demo_rebuild_leaves_the_published_database(tmp_path, tiny_db):
    """`demo --db X` over an existing database must also replace it atomically."""
    target = _copy(tiny_db, tmp_path / "store")
    before_digest = _digest(target)
    proc = subprocess.Popen(
        [PY, "-m", "critac_metrics", "demo", "--db", str(target), "--engagements", "100000"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started, missing_since = time.monotonic(), None

    def loading() -> bool:
        nonlocal missing_since
        if missing_since is None and not target.exists():
            missing_since = time.monotonic() - started
        return bool(_temp_files(target.parent, target.name))

    seen = _wait_for(loading, proc)
    _kill(proc)
    assert seen, "never saw the demo build's working copy before it ended"

    assert target.exists(), (
        f"the published database was deleted {missing_since:.1f}s into `demo` and is gone after"
        " the kill (store.build_demo_database unlinks it before building the new one)"
    )
    assert _digest(target) == before_digest
    assert missing_since is None, f"readers found no database from {missing_since:.1f}s on"


# -- readers during an import ----------------------------------------------------------------------


def test_readers_keep_answering_during_an_import_and_new_processes_see_the_new_rows(
    tmp_path, tiny_db, big_csv
):
    target = _copy(tiny_db, tmp_path / "store")
    reader = db.connect(target)  # read-only, as dashboard/data.py opens it
    identity = db.file_identity(target)
    expected = metrics.headline(reader.cursor(), Filters())
    proc = subprocess.Popen(_ingest_cmd(target, big_csv), cwd=ROOT, stdout=subprocess.DEVNULL)
    answers, during_load = [], 0
    try:
        while proc.poll() is None:
            cursor = reader.cursor()  # one cursor per query, as the app does
            try:
                answers.append(metrics.headline(cursor, Filters()))
            finally:
                cursor.close()
            during_load += bool(_temp_files(target.parent, target.name))
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            _kill(proc)
    assert proc.returncode == 0
    assert len(answers) > 20 and during_load > 0, (len(answers), during_load)
    assert all(answer == expected for answer in answers)  # old snapshot, never a half state

    assert db.file_identity(target) != identity
    fresh = subprocess.run(
        [PY, "-c", "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True);"
         " print(c.execute('select count(*) from engagements').fetchone()[0])", str(target)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert int(fresh.stdout) == 7 + BIG_ROWS
    assert reader.execute("select count(*) from engagements").fetchone()[0] == 7  # its snapshot
    reader.close()


def test_a_snapshot_opened_after_an_import_sees_it_while_an_older_one_is_still_open(
    tmp_path, tiny_db
):
    """What dashboard/data.py relies on: its cache_resource keeps the previous version's
    snapshot open (max_entries=2) and opens a new one for the new file_identity. (A plain
    duckdb.connect would share the old database instance; see db.open_snapshot.)"""
    target = _copy(tiny_db, tmp_path / "store")
    old = db.open_snapshot(target)
    count = "select count(*) from engagements"
    assert db.snapshot_cursor(old).execute(count).fetchone()[0] == 7
    small = _write_engagements(tmp_path / "engagements_new.csv", 3, prefix="NEW")
    assert ingest_files(target, [small]).ok
    new = db.open_snapshot(target)
    try:
        seen = db.snapshot_cursor(new).execute(count).fetchone()[0]
        still = db.snapshot_cursor(old).execute(count).fetchone()[0]
    finally:
        new.close()
        old.close()
    assert seen == 10, f"a new snapshot still sees the old version ({seen} engagements)"
    assert still == 7, "the old snapshot keeps answering from the version it opened"


def test_dashboard_metric_changes_after_an_import_without_a_restart(monkeypatch, tmp_path, tiny_db):
    from dashboard import data

    target = _copy(tiny_db, tmp_path / "store")
    monkeypatch.setenv("CRITAC_DB", str(target))
    before_version = data.version()
    before = data.metric(metrics.headline, Filters())["engagements"]
    assert before == 5
    source = _write_engagements(tmp_path / "engagements_new.csv", 20_000, prefix="DASH")
    reports, during = [], []
    worker = threading.Thread(target=lambda: reports.append(ingest_files(target, [source])))
    worker.start()
    while worker.is_alive():
        during.append(data.metric(metrics.headline, Filters())["engagements"])
        time.sleep(0.02)
    worker.join()
    assert reports and reports[0].ok
    # Readers kept answering: with the old figure until the new version was published (the
    # import's clean-up after that can overlap a few reads), never anything in between, and never
    # the old figure again once the new one was seen.
    expected = before + 20_000
    assert during and during[0] == before and set(during) <= {before, expected}
    assert during == sorted(during)

    assert data.version() != before_version
    after = data.metric(metrics.headline, Filters())["engagements"]
    assert after == expected, f"still {after} after the import (expected {expected})"


def test_app_shows_new_figures_after_an_import_without_a_restart(monkeypatch, tmp_path, tiny_db):
    target = _copy(tiny_db, tmp_path / "store")
    monkeypatch.setenv("CRITAC_DB", str(target))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    fmt = registry.METRICS["engagements"].format
    assert {m.label: m.value for m in at.metric}["Engagements accepted"] == fmt(5)
    source = _write_engagements(
        tmp_path / "engagements_new.csv", 3, prefix="APP", status="approved"
    )
    assert ingest_files(target, [source]).ok
    at.run()  # the next rerun of the same session, no server restart
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Engagements accepted"] == fmt(8)


# -- versions and rollback -------------------------------------------------------------------------


def _rollback(target: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "-m", "critac_metrics", "rollback", "--db", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_two_imports_keep_versions_and_rollback_restores_each_previous_one(tmp_path, tiny_db):
    target = _copy(tiny_db, tmp_path / "store")
    states, digests = [_state(target)], [_digest(target)]
    for name in ("A", "B"):
        source = _write_engagements(tmp_path / f"engagements_{name}.csv", 2, prefix=name)
        assert ingest_files(target, [source]).ok
        states.append(_state(target))
        digests.append(_digest(target))
        assert len(db.list_versions(target)) == len(states) - 1
    assert _count(target) == 7 + 2 + 2

    for expected in (1, 0):
        identity = db.file_identity(target)
        result = _rollback(target)
        assert result.returncode == 0, result.stderr
        assert "Restored" in result.stdout
        assert _state(target) == states[expected]
        assert _digest(target) == digests[expected]
        assert db.file_identity(target) != identity  # readers reconnect to the restored version
        assert len(db.list_versions(target)) == expected

    result = _rollback(target)  # nothing left to restore: one line, no traceback, no change
    assert result.returncode == 1
    assert result.stderr.startswith("error: no earlier version")
    assert "Traceback" not in result.stderr
    assert _digest(target) == digests[0]


def _as_if_built_by_older_code(target: Path) -> None:
    con = db.connect(target, read_only=False)
    for table in ("store_meta", "fact_topics", "fact_topic_groups"):
        con.execute(f"drop table {table}")
    con.close()
    assert db.derived_version(target) is None


def test_a_store_built_by_older_code_gets_its_derived_tables_rebuilt_by_the_cli(tmp_path, tiny_db):
    """A database from before store_meta/fact_topics existed is brought up to date (an atomic
    replace, not a new version) and then answers exactly like a fresh one."""
    target = _copy(tiny_db, tmp_path / "store")
    expected = metrics.summary(db.connect(tiny_db), Filters(topics=("De-escalation",)))
    _as_if_built_by_older_code(target)

    result = subprocess.run(
        [PY, "-m", "critac_metrics", "summary", "--db", str(target), "--topic", "De-escalation",
         "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))
    assert db.derived_version(target) == db.DERIVED_VERSION
    assert db.list_versions(target) == []  # same records: not a version to roll back to
    assert db.upgrade(target) is False  # up to date: nothing is rebuilt


def test_the_app_upgrades_a_store_built_by_older_code(monkeypatch, tmp_path, tiny_db):
    target = _copy(tiny_db, tmp_path / "store")
    _as_if_built_by_older_code(target)
    monkeypatch.setenv("CRITAC_DB", str(target))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    fmt = registry.METRICS["engagements"].format
    assert {m.label: m.value for m in at.metric}["Engagements accepted"] == fmt(5)
    assert db.derived_version(target) == db.DERIVED_VERSION


def test_an_old_store_that_cannot_be_written_gets_a_message_not_a_traceback(
    monkeypatch, tmp_path, tiny_db
):
    target = _copy(tiny_db, tmp_path / "store")
    _as_if_built_by_older_code(target)

    def read_only(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(db, "upgrade", read_only)
    monkeypatch.setenv("CRITAC_DB", str(target))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "cannot be written (Permission denied)" in at.error[0].value
    assert db.derived_version(target) is None  # nothing was written


def test_no_more_than_keep_versions_are_kept(tmp_path, tiny_db):
    target = _copy(tiny_db, tmp_path / "store")
    counts = []
    for i in range(db.KEEP_VERSIONS + 2):
        counts.append(_count(target))
        source = _write_engagements(tmp_path / f"engagements_{i}.csv", 1, prefix=f"V{i}-")
        assert ingest_files(target, [source]).ok
    versions = db.list_versions(target)
    assert len(versions) == db.KEEP_VERSIONS
    # The kept versions are the newest ones, oldest first, and each still opens.
    assert [_count(v) for v in versions] == counts[-db.KEEP_VERSIONS :]


def test_concurrent_imports_never_lose_a_loaded_import(tmp_path, tiny_db):
    """Import A is loading (it has copied the published version) while import B runs from start
    to end in another process. Both report success, so both must be in the database, or one of
    them must wait for or refuse the other."""
    target = _copy(tiny_db, tmp_path / "store")
    source_b = _write_engagements(tmp_path / "engagements_b.csv", 1, prefix="B")
    with db.new_version(target) as con:  # import A, mid-load
        con.execute(
            "insert into agencies values ('A-NEW', 'New agency', 'municipal', 'IL', 10, 1000)"
        )
        proc = subprocess.Popen(
            _ingest_cmd(target, source_b), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)  # B finishes (no lock) or waits for A (a lock): both are fine
    out, err = proc.communicate(timeout=120)
    b_loaded = proc.returncode == 0
    a_rows = _count(target, "select count(*) from agencies where agency_id = 'A-NEW'")
    b_rows = _count(target, "select count(*) from engagements where engagement_id = 'B0'")
    assert a_rows == 1
    assert b_rows == 1 or not b_loaded, (
        f"import B reported {out.decode().strip()!r} but its rows are gone:"
        " import A published over it (db.new_version has no writer lock)"
    )


# -- URL tampering ---------------------------------------------------------------------------------

HOSTILE_STRINGS = (
    "' OR 1=1 --",
    '"; DROP TABLE engagements; --',
    "' OR '1'='1",
    "1=1",
    "DROP TABLE",
    "x" * 200,
)
# (id, query parameters, the same parameters with every bad value removed)
HOSTILE_URLS = [
    ("unknown-keys", {"colour": "red", "utm_source": "mail", "agency_type": "tribal"}, {"agency_type": "tribal"}),
    ("unknown-values", {"agency_type": ["tribal", "martian"], "state": ["ID", "ZZ"]}, {"agency_type": "tribal", "state": "ID"}),
    ("sql-or", {"agency_type": "' OR 1=1 --", "state": "ID"}, {"state": "ID"}),
    ("sql-drop", {"topic": ['"; DROP TABLE engagements; --', "De-escalation"]}, {"topic": "De-escalation"}),
    ("sql-in-a-date", {"start": "2023-10-01' OR '1'='1", "end": "2024-09-30"}, {"end": "2024-09-30"}),
    ("sql-in-a-key", {"state = any(?) or 1=1 --": "x", "delivery_mode": "virtual"}, {"delivery_mode": "virtual"}),
    ("long-value", {"agency_type": ["x" * 10_000, "campus"]}, {"agency_type": "campus"}),
    ("long-valid-prefix", {"topic": "De-escalation" + " " * 10_000 + "x"}, {}),
    ("long-key", {"k" * 10_000: "v", "state": "MT"}, {"state": "MT"}),
    # Streamlit itself drops a whole query string of more than 1,000 parameters (see
    # docs/reliability.md), so these stay at 1,000 to reach the app's own checks.
    ("many-repeats", {"agency_type": ["tribal"] * 999, "state": "ID"}, {"state": "ID"}),
    ("many-unknown", {"state": [f"Z{i}" for i in range(1_000)]}, {}),
    ("duplicates-and-junk", {"topic": ["De-escalation"] * 3 + ["nope"] * 3}, {"topic": "De-escalation"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_topics(demo_db) -> list[str]:
    con = db.connect(demo_db)
    try:
        return store.topic_names(con)
    finally:
        con.close()


def _values(params: dict) -> list[str]:
    out = []
    for key, value in params.items():
        out.append(key)
        out += [value] if isinstance(value, str) else list(value)
    return out


@pytest.mark.parametrize(
    ("params", "clean"), [c[1:] for c in HOSTILE_URLS], ids=[c[0] for c in HOSTILE_URLS]
)
def test_hostile_url_parameters_are_dropped_with_a_notice_and_never_reach_sql(
    demo_topics, params, clean
):  # fmt: skip
    filters, notices = Filters.from_query_params(params, demo_topics)
    expected, clean_notices = Filters.from_query_params(clean, demo_topics)
    assert clean_notices == []
    assert filters == expected
    assert notices, "a dropped value must be reported"
    assert all(len(n) < 200 and "\n" not in n for n in notices)
    sql, bound = filters.where()
    for text in (*HOSTILE_STRINGS, *_values(params)):
        if len(text) > 3 and text not in QUERY_KEYS:
            assert text.lower() not in sql.lower(), (text, sql)
    # Every kept value is bound as a parameter, never spliced: the SQL is the fixed shape.
    shapes = {
        "true",
        "requested_on >= ?",
        "requested_on <= ?",
        "row_id in (select row_id from fact_topics where topic = any(?::varchar[]))",
    }
    shapes |= {f"{s.column} in ({', '.join('?' * n)})" for s in LIST_FILTERS for n in range(1, 101)}
    assert set(sql.split(" and ")) <= shapes
    assert sql.count("?") == len(bound)
    flat = [v for p in bound for v in (p if isinstance(p, list) else [p])]
    for spec in LIST_FILTERS:
        assert set(getattr(filters, spec.field)) <= set(flat)


def _kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(
    ("params", "clean"), [c[1:] for c in HOSTILE_URLS], ids=[c[0] for c in HOSTILE_URLS]
)
def test_hostile_url_parameters_in_the_app_show_the_figures_without_them(
    monkeypatch, demo_db, demo_topics, params, clean
):  # fmt: skip
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.info, "no notice about the ignored parameters"
    expected, _ = Filters.from_query_params(clean, demo_topics)
    assert unescape(at.caption[0].value) == expected.describe()
    con = db.connect(demo_db)
    try:
        head = metrics.headline(con, expected)
    finally:
        con.close()
    kpis = _kpis(at)
    assert kpis["Engagements accepted"] == registry.METRICS["engagements"].format(
        head["engagements"]
    )
    assert kpis["Agencies served"] == registry.METRICS["agencies_served"].format(
        head["agencies_served"]
    )
    for key in at.query_params:  # the URL is rewritten to the clean selection
        assert key in clean or key.startswith("_"), key


# -- no Markdown from URLs or imported names (real browser) ----------------------------------------

EVIL = "https://evil.example"
EVIL_TOPIC = f"[Evil link]({EVIL}/topic)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory, tiny_db):
    """The app on a copy of the tiny data plus one engagement whose topic is Markdown."""
    folder = tmp_path_factory.mktemp("evil")
    target = _copy(tiny_db, folder)
    source = folder / "engagements_md.csv"
    source.write_text(
        f"{ENGAGEMENT_HEADER}\nMD1,A1,2024-01-05,approved,training,{EVIL_TOPIC},,,,,\n",
        encoding="utf-8",
    )
    assert ingest_files(target, [source]).ok
    port = _free_port()
    env = {**os.environ, "CRITAC_DB": str(target), "HOME": str(folder)}
    proc = subprocess.Popen(
        [PY, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _healthy(port):
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/", folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill(proc)


def _links_and_images(url: str, home: Path) -> tuple[list[str], list[str]]:
    return off_the_event_loop(_find_links_and_images, url, home)


def _find_links_and_images(url: str, home: Path) -> tuple[list[str], list[str]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(home)},  # chromium as root writes ~/.config
        )
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("[data-testid=stMetricValue]", timeout=60_000)
            page.wait_for_timeout(1500)
            links = page.eval_on_selector_all(f"a[href^='{EVIL}']", "els => els.map(e => e.href)")
            images = page.eval_on_selector_all(f"img[src^='{EVIL}']", "els => els.map(e => e.src)")
        finally:
            browser.close()
    return links, images


@pytest.mark.browser
def test_url_values_in_notices_are_shown_as_text_not_markdown(evil_server):
    base, home = evil_server
    query = urllib.parse.urlencode(
        [("agency_type", f"[Click here]({EVIL}/notice)"), (f"x![i]({EVIL}/p.png)", "1")]
    )
    links, images = _links_and_images(base + "?" + query, home)
    assert links == [] and images == [], (
        "a crafted link puts a live link / remote image into the page's notices:",
        links,
        images,
    )


@pytest.mark.browser
def test_imported_names_in_captions_are_shown_as_text_not_markdown(evil_server):
    base, home = evil_server
    links, images = _links_and_images(
        base + "?" + urllib.parse.urlencode({"topic": EVIL_TOPIC}), home
    )
    assert links == [] and images == [], ("an imported topic name renders as a live link:", links)


# -- downloads neutralise formulas -----------------------------------------------------------------

DANGEROUS = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(1)", "\t=1", "\r=1", '=HYPERLINK("x")']


def _frame() -> pd.DataFrame:
    n = len(DANGEROUS)
    return pd.DataFrame(
        {
            "text": DANGEROUS,
            "count": list(range(-3, n - 3)),
            "share": [-1.5] * n,
            "mixed": pd.Series([-3, "=1+1", 2.5, "-x", None, "ok", "@a"], dtype=object),
            "plain": ["De-escalation"] * n,
        }
    )


def test_csv_download_prefixes_every_formula_with_an_apostrophe():
    frame = _frame()
    text = csv_bytes(frame).decode("utf-8-sig")
    for value in DANGEROUS:
        assert "'" + value.replace('"', '""') in text  # CSV doubles quotes inside a quoted cell
    # Without the carriage-return cases (see the next test) the file parses back cell for cell.
    safe = frame[~frame["text"].str.contains("\r")].reset_index(drop=True)
    rows = list(csv.DictReader(io.StringIO(csv_bytes(safe).decode("utf-8-sig"), newline="")))
    assert [r["text"] for r in rows] == ["'" + v for v in safe["text"]]
    assert [r["count"] for r in rows] == [str(v) for v in safe["count"]]  # -3 stays -3
    assert {r["share"] for r in rows} == {"-1.5"}
    assert [r["mixed"] for r in rows] == ["-3", "'=1+1", "2.5", "'-x", "", "'@a"]
    assert {r["plain"] for r in rows} == {"De-escalation"}


def test_csv_download_keeps_a_carriage_return_inside_its_cell():
    """A bare CR in an unquoted field ends the row in Excel and in Python's csv reader, so the
    text after it starts a new row unprefixed: '\r=1' came out as the cells "'" and "=1"."""
    values = ["\r=1", "note\r=1+1", "a\rb", "line\nbreak"]
    text = csv_bytes(pd.DataFrame({"comment": values, "n": range(len(values))})).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["comment", "n"]
    assert len(rows) == 1 + len(values), rows
    for row in rows[1:]:
        assert not row[0].startswith(FORMULA_STARTS), row


def test_excel_download_has_no_formula_cells_and_keeps_numbers():
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(_frame(), "engagements")))
    sheet = book["engagements"]
    header = [c.value for c in sheet[1]]
    cells = {name: [row[i] for row in sheet.iter_rows(min_row=2)] for i, name in enumerate(header)}
    for cell in sheet.iter_rows(min_row=1):
        for c in cell:
            assert c.data_type != "f", (c.coordinate, c.value)
    assert [c.value for c in cells["text"]] == ["'" + v for v in DANGEROUS]
    assert all(c.data_type == "s" for c in cells["text"])
    assert [c.value for c in cells["count"]] == list(range(-3, len(DANGEROUS) - 3))
    assert all(c.data_type == "n" for c in cells["count"] + cells["share"])
    mixed = cells["mixed"]
    assert (mixed[0].value, mixed[0].data_type) == (-3, "n")
    assert (mixed[2].value, mixed[2].data_type) == (2.5, "n")
    assert [mixed[i].value for i in (1, 3, 6)] == ["'=1+1", "'-x", "'@a"]


# -- small-cell suppression in CLI output ----------------------------------------------------------


def test_cli_summary_suppresses_small_cells(tiny_db):
    def run(*extra: str) -> str:
        result = subprocess.run(
            [PY, "-m", "critac_metrics", "summary", "--db", str(tiny_db), *extra],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return result.stdout

    summary = json.loads(run("--json"))
    follow_up = summary["follow_up_outcomes"]
    assert follow_up and set(follow_up) == set(summary["outcomes"])
    for item, fig in follow_up.items():
        assert fig["n"] == 1, item
        assert fig["suppressed"] is True
        assert fig["top2_pct"] is None and fig["mean"] is None
    ops = summary["outcomes"]["operations_change"]  # n = 4 < 5 post answers
    assert (ops["n"], ops["suppressed"], ops["top2_pct"], ops["mean"]) == (4, True, None, None)

    table = run()
    section = table.split("Follow-up:")[1].split("Engagements by topic:")[0]
    lines = [line for line in section.splitlines()[1:] if line.strip()]
    assert len(lines) == len(follow_up)
    for line in lines:
        assert "suppressed" in line
        assert "%" not in line and not any(f"{d}." in line for d in range(1, 6)), line
    ops_line = next(line for line in table.splitlines() if "Operations change" in line)
    assert "suppressed" in ops_line
