"""Independent plain-pandas computations of the metrics, straight from the import files' rows.

Nothing here imports critac_metrics' query code: these are the figures a careful analyst would
compute by hand from the CSVs, and the metrics layer is checked against them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ITEMS = [
    "satisfaction",
    "knowledge_gain",
    "service_delivery",
    "operations_change",
    "would_recommend",
]


@dataclass
class Selection:
    start: dt.date | None = None
    end: dt.date | None = None
    topics: list[str] = field(default_factory=list)
    agency_types: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    assistance_types: list[str] = field(default_factory=list)
    delivery_modes: list[str] = field(default_factory=list)
    date_basis: str = "requested"  # or "completed": which date start and end apply to


def load(directory: Path) -> dict[str, pd.DataFrame]:
    agencies = pd.read_csv(directory / "agencies.csv", dtype={"agency_id": str})
    engagements = pd.read_csv(
        directory / "engagements.csv", dtype={"engagement_id": str, "agency_id": str}
    )
    responses = pd.read_csv(
        directory / "survey_responses.csv", dtype={"response_id": str, "engagement_id": str}
    )
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
    day = df["completed_on"] if sel.date_basis == "completed" else df["requested_on"]
    if sel.date_basis == "completed":
        keep &= day.notna()
    if sel.start:
        keep &= day >= pd.Timestamp(sel.start)
    if sel.end:
        keep &= day <= pd.Timestamp(sel.end)
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
    # An engagement is an accepted request (approved, in progress, completed); delivered is
    # completed. Agencies (and their states) are served by delivered engagements.
    engaged = df[df["status"].isin(["approved", "in_progress", "completed"])]
    completed = df[df["status"] == "completed"]
    responses = data["survey_responses"]
    resp = responses[responses["engagement_id"].isin(engaged["engagement_id"])]
    responded = completed["engagement_id"].isin(resp["engagement_id"])
    out = {
        "requests": len(df),
        "engagements": len(engaged),
        "completed": len(completed),
        "completion_rate": len(completed) / len(engaged) * 100 if len(engaged) else None,
        "agencies_served": completed["agency_id"].nunique(),
        "states_reached": completed["state"].nunique(),
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
    out["response_rates"] = response_rates(data, sel, min_n)
    if out["survey_responses"] < min_n:
        out["response_rate"] = None
    return out


def response_rates(data, sel: Selection, min_n: int = 5) -> dict:
    """Completed engagements with a response (any wave, and per wave) as a % of completed
    engagements; the responses and respondents (answering at least one item) behind them; the
    responses submitted after the last engagement date. Rates suppressed below min_n responses."""
    df = select(data, sel)
    engaged = df[~df["status"].isin(["declined", "withdrawn"])]
    completed = set(df.loc[df["status"] == "completed", "engagement_id"])
    resp = data["survey_responses"]
    resp = resp[resp["engagement_id"].isin(engaged["engagement_id"])]
    eng = data["engagements"]
    through = max(eng["requested_on"].max(), eng["completed_on"].max())
    out = {
        "survey_responses": len(resp),
        "responded_engagements": len(completed & set(resp["engagement_id"])),
        "completed": len(completed),
        "late_responses": int((resp["submitted_on"] > through).sum()),
        "survey_respondents": int(resp[ITEMS].notna().any(axis=1).sum()),
        "data_through": through.date().isoformat(),
    }
    for wave in ("post", "follow_up"):
        part = resp[resp["wave"] == wave]
        out[f"{wave}_responses"] = len(part)
        out[f"{wave}_respondents"] = int(part[ITEMS].notna().any(axis=1).sum())
        out[f"{wave}_responded_engagements"] = len(completed & set(part["engagement_id"]))
    for rate, key in (("response_rate", "responded_engagements"),
                      ("post_response_rate", "post_responded_engagements"),
                      ("follow_up_response_rate", "follow_up_responded_engagements")):  # fmt: skip
        shown = completed and len(resp) >= min_n
        out[rate] = out[key] / len(completed) * 100 if shown else None
    return out


def item_figures(answers: pd.Series, min_n: int) -> dict:
    answers = answers.dropna()
    n = len(answers)
    if n < min_n:
        return {"n": n, "top2_pct": None, "mean": None, "suppressed": True}
    return {
        "n": n,
        "top2_pct": (answers >= 4).mean() * 100,
        "mean": answers.mean(),
        "suppressed": False,
    }


# -- the rest of the metric catalogue, computed the same plain-pandas way ------------------------

CLOSED_UNSERVED = ("declined", "withdrawn")
NOT_ENGAGED = ("requested", *CLOSED_UNSERVED)  # awaiting approval is not an engagement yet
TOPICS_CSV = Path(__file__).resolve().parent.parent / "data" / "topics.csv"
UNKNOWN_GROUP = "Other (not in catalogue)"
TERRITORIES = ("PR", "GU", "VI", "AS", "MP")
REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
    "Territories": " ".join(TERRITORIES),
}
REGION_OF = {code: region for region, codes in REGIONS.items() for code in codes.split()}
ALL_STATES = sorted(code for code in REGION_OF)  # 50 states, DC and 5 territories
MILESTONES = (1, 100, 250, 500, 1000, 1500, 2000, 2500, 5000, 10_000)
PERIOD_FREQ = {"month": "M", "quarter": "Q", "fiscal_year": "Y-SEP"}
FUNNEL = (
    ("Requested", None),
    ("Approved", ("approved", "in_progress", "completed")),
    ("Started", ("in_progress", "completed")),
    ("Completed", ("completed",)),
)
Z95 = 1.959963984540054


@functools.cache
def topic_groups() -> dict[str, str]:
    """Lower-cased topic -> topic group, from the shipped catalogue."""
    cat = pd.read_csv(TOPICS_CSV, dtype=str)
    return {
        t.strip().lower(): g.strip() for t, g in zip(cat["topic"], cat["topic_group"], strict=True)
    }


def size_band_of(sworn: float) -> str:
    if pd.isna(sworn):
        return "Unknown"
    if sworn < 50:
        return "< 50"
    if sworn < 250:
        return "50–249"
    if sworn < 1000:
        return "250–999"
    return "1,000+"


def _cache(data: dict[str, pd.DataFrame]) -> dict:
    """Per-data-set memo (the frames are never changed after ``load``)."""
    return data.setdefault("_memo", {})


def first_engagement_ids(data: dict[str, pd.DataFrame]) -> set[str]:
    """Each agency's first delivered (completed) engagement ever (by request date, then id;
    requests declined, withdrawn, awaiting approval or in progress are skipped), over all the
    data whatever the selection."""
    memo = _cache(data)
    if "first_ids" not in memo:
        eng = data["engagements"]
        eng = eng[eng["status"] == "completed"].sort_values(["requested_on", "engagement_id"])
        memo["first_ids"] = set(eng.groupby("agency_id")["engagement_id"].first())
    return memo["first_ids"]


def _all_rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every request joined to its agency, with the flags and fields the metrics need."""
    memo = _cache(data)
    if "rows" not in memo:
        df = select(data, Selection()).copy()
        df["is_engagement"] = ~df["status"].isin(NOT_ENGAGED)
        df["is_completed"] = df["status"] == "completed"
        df["is_first"] = df["engagement_id"].isin(first_engagement_ids(data))
        groups = topic_groups()
        df["group_list"] = df["topic_list"].map(
            lambda ts: sorted({groups.get(t.lower(), UNKNOWN_GROUP) for t in ts})
        )
        df["size_band"] = df["sworn_officers"].map(size_band_of)
        df["region"] = df["state"].map(REGION_OF).fillna("Unknown")
        df["participants"] = df["participants"].fillna(0)
        answered = set(data["survey_responses"]["engagement_id"])
        df["has_response"] = [e in answered for e in df["engagement_id"]]
        memo["rows"] = df
    return memo["rows"]


