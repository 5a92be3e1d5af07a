"""The metric registry: one declaration per figure drives labels, tooltips, formats, docs and tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from . import dimensions


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    fmt: str  # "count" | "pct" | "days" | "mean"
    group: str
    better: str = "higher"  # "higher" | "lower" | "neutral": which way a change is good news

    def __post_init__(self) -> None:
        if self.better not in BETTER:
            raise ValueError(f"{self.name}: better must be one of {BETTER}, not {self.better!r}")

    def format(self, value: float | None) -> str:
        return format_value(value, self.fmt)

    def change(self, change: float | None) -> str:
        return change_text(change, self.fmt)


BETTER = ("higher", "lower", "neutral")


def format_value(value: float | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "count":
        return f"{value:,.0f}"
    if fmt == "pct":
        return f"{value:,.1f}%"
    if fmt == "days":
        return f"{value:,.0f} days"
    if fmt == "mean":
        return f"{value:.2f}"
    raise ValueError(f"unknown format {fmt!r}")


def change_text(change: float | None, fmt: str) -> str:
    """The change against the previous period, for tiles, the CLI and exports alike: '+12',
    '-3.4 pts' (a percentage changes in points), 'no change', or '' when nothing is compared.

    A drop starts with an ASCII hyphen-minus: st.metric reads only that as negative (a U+2212
    minus showed a drop with a green up-arrow)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return ""
    if change == 0:
        return "no change"
    text = format_value(abs(change), fmt)
    if fmt == "pct":
        text = text.replace("%", " pts")
    return ("+" if change > 0 else "-") + text


