"""Survey outcomes: answer counts per segment, wave and item in one scan, and the figures built on
them (per item, per segment with response rates, post vs follow-up, levels of evidence), the KPI
tile's positive-outcome rate and the comments browser."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .. import db, schema
from ..filters import Filters
from .results import (
    Connection,
    Description,
    Params,
    Row,
    _fetch,
    _gapped,
    _pct,
    _record,
    query,
)
from .selection import _selection, _summed_sql
from .survey_statistics import (
    DEFAULT_MIN_N,
    OUTCOME_FIGURES,
    _answer_figures,
    protect_breakdown,
)

# The KPI tile's survey figure is the reaction level: post-engagement satisfaction (one answer
# per respondent, so its answers are its respondents).
_TILE_ANSWERS = " + ".join(db.answer_column("post", "satisfaction", a) for a in range(1, 6))


_TILE_TOP2 = " + ".join(db.answer_column("post", "satisfaction", a) for a in (4, 5))


class _AnswerCounts(NamedTuple):
    """How many of a segment's answers to an item in a wave were 1..5, the segment's completed
    and responded engagements, and the sums over engagements (clusters) that a cluster-robust
    interval needs: per engagement, y = positive answers and m = answers to the item."""

    segment: str | None
    wave: str | None
    item: str
    answers: tuple[int, ...]  # answers 1..5
    completed: int
    responded_engagements: int
    engagements: int = 0  # engagements with a response in the wave (matched: in both)
    clusters: int = 0  # engagements with an answer to the item
    yy: int = 0  # sum of y squared
    ym: int = 0  # sum of y * m
    mm: int = 0  # sum of m squared


# Engagements answered in both waves: the matched post vs follow-up comparison.
MATCHED = "post_responses > 0 and follow_up_responses > 0"


def _answer_counts(
    con: Connection,
    filters: Filters,
    waves: tuple[str | None, ...],
    by: str | None,
    items: tuple[str, ...] = schema.SURVEY_ITEMS,
    only: str | None = None,
) -> list[_AnswerCounts]:
    """Per segment, wave and item: the answers 1..5 summed over the selected engagements'
    responses, for each of ``waves`` (None: all waves added up) in one scan; a segment without a
    response in a wave is left out of that wave. With ``by``, also each segment's completed and
    responded engagements (for response rates). ``only`` (a fixed condition, e.g. ``MATCHED``)
    narrows the engagements further."""
    if only not in (None, MATCHED):
        raise ValueError("unknown engagement condition")
    where = "is_engagement" if only is None else f"is_engagement and {only}"
    sql, params = _answer_sql(filters, waves, by, items, where)
    rows, description = _fetch(con, sql, params)
    return _counts_of(rows, description, waves, items)


def _answer_counts_matched_and_not(
    con: Connection, filters: Filters, waves: tuple[str | None, ...], by: str | None
) -> dict[bool, list[_AnswerCounts]]:
    """``_answer_counts`` of every engagement (False) and of the engagements matched across the
    waves (True: ``only=MATCHED``) in one scan: the counts are summed per segment and whether the
    engagement is matched, then added up over both for every engagement (every count is a sum or
    a count of engagement rows, so it adds up). A segment without a response in any wave is left
    out after adding up, as ``_answer_counts`` leaves it out (not per group: a group without a
    response still has completed engagements to add)."""
    sql, params = _answer_sql(
        filters,
        waves,
        by,
        schema.SURVEY_ITEMS,
        "is_engagement",
        keys={"is_matched": MATCHED},
        responded_only=False,
    )
    rows, description = _fetch(con, sql, params)
    at = [d[0] for d in description].index("is_matched")
    rest = [d for i, d in enumerate(description) if i != at]
    responses = [
        i for i, d in enumerate(rest) if d[0] in {f"w{n}_responses" for n in range(len(waves))}
    ]

    def responded(values: Sequence[Any]) -> bool:
        return any((values[i] or 0) > 0 for i in responses)

    matched: list[Row] = []
    every: dict[Any, list[Any]] = {}  # segment -> its counts added up (in the rows' order)
    for row in rows:
        values = [v for i, v in enumerate(row) if i != at]
        if row[at] is True:
            matched.append(tuple(values))
        total = every.setdefault(values[0], values)
        if total is not values:
            every[values[0]] = [
                values[0],
                *((a or 0) + (b or 0) for a, b in zip(total[1:], values[1:], strict=True)),
            ]
    return {
        False: _counts_of(
            [tuple(v) for v in every.values() if responded(v)], rest, waves, schema.SURVEY_ITEMS
        ),
        True: _counts_of([v for v in matched if responded(v)], rest, waves, schema.SURVEY_ITEMS),
    }


def _answer_sql(
    filters: Filters,
    waves: tuple[str | None, ...],
    by: str | None,
    items: tuple[str, ...],
    where: str,
    keys: dict[str, str] | None = None,
    responded_only: bool = True,
) -> tuple[str, Params]:
    """The statement of ``_answer_counts``: one row per segment (and ``keys``), ordered by
    segment, with the sums ``_counts_of`` reads; with ``responded_only``, only the rows with a
    response in some wave."""
    for wave in waves:
        if wave is not None and wave not in schema.WAVES:
            raise ValueError(f"unknown wave {wave!r}; choose from {', '.join(schema.WAVES)}")
    for item in items:  # item names become column names below: only the known ones
        if item not in schema.SURVEY_ITEMS:
            raise ValueError(f"unknown item {item!r}; choose from {', '.join(schema.SURVEY_ITEMS)}")

    def waves_of(wave: str | None) -> tuple[str, ...]:
        return (wave,) if wave else schema.WAVES

    def answer_sum(wave: str | None, item: str, answer: int) -> str:
        return " + ".join(db.answer_column(w, item, answer) for w in waves_of(wave))

    def responses(wave: str | None) -> str:
        return " + ".join(f"{w}_responses" for w in waves_of(wave))

    def answered(wave: str | None, item: str, answers: Iterable[int]) -> str:
        return "(" + " + ".join(answer_sum(wave, item, a) for a in answers) + ")"

    measures = {
        f"w{n}_c{a}_{item}": f"sum({answer_sum(wave, item, a)})"
        for n, wave in enumerate(waves)
        for item in items
        for a in range(1, 6)
    }
    for n, wave in enumerate(waves):
        measures[f"w{n}_responses"] = f"sum({responses(wave)})"
        measures[f"w{n}_engagements"] = f"count(*) filter (where {responses(wave)} > 0)"
        for item in items:
            y, m = answered(wave, item, (4, 5)), answered(wave, item, range(1, 6))
            measures[f"w{n}_k_{item}"] = f"count(*) filter (where {m} > 0)"
            measures[f"w{n}_yy_{item}"] = f"sum({y} * {y})"
            measures[f"w{n}_ym_{item}"] = f"sum({y} * {m})"
            measures[f"w{n}_mm_{item}"] = f"sum({m} * {m})"
    measures["completed"] = "count(*) filter (where is_completed)"
    measures["responded_engagements"] = "count(*) filter (where is_completed and responses > 0)"
    having = " or ".join(f"w{n}_responses > 0" for n in range(len(waves)))
    summed, params = _summed_sql(
        filters, by, measures, keys, where=where, having=having if responded_only else "true"
    )
    order = "".join(f", {name}" for name in keys or {})
    return f"select * rename (value as segment) from ({summed}) order by segment{order}", params


def _counts_of(
    rows: list[Row], description: Description, waves: tuple[str | None, ...], items: tuple[str, ...]
) -> list[_AnswerCounts]:
    """The rows of ``_answer_sql`` as counts per segment, wave and item (a wave without a
    response in a segment left out)."""
    column = {d[0]: i for i, d in enumerate(description)}
    return [
        _AnswerCounts(
            segment=row[column["segment"]],
            wave=wave,
            item=item,
            answers=tuple(int(row[column[f"w{n}_c{a}_{item}"]]) for a in range(1, 6)),
            completed=int(row[column["completed"]]),
            responded_engagements=int(row[column["responded_engagements"]]),
            engagements=int(row[column[f"w{n}_engagements"]]),
            **{
                field: int(row[column[f"w{n}_{key}_{item}"]])
                for field, key in (("clusters", "k"), ("yy", "yy"), ("ym", "ym"), ("mm", "mm"))
            },
        )
        for row in rows
        for n, wave in enumerate(waves)
        if row[column[f"w{n}_responses"]] > 0
        for item in items
    ]


def _outcome_figures(counts: list[_AnswerCounts], keys: dict[str, str], min_n: int) -> pd.DataFrame:
    """The answers added up per ``keys`` (fields of the counts -> column names) into n,
    top/bottom-2-box, interval (clustered by engagement), mean, with suppression; one row per
    key, in order of first appearance (counts without a key value are left out, as a groupby
    leaves them)."""
    totals: dict[tuple[Any, ...], list[int]] = {}
    for count in counts:
        key = tuple(getattr(count, field) for field in keys)
        if None in key:
            continue
        total = totals.setdefault(key, [0] * 9)
        for a, answered in enumerate(count.answers):
            total[a] += answered
        for i, extra in enumerate((count.clusters, count.yy, count.ym, count.mm)):
            total[5 + i] += extra
    rows = [
        {**dict(zip(keys.values(), key, strict=True)), **_answer_figures(c[:5], min_n, c[5:])}
        for key, c in totals.items()
    ]
    return pd.DataFrame(rows, columns=[*keys.values(), "n", *OUTCOME_FIGURES, "suppressed"])


def item_outcomes(
    con: Connection, filters: Filters, wave: str = "post", min_n: int = DEFAULT_MIN_N
) -> pd.DataFrame:
    """Per survey item: n, % answering 1..5, top-2-box with Wilson 95% interval, bottom-2, mean."""
    return _item_figures(_answer_counts(con, filters, (wave,), None), min_n)


def _item_figures(counts: list[_AnswerCounts], min_n: int) -> pd.DataFrame:
    """Outcome figures per item, in the catalogue's item order (every item at n = 0 without
    counts)."""
    if not counts:
        counts = [_AnswerCounts(None, None, item, (0,) * 5, 0, 0) for item in schema.SURVEY_ITEMS]
    rank = {item: i for i, item in enumerate(schema.SURVEY_ITEMS)}
    in_order = sorted(counts, key=lambda count: rank.get(count.item, len(rank)))
    return _outcome_figures(in_order, {"item": "item"}, min_n)


def positive_outcome(
    con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N
) -> dict[str, Any]:
    """The KPI tile: % positive at the reaction level (post-engagement satisfaction, 4 or 5),
    one level of evidence, not the items of every level pooled (see ``evidence_levels``).

    ``n`` counts respondents (each answers the item once), and the figure is suppressed below
    ``min_n`` respondents. ``answers`` equals n for this one item."""
    source, params = _selection(filters)
    row = _record(
        con,
        f"""
        select coalesce(sum({_TILE_ANSWERS}), 0) as answers,
            coalesce(sum({_TILE_TOP2}), 0) as top2,
            coalesce(sum({_TILE_ANSWERS}), 0) as respondents
        {source} and is_engagement
    """,
        params,
    )
    n = int(row["respondents"])
    return {
        "n": n,
        "answers": int(row["answers"]),
        "top2_pct": _top2_pct(int(row["top2"]), int(row["answers"]), n, min_n),
        "suppressed": n < min_n or n == 0,
    }


def _top2_pct(top2: int, answers: int, respondents: int, min_n: int) -> float | None:
    """The positive-outcome rate of ``answers``, or None when suppressed (fewer than ``min_n``
    respondents gave them)."""
    return None if respondents < min_n or respondents == 0 else _pct(top2, answers)


def outcomes_by(
    con: Connection,
    filters: Filters,
    by: str,
    wave: str = "post",
    min_n: int = DEFAULT_MIN_N,
    item: str | None = None,
) -> pd.DataFrame:
    """Outcome figures per segment and item (or just ``item``), with each segment's response rate
    beside them (empty for a segment without completed engagements)."""
    items = schema.SURVEY_ITEMS if item is None else (item,)
    counts = _answer_counts(con, filters, (wave,), by, items)
    # figures of every cell first (min_n 0), then the one suppression rule over the breakdown
    frame = protect_breakdown(_outcome_figures(counts, {"segment": by, "item": "item"}, 0), min_n)
    if not counts:
        rates = ["completed", "responded_engagements", "response_rate"]
        return pd.DataFrame(columns=[*frame.columns, *rates])
    # segment -> its first counts (each carries the segment's engagements)
    first: dict[str | None, _AnswerCounts] = {}
    for count in counts:
        first.setdefault(count.segment, count)
    segments = [first[segment] for segment in frame[by]]
    # None: no rate (no completed engagements, or a suppressed row: no survey % at all there)
    rated = [
        count if count.completed > 0 and not hidden else None
        for count, hidden in zip(segments, frame["suppressed"], strict=True)
    ]
    frame["completed"] = _gapped([c.completed if c else None for c in rated])
    frame["responded_engagements"] = _gapped(
        [c.responded_engagements if c else None for c in rated]
    )
    frame["response_rate"] = np.array(
        [c.responded_engagements / c.completed * 100 if c else None for c in rated],
        dtype="float64",
    )
    return frame


def post_vs_follow_up(
    con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N, matched: bool = True
) -> pd.DataFrame:
    """Item outcomes for both waves side by side (long: wave, item, ...), in one scan.

    ``matched`` (the default): only engagements with responses in both waves, so the two waves
    describe the same engagements. Unmatched: every answer of each wave (different engagements
    behind each). ``engagements``: the engagements behind each wave's figures."""
    counts = _answer_counts(con, filters, schema.WAVES, None, only=MATCHED if matched else None)
    return _waves_side_by_side(counts, min_n, matched)


