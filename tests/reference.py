"""Independent plain-pandas computations of the metrics, straight from the import files' rows.

Nothing here imports critac_metrics' query code: these are the figures a careful analyst would
compute by hand from the CSVs, and the metrics layer is checked against them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ITEMS = ["satisfaction", "knowledge_gain", "service_delivery", "operations_change", "would_recommend"]


@dataclass
class Selection:
    start: dt.date | None = None
    end: dt.date | None = None
    topics: list[str] = field(default_factory=list)
    agency_types: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    assistance_types: list[str] = field(default_factory=list)
    delivery_modes: list[str] = field(default_factory=list)


def load(directory: Path) -> dict[str, pd.DataFrame]:
    agencies = pd.read_csv(directory / "agencies.csv", dtype={"agency_id": str})
    engagements = pd.read_csv(directory / "engagements.csv", dtype={"engagement_id": str, "agency_id": str})
    responses = pd.read_csv(directory / "survey_responses.csv", dtype={"response_id": str, "engagement_id": str})
    for col in ("requested_on", "started_on", "completed_on"):
        engagements[col] = pd.to_datetime(engagements[col])
    responses["submitted_on"] = pd.to_datetime(responses["submitted_on"])
    engagements["topic_list"] = engagements["topics"].map(
        lambda s: [t.strip() for t in s.split(";") if t.strip()]
    )
    responses["wave"] = responses["wave"].fillna("post")
    return {"agencies": agencies, "engagements": engagements, "survey_responses": responses}


def select(data: dict[str, pd.DataFrame], sel: Selection) -> pd.DataFrame:
    """Engagement records joined to their agency, restricted to the selection."""
    df = data["engagements"].merge(data["agencies"], on="agency_id", how="inner")
    keep = pd.Series(True, index=df.index)
    if sel.start:
        keep &= df["requested_on"] >= pd.Timestamp(sel.start)
    if sel.end:
        keep &= df["requested_on"] <= pd.Timestamp(sel.end)
    if sel.topics:
        wanted = {t.lower() for t in sel.topics}
        keep &= df["topic_list"].map(lambda ts: any(t.lower() in wanted for t in ts))
    for column, values in (("agency_type", sel.agency_types), ("state", sel.states),
                           ("assistance_type", sel.assistance_types),
                           ("delivery_mode", sel.delivery_modes)):  # fmt: skip
        if values:
            keep &= df[column].isin(values)
    return df[keep]


def summary(data: dict[str, pd.DataFrame], sel: Selection, min_n: int = 5) -> dict:
    df = select(data, sel)
    engaged = df[~df["status"].isin(["declined", "withdrawn"])]
    completed = df[df["status"] == "completed"]
    responses = data["survey_responses"]
    resp = responses[responses["engagement_id"].isin(engaged["engagement_id"])]
    responded = completed["engagement_id"].isin(resp["engagement_id"])
    out = {
        "requests": len(df),
        "engagements": len(engaged),
        "completed": len(completed),
        "completion_rate": len(completed) / len(engaged) * 100 if len(engaged) else None,
        "agencies_served": engaged["agency_id"].nunique(),
        "states_reached": engaged["state"].nunique(),
        "survey_responses": len(resp),
        "response_rate": responded.mean() * 100 if len(completed) else None,
        "responded_engagements": int(responded.sum()),
    }
    for key, wave in (("outcomes", "post"), ("follow_up_outcomes", "follow_up")):
        wave_resp = resp[resp["wave"] == wave]
        out[key] = {item: item_figures(wave_resp[item], min_n) for item in ITEMS}
    topics = engaged["topic_list"].explode()
    out["by_topic"] = topics.value_counts().to_dict()
    out["by_agency_type"] = engaged["agency_type"].value_counts().to_dict()
    return out


def item_figures(answers: pd.Series, min_n: int) -> dict:
    answers = answers.dropna()
    n = len(answers)
    if n < min_n:
        return {"n": n, "top2_pct": None, "mean": None, "suppressed": True}
    return {"n": n, "top2_pct": (answers >= 4).mean() * 100, "mean": answers.mean(), "suppressed": False}
