"""The baseline a user would write without DuckDB: load the three tables into pandas once, then
filter and group per call.

Loading (timed separately) reads ``agencies``, ``engagements`` and ``survey_responses`` from the
database as DataFrames, joins agencies onto engagements once, adds ``is_engagement``/``is_completed``
flags, integer engagement keys (see below) and a long (row, topic) frame for the topic filter and
topic breakdowns. Every metric call then starts from those frames: boolean mask for the filters,
then groupby/value_counts. Nothing is cached between calls; the overview page recomputes the
headline inside ``kpis_with_comparison`` exactly as the library does.

``check(...)`` compares these figures with the library's and returns one pass/fail per comparison.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from critac_metrics import metrics, schema
from critac_metrics.comparison import compare
from critac_metrics.filters import Filters

NOT_ENGAGED = ("declined", "withdrawn")
ITEMS = schema.SURVEY_ITEMS
MIN_N = metrics.DEFAULT_MIN_N
FREQ = {"month": "MS", "quarter": "QS", "fiscal_year": "YS-OCT"}
WINDOW = metrics.COMPLETION_WINDOW_DAYS


class Baseline:
    def __init__(self, con):
        started = time.perf_counter()
        agencies = con.execute("select * from agencies").df()
        engagements = con.execute("select * from engagements").df()
        responses = con.execute("select * from survey_responses").df()
        self.read_s = time.perf_counter() - started
        started = time.perf_counter()
        df = engagements.merge(
            agencies[["agency_id", "agency_name", "agency_type", "state", "sworn_officers"]],
            on="agency_id",
            how="inner",
        )
        df["is_engagement"] = ~df["status"].isin(NOT_ENGAGED)
        df["is_completed"] = df["status"] == "completed"
        df["fiscal_year"] = df["requested_on"].dt.year + (df["requested_on"].dt.month >= 10)
        self.df = df.reset_index(drop=True)
        # Integer keys: pandas 3's Arrow-backed ``str`` Series.isin() builds one pyarrow scalar per
        # value (about 1 s per call at 100k ids), so a user would join on integer codes instead.
        self.df["eid"] = np.arange(len(self.df), dtype=np.int64)
        responses["eid"] = pd.Index(self.df["engagement_id"]).get_indexer(
            responses["engagement_id"]
        )
        topics = self.df["topics"].explode()
        self.topics_long = pd.DataFrame(
            {"row": topics.index.to_numpy(), "topic": topics.to_numpy()}
        )
        self.responses = responses
        self.prep_s = time.perf_counter() - started

    # -- selection ---------------------------------------------------------------------------------

    def mask(self, f: Filters) -> np.ndarray:
        df = self.df
        keep = np.ones(len(df), dtype=bool)
        day = df[f.date_column]
        if f.date_basis == "completed":
            keep &= day.notna().to_numpy()
        if f.start:
            keep &= (day >= pd.Timestamp(f.start)).fillna(False).to_numpy(dtype=bool)
        if f.end:
            keep &= (day <= pd.Timestamp(f.end)).fillna(False).to_numpy(dtype=bool)
        for column, values in (
            ("agency_type", f.agency_types),
            ("state", f.states),
            ("assistance_type", f.assistance_types),
            ("delivery_mode", f.delivery_modes),
        ):
            if values:
                keep &= df[column].isin(values).fillna(False).to_numpy(dtype=bool)
        if f.topics:
            rows = self.topics_long.loc[self.topics_long["topic"].isin(f.topics), "row"].unique()
            hit = np.zeros(len(df), dtype=bool)
            hit[rows] = True
            keep &= hit
        return keep

    def select(self, f: Filters) -> pd.DataFrame:
        return self.df[self.mask(f)]

    def _responses_of(self, engaged: pd.DataFrame, wave: str | None = None) -> pd.DataFrame:
        r = self.responses
        keep = r["eid"].isin(engaged["eid"])
        if wave:
            keep &= r["wave"] == wave
        return r[keep]

    # -- metrics -----------------------------------------------------------------------------------

    def headline(self, f: Filters) -> dict:
        s = self.select(f)
        e = s[s["is_engagement"]]
        c = s[s["is_completed"]]
        resp = self._responses_of(e)
        responded = int(c["eid"].isin(resp["eid"]).sum())
        out = {
            "requests": len(s),
            "engagements": len(e),
            "completed": len(c),
            "agencies_served": int(e["agency_id"].nunique()),
            "states_reached": int(e["state"].nunique()),
            "participants": int(e["participants"].sum()),
            "survey_responses": len(resp),
            "responded_engagements": responded,
        }
        out["completion_rate"] = _pct(out["completed"], out["engagements"])
        out["response_rate"] = _pct(responded, out["completed"])
        return out

    def _item_counts(self, f: Filters, wave: str) -> dict[str, list[int]]:
        s = self.select(f)
        resp = self._responses_of(s[s["is_engagement"]], wave)
        out = {}
        for item in ITEMS:
            counts = resp[item].value_counts()
            out[item] = [int(counts.get(a, 0)) for a in range(1, 6)]
        return out

    def item_outcomes(self, f: Filters, wave: str = "post") -> pd.DataFrame:
        rows = []
        for item, c in self._item_counts(f, wave).items():
            n = sum(c)
            suppressed = n < MIN_N
            rows.append(
                {
                    "item": item,
                    "n": n,
                    "top2_pct": math.nan if suppressed else _pct(c[3] + c[4], n),
                    "mean": math.nan
                    if suppressed
                    else (sum((a + 1) * c[a] for a in range(5)) / n if n else math.nan),
                    "suppressed": suppressed,
                }
            )
        return pd.DataFrame(rows)

    def positive_outcome(self, f: Filters) -> dict:
        """The tile: the reaction level (post satisfaction); n in respondents."""
        c = self._item_counts(f, "post")["satisfaction"]
        n = sum(c)
        if n < MIN_N:
            return {"n": n, "top2_pct": None, "suppressed": True}
        return {"n": n, "top2_pct": _pct(c[3] + c[4], n), "suppressed": False}

    def _period(self, frame: pd.DataFrame, grain: str, column: str = "requested_on") -> pd.Series:
        when = frame[column]
        if grain == "month":
            return when.dt.to_period("M").dt.start_time
        if grain == "quarter":
            return when.dt.to_period("Q").dt.start_time
        fiscal_year = when.dt.year + (when.dt.month >= 10)
        return pd.to_datetime(pd.DataFrame({"year": fiscal_year - 1, "month": 10, "day": 1}))

    def _fill(self, grouped: pd.DataFrame, grain: str) -> pd.DataFrame:
        if grouped.empty:
            return grouped.reset_index()
        starts = pd.date_range(grouped.index.min(), grouped.index.max(), freq=FREQ[grain])
        filled = grouped.reindex(starts)
        counts = [c for c in filled.columns if not c.endswith("_rate")]
        filled[counts] = filled[counts].fillna(0).astype("int64")
        return filled.rename_axis("period_start").reset_index()

    def volume_series(self, f: Filters, grain: str = "month") -> pd.DataFrame:
        s = self.select(f)
        grouped = (
            s.assign(period_start=self._period(s, grain, f.date_column))
            .groupby("period_start")
            .agg(
                requests=("is_engagement", "size"),
                engagements=("is_engagement", "sum"),
                completed=("is_completed", "sum"),
            )
        )
        return self._fill(grouped, grain)

    def kpi_series(self, f: Filters, grain: str) -> pd.DataFrame:
        s = self.select(f)
        e = s[s["is_engagement"]]
        grouped = (
            e.assign(period_start=self._period(e, grain, f.date_column))
            .groupby("period_start")
            .agg(
                engagements=("agency_id", "size"),
                agencies_served=("agency_id", "nunique"),
                states_reached=("state", "nunique"),
                completed=("is_completed", "sum"),
            )
        )
        grouped["completion_rate"] = grouped["completed"] * 100.0 / grouped["engagements"]
        aged = e.assign(period_start=self._period(e, grain, f.date_column))
        aged = aged[aged["requested_on"] <= self._cutoff()]
        timely = aged["is_completed"] & (self._days_to_completion(aged) <= WINDOW)
        rate = timely.groupby(aged["period_start"]).mean() * 100.0
        grouped["timely_completion_rate"] = rate.reindex(grouped.index)
        return self._fill(grouped.drop(columns="completed"), grain)

    def _through(self) -> pd.Timestamp:
        return max(self.df["requested_on"].max(), self.df["completed_on"].max())

    def _cutoff(self) -> pd.Timestamp:
        return self._through() - pd.Timedelta(days=WINDOW)

    @staticmethod
    def _days_to_completion(frame: pd.DataFrame) -> pd.Series:
        return (frame["completed_on"] - frame["requested_on"]).dt.days

    def _kpi_values(self, f: Filters) -> dict:
        head = self.headline(f)
        positive = self.positive_outcome(f)
        s = self.select(f)
        aged = s[s["is_engagement"] & (s["requested_on"] <= self._cutoff())]
        timely = aged["is_completed"] & (self._days_to_completion(aged) <= WINDOW)
        return {
            "engagements": head["engagements"],
            "agencies_served": head["agencies_served"],
            "timely_completion_rate": _pct(int(timely.sum()), len(aged)),
            "states_reached": head["states_reached"],
            "positive_outcome_pct": positive["top2_pct"],
            "response_rate": head["response_rate"],
        }

    def kpis_with_comparison(self, f: Filters) -> pd.DataFrame:
        current = self._kpi_values(f)
        through = self._through()
        spans = compare(f, through.date(), self.df["requested_on"].min().date())
        compared = (
            self._kpi_values(spans.current)
            if spans.current is not None and spans.previous is not None
            else {}
        )
        previous = self._kpi_values(spans.previous) if spans.previous is not None else {}
        s = self.select(f)
        day = s[f.date_column]
        span = (day.max() - day.min()).days if len(s) else 0
        grain = "month" if span <= 1100 else "quarter"
        spark = self.kpi_series(f, grain)
        ends = spark["period_start"] + pd.tseries.frequencies.to_offset(FREQ[grain])
        if len(spark):  # without the period still in progress at the last day of any data
            keep = ends <= through + pd.Timedelta(days=1)
            spark, ends = spark[keep], ends[keep]
        rows = []
        for name, value in current.items():
            now, before = compared.get(name), previous.get(name)
            values = spark[name] if name in spark else pd.Series(dtype=float)
            if name == "timely_completion_rate":  # only periods whose requests are old enough
                values = values[ends - pd.Timedelta(days=1) <= self._cutoff()]
            line = [float(v) for v in values.dropna()]
            rows.append(
                {
                    "metric": name,
                    "value": value,
                    "compared": now,
                    "previous": before,
                    "sparkline": line,
                }
            )
        return pd.DataFrame(rows)

    def cumulative_engagements(self, f: Filters) -> pd.DataFrame:
        s = self.select(f)
        daily = s[s["is_engagement"]].groupby("requested_on").size().sort_index()
        return pd.DataFrame(
            {
                "requested_on": daily.index,
                "engagements": daily.to_numpy(),
                "cumulative": daily.cumsum().to_numpy(),
            }
        )

    def milestones(self, f: Filters) -> pd.DataFrame:
        s = self.select(f)
        e = s[s["is_engagement"]].sort_values(["requested_on", "engagement_id"])
        wanted = [m for m in metrics.MILESTONES if m <= len(e)]
        picked = e.iloc[[m - 1 for m in wanted]]
        return pd.DataFrame(
            {
                "milestone": wanted,
                "requested_on": picked["requested_on"].to_numpy(),
                "engagement_id": picked["engagement_id"].to_numpy(),
                "agency_name": picked["agency_name"].to_numpy(),
            }
        )

    def breakdown(self, f: Filters, dimension: str) -> pd.DataFrame:
        keep = self.mask(f)
        if dimension == "topic":
            long = self.topics_long[keep[self.topics_long["row"].to_numpy()]]
            rows = self.df.iloc[long["row"].to_numpy()]
            frame = pd.DataFrame(
                {
                    "value": long["topic"].to_numpy(),
                    "is_engagement": rows["is_engagement"].to_numpy(),
                    "is_completed": rows["is_completed"].to_numpy(),
                    "agency_id": rows["agency_id"].to_numpy(),
                }
            )
        else:
            s = self.df[keep]
            frame = pd.DataFrame(
                {
                    "value": s[dimension].to_numpy(),
                    "is_engagement": s["is_engagement"].to_numpy(),
                    "is_completed": s["is_completed"].to_numpy(),
                    "agency_id": s["agency_id"].to_numpy(),
                }
            )
        grouped = frame.groupby("value").agg(
            requests=("is_engagement", "size"),
            engagements=("is_engagement", "sum"),
            completed=("is_completed", "sum"),
        )
        engaged = frame[frame["is_engagement"]]
        grouped["agencies"] = engaged.groupby("value")["agency_id"].nunique()
        grouped = grouped.fillna(0).astype("int64").rename_axis(dimension).reset_index()
        return grouped.sort_values(["engagements", dimension], ascending=[False, True]).reset_index(
            drop=True
        )

    def engagements_by_state(self, f: Filters) -> pd.DataFrame:
        found = self.breakdown(f, "state").set_index("state")
        frame = pd.DataFrame({"state": schema.STATES})
        for column in ("engagements", "agencies"):
            frame[column] = frame["state"].map(found[column]).fillna(0).astype("int64")
        return frame

    # -- the overview page, the same calls as views/overview.py ----------------------------------

    def overview_page(self, f: Filters) -> None:
        if not self.mask(f).any():
            return
        self.kpis_with_comparison(f)  # the positive outcome's n comes with it, as in the library
        self.volume_series(f, "fiscal_year")
        self.cumulative_engagements(f)
        self.milestones(f)
        self.breakdown(f, "topic")
        self.engagements_by_state(f)


CORE = (
    ("headline", lambda b, f: b.headline(f)),
    ("breakdown(topic)", lambda b, f: b.breakdown(f, "topic")),
    ("breakdown(agency_type)", lambda b, f: b.breakdown(f, "agency_type")),
    ("volume_series(month)", lambda b, f: b.volume_series(f, "month")),
    ("item_outcomes(post)", lambda b, f: b.item_outcomes(f, "post")),
)
CORE_DUCKDB = (
    ("headline", lambda c, f: metrics.headline(c, f)),
    ("breakdown(topic)", lambda c, f: metrics.breakdown(c, f, "topic")),
    ("breakdown(agency_type)", lambda c, f: metrics.breakdown(c, f, "agency_type")),
    ("volume_series(month)", lambda c, f: metrics.volume_series(c, f, "month")),
    ("item_outcomes(post)", lambda c, f: metrics.item_outcomes(c, f, "post")),
)


def _pct(part, whole):
    return part / whole * 100 if whole else None


# -- equality checks -------------------------------------------------------------------------------


def _close(a, b, tol=1e-9) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(a)), abs(float(b)))


def _frames_equal(duck: pd.DataFrame, base: pd.DataFrame, key: str, columns: list[str]) -> str:
    d = duck.set_index(key)[columns].sort_index()
    b = base.set_index(key)[columns].sort_index()
    if list(map(str, d.index)) != list(map(str, b.index)):
        return f"keys differ ({len(d)} vs {len(b)} rows)"
    for column in columns:
        for x, y in zip(d[column].tolist(), b[column].tolist(), strict=True):
            if not _close(x, y):
                return f"{column}: {x!r} != {y!r}"
    return ""


def check(con, base: Baseline, f: Filters) -> dict[str, str]:
    """{comparison: "" if equal else what differs}."""
    out: dict[str, str] = {}
    head_d, head_b = metrics.headline(con.cursor(), f), base.headline(f)
    bad = [k for k in head_b if not _close(head_d.get(k), head_b[k])]
    out["headline"] = ", ".join(f"{k}: {head_d.get(k)!r} != {head_b[k]!r}" for k in bad)

    pos_d, pos_b = metrics.positive_outcome(con.cursor(), f), base.positive_outcome(f)
    out["positive_outcome"] = (
        ""
        if pos_d["n"] == pos_b["n"] and _close(pos_d["top2_pct"], pos_b["top2_pct"])
        else f"{pos_d} != {pos_b}"
    )

    counts = ["requests", "engagements", "completed", "agencies"]
    for dim in ("topic", "agency_type", "state"):
        duck = metrics.breakdown(con.cursor(), f, dim)
        out[f"breakdown({dim})"] = _frames_equal(duck, base.breakdown(f, dim), dim, counts)

    for grain in ("month", "fiscal_year"):
        duck = metrics.volume_series(con.cursor(), f, grain)
        mine = base.volume_series(f, grain)
        out[f"volume_series({grain})"] = _frames_equal(
            duck, mine, "period_start", ["requests", "engagements", "completed"]
        )

    for wave in schema.WAVES:
        duck = metrics.item_outcomes(con.cursor(), f, wave)
        out[f"item_outcomes({wave})"] = _frames_equal(
            duck, base.item_outcomes(f, wave), "item", ["n", "top2_pct", "mean"]
        )

    duck = metrics.kpis_with_comparison(con.cursor(), f)
    mine = base.kpis_with_comparison(f)
    problem = _frames_equal(duck, mine, "metric", ["value", "compared", "previous"])
    if not problem:
        for (_, d), (_, m) in zip(duck.iterrows(), mine.iterrows(), strict=True):
            if len(d["sparkline"]) != len(m["sparkline"]) or not all(
                _close(x, y) for x, y in zip(d["sparkline"], m["sparkline"], strict=False)
            ):
                problem = f"sparkline of {d['metric']} differs"
                break
    out["kpis_with_comparison"] = problem

    duck = metrics.cumulative_engagements(con.cursor(), f)
    mine = base.cumulative_engagements(f)
    duck = duck.assign(requested_on=pd.to_datetime(duck["requested_on"]))
    out["cumulative_engagements"] = _frames_equal(
        duck, mine, "requested_on", ["engagements", "cumulative"]
    )

    duck = metrics.milestones(con.cursor(), f)
    mine = base.milestones(f)
    out["milestones"] = (
        ""
        if list(duck["milestone"]) == list(mine["milestone"])
        and list(duck["engagement_id"]) == list(mine["engagement_id"])
        else "milestones differ"
    )

    duck = metrics.engagements_by_state(con.cursor(), f)
    out["engagements_by_state"] = _frames_equal(
        duck, base.engagements_by_state(f), "state", ["engagements", "agencies"]
    )
    return out