def rows(data: dict[str, pd.DataFrame], sel: Selection) -> pd.DataFrame:
    """The selected request rows (``select``'s rows) with flags and derived fields."""
    memo = _cache(data)
    key = ("selected", repr(sel))
    if key not in memo:
        chosen = select(data, sel)["engagement_id"]
        everything = _all_rows(data)
        memo[key] = everything[everything["engagement_id"].isin(chosen)]
    return memo[key]


def engaged(data: dict[str, pd.DataFrame], sel: Selection) -> pd.DataFrame:
    df = rows(data, sel)
    return df[df["is_engagement"]]


def values_of(df: pd.DataFrame, dimension: str) -> pd.Series:
    """One value per row, or (topics, topic groups) several rows per engagement: same index."""
    if dimension == "topic":
        return df["topic_list"].explode()
    if dimension == "topic_group":
        return df["group_list"].explode()
    if dimension == "primary_topic":
        return df["topic_list"].map(lambda ts: ts[0])
    if dimension == "delivery_mode":
        return df["delivery_mode"].fillna("unknown")
    if dimension == "provider":
        return df["provider"].fillna("Unknown")
    return df[dimension]


def exploded(df: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """``df`` with a ``value`` column, repeated once per value of a list dimension."""
    values = values_of(df, dimension).rename("value")
    return df.drop(columns=["value"], errors="ignore").join(values, how="inner")


def period_labels(dates: pd.Series, grain: str) -> pd.Series:
    return dates.dt.to_period(PERIOD_FREQ[grain])


def label(period: pd.Period, grain: str) -> str:
    if grain == "month":
        return f"{period.year:04d}-{period.month:02d}"
    if grain == "quarter":
        return f"{period.year}-Q{period.quarter}"
    return f"FY{period.year}"  # an annual period ending in September is named after its end year


def _all_periods(periods: pd.Series, grain: str) -> list[pd.Period]:
    if periods.empty:
        return []
    return list(pd.period_range(periods.min(), periods.max(), freq=PERIOD_FREQ[grain]))


def volume_series(data, sel: Selection, grain: str) -> pd.DataFrame:
    df = rows(data, sel)
    df = df.assign(period=period_labels(df["requested_on"], grain))
    counts = df.groupby("period").agg(
        requests=("engagement_id", "size"),
        engagements=("is_engagement", "sum"),
        completed=("is_completed", "sum"),
    )
    full = counts.reindex(_all_periods(df["period"], grain), fill_value=0)
    out = pd.DataFrame({
        "period": [label(p, grain) for p in full.index],
        "requests": full["requests"].astype(int).to_list(),
        "engagements": full["engagements"].astype(int).to_list(),
        "completed": full["completed"].astype(int).to_list(),
    })  # fmt: skip
    return out


def series_by(data, sel: Selection, grain: str, dimension: str, only=()) -> pd.DataFrame:
    df = exploded(engaged(data, sel), dimension)
    if only:
        df = df[df["value"].isin(only)]
    df = df.assign(period=period_labels(df["requested_on"], grain))
    periods = _all_periods(df["period"], grain)
    values = sorted(df["value"].unique())
    counts = df.groupby(["period", "value"]).size().to_dict()
    records = [
        {"period": name, dimension: v, "engagements": int(counts.get((p, v), 0))}
        for p, name in ((p, label(p, grain)) for p in periods)
        for v in values
    ]
    return pd.DataFrame(records, columns=["period", dimension, "engagements"])


def cumulative_engagements(data, sel: Selection) -> pd.DataFrame:
    per_day = engaged(data, sel)["requested_on"].value_counts().sort_index()
    return pd.DataFrame({
        "requested_on": list(per_day.index),
        "engagements": per_day.to_list(),
        "cumulative": per_day.cumsum().to_list(),
    })  # fmt: skip


def milestones(data, sel: Selection) -> pd.DataFrame:
    df = engaged(data, sel).sort_values(["requested_on", "engagement_id"]).reset_index(drop=True)
    columns = ["requested_on", "engagement_id", "agency_name"]
    records = [
        {"milestone": n, **df.loc[n - 1, columns].to_dict()}
        for n in MILESTONES
        if n <= len(df)
    ]  # fmt: skip
    return pd.DataFrame(
        records, columns=["milestone", "requested_on", "engagement_id", "agency_name"]
    )


def breakdown(data, sel: Selection, dimension: str) -> pd.DataFrame:
    df = exploded(rows(data, sel), dimension)
    groups = df.groupby("value")
    out = pd.DataFrame({
        "requests": groups.size(),
        "engagements": groups["is_engagement"].sum(),
        "completed": groups["is_completed"].sum(),
        "agencies": df[df["is_completed"]].groupby("value")["agency_id"].nunique(),
    }).fillna(0).astype(int)  # fmt: skip
    return out.rename_axis(dimension).reset_index()


def topic_by_agency_type(data, sel: Selection) -> pd.DataFrame:
    """Engagements per topic (index) and agency type (columns), zero where none."""
    df = exploded(engaged(data, sel), "topic")
    return pd.crosstab(df["value"], df["agency_type"])


def engagements_by_state(data, sel: Selection) -> pd.DataFrame:
    df = engaged(data, sel)
    return pd.DataFrame({
        "state": ALL_STATES,
        "engagements": [int((df["state"] == s).sum()) for s in ALL_STATES],
        "agencies": [
            df.loc[(df["state"] == s) & df["is_completed"], "agency_id"].nunique()
            for s in ALL_STATES
        ],
    })  # fmt: skip


def reach(data, sel: Selection) -> dict:
    df = engaged(data, sel)
    df = df[df["is_completed"]]  # agencies are served by delivered engagements
    agencies = df.drop_duplicates("agency_id")
    # First-time: the agency's first delivered engagement ever is among the selected ones (however
    # many more it had in the selection); repeat: it had one before.
    first_time = df.loc[df["is_first"], "agency_id"].nunique()
    known = agencies["sworn_officers"].dropna()
    return {
        "agencies_served": len(agencies),
        "first_time_agencies": first_time,
        "repeat_agencies": len(agencies) - first_time,
        "states_reached": agencies["state"].nunique(),
        "territories_reached": agencies.loc[agencies["state"].isin(TERRITORIES), "state"].nunique(),
        "small_agency_share": (known < 50).mean() * 100 if len(known) else None,
        "participants": int(df["participants"].sum()),
    }


def first_time_vs_repeat(data, sel: Selection, grain: str = "fiscal_year") -> pd.DataFrame:
    """Per period with a delivered engagement: agencies served in it whose first delivered
    engagement ever is in it, and the other agencies served in it."""
    df = engaged(data, sel)
    df = df[df["is_completed"]]
    df = df.assign(period=period_labels(df["requested_on"], grain))
    out = []
    for p, part in df.groupby("period"):
        served = set(part["agency_id"])
        new = set(part.loc[part["is_first"], "agency_id"])
        out.append({"period": label(p, grain), "first_time_agencies": len(new),
                    "repeat_agencies": len(served - new)})  # fmt: skip
    return pd.DataFrame(out, columns=["period", "first_time_agencies", "repeat_agencies"])


def agency_table(data, sel: Selection, search: str = "") -> pd.DataFrame:
    df = engaged(data, sel)
    df = df[df["agency_id"].isin(df.loc[df["is_completed"], "agency_id"])]  # agencies served
    if search:
        df = df[df["agency_name"].str.lower().str.contains(search.lower(), regex=False)]
    out = df.groupby("agency_id").agg(
        agency_name=("agency_name", "first"),
        agency_type=("agency_type", "first"),
        state=("state", "first"),
        sworn_officers=("sworn_officers", "first"),
        size_band=("size_band", "first"),
        engagements=("engagement_id", "size"),
        completed=("is_completed", "sum"),
        first_request=("requested_on", "min"),
        last_request=("requested_on", "max"),
    )
    return out.reset_index()


def status_funnel(data, sel: Selection) -> pd.DataFrame:
    df = rows(data, sel)
    counts = [len(df) if st is None else int(df["status"].isin(st).sum()) for _, st in FUNNEL]
    return pd.DataFrame({"stage": [s for s, _ in FUNNEL], "requests": counts})


def timeliness(data, sel: Selection, by: str | None = None) -> pd.DataFrame:
    df = engaged(data, sel)
    df = df.assign(
        to_start=(df["started_on"] - df["requested_on"]).dt.days,
        to_completion=(df["completed_on"] - df["started_on"]).dt.days,
    )
    df = exploded(df, by) if by else df.assign(value="All")
    groups = df.groupby("value")
    out = pd.DataFrame({
        "started": groups["to_start"].count(),
        "median_days_to_start": groups["to_start"].quantile(0.5),
        "p90_days_to_start": groups["to_start"].quantile(0.9),
        "completed": groups["to_completion"].count(),
        "median_days_start_to_completion": groups["to_completion"].quantile(0.5),
        "p90_days_start_to_completion": groups["to_completion"].quantile(0.9),
    })  # fmt: skip
    return out.rename_axis(by or "segment").reset_index()


def backlog_series(data, sel: Selection) -> pd.DataFrame:
    """Open requests (awaiting approval or accepted) at each month end, from the first request's
    month to the last month in which anything was requested or completed."""
    df = rows(data, sel)
    df = df[~df["status"].isin(CLOSED_UNSERVED)]
    if df.empty:
        return pd.DataFrame(columns=["month_end", "open_requests"])
    last = pd.concat([df["requested_on"], df["completed_on"].dropna()]).max()
    months = pd.period_range(df["requested_on"].min(), last, freq="M")
    month_ends = pd.DatetimeIndex([m.end_time.normalize() for m in months])
    requested = df["requested_on"].to_numpy()[None, :]
    completed = df["completed_on"].to_numpy()[None, :]
    ends = month_ends.to_numpy()[:, None]
    is_open = (requested <= ends) & (pd.isna(completed) | (completed > ends))
    return pd.DataFrame({"month_end": month_ends, "open_requests": is_open.sum(axis=1)})


# -- outcomes -----------------------------------------------------------------------------------


def responses_of(data, sel: Selection, wave: str | None = "post") -> pd.DataFrame:
    """Survey responses to the selected engagements (one wave, or all waves for None)."""
    eng = engaged(data, sel)
    resp = data["survey_responses"]
    resp = resp[resp["engagement_id"].isin(eng["engagement_id"])]
    if wave is not None:
        resp = resp[resp["wave"] == wave]
    return resp


def wilson(successes: int, n: int) -> tuple[float, float]:
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)) ** 0.5
    return max(0.0, centre - half) * 100, min(1.0, centre + half) * 100


