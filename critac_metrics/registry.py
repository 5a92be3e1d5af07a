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
    "An engagement is a request that was not declined or withdrawn. Dates filter on the day the "
    "request was made, or with the completion date basis on the day it was completed (a request "
    "not completed then has no date and is left out)."
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
            better="lower",
        ),
        Metric("mean", "Mean answer", "Average answer on the 1–5 scale.", "mean", "Outcomes"),
        Metric(
            "n",
            "Answers (n)",
            "Number of answers behind an outcome figure.",
            "count",
            "Outcomes",
            better="neutral",
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
            "Engagements requested on or before the end of "
            "a month and not completed by then (declined and withdrawn requests excluded).",
            "count",
            "Pipeline",
            better="lower",
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
    f"are all that old), the CLI summary's comparison and the exported deck and report.",
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
        f"- {_MULTI_TOPIC}",
        "- Fiscal years are federal: FY2024 runs 1 Oct 2023 – 30 Sep 2024.",
        "- Outcome figures built on fewer answers than the minimum n (default 5) are suppressed in "
        "the metric itself, so no page, download or export can show them.",
        "- A KPI tile's sparkline shows the figure per month (per quarter when the selection spans "
        "more than about three years) up to the last period that is over; a rate has no point "
        "for a period without engagements.",
        "",
        "## Change against the previous period",
        "",
        *(f"- {rule}" for rule in COMPARISON_RULES),
        "",
    ]
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
    lines += ["## Dimensions", "", "| name | label |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in DIMENSIONS.items()]
    return "\n".join(lines) + "\n"