def post_vs_follow_up_both(
    con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N
) -> dict[bool, pd.DataFrame]:
    """``post_vs_follow_up`` unmatched (False) and matched (True), the same frames, from one scan
    instead of two (the Outcomes page shows both)."""
    counts = _answer_counts_matched_and_not(con, filters, schema.WAVES, None)
    return {
        matched: _waves_side_by_side(counts[matched], min_n, matched) for matched in (False, True)
    }


def _waves_side_by_side(counts: list[_AnswerCounts], min_n: int, matched: bool) -> pd.DataFrame:
    """The frame of ``post_vs_follow_up`` from its counts."""
    frames = []
    for wave in schema.WAVES:
        part = [c for c in counts if c.wave == wave]
        figures = _item_figures(part, min_n).assign(wave=wave)
        frames.append(
            figures.assign(engagements=part[0].engagements if part else 0, matched=matched)
        )
    return pd.concat(frames, ignore_index=True)


# Levels of evidence (after Kirkpatrick): name -> (wave, survey item). Reaction and learning
# are asked right after an engagement; behaviour and results are self-reported months later.
EVIDENCE_LEVELS = {
    "reaction": ("post", "satisfaction"),
    "learning": ("post", "knowledge_gain"),
    "behaviour": ("follow_up", "operations_change"),
    "results": ("follow_up", "service_delivery"),
}


