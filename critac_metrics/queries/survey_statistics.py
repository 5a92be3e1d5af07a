"""The rules every survey figure follows (docs/metrics.md, Survey statistics): outcome figures
from answer counts, Wilson intervals at an effective n clustered by engagement, and suppression
below the minimum n, complementary in breakdowns. Pure functions; no SQL."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .results import _pct

DEFAULT_MIN_N = 5


OUTCOME_FIGURES = (
    "top2_pct",
    "top2_low",
    "top2_high",
    "bottom2_pct",
    "mean",
    *(f"pct_{a}" for a in range(1, 6)),
)


Z95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion, in percent (``n`` may be an effective n)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half) * 100, min(1.0, centre + half) * 100)


def effective_n(positive: int, n: int, clusters: int, yy: float, ym: float, mm: float) -> float:
    """The number of independent answers that ``n`` answers clustered in ``clusters``
    engagements are worth for the proportion positive/n: n divided by the design effect, the
    cluster-robust (sandwich) variance of the ratio estimator over the simple-random-sample one,
    taken as at least 1. ``yy``, ``ym``, ``mm``: sums over engagements of y², y·m and m² (y:
    positive answers, m: answers). With one engagement, 1; when every answer is positive (or
    none is) the variance cannot be estimated and the number of engagements is used."""
    if n == 0:
        return 0.0
    if clusters < 2:
        return 1.0
    p = positive / n
    simple = p * (1 - p) / n
    if simple == 0:
        return float(clusters)
    spread = max(0.0, yy - 2 * p * ym + p * p * mm)
    robust = clusters / (clusters - 1) * spread / (n * n)
    return n / max(1.0, robust / simple)


def clustered_interval(
    count: list[int], clusters: int, yy: float, ym: float, mm: float
) -> tuple[float, float]:
    """95% Wilson interval at the effective n of answers clustered by engagement (percent)."""
    c = list(count)
    positive, n = c[3] + c[4], sum(c)
    if n == 0:
        return (math.nan, math.nan)
    n_eff = effective_n(positive, n, clusters, yy, ym, mm)
    return wilson_interval(positive / n * n_eff, n_eff)  # the same proportion at n_eff


def _answer_figures(c: list[int], min_n: int, cluster: list[int] | None = None) -> dict[str, Any]:
    """n, the OUTCOME_FIGURES and whether they are suppressed, from the answers 1..5 ``c`` (and
    the cluster sums: engagements, yy, ym, mm)."""
    n = sum(c)
    suppressed = n < min_n
    clusters, yy, ym, mm = cluster or (n, c[3] + c[4], c[3] + c[4], n)
    low, high = clustered_interval(c, clusters, yy, ym, mm)
    figures = {
        "top2_pct": _pct(c[3] + c[4], n),
        "top2_low": low,
        "top2_high": high,
        "bottom2_pct": _pct(c[0] + c[1], n),
        "mean": sum((a + 1) * c[a] for a in range(5)) / n if n else None,
        **{f"pct_{a}": _pct(c[a - 1], n) for a in range(1, 6)},
    }
    if suppressed:
        figures = dict.fromkeys(figures, math.nan)
    return {"n": n, **figures, "suppressed": suppressed}


def complementary_suppression(
    ns: list[int], min_n: int, positives: list[int] | None = None
) -> list[bool]:
    """Which cells of one breakdown to suppress, given each cell's respondents ``ns`` (and how
    many of them answered 4 or 5, ``positives``), for cells that add up to a total shown
    elsewhere. The one rule every output uses (pages, chart CSVs, deck, HTML report, CLI).

    Primary: every cell below ``min_n``. Complementary: while any cell is suppressed, also
    suppress the next smallest shown cell (ties: the first) until the suppressed cells are at
    least two, hold at least ``min_n`` respondents together, more respondents than cells (else
    each would hold exactly one) and, together, some positive and some other answers (else each
    cell's positive count, 0, or its rate, 100%, would follow). Then no suppressed cell's n or
    positive count can be worked out from the shown cells and the total. Only when every cell is
    suppressed can a condition still fail (the total, shown or suppressed on its own, is all
    there is)."""
    hidden = [n < min_n for n in ns]
    if not any(hidden):
        return hidden

    def protected() -> bool:
        count = sum(hidden)
        together = sum(n for n, h in zip(ns, hidden, strict=True) if h)
        enough = count >= 2 and together >= min_n and together > count
        if positives is None:  # only the n is to be protected
            return enough
        top = sum(p for p, h in zip(positives, hidden, strict=True) if h)
        return enough and 0 < top < together

    while not protected() and not all(hidden):
        smallest = min((n, i) for i, (n, h) in enumerate(zip(ns, hidden, strict=True)) if not h)
        hidden[smallest[1]] = True
    return hidden


def protect_breakdown(frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """An outcome breakdown (one row per segment and item, figures not yet suppressed) with
    ``complementary_suppression`` applied per item: suppressed rows lose every figure and their n
    (shown as empty)."""
    if frame.empty:
        return frame
    hidden = np.zeros(len(frame), dtype=bool)
    positives = (frame["pct_4"].fillna(0) + frame["pct_5"].fillna(0)) * frame["n"] / 100
    for _, rows in frame.groupby("item", sort=False).groups.items():
        positions = frame.index.get_indexer(rows)
        hidden[positions] = complementary_suppression(
            [int(n) for n in frame["n"].iloc[positions]],
            min_n,
            [round(p) for p in positives.iloc[positions]],
        )
    out = frame.copy()
    if hidden.any():
        out.loc[hidden, list(OUTCOME_FIGURES)] = math.nan
        out["n"] = out["n"].astype("float64")
        out.loc[hidden, "n"] = math.nan
    out["suppressed"] = hidden
    return out