def wilson_at(p: float, n: float) -> tuple[float, float]:
    """Wilson 95% interval for proportion p at a (possibly fractional) sample size n, in %."""
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)) ** 0.5
    return max(0.0, centre - half) * 100, min(1.0, centre + half) * 100


def clustered_interval(engagement_ids: pd.Series, answers: pd.Series) -> tuple[float, float]:
    """The top-2 proportion's 95% interval with answers clustered by engagement: the
    cluster-robust (sandwich) variance of the ratio sum(y)/sum(m) over engagements, as a design
    effect (at least 1) that shrinks n to an effective n for a Wilson interval. One engagement:
    n_eff = 1; all answers positive or none: n_eff = number of engagements."""
    frame = pd.DataFrame({"e": engagement_ids.to_numpy(), "a": answers.to_numpy()}).dropna()
    per = frame.assign(y=frame["a"] >= 4).groupby("e").agg(y=("y", "sum"), m=("a", "size"))
    y, m = per["y"].to_numpy(dtype=float), per["m"].to_numpy(dtype=float)
    n, k = m.sum(), len(m)
    p = y.sum() / n
    if k < 2:
        n_eff = 1.0
    elif p in (0.0, 1.0):
        n_eff = float(k)
    else:
        residuals = y - p * m
        robust = k / (k - 1) * np.sum(residuals**2) / n**2
        n_eff = n / max(1.0, robust / (p * (1 - p) / n))
    return wilson_at(p, n_eff)