_ENGAGEMENT = (
    "An engagement is a request the programme accepted: approved, in progress or completed. "
    "Requests awaiting approval, declined or withdrawn are not engagements. An engagement is "
    "delivered once it is completed. Charts and breakdowns that say engagements count accepted "
    "ones. Dates filter on the day the request was made, or with the completion date basis on "
    "the day it was completed (a request not completed then has no date and is left out)."
)
_SERVED = (
    "An agency is served by a delivered (completed) engagement: agencies whose requests are only "
    "awaiting approval or still in progress are not counted as served."
)
_HEADLINE = (
    "Delivered engagements headline the KPI tiles, with accepted engagements beside them: "
    "delivered counts assistance agencies actually received, the figure the surveys and the "
    "agency counts follow, while accepted also counts work not yet done, which can still be "
    "withdrawn. By request date, a recent period's delivered count keeps rising as its work "
    "finishes: compare periods like for like."
)
_FIRST_TIME = (
    "First-time and repeat count agencies, not engagements: an agency served is first-time when "
    "its first delivered engagement ever falls in the selection (or in the chart's period), even "
    "if it came back later in the same selection or period, and repeat when it had a delivered "
    "engagement before. Requests declined, withdrawn, awaiting approval or still in progress never "
    "count as an agency's first. With filters other than dates, an agency whose first delivered "
    "engagement falls outside them (say, on another topic) counts as repeat."
)
COMPLETION_WINDOW_DAYS = 180  # metrics.COMPLETION_WINDOW_DAYS: the window of timely completion
_MULTI_TOPIC = "An engagement on several topics counts once under each of its topics."

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "requests",
            "Requests",
            "Engagement records (requests) matching the filters, whatever their status.",
            "count",
            "Volume",
            better="neutral",
        ),
        Metric(
            "completed",
            "Engagements delivered",
            "Engagements completed: the assistance was delivered. The headline figure.",
            "count",
            "Volume",
        ),
        Metric(
            "engagements",
            "Engagements accepted",
            "Requests the programme accepted (approved, in progress or completed), delivered or "
            "not; requests awaiting approval, declined or withdrawn are left out.",
            "count",
            "Volume",
        ),
        Metric(
            "completion_rate",
            "Completion rate",
            "Delivered engagements as a % of accepted engagements.",
            "pct",
            "Volume",
        ),
        Metric(
            "timely_completion_rate",
            f"Completed within {COMPLETION_WINDOW_DAYS} days",
            f"% of engagements requested at least {COMPLETION_WINDOW_DAYS} days before the last "
            f"day of data that were completed within {COMPLETION_WINDOW_DAYS} days of the "
            "request. Unlike the completion rate it does not fall for recent periods just "
            "because their requests have not had time to finish, so it is the completion "
            "figure compared between periods (KPI tile, sparkline, CLI, exports).",
            "pct",
            "Volume",
        ),
        Metric(
            "agencies_served",
            "Agencies served",
            "Distinct agencies with at least one delivered (completed) engagement in the "
            "selection.",
            "count",
            "Reach",
        ),
        Metric(
            "states_reached",
            "States and territories reached",
            "Distinct states, DC and territories of the agencies served (delivered engagements).",
            "count",
            "Reach",
        ),
        Metric(
            "first_time_agencies",
            "First-time agencies",
            "Agencies served whose first delivered engagement ever is in the selection, even if "
            "they came back within it. Counts agencies, not engagements.",
            "count",
            "Reach",
        ),
        Metric(
            "repeat_agencies",
            "Repeat agencies",
            "Agencies served that already had a delivered engagement, requested before any of "
            "theirs in the selection (whatever its topic or other filters). Counts agencies, not "
            "engagements. First-time + repeat = agencies served.",
            "count",
            "Reach",
        ),
        Metric(
            "small_agency_share",
            "Small agencies",
            "Share of agencies served with fewer than "
            "50 sworn officers (agencies of unknown size excluded).",
            "pct",
            "Reach",
        ),
        Metric(
            "participants",
            "Participants",
            "People trained or briefed, as reported on delivered engagements (blank counts as 0).",
            "count",
            "Reach",
        ),
        Metric(
            "survey_responses",
            "Survey responses",
            "Survey responses (all waves) to the engagements in the selection.",
            "count",
            "Outcomes",
        ),
        Metric(
            "responded_engagements",
            "Engagements with a response",
            "Completed engagements with at least one survey response.",
            "count",
            "Outcomes",
        ),
        Metric(
            "response_rate",
            "Completed engagements with a response",
            "% of completed engagements with at least one survey response in either wave (not "
            "the share of people who answered: invitations are not recorded). Suppressed below "
            "the minimum n of responses.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "post_response_rate",
            "With a response right after",
            "% of completed engagements with at least one post-engagement survey response.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "follow_up_response_rate",
            "With a follow-up response",
            "% of completed engagements with at least one follow-up survey response.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "survey_respondents",
            "Survey respondents",
            "Survey responses that answered at least one of the five items (a response with only "
            "a comment is a response, not a respondent to the items).",
            "count",
            "Outcomes",
        ),
        Metric(
            "late_responses",
            "Responses after the last engagement date",
            "Survey responses submitted after the last request or completion date in the data. "
            "They are counted with their engagements, and the Outcomes page says how many.",
            "count",
            "Outcomes",
        ),
        Metric(
            "top2_pct",
            "% positive (top-2-box)",
            "% of answers that are 4 or 5 on the 1–5 "
            "scale; blank answers are not counted. Suppressed below the minimum n of respondents. "
            "Its 95% interval accounts for answers clustered by engagement.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "bottom2_pct",
            "% negative (bottom-2-box)",
            "% of answers that are 1 or 2.",
            "pct",
            "Outcomes",
            better="lower",
        ),
        Metric("mean", "Mean answer", "Average answer on the 1–5 scale.", "mean", "Outcomes"),
        Metric(
            "n",
            "Respondents (n)",
            "Respondents behind an outcome figure: survey responses that answered the item (for "
            "one item each respondent gives at most one answer). The minimum n counts these.",
            "count",
            "Outcomes",
            better="neutral",
        ),
        Metric(
            "positive_outcome_pct",
            "% positive reaction",
            "Reaction, the first level of evidence: % of post-engagement satisfaction answers "
            "that are 4 or 5. Learning, behaviour and results are shown apart on the Outcomes "
            "page, never pooled with it. n counts respondents; suppressed below the minimum n.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "median_days_to_start",
            "Median days to start",
            "Median days from request to start, over engagements that have started.",
            "days",
            "Pipeline",
            better="lower",
        ),
        Metric(
            "p90_days_to_start",
            "90th percentile days to start",
            "90th percentile of days from request to start.",
            "days",
            "Pipeline",
            better="lower",
        ),
        Metric(
            "median_days_start_to_completion",
            "Median days start to completion",
            "Median days from start to completion, over completed engagements.",
            "days",
            "Pipeline",
            better="lower",
        ),
        Metric(
            "p90_days_start_to_completion",
            "90th percentile days start to completion",
            "90th percentile of days from start to completion.",
            "days",
            "Pipeline",
            better="lower",
        ),
        Metric(
            "open_requests",
            "Open requests",
            "Requests made on or before the end of a month and not completed by then: awaiting "
            "approval or accepted (declined and withdrawn requests excluded).",
            "count",
            "Pipeline",
            better="lower",
        ),
        Metric(
            "next_milestone",
            "Next milestone",
            "The next milestone (1st, 100th, 250th, 500th, 1,000th, 1,500th, 2,000th, ... engagement) "
            "in the selection and when it is expected: the engagements still to come divided by "
            "the recent rate, counted from the data date. The recent rate is the selection's "
            "engagements requested in the last 12 complete months of data (fewer when the "
            "selection starts later), taken as a Poisson rate; the 90% interval comes from the "
            "exact (Garwood) 90% Poisson interval of that count, so it shows how uncertain the "
            "recent rate is, assuming it holds. No projection for an empty selection, one that "
            "ends before the data date, under 90 days of recent data or none in them; beyond 10 "
            "years it is reported as too far away.",
            "count",
            "Volume",
        ),
        Metric(
            "field_share",
            "% of US agencies served",
            "Agencies served (a delivered engagement in the selection) as a share of all state "
            "and local law-enforcement agencies counted by the Bureau of Justice Statistics' "
            "Census of State and Local Law Enforcement Agencies, 2018 (17,541 agencies; "
            "data/bjs_csllea_2018.csv), overall and by census category: local police "
            "departments (municipal and county police), sheriffs' offices, and primary state, "
            "tribal and special-jurisdiction agencies with constables and marshals (state, "
            "tribal, campus and other). The census gives a category's count only as a whole-"
            "percent share of the total, so a category's share served comes with the range that "
            "rounding allows. Territorial agencies and agencies in the territories are left out. "
            "Counts by state are not shipped (data/README.md).",
            "pct",
            "Reach",
        ),
        Metric(
            "topic_engagements",
            "Engagements by topic",
            f"Engagements per topic. {_MULTI_TOPIC}",
            "count",
            "Breakdowns",
        ),
    )
}

