"""``summary | head``: a reader that leaves before the command has printed everything is not an
error (exit 0, nothing on stderr). The handler once stood after ``except OSError``, BrokenPipeError's
base class, and was never reached: the command said "error: Broken pipe" and exited 1."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT


@pytest.mark.parametrize("command", ["summary", "series"])
def test_a_reader_that_leaves_early_is_not_an_error(tiny_db, command):
    process = subprocess.Popen(
        [sys.executable, "-m", "critac_metrics", command, "--db", str(tiny_db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader has gone before the first line is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert stderr == ""
