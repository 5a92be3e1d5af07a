"""Survey statistics (issue 12): suppression by respondents, complementary suppression, the
comments browser, matched post vs follow-up, intervals clustered by engagement, levels of
evidence and response rates; each checked against an independent pandas computation on cases
built to break the rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from critac_metrics import db, report
from critac_metrics import metrics as m
from critac_metrics.filters import Filters

from . import reference as ref
from .conftest import ingested

AGENCIES = "agency_id,agency_name,agency_type,state,sworn_officers,population_served\n"
ENGAGEMENTS = (
    "engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,"
    "completed_on,delivery_mode,provider,participants\n"
)
RESPONSES = (
    "response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,"
    "service_delivery,operations_change,would_recommend,comment\n"
)


class Built:
    """A data set written as CSV files and imported: a connection and the reference's rows."""

    def __init__(self, directory: Path, agencies: str, engagements: str, responses: str):
        directory.mkdir(parents=True, exist_ok=True)
        for name, head, body in (
            ("agencies.csv", AGENCIES, agencies),
            ("engagements.csv", ENGAGEMENTS, engagements),
            ("survey_responses.csv", RESPONSES, responses),
        ):
            (directory / name).write_text(head + body, encoding="utf-8")
        self.con = db.connect(ingested(directory, directory / "built.duckdb"))
        self.data = ref.load(directory)

    def close(self) -> None:
        self.con.close()


def agency(i: int, kind: str = "municipal", state: str = "OH") -> str:
    return f"A{i},Agency {i},{kind},{state},40,10000\n"


def engagement(i: int, agency_id: int, day: str = "2024-01-10", topics: str = "De-escalation",
               assistance: str = "training") -> str:  # fmt: skip
    return (
        f"E{i},A{agency_id},{day},completed,{assistance},{topics},2024-01-20,2024-02-01,"
        "virtual,IACP,10\n"
    )


def response(rid: str, eid: int, answers: tuple, wave: str = "post", role: str = "Chief",
             comment: str = "", day: str = "2024-02-05") -> str:  # fmt: skip
    cells = ",".join("" if a is None else str(a) for a in answers)
    return f"{rid},E{eid},{day},{wave},{role},{cells},{comment}\n"


@pytest.fixture
def build(tmp_path):
    made = []

    def _build(agencies: str, engagements: str, responses: str) -> Built:
        world = Built(tmp_path / f"set{len(made)}", agencies, engagements, responses)
        made.append(world)
        return world

    yield _build
    for world in made:
        world.close()


# -- 1. suppression by respondents ------------------------------------------------------------


def test_one_respondent_answering_every_item_is_one_respondent(build):
    """Five answers from one respondent used to pass the threshold of 5 ('100% (n = 5)')."""
    world = build(agency(1), engagement(1, 1), response("R1", 1, (5, 5, 5, 5, 5)))
    got = m.positive_outcome(world.con, Filters())
    want = ref.positive_outcome(world.data, ref.Selection())
    assert got == want
    assert (got["n"], got["answers"], got["suppressed"], got["top2_pct"]) == (1, 5, True, None)
    kpis = m.kpis_with_comparison(world.con, Filters()).set_index("metric")
    assert kpis.loc["positive_outcome_pct", "n"] == 1
    assert pd.isna(kpis.loc["positive_outcome_pct", "value"])
    # one response is below the threshold for the response rate too: no survey % at all
    assert pd.isna(kpis.loc["response_rate", "value"])
    built = report.collect(world.con, Filters())
    shown = {k.name: k for k in built.kpis}
    assert shown["positive_outcome_pct"].value.startswith("suppressed")
    assert "1 respondent" in shown["positive_outcome_pct"].label
    assert shown["response_rate"].value.startswith("suppressed")


def test_five_respondents_pass_the_threshold(build):
    responses = "".join(response(f"R{i}", 1, (5, 4, None, None, 2)) for i in range(5))
    world = build(agency(1), engagement(1, 1), responses)
    got = m.positive_outcome(world.con, Filters())
    assert got == ref.positive_outcome(world.data, ref.Selection())
    assert got["n"] == 5 and got["answers"] == 15 and not got["suppressed"]
    assert got["top2_pct"] == pytest.approx(10 / 15 * 100)