def with_clustered_interval(figures: dict, engagement_ids, answers) -> dict:
    if figures["suppressed"] or figures["n"] == 0:
        return figures
    low, high = clustered_interval(engagement_ids, answers)
    return {**figures, "top2_low": low, "top2_high": high}


FIGURES = (
    "top2_pct",
    "top2_low",
    "top2_high",
    "bottom2_pct",
    "mean",
    *(f"pct_{a}" for a in range(1, 6)),
)


def figures_from_counts(counts: list[int], min_n: int) -> dict:
    """n, % answering each of 1..5, top-2 with its Wilson interval, bottom-2 and mean from the
    number of answers 1..5; every figure None when n < min_n."""
    n = sum(counts)
    out: dict[str, float | None] = {"n": n, "suppressed": n < min_n}
    if n < min_n or n == 0:
        return {**out, **dict.fromkeys(FIGURES)}
    top = counts[3] + counts[4]
    low, high = wilson(top, n)
    out.update({
        "top2_pct": top / n * 100,
        "top2_low": low,
        "top2_high": high,
        "bottom2_pct": (counts[0] + counts[1]) / n * 100,
        "mean": sum(a * c for a, c in zip(range(1, 6), counts, strict=True)) / n,
        **{f"pct_{a}": counts[a - 1] / n * 100 for a in range(1, 6)},
    })  # fmt: skip
    return out


