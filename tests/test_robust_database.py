"""A damaged or unreadable database: one message saying what to do, on every page and in the CLI.

No traceback, no DuckDB exception and no server path reaches a viewer; the server log has the
details. See docs/reliability.md.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics import metrics
from dashboard import data
from dashboard.pages import PAGES

from .conftest import ROOT, run_cli

TIMEOUT = 60


def _garbage(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 400)
    return path


def _text(path: Path) -> Path:
    path.write_text("engagement_id,agency_id\nE1,A1\n", encoding="utf-8")
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _truncated(source: Path):
    def make(path: Path) -> Path:
        # The header and catalogue survive; the blocks the data lives in are cut off.
        path.write_bytes(source.read_bytes()[:300_000])
        return path

    return make


def _bad_checksum(source: Path):
    def make(path: Path) -> Path:
        shutil.copyfile(source, path)
        with path.open("r+b") as handle:  # the first block after the file's three header blocks
            handle.seek(3 * 4096 + 8)
            handle.write(b"\xff" * 64)
        return path

    return make


KINDS = ("garbage", "text", "empty", "folder", "truncated", "bad-checksum")


def _make(kind: str, path: Path, source: Path) -> Path:
    makers = {
        "garbage": _garbage,
        "text": _text,
        "empty": _empty,
        "folder": _folder,
        "truncated": _truncated(source),
        "bad-checksum": _bad_checksum(source),
    }
    return makers[kind](path)


def _shown(at: AppTest) -> str:
    """Every piece of text the run put on the page."""
    parts = []
    for kind in ("error", "warning", "info", "caption", "markdown", "title", "text", "exception"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return "\n".join(parts)


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_says_what_to_do_about_an_unreadable_database(
    monkeypatch, tmp_path, demo_db, kind, caplog
):  # fmt: skip
    secret_dir = tmp_path / "srv-secret-folder"
    secret_dir.mkdir()
    path = _make(kind, secret_dir / "critac.duckdb", demo_db)
    monkeypatch.setenv("CRITAC_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    with caplog.at_level(logging.ERROR, logger="dashboard.data"):
        for spec in PAGES:
            if spec.path == PAGES[0].path:
                at.run()
            else:
                at.switch_page(spec.path)
                at.run()
            assert not at.exception, (spec.path, [e.value for e in at.exception])
            assert [e.value for e in at.error] == [data.UNREADABLE], spec.path
            shown = _shown(at)
            assert "srv-secret-folder" not in shown and "Error" not in shown, shown
    # The administrator finds the file and the cause in the server log.
    assert any("srv-secret-folder" in r.getMessage() for r in caplog.records)


def test_a_damaged_block_found_by_one_query_shows_the_same_message(
    monkeypatch, tmp_path, demo_db
):  # fmt: skip
    path = tmp_path / "copy.duckdb"  # a new file: nothing of it is in Streamlit's caches yet
    shutil.copyfile(demo_db, path)
    monkeypatch.setenv("CRITAC_DB", str(path))

    def damaged(*args, **kwargs):
        raise duckdb.IOException(
            f'Could not read enough bytes from file "{path}": attempted to read 262144 bytes'
        )

    monkeypatch.setattr(metrics, "kpis_with_comparison", damaged)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [data.UNREADABLE]
    assert str(tmp_path) not in _shown(at)


def test_a_mistake_in_a_query_is_not_reported_as_a_damaged_database(
    monkeypatch, tmp_path, demo_db
):  # fmt: skip
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, path)
    monkeypatch.setenv("CRITAC_DB", str(path))

    def mistaken(*args, **kwargs):
        raise duckdb.BinderException("Referenced column not found")

    monkeypatch.setattr(metrics, "kpis_with_comparison", mistaken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert [e.value for e in at.error] != [data.UNREADABLE]
    assert at.exception  # a bug stays visible as one


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["summary", "series", "report"])
def test_cli_says_what_to_do_about_an_unreadable_database_in_one_line(
    tmp_path, demo_db, kind, command
):  # fmt: skip
    path = _make(kind, tmp_path / "critac.duckdb", demo_db)
    extra = ["--out", str(tmp_path / "out.html")] if command == "report" else []
    proc = run_cli(command, "--db", path, *extra, ok=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {path} can't be read as a dashboard database")
    assert "rollback --db" in lines[0]
    assert proc.stdout == ""