# The rules every survey figure follows (docs/metrics.md states them; tests/test_survey_statistics.py
# checks each against an independent computation).
SURVEY_RULES = (
    "**Respondents, not answers.** A respondent is one survey response. Every survey figure "
    "counts respondents for the minimum n (default 5) and shows n in respondents: for one item, "
    "the respondents who answered it; for a figure pooling several items, the respondents who "
    "answered at least one of them. A respondent answering every item is still one respondent.",
    "**Complementary suppression.** In a breakdown (by topic, agency type, assistance type, ...; "
    "for any date range, such as one fiscal year), when a segment is suppressed the next smallest "
    "segments are suppressed with it until the suppressed segments are at least two, hold at "
    "least the minimum n of respondents together, more respondents than segments, and some "
    "positive and some other answers. Suppressed segments show neither a figure nor their n. So "
    "no suppressed segment's n or positive count can be worked out from the segments shown and "
    "the total. One function (`metrics.complementary_suppression`) decides this for every output: "
    "the pages, chart CSVs, the deck, the HTML report and the CLI.",
    "**Comments.** The comments browser shows comment text only when the selection has at least "
    "the minimum n of respondents (survey responses, all waves); a comment's score "
    "(satisfaction) and respondent role are blank when its engagement has fewer respondents "
    "than that.",
    "**Intervals clustered by engagement.** Answers come from respondents within engagements, "
    "and respondents of one engagement tend to answer alike, so answers are not independent. "
    "Every 95% interval is a Wilson interval at an effective n: the number of answers divided by "
    "the design effect, which is the cluster-robust (sandwich) variance of the proportion over "
    "engagements (k/(k−1)·Σ(y−p·m)²/n² for k engagements with y positive of m answers each) "
    "divided by the simple p(1−p)/n, taken as at least 1. With one engagement the effective n is "
    "1; when every answer is positive (or none is) it is the number of engagements.",
    "**Post vs follow-up, matched.** The comparison of the post-engagement and follow-up waves "
    "shows by default only the engagements answered in both waves (matched), and says how many. "
    "The unmatched view, every answer of each wave from different engagements, is labelled as "
    "such with each wave's engagements.",
    "**Levels of evidence.** Survey items are not pooled across levels. Reaction (satisfaction) "
    "and learning (knowledge gain) come from the post-engagement survey; behaviour (operations "
    "change) and results (service delivery) are self-reported in the follow-up survey. The KPI "
    "tile shows the reaction level. Would recommend is shown per item only.",
    "**Response rates.** What was called the response rate is completed engagements with at "
    "least one survey response, as a % of completed engagements, and is named so. It is shown "
    "for either wave and for each wave apart, beside the number of responses and of respondents. "
    "Responses submitted after the last engagement date are counted with their engagements and "
    "the Outcomes page and the CLI say how many.",
)


