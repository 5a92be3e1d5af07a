"""The charts of the report's survey-outcomes section: levels of evidence, the post-engagement
answers, right after against follow-up, and one item by agency type. Each builder returns the
figure, a takeaway computed from the data and the chart's numbers as a table."""

from __future__ import annotations

from . import charts, metrics, schema
from .dimensions import value_label
from .report_content import (
    OUTCOME_ITEM,
    Built,
    Table,
    _agency_type,
    _Context,
    _count,
    _item,
    _pct,
    _positive,
    _range,
)
from .words import plural as _plural


def _levels(ctx: _Context) -> Built:
    frame = metrics.levels_of(ctx.get(metrics.post_vs_follow_up, ctx.min_n, matched=False))
    fig = charts.evidence_levels(frame, ctx.min_n)
    columns = ("Level of evidence", "Survey item", "Wave", "% positive", "Respondents (n)")
    shown = frame[~frame["suppressed"].astype(bool) & (frame["n"] > 0)]
    if not (frame["n"] > 0).any():
        takeaway = "No survey answers match these filters"
    elif shown.empty:
        takeaway = f"Every level is suppressed: fewer than {ctx.min_n} respondents each"
    else:
        takeaway = "% positive: " + "; ".join(
            f"{charts.LEVEL_LABELS[r['level']].lower()} {r['top2_pct']:.0f}%"
            for _, r in shown.iterrows()
        )
    rows = tuple(
        (
            charts.LEVEL_LABELS[r["level"]],
            _item(r["item"]),
            charts.WAVE_WHEN[r["wave"]],
            _positive(r, ctx.suppressed),
            _count(r["n"]),
        )
        for _, r in frame.iterrows()
    )
    note = (
        "Levels are never pooled. Behaviour and results are self-reported at follow-up. "
        "Intervals account for answers clustered by engagement."
    )
    return "levels", fig, takeaway, Table(columns, rows, note)


def _likert(ctx: _Context) -> Built:
    items = ctx.get(metrics.item_outcomes, "post", ctx.min_n)
    fig = charts.likert_diverging(items, "post", ctx.min_n)
    columns = (
        "Survey item",
        "Respondents (n)",
        "% negative (1–2)",
        "% neutral (3)",
        "% positive (4–5)",
    )
    shown = items[~items["suppressed"].astype(bool) & (items["n"] > 0)]
    if not (items["n"] > 0).any():
        takeaway = "No post-engagement survey answers match these filters"
    elif shown.empty:
        takeaway = (
            f"Every post-engagement item is suppressed: fewer than {ctx.min_n} respondents each"
        )
    else:
        best = shown.sort_values(["top2_pct", "n"], ascending=False, kind="stable").iloc[0]
        takeaway = (
            f"Right after an engagement, {_item(best['item'])} rated highest: "
            f"{best['top2_pct']:.0f}% answered 4 or 5 ({_plural(int(best['n']), 'respondent')})"
        )
        if len(shown) > 1:
            worst = shown.sort_values(["top2_pct", "n"], kind="stable").iloc[0]
            takeaway += f"; {_item(worst['item'])} lowest at {worst['top2_pct']:.0f}%"
    rows = []
    for r in items.to_dict("records"):
        if r["suppressed"]:
            rows.append((_item(r["item"]), _count(r["n"]), ctx.suppressed, "", ""))
        else:
            rows.append(
                (
                    _item(r["item"]),
                    _count(r["n"]),
                    _pct(r["bottom2_pct"]),
                    _pct(r["pct_3"]),
                    _pct(r["top2_pct"]),
                )
            )
    note = f"Post-engagement survey. Figures on fewer than {ctx.min_n} respondents are suppressed."
    return "likert", fig, takeaway, Table(columns, tuple(rows), note)


