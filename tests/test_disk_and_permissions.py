"""Disk and permissions: a read-only folder, a full disk, scratch folders left by a killed import,
and the published file's mode (issue 13).

The tests run as root in CI, where ``chmod`` does not stop a write, so a read-only folder and a
full disk are simulated: every call that would create, write, rename, link, remove or re-mode a
file inside the folder raises ``OSError(EROFS)`` (what a read-only mount raises, for root too),
and ENOSPC is raised part-way through the copy itself.
"""

from __future__ import annotations

import builtins
import errno
import functools
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from critac_metrics import cli, db
from critac_metrics.db import tables
from critac_metrics.ingest import ingest_files

from .conftest import ROOT, TINY

ENGAGEMENT_HEADER = TINY["engagements.csv"].splitlines()[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (names relative to it)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _engagements_csv(path: Path, prefix: str, n: int = 2) -> Path:
    rows = [
        f"{prefix}{i},A1,2024-02-0{i + 1},completed,training,De-escalation,2024-02-10,2024-02-20,"
        "onsite,IACP,5"
        for i in range(n)
    ]
    path.write_text("\n".join([ENGAGEMENT_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _store(tiny_db: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "critac.duckdb"
    shutil.copyfile(tiny_db, target)
    return target


def _erofs(path) -> OSError:
    return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(folder)`` makes ``folder`` behave like a read-only mount for this process."""
    folders: list[Path] = []

    def inside(path) -> bool:
        if isinstance(path, int):
            return False
        resolved = Path(os.path.abspath(os.fsdecode(path)))
        return any(resolved == f or f in resolved.parents for f in folders)

    def guard(module, name, arguments=(0,), writes=lambda *a, **k: True):
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            for i in arguments:
                if i < len(args) and inside(args[i]) and writes(*args, **kwargs):
                    raise _erofs(args[i])
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    def open_writes(file, mode="r", *args, **kwargs):
        return any(c in mode for c in "wax+")

    def os_open_writes(path, flags, *args, **kwargs):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))

    guard(builtins, "open", writes=open_writes)
    guard(io, "open", writes=open_writes)  # pathlib's Path.open
    guard(os, "open", writes=os_open_writes)  # tempfile and low-level creation
    guard(os, "mkdir", writes=lambda path, *a, **k: not os.path.exists(path))  # else EEXIST
    for name in ("unlink", "remove", "rmdir", "chmod", "chown", "truncate"):
        guard(os, name, writes=lambda path, *a, **k: os.path.lexists(path))  # else ENOENT
    for name in ("link", "replace", "rename"):
        guard(os, name, arguments=(0, 1))
    guard(shutil, "copyfile", arguments=(1,))

    def make(folder: Path) -> None:
        folders.append(Path(os.path.abspath(folder)))

    return make


def _no_traceback_one_error(captured, code: int) -> list[str]:
    assert code != 0
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 1, captured.err
    return errors


# -- a read-only folder --------------------------------------------------------------------------


def test_ingest_into_a_read_only_folder_is_one_error_and_changes_nothing(
    tmp_path, tiny_db, read_only, capsys
):
    target = _store(tiny_db, tmp_path / "store")
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    before, files = _digest(target), _listing(target.parent)
    source = _engagements_csv(tmp_path / "engagements_b.csv", "B")
    read_only(target.parent)

    result = ingest_files(target, [source])
    assert not result.ok and not result.loaded
    assert [str(p) for p in result.errors] == [
        "critac.duckdb: the files are valid, but the database could not be written"
        " (Read-only file system: critac.duckdb.lock)"
    ]

    code = cli.main(["ingest", "--db", str(target), str(source)])
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert "Read-only file system" in line
    assert _digest(target) == before
    assert _listing(target.parent) == files


def test_first_import_into_a_read_only_folder_is_one_error(tmp_path, read_only, capsys):
    folder = tmp_path / "fresh"
    folder.mkdir()
    read_only(folder)
    source = _engagements_csv(tmp_path / "engagements.csv", "A")
    (tmp_path / "agencies.csv").write_text(TINY["agencies.csv"], encoding="utf-8")
    code = cli.main(["ingest", "--db", str(folder / "new.duckdb"), str(tmp_path / "agencies.csv"),
                     str(source)])  # fmt: skip
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert "could not be written (Read-only file system" in line
    assert _listing(folder) == []


def test_rollback_in_a_read_only_folder_is_one_error_and_changes_nothing(
    tmp_path, tiny_db, read_only, capsys
):
    target = _store(tiny_db, tmp_path / "store")
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    before, files = _digest(target), _listing(target.parent)
    read_only(target.parent)
    with pytest.raises(db.WriteError, match="could not roll back.*Read-only file system"):
        db.rollback(target)
    code = cli.main(["rollback", "--db", str(target)])
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert line.startswith("error: ") and "nothing was changed" in line
    assert _digest(target) == before
    assert _listing(target.parent) == files


def test_report_out_on_a_read_only_folder_is_one_error(tmp_path, tiny_db, read_only, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    read_only(folder)
    code = cli.main(
        ["report", "--db", str(tiny_db), "--format", "html", "--out", str(folder / "r.html")]
    )
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert line == f"error: cannot write {folder / 'r.html'}: Read-only file system"
    assert _listing(folder) == []


def test_report_out_on_a_full_disk_leaves_no_part_file(tmp_path, tiny_db, monkeypatch, capsys):
    written = Path.write_bytes

    def full(self, data):
        written(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "r.html"
    code = cli.main(["report", "--db", str(tiny_db), "--format", "html", "--out", str(out)])
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert line == f"error: cannot write {out}: No space left on device"
    assert _listing(tmp_path) == []


# -- a full disk during the copy -------------------------------------------------------------------


def _full_after_half(monkeypatch):
    """``shutil.copyfile`` (as the store's publish and rollback use it) writes half the file, then
    the disk is full."""

    def copy(source, destination, *args, **kwargs):
        data = Path(source).read_bytes()
        Path(destination).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(destination))

    monkeypatch.setattr(shutil, "copyfile", copy)


def test_a_full_disk_while_copying_a_new_version_is_one_error_and_leaves_nothing(
    tmp_path, tiny_db, monkeypatch, capsys
):
    target = _store(tiny_db, tmp_path / "store")
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    before, files = _digest(target), _listing(target.parent)
    _full_after_half(monkeypatch)
    source = _engagements_csv(tmp_path / "engagements_b.csv", "B")

    result = ingest_files(target, [source])
    assert not result.ok and not result.loaded
    (problem,) = result.errors
    assert "could not be written (No space left on device" in str(problem)
    code = cli.main(["ingest", "--db", str(target), str(source)])
    (line,) = _no_traceback_one_error(capsys.readouterr(), code)
    assert "No space left on device" in line
    assert _digest(target) == before
    assert _listing(target.parent) == files  # no working copy, no extra kept version


def test_a_full_disk_while_the_new_version_is_written_is_one_error(tmp_path, tiny_db, monkeypatch):
    """DuckDB's own writes fail with an IOException, not an OSError."""
    import duckdb

    target = _store(tiny_db, tmp_path / "store")
    before, files = _digest(target), _listing(target.parent)

    def full(con):
        raise duckdb.IOException('Could not write file "x": No space left on device')

    monkeypatch.setattr(tables, "rebuild_derived", full)
    result = ingest_files(target, [_engagements_csv(tmp_path / "engagements_b.csv", "B")])
    (problem,) = result.errors
    assert "No space left on device" in str(problem)
    assert _digest(target) == before
    assert _listing(target.parent) == [*files, "critac.duckdb.lock"]  # the lock file stays


def test_a_full_disk_during_a_rollback_leaves_no_rollback_file(tmp_path, tiny_db, monkeypatch):
    target = _store(tiny_db, tmp_path / "store")
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    before, files = _digest(target), _listing(target.parent)
    _full_after_half(monkeypatch)
    with pytest.raises(db.WriteError, match="No space left on device"):
        db.rollback(target)
    assert _digest(target) == before
    assert _listing(target.parent) == files  # no .rollback copy; the version is still kept


def test_a_rollback_copy_left_by_a_killed_rollback_is_removed_by_the_next_writer(tmp_path, tiny_db):
    target = _store(tiny_db, tmp_path / "store")
    for name in (".critac.duckdb.k1ll3d.rollback", ".critac.duckdb.k1ll3d.new"):
        (target.parent / name).write_bytes(b"half a copy")
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    assert [p.name for p in target.parent.glob(".critac.duckdb.*")] == []


# -- scratch folders in TMPDIR ---------------------------------------------------------------------

# An import that stops itself with SIGNAL while it loads: its staging folder (critac-import-*)
# and the writer's spill folder (critac-spill-*) both exist then.
_STOPPED_IMPORT = """
import os, signal, sys
from critac_metrics import ingest
from critac_metrics.db import tables
tables.rebuild_derived = lambda con: os.kill(os.getpid(), getattr(signal, sys.argv[1]))
ingest.ingest_files(sys.argv[2], sys.argv[3:])
"""


def _scratch(folder: Path) -> set[str]:
    return {
        p.name for p in folder.iterdir() if p.name.startswith(("critac-import-", "critac-spill-"))
    }


def _import_that_stops(how: str, target: Path, source: Path, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [sys.executable, "-c", _STOPPED_IMPORT, how, str(target), str(source)], cwd=ROOT, env=env
    )


def _wait_stopped(proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        assert proc.poll() is None
        time.sleep(0.05)
    raise AssertionError("the import did not stop")


def test_scratch_folders_of_a_killed_import_are_removed_by_the_next_one(
    tmp_path, tiny_db, monkeypatch
):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    killed = _import_that_stops(
        "SIGKILL",
        _store(tiny_db, tmp_path / "killed"),
        _engagements_csv(tmp_path / "engagements_k.csv", "K"),
        tmpdir,
    )
    assert killed.wait(timeout=120) == -signal.SIGKILL
    left = _scratch(tmpdir)
    assert {name.split("-")[1] for name in left} == {"import", "spill"}  # what a kill leaves

    # A live import (stopped, not dead) holds its folders: the next import must not touch them.
    live_target = _store(tiny_db, tmp_path / "live")
    live = _import_that_stops(
        "SIGSTOP", live_target, _engagements_csv(tmp_path / "engagements_l.csv", "L"), tmpdir
    )
    try:
        _wait_stopped(live)
        held = _scratch(tmpdir) - left
        assert len(held) == 2

        monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
        target = _store(tiny_db, tmp_path / "next")
        assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_n.csv", "N")]).ok
        assert _scratch(tmpdir) == held  # the killed import's are gone, the live one's kept
    finally:
        live.kill()
        live.wait(timeout=60)
    assert db.remove_stale_scratch(tmpdir)  # now dead: removed
    assert _scratch(tmpdir) == set()


def test_unlocked_scratch_folders_are_removed_only_when_old(tmp_path):
    """Folders without a lock file (older code, or one being made right now) are kept for an
    hour; other users' folders and links are never touched."""
    young = tmp_path / "critac-import-young"
    old = tmp_path / "critac-spill-old"
    other = tmp_path / "critac-import-not-a-folder"
    for folder in (young, old):
        folder.mkdir()
        (folder / "staging.duckdb").write_bytes(b"x")
    other.write_bytes(b"x")
    aside = tmp_path / "aside"
    aside.mkdir()
    (aside / "keep").write_bytes(b"x")
    (tmp_path / "critac-import-link").symlink_to(aside)
    past = time.time() - db.UNLOCKED_SCRATCH_TTL - 60
    os.utime(old, (past, past))
    assert db.remove_stale_scratch(tmp_path) == [old]
    assert young.exists() and other.exists() and (aside / "keep").exists()


# -- the published file's mode, owner and group ------------------------------------------------------


def _ids() -> tuple[int, int]:
    """An owner and group to give the published file: others than this process's if it may."""
    if os.geteuid() == 0:
        return 4321, 4322
    return os.geteuid(), os.getgroups()[-1] if os.getgroups() else os.getegid()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_an_import_keeps_the_published_files_mode_owner_and_group(tmp_path, tiny_db, mode):
    target = _store(tiny_db, tmp_path / "store")
    uid, gid = _ids()
    os.chown(target, uid, gid)
    os.chmod(target, mode)
    assert ingest_files(target, [_engagements_csv(tmp_path / "engagements_a.csv", "A")]).ok
    after = os.stat(target)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (mode, uid, gid)

    db.rollback(target)  # a rollback publishes a copy too
    after = os.stat(target)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (mode, uid, gid)


def test_a_fresh_rebuild_over_a_database_keeps_its_mode(tmp_path, tiny_db):
    from critac_metrics.store import build_demo_database

    target = _store(tiny_db, tmp_path / "store")
    os.chmod(target, 0o640)
    assert build_demo_database(target, 50, 1).ok
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_a_first_database_gets_0666_less_the_umask(tmp_path, tiny_dir, umask):
    target = tmp_path / "first.duckdb"
    previous = os.umask(umask)
    try:
        assert ingest_files(target, sorted(tiny_dir.glob("*.csv"))).ok
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask
