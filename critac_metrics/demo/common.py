"""Vectorised helpers of the demo generator: categorical draws, periods, ids and typed columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def draw(rng: np.random.Generator, probs: Any, group: Any) -> np.ndarray:
    """One categorical draw per row: row i uses probability row ``probs[group[i]]``.

    Vectorised inverse-CDF sampling: the per-group CDFs are laid end to end (group g
    occupies ``[g, g + 1]``) so a single ``searchsorted`` serves every group.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[None, :]
    group = np.asarray(group, dtype=np.int64)
    totals = probs.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError("every probability row needs a positive total")
    n_groups, k = probs.shape
    cdf = np.cumsum(probs / totals, axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(n_groups)[:, None]).ravel()
    u = rng.random(group.shape[0])
    pos = np.searchsorted(flat, group + u, side="right") - group * k
    return np.clip(pos, 0, k - 1)


def period(days: np.ndarray, starts: Sequence[int]) -> np.ndarray:
    return np.searchsorted(np.asarray(starts, dtype=np.int64), days, side="right")


def text_from_codes(codes: np.ndarray, categories: Iterable[Any]) -> pd.Series:
    """``categories[codes]`` as a pandas ``str`` Series; code -1 means missing."""
    codes = np.asarray(codes, dtype=np.int64)
    categories = [str(c) for c in categories]
    missing = codes < 0
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a project dependency
        cat = pd.Categorical.from_codes(np.where(missing, -1, codes), categories=categories)
        return pd.Series(cat).astype("str")
    values = pa.array(categories, type=pa.large_string())
    index = pa.array(np.where(missing, 0, codes), mask=missing if missing.any() else None)
    return pd.Series(pd.array(values.take(index), dtype="str"))


def unique_codes(values: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    values = list(values)
    categories = sorted(set(values))
    lookup = {v: i for i, v in enumerate(categories)}
    return np.array([lookup[v] for v in values], dtype=np.int64), categories


def ids(prefix: str, n: int, width: int) -> pd.Series:
    """``prefix`` + zero-padded 1..n, built as bytes without a Python loop."""
    if n == 0:
        return pd.Series([], dtype="str")
    width = max(width, len(str(n)))
    buf = np.empty((n, len(prefix) + width), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    x = np.arange(1, n + 1, dtype=np.int64)
    for j in range(buf.shape[1] - 1, len(prefix) - 1, -1):
        buf[:, j] = x % 10 + 48
        x //= 10
    raw = buf.view(f"S{buf.shape[1]}").ravel()
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        return pd.Series(raw.astype(f"U{buf.shape[1]}"), dtype="str")
    return pd.Series(pd.array(pa.array(raw).cast(pa.large_string()), dtype="str"))


def take_text(series: pd.Series, index: np.ndarray) -> pd.Series:
    values = series.array
    taken = values.take(np.asarray(index, dtype=np.int64))
    return pd.Series(taken)


def dates(days: np.ndarray, present: np.ndarray | None = None) -> pd.Series:
    out = (np.asarray(days, dtype=np.int64).astype("datetime64[D]")).astype("datetime64[us]")
    if present is not None:
        out[~present] = np.datetime64("NaT")
    return pd.Series(out)


def ints(values: np.ndarray, present: np.ndarray | None = None) -> pd.Series:
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(values.shape, dtype=bool) if present is None else ~present
    return pd.Series(pd.arrays.IntegerArray(values, mask))
