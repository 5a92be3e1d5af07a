"""Import from the Data page, for administrators only.

Disabled unless an admin password is configured (``CRITAC_ADMIN_PASSWORD`` or the Streamlit secret
``admin_password``); the password is compared in constant time, and wrong attempts are throttled
per server process (a growing delay, then a lockout; see ``SignInThrottle``). Uploads are bounded
in size and type, validated with the same all-or-nothing import as the CLI, and published
atomically.
"""

from __future__ import annotations

import hmac
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from critac_metrics.ingest import ImportReport, ingest_files
from critac_metrics.readers import SUPPORTED

from . import data

MAX_UPLOAD_MB = 50
ADMIN = "is_admin"
LAST_IMPORT = "last_import_report"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    ok: bool
    locked_for: float = 0.0  # seconds until sign-in is possible again (0: not locked)


class SignInThrottle:
    """Wrong admin passwords, counted for the whole server process (every browser session).

    Each attempt after a recent failure waits first: ``first_delay`` seconds, doubling with each
    further failure up to ``max_delay``. ``max_failures`` failures within ``window`` seconds lock
    sign-in for ``lockout`` seconds from the last one; during a lockout no password is compared,
    not even the right one. Attempts are checked one at a time, so many sessions at once can't
    try faster. A right password clears the count. Failures are logged, never the password.
    """

    def __init__(
        self,
        *,
        first_delay: float = 1.0,
        max_delay: float = 8.0,
        max_failures: int = 5,
        window: float = 900.0,
        lockout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.first_delay, self.max_delay = first_delay, max_delay
        self.max_failures, self.window, self.lockout = max_failures, window, lockout
        self.clock, self.sleep = clock, sleep
        self._failures: list[float] = []  # times of recent failures
        self._lock = threading.Lock()

    def delay(self) -> float:
        """How long the next attempt waits (0 after no recent failure)."""
        count = len(self._recent())
        return 0.0 if count == 0 else min(self.first_delay * 2 ** (count - 1), self.max_delay)

    def locked_for(self) -> float:
        recent = self._recent()
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, recent[-1] + self.lockout - self.clock())

    def attempt(self, given: str, password: str) -> Attempt:
        with self._lock:
            if remaining := self.locked_for():
                log.warning("admin sign-in refused: locked for another %.0f s", remaining)
                return Attempt(ok=False, locked_for=remaining)
            if wait := self.delay():
                self.sleep(wait)
            if hmac.compare_digest(given.encode(), password.encode()):
                self._failures.clear()
                return Attempt(ok=True)
            self._failures = [*self._recent(), self.clock()]
            remaining = self.locked_for()
            log.warning(
                "admin sign-in failed: wrong password (%d in the last %.0f s)%s",
                len(self._failures),
                self.window,
                f"; sign-in locked for {remaining:.0f} s" if remaining else "",
            )
            return Attempt(ok=False, locked_for=remaining)

    def _recent(self) -> list[float]:
        now = self.clock()
        horizon = max(self.window, self.lockout)
        self._failures = [t for t in self._failures if now - t < horizon]
        return self._failures


THROTTLE = SignInThrottle()  # one per server process: shared by every session


def configured_password() -> str | None:
    env = os.environ.get("CRITAC_ADMIN_PASSWORD")
    if env:
        return env
    try:
        return st.secrets.get("admin_password") or None
    except Exception:  # no secrets.toml at all: Streamlit raises its own not-found error
        return None


def panel() -> None:
    password = configured_password()
    if not password:
        st.info(
            "Import is disabled: no admin password is configured. Set `CRITAC_ADMIN_PASSWORD` or "
            "`admin_password` in `.streamlit/secrets.toml` to enable it, or use "
            "`python -m critac_metrics ingest`.",
            icon=":material/lock:",
        )
        return
    if not st.session_state.get(ADMIN):
        _sign_in(password)
        return
    _upload_form()


def _sign_in(password: str) -> None:
    with st.form("admin_sign_in"):
        given = st.text_input("Admin password", type="password")
        if st.form_submit_button("Sign in"):
            attempt = THROTTLE.attempt(given, password)
            if attempt.ok:
                st.session_state[ADMIN] = True
                st.rerun()
            if attempt.locked_for:
                minutes = max(1, round(attempt.locked_for / 60))
                st.error(
                    f"Too many wrong passwords: sign-in is locked for about {minutes} minute"
                    f"{'' if minutes == 1 else 's'}. Try again later."
                )
            else:
                st.error("Wrong password.")


def _upload_form() -> None:
    types = [suffix.lstrip(".") for suffix in SUPPORTED]
    with st.form("admin_import", clear_on_submit=True):
        files = st.file_uploader(
            "Exports to import (agencies*, engagements*, survey_responses*)",
            type=types,
            accept_multiple_files=True,
            help=f"CSV, Parquet or Excel; at most {MAX_UPLOAD_MB} MB each. All or nothing.",
        )
        submitted = st.form_submit_button("Validate and import", type="primary")
    if submitted and files:
        report = _import(files)
        if isinstance(report, ImportReport) and report.ok:
            # The page above was drawn from the old data: draw it again, then say what loaded.
            st.session_state[LAST_IMPORT] = report
            st.rerun()
        show_report(report)
    elif (loaded := st.session_state.pop(LAST_IMPORT, None)) is not None:
        show_report(loaded)


def _import(files) -> ImportReport | str:
    too_big = [f.name for f in files if f.size > MAX_UPLOAD_MB * 1024 * 1024]
    if too_big:
        return f"Refused: larger than {MAX_UPLOAD_MB} MB: {', '.join(too_big)}"
    wrong = [f.name for f in files if Path(f.name).suffix.lower() not in SUPPORTED]
    if wrong:
        return f"Refused: not CSV, Parquet or .xlsx: {', '.join(wrong)}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            paths = []
            for upload in files:
                path = Path(folder) / Path(upload.name).name  # never trust a client path
                path.write_bytes(upload.getvalue())
                paths.append(path)
            return ingest_files(data.database_path(), paths, source="upload (Data page)")
    except Exception as exc:  # duckdb.Error (out of memory), OSError (disk full), a bug: a message
        logging.getLogger(__name__).exception("import from the Data page failed")
        # The first line of the reason; an OSError's without its (server) path.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        detail = (reason.strip().splitlines() or [""])[0][:200]
        return f"Import failed; nothing was changed. {type(exc).__name__}" + (
            f": {detail}" if detail else ""
        )


def show_report(report: ImportReport | str) -> None:
    if isinstance(report, str):
        st.error(report)
        return
    if report.ok:
        counts = "; ".join(
            f"{table}: {n:,} row{'' if n == 1 else 's'}" for table, n in report.rows.items()
        )
        st.success(f"Imported {counts}. Every page now shows the new data.")
    else:
        st.error(f"Rejected: {report.error_count:,} error(s). Nothing was changed.")
        st.dataframe(_problems(report.errors), hide_index=True, width="stretch")
    if report.warnings:
        st.warning(f"{len(report.warnings):,} warning(s)")
        st.dataframe(_problems(report.warnings), hide_index=True, width="stretch")


def _problems(problems) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"file": p.source, "row": p.row, "column": p.column, "value": p.value, "rule": p.detail}
            for p in problems
        ]
    )
