"""The topic catalogue shipped as reference data in data/topics.csv."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

TOPICS_CSV = Path(__file__).resolve().parent.parent / "data" / "topics.csv"


@cache
def _catalogue() -> pd.DataFrame:
    frame = pd.read_csv(TOPICS_CSV, dtype="str", keep_default_na=False, encoding="utf-8")
    if list(frame.columns) != ["topic", "topic_group"]:
        raise ValueError(f"{TOPICS_CSV}: expected columns topic,topic_group")
    frame = frame.apply(lambda col: col.str.strip())
    if (frame == "").any().any():
        raise ValueError(f"{TOPICS_CSV}: blank topic or topic_group")
    if frame["topic"].str.contains(";", regex=False).any():
        raise ValueError(f"{TOPICS_CSV}: topic names must not contain ';'")
    if frame["topic"].str.lower().duplicated().any():
        raise ValueError(f"{TOPICS_CSV}: duplicate topic names")
    return frame


def load_topic_catalogue() -> pd.DataFrame:
    """Columns topic, topic_group (a copy: callers may change it)."""
    return _catalogue().copy()
