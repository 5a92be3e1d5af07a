"""Tables for download (CSV and Excel) that cannot run as spreadsheet formulas."""

from __future__ import annotations

import io

import pandas as pd

from .text import without_controls

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would read as a formula with an apostrophe (OWASP)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = out[column].map(_safe_cell)
    return out


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    # CRLF rows (RFC 4180): the csv writer then quotes any cell holding a bare \r as well as \n,
    # so a carriage return can't split a cell and start a new row with a formula.
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def excel_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    if len(frame) > EXCEL_MAX_ROWS:
        raise ValueError(f"{len(frame):,} rows do not fit in one Excel sheet; download CSV instead")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        # A control character (from a store written before imports refused them) would make
        # openpyxl raise IllegalCharacterError: it is written as U+FFFD instead.
        without_controls(neutralise(frame)).to_excel(
            writer, sheet_name=sheet_name[:31], index=False
        )
    return buffer.getvalue()