def answer_counts(answers: pd.Series) -> list[int]:
    """How many answers were 1, 2, 3, 4, 5 (blank answers are not answers)."""
    counts = answers.dropna().astype(int).value_counts()
    return [int(counts.get(a, 0)) for a in range(1, 6)]


def answer_figures(answers: pd.Series, min_n: int) -> dict:
    return figures_from_counts(answer_counts(answers), min_n)


def item_outcomes(data, sel: Selection, wave: str = "post", min_n: int = 5) -> dict[str, dict]:
    resp = responses_of(data, sel, wave)
    return {
        item: with_clustered_interval(
            answer_figures(resp[item], min_n), resp["engagement_id"], resp[item]
        )
        for item in ITEMS
    }


def positive_outcome(data, sel: Selection, min_n: int = 5) -> dict:
    """The KPI tile: the reaction level, % of post-engagement satisfaction answers that are 4 or
    5; n and the threshold count respondents (each answers the item at most once)."""
    resp = responses_of(data, sel, "post")
    respondents = int(resp["satisfaction"].notna().sum())
    answers = resp["satisfaction"].dropna()
    shown = respondents >= min_n and respondents > 0
    return {
        "n": respondents,
        "answers": len(answers),
        "top2_pct": (answers >= 4).mean() * 100 if shown else None,
        "suppressed": not shown,
    }


