"""The charts of each report section: one builder per chart, returning the figure, a takeaway
computed from the data and the chart's numbers as a table. The survey-outcomes section's builders
are in ``report_outcomes``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import charts, dimensions, metrics, registry
from .dimensions import value_label
from .report_content import (
    NO_DATA,
    TOP_TOPICS,
    TREND_TOPICS,
    Built,
    Table,
    _agency_type,
    _Context,
    _count,
    _day,
    _days,
    _join,
    _leaders,
    _month,
    _most,
    _pct,
    _share,
    check_sections,
)
from .report_outcomes import _by_agency_type, _levels, _likert, _waves
from .words import ordinal as _ordinal
from .words import plural as _plural

# -- the charts of each section -------------------------------------------------------------------


def _cumulative(ctx: _Context) -> Built:
    cum = ctx.get(metrics.cumulative_engagements)
    ms = ctx.get(metrics.milestones)
    projection = ctx.get(metrics.milestone_projection)
    fig = charts.cumulative(cum, ms, projection)
    if cum.empty:
        return "cumulative", fig, NO_DATA, Table(("Engagement", "Requested on", "Agency"), ())
    total = int(cum["cumulative"].iloc[-1])
    first, last = cum["requested_on"].iloc[0], cum["requested_on"].iloc[-1]
    takeaway = f"{_plural(total, 'engagement')} requested from {_month(first)} to {_month(last)}"
    big = ms[ms["milestone"] >= 100]
    if len(big):
        top = big.iloc[-1]
        takeaway += f"; the {_ordinal(int(top['milestone']))} came in {_month(top['requested_on'])}"
    ahead = milestone_takeaway(projection)
    if ahead:
        takeaway += f". {ahead}"
    rows = tuple(
        (f"{_ordinal(int(r.milestone))} engagement", _day(r.requested_on), str(r.agency_name))
        for r in ms.itertuples()
    )
    note = f"{_plural(total, 'engagement')} in all; the latest requested on {_day(last)}."
    return "cumulative", fig, takeaway, Table(("Engagement", "Requested on", "Agency"), rows, note)


def milestone_takeaway(p: dict[str, Any]) -> str | None:
    """One sentence on when the next milestone is expected (``metrics.milestone_projection``), or
    None when there is nothing to project (an empty selection, one that ends before the data
    date, under 90 days of recent data, no engagements in it, or past the last milestone)."""
    status = p.get("status")
    if status not in ("ok", "too_far"):
        return None
    goal = f"the {_ordinal(int(p['milestone']))} engagement"
    months = f"{_month(p['window_start'])} to {_month(p['window_end'])}"
    recent = f"{_plural(int(p['window_engagements']), 'engagement')} in {months}"
    if status == "too_far":
        return (
            f"At the recent rate ({recent}), {goal} is more than "
            f"{metrics.PROJECTION_HORIZON_YEARS} years away"
        )
    far = f"more than {metrics.PROJECTION_HORIZON_YEARS} years away"
    latest = _month(p["latest"]) if p.get("latest") else far
    earliest = _month(p["earliest"]) if p.get("earliest") else _month(p["expected"])
    return (
        f"At the recent rate ({recent}), {goal} is expected around {_month(p['expected'])} "
        f"(90% interval {earliest} to {latest})"
    )


def _volume(ctx: _Context) -> Built:
    grain = ctx.grain
    series = ctx.get(metrics.volume_series, grain)
    fig = charts.volume_trend(series, grain)
    columns = ("Period", "Requests", "Engagements", "Completed")
    if series.empty or not series["requests"].sum():
        return "volume", fig, NO_DATA, Table(columns, ())
    noun = charts.GRAIN_NOUNS[grain]
    names, top = _leaders(series.set_index("period"), "engagements", str)
    total = int(series["engagements"].sum())
    if not total:
        requests = _plural(int(series["requests"].sum()), "request")
        takeaway = f"No engagements: {requests} matched, none became an engagement"
    elif len(names) == 1:
        takeaway = f"{names[0]} was the busiest {noun}: {top:,} of {_plural(total, 'engagement')}"
    elif len(names) <= 3:
        takeaway = f"{_join(names)} were the busiest {noun}s: {_plural(top, 'engagement')} each"
    else:
        takeaway = (
            f"No {noun} stood out: at most {_plural(top, 'engagement')} in any {noun}, "
            f"{total:,} in all"
        )
    rows = tuple(
        (
            r.period + (" (partial)" if r.is_partial else ""),
            _count(r.requests),
            _count(r.engagements),
            _count(r.completed),
        )
        for r in series.itertuples()
    )
    note = (
        f"(partial): the {noun} runs past the data date ({ctx.date_text})."
        if any("(partial)" in r[0] for r in rows)
        else ""
    )
    return "volume", fig, takeaway, Table(columns, rows, note)


def _topic_trend(ctx: _Context) -> Built:
    grain = ctx.grain
    topics = ctx.get(metrics.breakdown, "topic")
    top = tuple(topics.loc[topics["engagements"] > 0, "topic"].head(TREND_TOPICS))
    series = ctx.get(metrics.series_by, grain, "topic", only=top)
    fig = charts.series_by_dimension(series, "topic", grain)
    if series.empty or not series["engagements"].sum():
        return "topic_trend", fig, NO_DATA, Table(("Period",), ())
    wide = series.pivot_table(
        index=["period", "period_start", "is_partial"],
        columns="topic",
        values="engagements",
        aggfunc="sum",
    ).reset_index()
    # The topic that led most periods (a tie for first leads nobody).
    led = {t: 0 for t in top}
    for _, r in wide.iterrows():
        best = max(r[t] for t in top)
        winners = [t for t in top if r[t] == best]
        if best > 0 and len(winners) == 1:
            led[winners[0]] += 1
    leader = max(top, key=lambda t: (led[t], -top.index(t)))
    noun = charts.GRAIN_NOUNS[grain]
    largest = f"the {len(top)} largest topics" if len(top) > 1 else "the only topic"
    if led[leader]:
        takeaway = (
            f"{leader} led {largest} in {led[leader]} of {_plural(len(wide), noun)}"
            if len(top) > 1
            else f"{leader} was {largest}, with engagements in {led[leader]} of "
            f"{_plural(len(wide), noun)}"
        )
    else:
        takeaway = f"No single topic led {largest} in any {noun}"
    rows = tuple(
        (
            r["period"] + (" (partial)" if r["is_partial"] else ""),
            *(_count(r[t]) for t in top),
        )
        for _, r in wide.iterrows()
    )
    note = "An engagement on several topics counts once under each of them."
    return "topic_trend", fig, takeaway, Table(("Period", *top), rows, note)


def _topics(ctx: _Context) -> Built:
    topics = ctx.get(metrics.breakdown, "topic")
    fig = charts.bar_breakdown(topics, "topic", top=TOP_TOPICS)
    columns = ("Topic", "Engagements", "% of engagements")
    shown = topics[topics["engagements"] > 0].head(TOP_TOPICS)
    if shown.empty:
        return "topics", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    takeaway = _most(
        *_leaders(topics.set_index("topic"), "engagements", str), "topic", "most requested", total
    )
    rows = tuple(
        (str(r.topic), _count(r.engagements), _pct(r.engagements / total * 100))
        for r in shown.itertuples()
    )
    listed = len(topics)  # as the chart counts them
    note = (
        f"Top {len(shown)} of {listed} topics. An engagement on several topics counts once under "
        f"each, so the shares add up to more than 100% ({total:,} engagements in all)."
    )
    return "topics", fig, takeaway, Table(columns, rows, note)


def _topic_groups(ctx: _Context) -> Built:
    groups = ctx.get(metrics.breakdown, "topic_group")
    fig = charts.bar_breakdown(groups, "topic_group")
    columns = ("Topic group", "Engagements", "% of engagements")
    shown = groups[groups["engagements"] > 0]
    if shown.empty:
        return "topic_groups", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    takeaway = _most(
        *_leaders(groups.set_index("topic_group"), "engagements", str),
        "topic group",
        "largest",
        total,
    )
    rows = tuple(
        (str(r.topic_group), _count(r.engagements), _pct(r.engagements / total * 100))
        for r in shown.itertuples()
    )
    note = "An engagement on topics in several groups counts once under each group."
    return "topic_groups", fig, takeaway, Table(columns, rows, note)


def _states(ctx: _Context) -> Built:
    by_state = ctx.get(metrics.engagements_by_state)
    fig = charts.state_map(by_state)
    columns = ("State or territory", "Engagements", "Agencies served")
    served = by_state[by_state["engagements"] > 0].sort_values(
        ["engagements", "state_name"], ascending=[False, True]
    )
    if served.empty:
        return "states", fig, NO_DATA, Table(columns, ())
    names, top = _leaders(served.set_index("state_name"), "engagements", str)
    most = (
        f"{_join(names)} had the most engagements ({top:,}{' each' if len(names) > 1 else ''})"
        if len(names) <= 3
        else f"{len(names)} tie for the most engagements ({top:,} each)"
    )
    takeaway = (
        f"Agencies in {len(served)} of {len(by_state)} states, DC and territories were served; "
        + most
    )
    rows = tuple(
        (str(r.state_name), _count(r.engagements), _count(r.agencies)) for r in served.itertuples()
    )
    none = by_state.loc[by_state["engagements"] == 0, "state_name"].tolist()
    note = f"No engagements: {', '.join(none)}." if none else ""
    return "states", fig, takeaway, Table(columns, rows, note)


def _agency_types(ctx: _Context) -> Built:
    types = ctx.get(metrics.breakdown, "agency_type")
    fig = charts.bar_breakdown(types, "agency_type")
    columns = ("Agency type", "Engagements", "% of engagements", "Agencies served")
    shown = types[types["engagements"] > 0]
    if shown.empty:
        return "agency_types", fig, NO_DATA, Table(columns, ())
    total = ctx.engagements
    names, top = _leaders(
        shown.set_index("agency_type"), "engagements", dimensions.COLUMNS["agency_type"].value_label
    )
    share = _share(top, total)
    if len(shown) == 1:
        who = _agency_type(names[0].lower())
        takeaway = (
            f"All {top:,} engagements were with {who}"
            if top > 1
            else f"The one engagement was with {who}"
        )
    elif len(names) == 1:
        takeaway = f"{names[0]} agencies had the most engagements: {top:,}, {share} of all"
    elif len(names) <= 3:
        takeaway = (
            f"{_join([names[0], *(n.lower() for n in names[1:])])} agencies had the most "
            f"engagements: {top:,} each, {share} of all each"
        )
    else:
        takeaway = f"{len(names)} agency types tie for the most engagements: {top:,} each"
    rows = tuple(
        (
            value_label("agency_type", r.agency_type),
            _count(r.engagements),
            _pct(r.engagements / total * 100),
            _count(r.agencies),
        )
        for r in shown.itertuples()
    )
    return "agency_types", fig, takeaway, Table(columns, rows)


def _first_time(ctx: _Context) -> Built:
    frame = ctx.get(metrics.first_time_vs_repeat, ctx.grain)
    fig = charts.first_time_vs_repeat(frame)
    columns = ("Period", registry.label("first_time_agencies"), registry.label("repeat_agencies"))
    reach = ctx.get(metrics.reach)  # the selection's agencies, each counted once
    first, served = int(reach["first_time_agencies"] or 0), int(reach["agencies_served"] or 0)
    if not served:
        return "first_time", fig, NO_DATA, Table(columns, ())
    takeaway = (
        f"{_share(first, served)} of agencies served were first-time agencies ({first:,} of "
        f"{served:,} agencies; the others had been served before)"
    )
    rows = tuple(
        (r.period, _count(r.first_time_agencies), _count(r.repeat_agencies))
        for r in frame.itertuples()
    )
    return "first_time", fig, takeaway, Table(columns, rows)


def _funnel(ctx: _Context) -> Built:
    frame = ctx.get(metrics.status_funnel)
    fig = charts.funnel(frame)
    columns = ("Stage", "Requests", "% of requests")
    requested = int(frame["requests"].iloc[0]) if len(frame) else 0
    if not requested:
        return "funnel", fig, NO_DATA, Table(columns, ())
    completed = int(frame["requests"].iloc[-1])
    takeaway = (
        f"{_share(completed, requested)} of requests have been completed: {completed:,} of "
        f"{requested:,}"
    )
    rows = tuple(
        (r.stage, _count(r.requests), _pct(r.requests / requested * 100))
        for r in frame.itertuples()
    )
    return "funnel", fig, takeaway, Table(columns, rows)


def _timeliness(ctx: _Context) -> Built:
    frame = ctx.get(metrics.timeliness, "assistance_type")
    overall = ctx.get(metrics.timeliness)
    fig = charts.timeliness(frame, "assistance_type")
    columns = (
        "Assistance type",
        "Started",
        "Median days to start",
        "90th percentile days to start",
        "Completed",
        "Median days start to completion",
        "90th percentile days start to completion",
    )
    if frame.empty or not frame["started"].sum():
        return "timeliness", fig, NO_DATA, Table(columns, ())
    total = overall.iloc[0]
    takeaway = (
        f"Engagements started a median {_days(total['median_days_to_start'])} after the request"
    )
    if total["completed"]:
        takeaway += (
            f" and took a median {_days(total['median_days_start_to_completion'])} from start "
            "to completion"
        )

    def row(name: str, r: Any) -> tuple[str, ...]:
        return (
            name,
            _count(r["started"]),
            _days(r["median_days_to_start"]),
            _days(r["p90_days_to_start"]),
            _count(r["completed"]),
            _days(r["median_days_start_to_completion"]),
            _days(r["p90_days_start_to_completion"]),
        )

    rows = tuple(
        row(value_label("assistance_type", r["assistance_type"]), r) for _, r in frame.iterrows()
    )
    return "timeliness", fig, takeaway, Table(columns, (*rows, row("All engagements", total)))


def _backlog(ctx: _Context) -> Built:
    frame = ctx.get(metrics.backlog_series)
    fig = charts.backlog(frame)
    columns = ("Month end", "Open requests")
    if frame.empty:
        return "backlog", fig, NO_DATA, Table(columns, ())
    last = frame.iloc[-1]
    peak = frame.loc[frame["open_requests"].idxmax()]
    still = int(last["open_requests"])
    takeaway = (
        f"{_plural(still, 'request') if still else 'No requests'} "
        f"{'was' if still == 1 else 'were'} open at the end of {_month(last['month_end'])}"
    )
    if peak["month_end"] != last["month_end"]:
        takeaway += f"; the most was {int(peak['open_requests']):,} at the end of {_month(peak['month_end'])}"
    rows = tuple((_day(r.month_end), _count(r.open_requests)) for r in frame.itertuples())
    note = "Requested by then and not yet completed; declined and withdrawn requests excluded."
    return "backlog", fig, takeaway, Table(columns, rows, note)


SECTION_CHARTS: dict[str, tuple[Callable[[_Context], Built], ...]] = {
    "overview": (_cumulative,),
    "trends": (_volume, _topic_trend),
    "topics": (_topics, _topic_groups),
    "reach": (_states, _agency_types, _first_time),
    "outcomes": (_levels, _likert, _waves, _by_agency_type),
    "pipeline": (_funnel, _timeliness, _backlog),
}


def chart_count(sections: Iterable[str] | None = None) -> int:
    return sum(len(SECTION_CHARTS[s]) for s in check_sections(sections))