COMPARISON_RULES = (
    "**Like for like.** A KPI's change compares the selection with the same span of the period "
    "just before it. The current period counts only up to the last day of data (the latest "
    "request or completion date in the store), and the previous period covers the same days of "
    "its own period: an in-progress FY2027 is compared as 'FY2027 to 31 Oct vs FY2026 to 31 "
    "Oct', never with a whole year. The tile's help and the page caption say which spans are "
    "compared.",
    "**Which period before.** A range of whole months (a fiscal year, a quarter, or e.g. 16 Mar "
    "2024 – 15 Mar 2025) is compared with as many months before, day for day: 29 Feb maps to "
    "28 Feb, and a month's last day to the month's last day ('FY2025 to 28 Feb' against 'FY2024 "
    "to 29 Feb'). Other ranges are compared with as many days before. A range with only a start "
    "date runs to the last day of data. Any dates from 0001-01-01 to 9999-12-31 are handled; "
    "a period before year 1 means no comparison.",
    "**All time.** With no dates the tiles show all-time figures and the change compares the "
    "last complete fiscal year with the one before (e.g. FY2026 with FY2025), as the caption "
    "says; when the data do not cover two complete fiscal years, or the range has an end but no "
    "start, or starts after the last day of data, no change is shown and the caption says why.",
    f"**Right-censoring.** The completion rate of recent requests is low only because they have "
    f"not had time to finish, so periods are compared on completion within "
    f"{COMPLETION_WINDOW_DAYS} days among requests at least {COMPLETION_WINDOW_DAYS} days old "
    f"(`timely_completion_rate`): in the KPI tile, its sparkline (only periods whose requests "
    f"are all that old), the CLI summary's comparison and the exported deck and report. "
    f"Likewise, by request date a period's deliveries keep rising while its work finishes, so "
    f"the previous period's deliveries, agencies served and survey responses count only up to "
    f"as long after it as the current period has had: FY2026 seen on 30 Oct 2026 is compared "
    f"with FY2025 as it stood on 30 Oct 2025, and 'FY2027 to 31 Oct' with FY2026 to 31 Oct as "
    f"it stood on 31 Oct 2025. Requests accepted later (awaiting approval on the last day of "
    f"data) are not adjusted: the data hold no approval date.",
    "**Arrows.** A drop shows a down arrow and a rise an up arrow. The colour says whether the "
    "change is good news: green for a rise where higher is better, red for a drop; reversed "
    "where lower is better (the `better` column: e.g. days to start); grey where neither. A "
    "percentage changes in points ('-3.4 pts').",
    "**Date basis.** Dates filter on the request date (default) or on the completion date "
    "(sidebar, URL `date_basis=completed`, CLI `--date-basis completed`). With the completion "
    "basis only completed engagements are selected, periods (trends, sparklines, comparisons) "
    "are by completion date, and every caption says 'completed in FY2026' instead of "
    "'requested in FY2026'.",
)


