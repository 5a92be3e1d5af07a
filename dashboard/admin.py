"""Import from the Data page, for administrators only.

Disabled unless an admin password is configured (``CRITAC_ADMIN_PASSWORD`` or the Streamlit secret
``admin_password``); the password is compared in constant time. Uploads are bounded in size and
type, validated with the same all-or-nothing import as the CLI, and published atomically.
"""

from __future__ import annotations

import hmac
import logging
import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from critac_metrics.ingest import ImportReport, ingest_files
from critac_metrics.readers import SUPPORTED

from . import data

MAX_UPLOAD_MB = 50
ADMIN = "is_admin"
LAST_IMPORT = "last_import_report"


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
            if hmac.compare_digest(given.encode(), password.encode()):
                st.session_state[ADMIN] = True
                st.rerun()
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