def outcomes_by(data, sel: Selection, by: str, wave: str | None = "post", min_n: int = 5,
                item: str | None = None) -> dict[tuple[str, str], dict]:  # fmt: skip
    """(segment, item) -> figures plus the segment's completed, responded and response rate, for
    every segment with at least one response in the wave."""
    eng = exploded(engaged(data, sel), by)[
        ["engagement_id", "value", "is_completed", "has_response"]
    ]
    all_resp = data["survey_responses"]
    resp = all_resp if wave is None else all_resp[all_resp["wave"] == wave]
    joined = eng.merge(resp, on="engagement_id", how="inner")
    items = [item] if item else ITEMS
    counts = {
        name: joined.groupby("value")[name].value_counts().unstack(fill_value=0) for name in items
    }
    answered = set(joined["value"])
    out, positives = {}, {}
    for value, part in eng.groupby("value"):
        if value not in answered:
            continue
        completed = part[part["is_completed"]]
        responded = int(completed["has_response"].sum())
        rate = {
            "completed": len(completed),
            "responded_engagements": responded,
            "response_rate": responded / len(completed) * 100 if len(completed) else None,
        }
        for name in items:
            table = counts[name]
            row = table.loc[value] if value in table.index else pd.Series(dtype=int)
            tally = [int(row.get(a, 0)) for a in range(1, 6)]
            mine = joined[joined["value"] == value]
            figures = with_clustered_interval(
                figures_from_counts(tally, 0), mine["engagement_id"], mine[name]
            )
            if figures["n"] < min_n:
                figures = {**figures, "suppressed": True, **dict.fromkeys(FIGURES)}
            out[(value, name)] = {**figures, **rate}
            positives[(value, name)] = tally[3] + tally[4]
    for name in items:  # complementary suppression within each item's breakdown
        keys = [key for key in out if key[1] == name]
        hide_keys = protected([out[k]["n"] for k in keys], min_n, [positives[k] for k in keys])
        for key, hide in zip(keys, hide_keys, strict=True):
            if hide:  # no figure, n or response rate of a suppressed row
                out[key].update({"n": None, "suppressed": True, **dict.fromkeys(FIGURES)})
                out[key].update(dict.fromkeys(["completed", "responded_engagements",
                                               "response_rate"]))  # fmt: skip
    return out


def protected(ns: list[int], min_n: int, positives: list[int]) -> list[bool]:
    """Complementary suppression, written out independently: hide every cell below min_n; then,
    smallest shown cells first, hide more until the hidden cells are at least two, hold at least
    min_n respondents, more respondents than cells, and some but not only positive answers (or
    every cell is hidden)."""
    hidden = [n < min_n for n in ns]
    if not any(hidden):
        return hidden
    queue = sorted((n, i) for i, n in enumerate(ns) if n >= min_n)
    for _, i in [(None, None), *queue]:
        if i is not None:
            hidden[i] = True
        group = [(n, p) for n, p, h in zip(ns, positives, hidden, strict=True) if h]
        together, top = sum(n for n, _ in group), sum(p for _, p in group)
        if len(group) >= 2 and together >= min_n and together > len(group) and 0 < top < together:
            break
    return hidden


