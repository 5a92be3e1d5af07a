"""The metric registry: one declaration per figure drives labels, tooltips, formats, docs and tests."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    fmt: str  # "count" | "pct" | "days" | "mean"
    group: str

    def format(self, value: float | None) -> str:
        return format_value(value, self.fmt)


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


_ENGAGEMENT = (
    "An engagement is a request the programme accepted: approved, in progress or completed. "
    "Requests awaiting approval, declined or withdrawn are not engagements. An engagement is "
    "delivered once it is completed. Charts and breakdowns that say engagements count accepted "
    "ones. Dates filter on the day the request was made."
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
            "Response rate",
            "% of completed engagements with at least one survey response.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "top2_pct",
            "% positive (top-2-box)",
            "% of answers that are 4 or 5 on the 1–5 "
            "scale; blank answers are not counted. Suppressed below the minimum n.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "bottom2_pct",
            "% negative (bottom-2-box)",
            "% of answers that are 1 or 2.",
            "pct",
            "Outcomes",
        ),
        Metric("mean", "Mean answer", "Average answer on the 1–5 scale.", "mean", "Outcomes"),
        Metric(
            "n", "Answers (n)", "Number of answers behind an outcome figure.", "count", "Outcomes"
        ),
        Metric(
            "positive_outcome_pct",
            "% positive outcome",
            "Top-2-box % over all answers to the five post-engagement survey items.",
            "pct",
            "Outcomes",
        ),
        Metric(
            "median_days_to_start",
            "Median days to start",
            "Median days from request to start, over engagements that have started.",
            "days",
            "Pipeline",
        ),
        Metric(
            "p90_days_to_start",
            "90th percentile days to start",
            "90th percentile of days from request to start.",
            "days",
            "Pipeline",
        ),
        Metric(
            "median_days_start_to_completion",
            "Median days start to completion",
            "Median days from start to completion, over completed engagements.",
            "days",
            "Pipeline",
        ),
        Metric(
            "p90_days_start_to_completion",
            "90th percentile days start to completion",
            "90th percentile of days from start to completion.",
            "days",
            "Pipeline",
        ),
        Metric(
            "open_requests",
            "Open requests",
            "Requests made on or before the end of a month and not completed by then: awaiting "
            "approval or accepted (declined and withdrawn requests excluded).",
            "count",
            "Pipeline",
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

DIMENSIONS: dict[str, str] = {
    "topic": "Topic",
    "primary_topic": "Primary topic",
    "topic_group": "Topic group",
    "agency_type": "Agency type",
    "size_band": "Agency size (sworn officers)",
    "state": "State or territory",
    "region": "Region",
    "assistance_type": "Assistance type",
    "delivery_mode": "Delivery mode",
    "provider": "Provider",
    "status": "Status",
}


def label(name: str) -> str:
    return METRICS[name].label if name in METRICS else DIMENSIONS.get(name, name)


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
        "- Outcome figures built on fewer answers than the minimum n (default 5) are suppressed in "
        "the metric itself, so no page, download or export can show them.",
        "- A KPI tile's sparkline shows the figure per month (per quarter when the selection spans "
        "more than about three years) up to the last period that is over; a rate has no point "
        "for a period without engagements.",
        "",
    ]
    for group in dict.fromkeys(m.group for m in METRICS.values()):
        lines += [f"## {group}", "", "| name | label | format | definition |", "|---|---|---|---|"]
        lines += [
            f"| `{m.name}` | {m.label} | {m.fmt} | {m.description} |"
            for m in METRICS.values()
            if m.group == group
        ]
        lines.append("")
    lines += ["## Dimensions", "", "| name | label |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in DIMENSIONS.items()]
    return "\n".join(lines) + "\n"