def evidence_levels(con: Connection, filters: Filters, min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """% positive at each level of evidence, each from its own wave and item (never pooled)."""
    return levels_of(post_vs_follow_up(con, filters, min_n, matched=False))


def levels_of(both_waves: pd.DataFrame) -> pd.DataFrame:
    """``evidence_levels`` taken from an unmatched ``post_vs_follow_up`` frame (no second query):
    one row per level with its wave, item, n (respondents), figures and the engagements of the
    wave."""
    rows = []
    for level, (wave, item) in EVIDENCE_LEVELS.items():
        match = both_waves[(both_waves["wave"] == wave) & (both_waves["item"] == item)]
        if match.empty:
            continue
        rows.append({"level": level, **match.iloc[0].to_dict()})
    columns = ["level", "wave", "item", "n", *OUTCOME_FIGURES, "suppressed", "engagements"]
    frame = pd.DataFrame(rows)
    return frame[columns] if rows else pd.DataFrame(columns=columns)


def one_wave(both_waves: pd.DataFrame, wave: str) -> pd.DataFrame:
    """``item_outcomes(wave)`` taken from an unmatched ``post_vs_follow_up`` frame (no second
    query)."""
    frame = both_waves[both_waves["wave"] == wave]
    frame = frame.drop(columns=["wave", "engagements", "matched"], errors="ignore")
    return frame.reset_index(drop=True)


def comments(
    con: Connection,
    filters: Filters,
    limit: int = 200,
    search: str = "",
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """Survey comments on the selected engagements, newest first (text only; render as text).

    None at all unless the selection has at least ``min_n`` respondents (survey responses, all
    waves): with fewer, a comment points at a person. A comment's score (satisfaction) and role
    are blank when its engagement has fewer than ``min_n`` respondents."""
    where, params = filters.where()
    source, selection_params = _selection(filters)
    return query(
        con,
        f"""
        select submitted_on, comment,
            case when engagement_responses >= ? then satisfaction end as satisfaction,
            wave,
            case when engagement_responses >= ? then respondent_role end as respondent_role,
            agency_name, agency_type, state, primary_topic, assistance_type, response_id
        from comment_facts
        where {where} and (? = '' or contains(lower(comment), lower(?)))
            and (select coalesce(sum(responses), 0) {source} and is_engagement) >= ?
        order by submitted_on desc, response_id
        limit ?
    """,
        [min_n, min_n, *params, search, search, *selection_params, min_n, int(limit)],
    )