def comments(data, sel: Selection, limit: int = 200, search: str = "", min_n: int = 5
             ) -> pd.DataFrame:  # fmt: skip
    """Comments only when the selection has min_n respondents (responses, all waves); the score
    and role blank where the comment's engagement has fewer than min_n respondents."""
    resp = responses_of(data, sel, None)
    if len(resp) < min_n:
        resp = resp.iloc[0:0]
    per_engagement = resp.groupby("engagement_id")["response_id"].transform("count")
    resp = resp.assign(
        satisfaction=resp["satisfaction"].where(per_engagement >= min_n),
        respondent_role=resp["respondent_role"].where(per_engagement >= min_n),
    )
    resp = resp[resp["comment"].notna() & (resp["comment"].str.strip() != "")]
    if search:
        resp = resp[resp["comment"].str.lower().str.contains(search.lower(), regex=False)]
    resp = resp.sort_values(["submitted_on", "response_id"], ascending=[False, True])
    return resp.head(limit)[
        ["response_id", "submitted_on", "wave", "comment", "satisfaction", "respondent_role"]
    ]


# -- comparisons --------------------------------------------------------------------------------


def data_days(data) -> tuple[dt.date, dt.date]:
    """The last day of data (latest request or completion) and the first request date."""
    e = data["engagements"]
    through = max(e["requested_on"].max(), e["completed_on"].max())
    return through.date(), e["requested_on"].min().date()


def _whole_months(start: pd.Timestamp, end: pd.Timestamp) -> int:
    after = end + pd.Timedelta(days=1)
    k = (after.year - start.year) * 12 + after.month - start.month
    return k if k > 0 and start + pd.DateOffset(months=k) == after else 0


def previous_selection(sel: Selection, through: dt.date | None = None) -> Selection | None:
    """The same selection over the period just before, like for like: the current period counts
    up to min(end, through) and the previous one covers the same days (as many whole months
    before when the selection is whole months, a month's last day mapping to a month's last
    day; else as many days)."""
    if not (sel.start and sel.end):
        return None
    start, end = pd.Timestamp(sel.start), pd.Timestamp(sel.end)
    upto = min(end, pd.Timestamp(through)) if through else end
    if upto < start:
        return None
    months = _whole_months(start, end)
    if months:
        new_start = start - pd.DateOffset(months=months)
        new_end = upto - pd.DateOffset(months=months)
        if upto.is_month_end:
            new_end = new_end + pd.offsets.MonthEnd(0)
    else:
        days = pd.Timedelta(days=(end - start).days + 1)
        new_start, new_end = start - days, upto - days
    new_end = min(new_end, start - pd.Timedelta(days=1))
    return Selection(**{**sel.__dict__, "start": new_start.date(), "end": new_end.date()})


def comparison_spans(data, sel: Selection) -> tuple[Selection, Selection] | None:
    """(the span the change is measured on, the span it is compared with), or None."""
    through, first = data_days(data)
    if sel.start is None:
        if sel.end is not None:
            return None
        fy = through.year + (through.month >= 10)  # all time: last complete FY vs the one before
        if (through.month, through.day) != (9, 30):
            fy -= 1
        if dt.date(fy - 1, 9, 30) < first:
            return None
        spans = [(dt.date(y - 1, 10, 1), dt.date(y, 9, 30)) for y in (fy, fy - 1)]
        (a1, b1), (a2, b2) = spans
        return (
            Selection(**{**sel.__dict__, "start": a1, "end": b1}),
            Selection(**{**sel.__dict__, "start": a2, "end": b2}),
        )
    if sel.start > through:
        return None
    whole = Selection(**{**sel.__dict__, "end": sel.end or through})
    previous = previous_selection(whole, through)
    if previous is None:
        return None
    assert whole.end is not None
    return Selection(**{**whole.__dict__, "end": min(whole.end, through)}), previous


def timely_completion(data, sel: Selection, window: int = 180) -> float | None:
    """% of engagements requested at least ``window`` days before the last day of data that
    were completed within ``window`` days of the request."""
    through, _ = data_days(data)
    df = engaged(data, sel)
    aged = df[df["requested_on"] <= pd.Timestamp(through) - pd.Timedelta(days=window)]
    days = (aged["completed_on"] - aged["requested_on"]).dt.days
    timely = (aged["status"] == "completed") & (days <= window)
    return timely.sum() / len(aged) * 100 if len(aged) else None


