"""``rollback --to VERSION``, ``rollback --list``, and a rollback issued during an import (issue 13).

A rollback names the version it restores. Without ``--to`` it restores the version before the one
published when the command started, and refuses if an import publishes while it waits for the
writer lock, instead of undoing that import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from critac_metrics import db
from critac_metrics.db import tables
from critac_metrics.ingest import ingest_files

from .conftest import ROOT, TINY, run_cli

ENGAGEMENT_HEADER = TINY["engagements.csv"].splitlines()[0]


def _engagements_csv(path: Path, prefix: str, n: int) -> Path:
    rows = [
        f"{prefix}{i},A2,2024-03-{i + 1:02d},completed,training,De-escalation,2024-03-20,"
        "2024-03-28,virtual,IACP,5"
        for i in range(n)
    ]
    path.write_text("\n".join([ENGAGEMENT_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _state(path: Path) -> dict:
    """What a version holds, read independently of db.describe_version."""
    con = db.connect(path)
    try:
        return {
            "engagements": sorted(r[0] for r in con.execute("select engagement_id from engagements").fetchall()),
            "agencies": db.scalar(con, "select count(*) from agencies"),
            "survey_responses": db.scalar(con, "select count(*) from survey_responses"),
            "imports": con.execute("select import_id, imported_at, source from imports order by import_id").fetchall(),
        }  # fmt: skip
    finally:
        con.close()


@pytest.fixture
def history(tmp_path, tiny_db):
    """The tiny store (import 1) followed by imports 2, 3 and 4 of 1, 2 and 3 new engagements;
    returns the store and the state after each import (index 0: before any of them)."""
    target = tmp_path / "store" / "critac.duckdb"
    target.parent.mkdir()
    shutil.copyfile(tiny_db, target)
    states = [_state(target)]
    for n, prefix in enumerate(("A", "B", "C"), start=1):
        source = _engagements_csv(tmp_path / f"engagements_{prefix}.csv", prefix, n)
        assert ingest_files(target, [source], source="cli").ok
        states.append(_state(target))
    return target, states


def _describes(state: dict, import_id: int) -> str:
    """The line rollback prints for a version, built from the independently read state."""
    (when, source) = next((w, s) for i, w, s in state["imports"] if i == import_id)
    return (
        f"import {import_id} of {when:%Y-%m-%d %H:%M:%S} UTC ({source}): "
        f"{state['agencies']:,} agencies, {len(state['engagements']):,} engagements, "
        f"{state['survey_responses']:,} survey responses"
    )


# -- the library -------------------------------------------------------------------------------------


def test_versions_lists_each_kept_version_with_its_last_import_and_rows(history):
    target, states = history
    kept = db.versions(target)
    assert [v.name for v in kept] == [p.stem for p in db.list_versions(target)]
    assert [v.last_import for v in kept] == [1, 2, 3]
    assert [v.rows["engagements"] for v in kept] == [len(s["engagements"]) for s in states[:3]]
    assert [v.imported_at for v in kept] == [s["imports"][-1][1] for s in states[:3]]
    published = db.describe_version(target)
    assert (published.name, published.last_import) == (db.PUBLISHED, 4)
    assert published.describe() == _describes(states[3], 4)


def test_rollback_to_a_named_version_restores_exactly_it_and_drops_newer_ones(history):
    target, states = history
    names = [v.name for v in db.versions(target)]
    done = db.rollback(target, to=names[0])
    assert _state(target) == states[0]
    assert (done.replaced.last_import, done.restored.last_import) == (4, 1)
    assert done.restored.name == names[0]
    assert done.dropped == tuple(names[1:])
    assert db.list_versions(target) == []


def test_rollback_without_a_name_restores_the_version_before_the_published_one(history):
    target, states = history
    done = db.rollback(target)
    assert _state(target) == states[2]
    assert done.restored.describe() == _describes(states[2], 3)
    assert done.dropped == ()
    assert len(db.list_versions(target)) == 2


def test_rollback_to_an_unknown_version_changes_nothing(history):
    target, states = history
    with pytest.raises(db.RollbackError, match="no kept version .* named 'nope'"):
        db.rollback(target, to="nope")
    assert _state(target) == states[3]
    assert len(db.list_versions(target)) == 3


# -- the command line --------------------------------------------------------------------------------


def test_cli_rollback_list_shows_the_published_and_kept_versions(history):
    target, states = history
    names = [v.name for v in db.versions(target)]
    lines = run_cli("rollback", "--db", target, "--list").stdout.splitlines()
    assert lines[1] == f"{'(published)':<24} {_describes(states[3], 4)}"
    assert lines[2:] == [
        f"{name:<24} {_describes(states[i], i + 1)}" for i, name in reversed(list(enumerate(names)))
    ]
    listed = json.loads(run_cli("rollback", "--db", target, "--list", "--json").stdout)
    assert [v["version"] for v in listed["kept"]] == names
    assert [v["rows"]["engagements"] for v in listed["kept"]] == [
        len(s["engagements"]) for s in states[:3]
    ]
    assert listed["published"]["last_import"] == 4
    assert _state(target) == states[3]  # listing changes nothing


def test_cli_rollback_says_from_which_version_to_which(history):
    target, states = history
    names = [v.name for v in db.versions(target)]
    out = run_cli("rollback", "--db", target, "--to", names[1]).stdout.splitlines()
    assert out == [
        f"Restored {target} to version {names[1]}.",
        f"  from: {_describes(states[3], 4)}",
        f"  to:   {_describes(states[1], 2)}",
        f"  newer kept versions removed: {names[2]}",
    ]
    assert _state(target) == states[1]
    assert db.list_versions(target) == [_kept_file(target, names[0])]


def _kept_file(target: Path, name: str) -> Path:
    return db.versions_dir(target) / f"{name}.duckdb"


def test_cli_rollback_to_an_unknown_version_is_one_error_line(history):
    target, states = history
    proc = run_cli("rollback", "--db", target, "--to", "20990101T000000000000Z", ok=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: no kept version of {target} is named '20990101T000000000000Z';"
        " `rollback --list` shows them"
    ]
    assert _state(target) == states[3]


# -- a rollback issued while an import runs ----------------------------------------------------------


def _waiting_for(lock: Path, timeout: float = 120) -> None:
    """Return once some process waits for the flock on ``lock`` (seen in /proc/locks)."""
    inode = os.stat(lock).st_ino
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in Path("/proc/locks").read_text().splitlines():
            if "->" in line and line.split()[-3].endswith(f":{inode}"):
                return
        time.sleep(0.05)
    raise AssertionError("the rollback never waited for the writer lock")


def _rollback_during_an_import(tmp_path, target: Path, *args: str):
    """Start ``rollback`` while an import holds the writer lock (paused before it publishes),
    let the import publish once the rollback waits for the lock, and return the rollback's exit
    code, stdout and stderr."""
    pause, paused = threading.Event(), threading.Event()
    rebuild = tables.rebuild_derived

    def slow_rebuild(con):
        paused.set()
        assert pause.wait(120)
        rebuild(con)

    source = _engagements_csv(tmp_path / "engagements_D.csv", "D", 4)
    results = []
    importer = threading.Thread(target=lambda: results.append(ingest_files(target, [source])))
    tables.rebuild_derived = slow_rebuild
    try:
        importer.start()
        assert paused.wait(120)
        rollback = subprocess.Popen(
            [sys.executable, "-m", "critac_metrics", "rollback", "--db", str(target), *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _waiting_for(target.with_name(target.name + ".lock"))
    finally:
        pause.set()
        importer.join(120)
        tables.rebuild_derived = rebuild
    assert results and results[0].ok and results[0].loaded
    try:
        stdout, stderr = rollback.communicate(timeout=120)
    finally:
        rollback.kill()
    return rollback.returncode, stdout, stderr


def test_a_default_rollback_issued_during_an_import_refuses_instead_of_undoing_it(
    tmp_path, history
):
    target, states = history
    code, stdout, stderr = _rollback_during_an_import(tmp_path, target)
    assert code == 1, stdout + stderr
    assert "Traceback" not in stderr
    (line,) = stderr.splitlines()
    assert line.startswith(f"error: {target} changed while this rollback waited")
    assert "nothing was restored" in line and "import 5 of" in line
    after = _state(target)
    assert [i for i, *_ in after["imports"]] == [1, 2, 3, 4, 5]  # the import is still there
    assert {f"D{i}" for i in range(4)} <= set(after["engagements"])
    assert len(db.list_versions(target)) == 4


def test_a_named_rollback_issued_during_an_import_restores_exactly_the_named_version(
    tmp_path, history
):
    target, states = history
    name = db.versions(target)[2].name  # the version before the published one at the start
    code, stdout, stderr = _rollback_during_an_import(tmp_path, target, "--to", name)
    assert code == 0, stderr
    assert stdout.splitlines()[0] == f"Restored {target} to version {name}."
    assert stdout.splitlines()[1].startswith("  from: import 5 of")
    assert _state(target) == states[2]
