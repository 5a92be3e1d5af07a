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
    "An engagement is a request that was not declined or withdrawn. Dates filter on the day the "
    "request was made."
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
            "engagements",
            "Engagements",
            f"Requests that became engagements. {_ENGAGEMENT}",
            "count",
            "Volume",
        ),
        Metric("completed", "Completed", "Engagements with status completed.", "count", "Volume"),
        Metric(
            "completion_rate",
            "Completion rate",
            "Completed engagements as a % of engagements.",
            "pct",
            "Volume",
        ),
        Metric(
            "agencies_served",
            "Agencies served",
            "Distinct agencies with at least one engagement in the selection.",
            "count",
            "Reach",
        ),
        Metric(
            "states_reached",
            "States and territories reached",
            "Distinct states, DC and territories of the agencies served.",
            "count",
            "Reach",
        ),
        Metric(
            "first_time_agencies",
            "First-time agencies",
            "Agencies served that, by their last engagement in the selection, have had exactly one "
            "engagement ever.",
            "count",
            "Reach",
        ),
        Metric(
            "repeat_agencies",
            "Repeat agencies",
            "Agencies served that have had more than one engagement by their last engagement in the "
            "selection (earlier ones count, even outside the selection). First-time + repeat = "
            "agencies served.",
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
            "People trained or briefed, as reported on engagements (blank counts as 0).",
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
            "Engagements requested on or before the end of "
            "a month and not completed by then (declined and withdrawn requests excluded).",
            "count",
            "Pipeline",
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


# -- value labels: one label per coded value, used by tables, charts, captions and controls ------

VALUE_LABELS: dict[str, dict[str, str]] = {
    "delivery_mode": {"onsite": "On site"},
    "wave": {"post": "Post-engagement survey", "follow_up": "Follow-up survey"},
}
# Columns whose values are codes ("municipal", "follow_up") and are shown through value_label.
CODED_COLUMNS = frozenset(
    {
        "agency_type",
        "size_band",
        "assistance_type",
        "assistance_types",
        "delivery_mode",
        "status",
        "wave",
        "respondent_role",
        "item",
        "state",
    }
)


def value_label(dimension: str, value: object) -> str:
    """The label of one value of a dimension: 'municipal' -> 'Municipal', 'follow_up' ->
    'Follow-up survey', 'TX' -> 'Texas'; a missing value is 'Unknown'. Plain text (escape it for
    Plotly or Markdown where needed)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "Unknown"
    if dimension == "state":
        from .schema import STATE_NAMES

        return STATE_NAMES.get(str(value), str(value))
    special = VALUE_LABELS.get(dimension, {}).get(str(value))
    if special:
        return special
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def metrics_markdown() -> str:
    """docs/metrics.md, generated from the registry (a test keeps the file in step)."""
    lines = [
        "# Metric definitions",
        "",
        "Generated from `critac_metrics/registry.py` by `python -m critac_metrics docs`; do not "
        "edit by hand.",
        "",
        f"- {_ENGAGEMENT}",
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