def kpi_values(data, sel: Selection, min_n: int = 5, as_of: dt.date | None = None) -> dict:
    """The KPI tiles' figures; with ``as_of``, deliveries, agencies served and the response rate
    as they stood that day (completed and answered by then)."""
    head = summary(data, sel, min_n)
    values = {
        "completed": head["completed"],
        "engagements": head["engagements"],
        "agencies_served": head["agencies_served"],
        "timely_completion_rate": timely_completion(data, sel),
        "positive_outcome_pct": positive_outcome(data, sel, min_n)["top2_pct"],
        "response_rate": head["response_rate"] if head["survey_responses"] >= min_n else None,
    }
    if as_of is not None:
        day = pd.Timestamp(as_of)
        df = select(data, sel)
        done = df[(df["status"] == "completed") & (df["completed_on"] <= day)]
        answers = data["survey_responses"]
        answered = set(answers.loc[answers["submitted_on"] <= day, "engagement_id"])
        values["completed"] = len(done)
        values["agencies_served"] = done["agency_id"].nunique()
        if values["response_rate"] is not None:
            values["response_rate"] = (
                done["engagement_id"].isin(answered).mean() * 100 if len(done) else None
            )
    return values


def previous_as_of(data, spans: tuple[Selection, Selection]) -> dt.date:
    """Right-censoring: the previous span is seen as long after its end as the current span
    has had up to the last day of data."""
    through, _ = data_days(data)
    assert spans[0].end is not None and spans[1].end is not None
    return spans[1].end + (through - spans[0].end)


def kpis_with_comparison(data, sel: Selection, min_n: int = 5) -> dict[str, dict]:
    current = kpi_values(data, sel, min_n)
    spans = comparison_spans(data, sel)
    compared = kpi_values(data, spans[0], min_n) if spans else {}
    previous = kpi_values(data, spans[1], min_n, previous_as_of(data, spans)) if spans else {}
    out = {}
    for name, value in current.items():
        now, before = compared.get(name), previous.get(name)
        change = None if now is None or before is None else now - before
        out[name] = {"value": value, "compared": now, "previous": before, "change": change}
    return out


FISCAL_MONTH_NAMES = ["Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                      "Sep"]  # fmt: skip


def year_over_year(data, sel: Selection, dimension: str | None = None, only=()) -> pd.DataFrame:
    """Engagements per fiscal month of the selection's latest fiscal year and the same span a
    year earlier (dates of the year before are not limited by the date filter)."""
    basis = "completed_on" if sel.date_basis == "completed" else "requested_on"
    df = engaged(data, sel)
    if df.empty:
        return pd.DataFrame()
    latest = df[basis].max()
    fy = latest.year + (latest.month >= 10)
    fy_start, fy_end = pd.Timestamp(fy - 1, 10, 1), pd.Timestamp(fy, 9, 30)
    start = max(pd.Timestamp(sel.start), fy_start) if sel.start else fy_start
    end = min(pd.Timestamp(sel.end), fy_end) if sel.end else fy_end
    through = data_days(data)[0]
    records = []
    spans = (
        (fy - 1, start - pd.DateOffset(years=1), end - pd.DateOffset(years=1)),
        (fy, start, end),
    )
    for year, first, last in spans:
        rows = engaged(data, dataclasses.replace(sel, start=first.date(), end=last.date()))
        if dimension:
            rows = exploded(rows, dimension)
            if only:
                rows = rows[rows["value"].isin(only)]
        else:
            rows = rows.assign(value="All")
        counts = rows.groupby([rows[basis].dt.to_period("M"), "value"]).size()
        for month in pd.period_range(first, last, freq="M"):
            if month.start_time.date() > through:
                break
            records.append({"fiscal_year": year, "month_start": month, "counts": counts})
    values = sorted({v for r in records for (_, v) in r["counts"].index}) if dimension else ["All"]
    out = []
    for r in records:
        month = r["month_start"]
        for value in values:
            row = {
                "fiscal_year": r["fiscal_year"],
                "fiscal_month": (month.month - 10) % 12 + 1,
                "month": FISCAL_MONTH_NAMES[(month.month - 10) % 12],
                "engagements": int(r["counts"].get((month, value), 0)),
                "is_partial": month.end_time.date() > through,
            }
            if dimension:
                row[dimension] = value
            out.append(row)
    return pd.DataFrame(out)
