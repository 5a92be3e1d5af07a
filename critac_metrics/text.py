"""Control characters: what the data contract refuses, and how output that must never carry one
(spreadsheets, decks, terminals) keeps them out.

A control character is U+0000–U+001F other than tab, line feed and carriage return, or U+007F.
Imports reject them (``validate``), so a store holds none; the exports still clean text, so a store
written by older code cannot crash them. The terminal also gets the C1 controls (U+0080–U+009F:
U+009B starts an escape sequence on some terminals) and the bidirectional overrides escaped.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# A regex character class body: the characters an imported cell must not hold.
CONTROL_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
CONTROL = re.compile(f"[{CONTROL_CLASS}]")
REPLACEMENT = "\ufffd"
# Whitespace that a cell's value is trimmed of: every Unicode space except the control characters
# (Python's and Arrow's whitespace include U+000B, U+000C and U+001C-U+001F, which would otherwise
# vanish from the ends of a cell instead of being refused).
TRIMMED = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and not CONTROL.match(c))
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_name(char: str) -> str:
    """``U+000B`` for a vertical tab."""
    return f"U+{ord(char):04X}"


def without_controls(value: Any) -> Any:
    """``value`` with each control character replaced by U+FFFD: text, or the text in a frame,
    series, dict, list or tuple (other values are returned as they are)."""
    if isinstance(value, str):
        return CONTROL.sub(REPLACEMENT, value)
    if isinstance(value, pd.DataFrame):
        texts = [c for c in value.columns if _texty(value[c])]
        if not texts:
            return value
        value = value.copy()
        for c in texts:
            value[c] = _series_without_controls(value[c])
        return value
    if isinstance(value, pd.Series):
        return _series_without_controls(value) if _texty(value) else value
    if isinstance(value, dict):
        return {without_controls(k): without_controls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_controls(v) for v in value)
    return value


def _texty(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col) or col.dtype == object


def _series_without_controls(col: pd.Series) -> pd.Series:
    return col.map(lambda v: without_controls(v) if isinstance(v, str | list | tuple) else v)


def for_terminal(text: str) -> str:
    """``text`` with every control character but tab and line feed written as an escape
    (``\\x1b``), so imported text cannot move the cursor, clear the screen or retitle the window."""
    return _TERMINAL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