def _waves(ctx: _Context) -> Built:
    frame = ctx.get(metrics.post_vs_follow_up, ctx.min_n)
    fig = charts.post_vs_follow_up(frame, ctx.min_n)
    columns = (
        "Survey item",
        "Right after: % positive",
        "Right after: n",
        "Follow-up: % positive",
        "Follow-up: n",
    )
    tops = {}
    for wave in schema.WAVES:
        part = frame[(frame["wave"] == wave) & ~frame["suppressed"].astype(bool) & (frame["n"] > 0)]
        tops[wave] = [float(v) for v in part["top2_pct"]]
    if not (frame["n"] > 0).any():
        takeaway = "No survey answers match these filters"
    else:
        post = f"{_range(tops['post'])} right after" if tops["post"] else ""
        follow = f"{_range(tops['follow_up'])} at follow-up" if tops["follow_up"] else ""
        said = " and ".join(p for p in (post, follow) if p)
        hidden = [
            name
            for wave, name in (("post", "right-after"), ("follow_up", "follow-up"))
            if not tops[wave]
        ]
        takeaway = f"% positive (4 or 5) across the items: {said}" if said else ""
        if hidden:
            gap = f"{' and '.join(hidden)} figures suppressed (n < {ctx.min_n} per item)"
            takeaway = f"{takeaway}; {gap}" if takeaway else gap[:1].upper() + gap[1:]
    rows = []
    for item in schema.SURVEY_ITEMS:
        cells = [_item(item)]
        for wave in schema.WAVES:
            match = frame[(frame["wave"] == wave) & (frame["item"] == item)]
            if match.empty:
                cells += ["no answers", "0"]
                continue
            row = match.iloc[0]
            cells += [_positive(row, ctx.suppressed), _count(row["n"])]
        rows.append(tuple(cells))
    note = (
        f"{charts.wave_comparison(frame)}. % positive = answering 4 or 5 of 5; suppressed below "
        f"{ctx.min_n} respondents."
    )
    return "waves", fig, takeaway, Table(columns, tuple(rows), note)


def _by_agency_type(ctx: _Context) -> Built:
    frame = ctx.get(metrics.outcomes_by, "agency_type", "post", ctx.min_n, OUTCOME_ITEM)
    fig = charts.top2_by_segment(frame, "agency_type", ctx.min_n)
    columns = ("Agency type", "Respondents (n)", "% positive", "Response rate")
    item = _item(OUTCOME_ITEM)
    if frame.empty or not ((frame["n"] > 0) | frame["suppressed"].astype(bool)).any():
        return (
            "by_agency_type",
            fig,
            f"No {item.lower()} answers match these filters",
            Table(columns, ()),
        )
    shown = frame[~frame["suppressed"].astype(bool)].sort_values(
        ["top2_pct", "n"], ascending=[False, False], kind="stable"
    )
    if shown.empty:
        takeaway = f"{item} by agency type is suppressed: too few respondents per type"
    elif len(shown) == 1:
        only = shown.iloc[0]
        takeaway = (
            f"{item}: {only['top2_pct']:.0f}% positive among {_agency_type(only['agency_type'])} "
            f"({_plural(int(only['n']), 'respondent')})"
        )
    else:
        best, worst = shown.iloc[0], shown.iloc[-1]
        takeaway = (
            f"{item} was highest among {_agency_type(best['agency_type'])}: "
            f"{best['top2_pct']:.0f}% positive ({_plural(int(best['n']), 'respondent')}); lowest "
            f"among {_agency_type(worst['agency_type'])} at {worst['top2_pct']:.0f}%"
        )
    ordered = frame.assign(_rank=frame["agency_type"].map(schema.AGENCY_TYPES.index))
    rows = tuple(
        (
            value_label("agency_type", r["agency_type"]),
            _count(r["n"]),
            _positive(r, "suppressed"),  # below min_n, or hidden so the rest cannot give it away
            _pct(r["response_rate"]),
        )
        for _, r in ordered.sort_values("_rank").iterrows()
    )
    note = (
        f"Post-engagement survey, item: {item}. Suppressed: fewer than {ctx.min_n} respondents, "
        "or hidden with such a type so the others and the total cannot give it away. Response "
        "rate: completed engagements with at least one survey response."
    )
    return "by_agency_type", fig, takeaway, Table(columns, rows, note)