def label(name: str) -> str:
    """A metric's label, else a dimension's (dimensions.label), else the name as it is."""
    return METRICS[name].label if name in METRICS else dimensions.label(name)


# Value labels live with the dimensions (critac_metrics.dimensions); these read them.
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    name: d.value_labels for name, d in dimensions.COLUMNS.items() if d.value_labels
}


def value_label(dimension: str, value: object) -> str:
    """The label of one value of a dimension or coded column: 'municipal' -> 'Municipal',
    'follow_up' -> 'Follow-up survey', 'TX' -> 'Texas'; a missing value is 'Unknown'. Plain text
    (escape it for Plotly or Markdown where needed). See ``dimensions.value_label``."""
    return dimensions.value_label(dimension, value)


def metrics_markdown() -> str:
    """docs/metrics.md, generated from the registry (a test keeps the file in step)."""
    lines = [
        "# Metric definitions",
        "",
        "Generated from `critac_metrics/registry.py` by `python -m critac_metrics docs`; do not "
        "edit by hand.",
        "",
        f"- {_ENGAGEMENT}",
        f"- {_SERVED}",
        f"- {_HEADLINE}",
        f"- {_FIRST_TIME}",
        f"- {_MULTI_TOPIC}",
        "- Fiscal years are federal: FY2024 runs 1 Oct 2023 – 30 Sep 2024.",
        "- Outcome figures built on fewer respondents than the minimum n (default 5) are "
        "suppressed in the metric itself, so no page, download or export can show them.",
        "- A KPI tile's sparkline shows the figure per month (per quarter when the selection spans "
        "more than about three years) up to the last period that is over; a rate has no point "
        "for a period without engagements. By request date, the sparklines of deliveries and "
        "agencies served (like that of completion within the window) stop at the last period "
        f"whose requests are all at least {COMPLETION_WINDOW_DAYS} days old: later periods' work "
        "is still finishing, and their counts would read as a drop.",
        "",
        "## Change against the previous period",
        "",
        *(f"- {rule}" for rule in COMPARISON_RULES),
        "",
    ]
    lines += ["## Survey statistics", "", *(f"- {rule}" for rule in SURVEY_RULES), ""]
    for group in dict.fromkeys(m.group for m in METRICS.values()):
        lines += [
            f"## {group}",
            "",
            "| name | label | format | better | definition |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{m.name}` | {m.label} | {m.fmt} | {m.better} | {m.description} |"
            for m in METRICS.values()
            if m.group == group
        ]
        lines.append("")
    lines += [
        "## Dimensions",
        "",
        "What figures break down by (`critac_metrics/dimensions.py`), and the order a breakdown "
        "lists their values in, in tables and charts alike: their natural order, or by figure "
        "(largest first).",
        "",
        "| name | label | order of values |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{d.name}` | {d.label} | "
        f"{', '.join(d.value_label(v) for v in d.order) if d.order else 'by figure'} |"
        for d in dimensions.DIMENSIONS.values()
    ]
    return "\n".join(lines) + "\n"
