"""The demo generator's calibration, read from ``data/calibration/*.json``.

Each JSON file holds named tables, each with a ``note`` (what it is), a ``source`` (the published
fact it reflects, or that it is invented) and its ``values``; ``data/README.md`` lists the published
facts.  This module gives every table a typed name; the generator modules read only these names.
Dates are ISO strings in the files and day numbers (days since 1970-01-01) here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..catalogue import TOPICS_CSV

CALIBRATION_DIR = TOPICS_CSV.parent / "calibration"

_EPOCH = np.datetime64("1970-01-01", "D")


def day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


@cache
def _tables(name: str) -> dict[str, Any]:
    path: Path = CALIBRATION_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as f:
        tables: dict[str, Any] = json.load(f)["tables"]
    return tables


def _values(name: str, table: str) -> Any:
    return _tables(name)[table]["values"]


def _rows(name: str, table: str) -> Any:
    """A table of records (JSON arrays) as a list of tuples."""
    return [tuple(row) for row in _values(name, table)]


# The contract's columns and allowed values, in contract order (schema.py is the one source).
AGENCY_COLUMNS = list(schema.AGENCIES.column_names)
ENGAGEMENT_COLUMNS = list(schema.ENGAGEMENTS.column_names)
SURVEY_COLUMNS = list(schema.SURVEY_RESPONSES.column_names)
LIKERT_ITEMS = list(schema.SURVEY_ITEMS)
AGENCY_TYPES = list(schema.AGENCY_TYPES)
STATUSES = list(schema.STATUSES)
ASSISTANCE_TYPES = list(schema.ASSISTANCE_TYPES)
DELIVERY_MODES = list(schema.DELIVERY_MODES)
WAVES = list(schema.WAVES)
TERRITORIES = list(schema.TERRITORIES)

# -- timeline.json ---------------------------------------------------------------------------------
LAUNCH = day(_values("timeline", "launch"))
FIRST_RANDOM_DAY = day(_values("timeline", "first_random_day"))  # after the three launch rows
DATA_END = day(_values("timeline", "data_end"))  # "as of" date of the data set
SURVEY_END = day(_values("timeline", "survey_end"))  # no survey response after this
COVID_START = day(_values("timeline", "covid_start"))
MCSA_JOINS = day(_values("timeline", "mcsa_joins"))
EXPANSION = day(_values("timeline", "expansion"))

# -- places.json (real place names; every record built from them is synthetic) ---------------------
STATE_POP: dict[str, float] = _values("places", "state_population")
STATES = sorted(STATE_POP)  # 50 states + DC
STATE_POLICE: dict[str, str] = _values("places", "state_police")
STATE_SECONDARY: list[str] = _values("places", "state_secondary")
TRIBAL: list[tuple[str, str]] = _rows("places", "tribal")
# Named agencies with a rough size: (name, sworn officers, population served).
TERRITORIAL: dict[str, list[tuple[str, int, int]]] = {
    s: [tuple(a) for a in agencies] for s, agencies in _values("places", "territorial").items()
}
TERRITORY_WEIGHTS: dict[str, float] = _values("places", "territory_weights")
HAWAII_POLICE: list[tuple[str, int, int]] = _rows("places", "hawaii_police")
# (name, type, sworn, population served or 0 for none)
DC_AGENCIES: list[tuple[str, str, int, int]] = _rows("places", "dc_agencies")
# States where the type does not exist; agencies drawn there are made municipal (or sheriff).
NO_SHERIFF: list[str] = _values("places", "no_sheriff")
COUNTY_POLICE_STATES: list[str] = _values("places", "county_police_states")
BORDER_STATES: list[str] = _values("places", "border_states")
# Large counties: the only ones given to sheriffs with more than BIG_SHERIFF_SWORN sworn officers
# (county police: BIG_COUNTY_POLICE_SWORN), and never to smaller agencies.
BIG_SHERIFF_SWORN: int = _values("places", "big_sheriff_sworn")
BIG_COUNTY_POLICE_SWORN: int = _values("places", "big_county_police_sworn")
BIG_SHERIFF_COUNTIES: dict[str, list[str]] = _values("places", "big_sheriff_counties")
BIG_COUNTY_POLICE: dict[str, list[str]] = _values("places", "big_county_police")

# -- launch.json: the first three engagements (published agencies; sizes and dates made up) ---------
# (name, type, state, sworn, population served)
LAUNCH_AGENCIES: list[tuple[str, str, str, int, int]] = _rows("launch", "agencies")
# (requested, started, completed, assistance, provider, mode, participants)
LAUNCH_ROWS: list[tuple[str, str, str, str, str, str, int]] = _rows("launch", "engagements")

# -- agencies.json ---------------------------------------------------------------------------------
AGENCY_CAP: int = _values("agencies", "agency_cap")  # about the number of US agencies (FBI)
ENGAGEMENTS_PER_AGENCY: float = _values("agencies", "engagements_per_agency")
TYPE_P: dict[str, float] = _values("agencies", "type_p")
FORCED_TYPE_P: dict[str, float] = _values(
    "agencies", "forced_type_p"
)  # one per state/DC, PR, GU, VI
SWORN: dict[str, list[float]] = _values("agencies", "sworn")  # lognormal (median, sigma)
BIG_CITY_Z: float = _values("agencies", "big_city_z")
BIG_CITY_SWORN_PER_RESIDENT: float = _values("agencies", "big_city_sworn_per_resident")
SERVED_PER_SWORN: dict[str, list[float]] = _values("agencies", "served_per_sworn")

# -- topics.json (weights are relative; topics missing from TOPIC_BASE get weight 1) ----------------
REQUIRED_TOPICS: list[str] = _values("topics", "required_topics")
TOPIC_BASE: dict[str, float] = _values("topics", "topic_base")
TOPIC_PERIOD_STARTS = [day(d) for d in _values("topics", "period_starts")]
TOPIC_PERIOD_MULT: dict[str, list[float]] = _values("topics", "period_mult")
TOPIC_TYPE_MULT: dict[str, dict[str, float]] = _values("topics", "type_mult")
TRIBAL_TOPIC_WEIGHT: dict[str, float] = _values("topics", "tribal_topic_weight")
BORDER_TOPIC_WEIGHT: float = _values("topics", "border_topic_weight")
TOPIC_COUNT_P: list[float] = _values("topics", "topic_count_p")  # 1, 2 or 3 topics

# -- engagements.json ------------------------------------------------------------------------------
VOLUME_ANCHORS: list[tuple[str, float]] = _rows("engagements", "volume_anchors")
EARLY_SIZE_PULL: float = _values("engagements", "early_size_pull")
PROVIDERS: list[str] = _values("engagements", "providers")
PROVIDER_BASE: dict[str, list[float]] = _values("engagements", "provider_base")  # by PROVIDERS
PROVIDER_TOPIC: dict[str, dict[str, float]] = _values("engagements", "provider_topic")
ASSIST_PERIOD_STARTS = [day(d) for d in _values("engagements", "assist_period_starts")]
ASSIST_BASE = np.array(_values("engagements", "assist_base"))  # period x ASSISTANCE_TYPES
ASSIST_TOPIC: dict[str, dict[str, float]] = _values("engagements", "assist_topic")
# Delivery mode by assistance type x period: (virtual, onsite, hybrid).
MODE: dict[str, list[list[float]]] = _values("engagements", "mode")
MIXED_MODE: list[str] = _values("engagements", "mixed_mode")
START_LAG: dict[str, list[float]] = _values("engagements", "start_lag")  # offset, shape, scale
DURATION: dict[str, list[float]] = _values("engagements", "duration")  # base, shape, scale
PARTICIPANTS_MEDIAN: dict[str, float] = _values("engagements", "participants_median")

# -- surveys.json (reference group: training, post wave) ------------------------------------------
LIKERT_TARGET: dict[str, list[float]] = _values("surveys", "likert_target")  # top2, 5, <=2, 1
LIKERT_FOLLOW_UP_SHIFT: dict[str, float] = _values("surveys", "follow_up_shift")
LIKERT_ASSIST_SHIFT: dict[str, float] = _values("surveys", "assist_shift")
LIKERT_MISSING: dict[str, list[float]] = _values("surveys", "missing")  # (post, follow_up)
SD_ENGAGEMENT: float = _values("surveys", "sd")["engagement"]
SD_RESPONDENT: float = _values("surveys", "sd")["respondent"]
SD_ITEM: float = _values("surveys", "sd")["item"]
ROLES: list[str] = _values("surveys", "roles")
# (first respondent, additional respondents) by agency type
ROLE_WEIGHTS: dict[str, list[dict[str, float]]] = dict(_values("surveys", "role_weights"))
for _t in ("county", "territorial", "other"):
    ROLE_WEIGHTS[_t] = ROLE_WEIGHTS["municipal"]
COMMENT_POOLS: list[list[str]] = [
    _values("surveys", "comments_post_positive"),
    _values("surveys", "comments_post_neutral"),
    _values("surveys", "comments_post_negative"),
    _values("surveys", "comments_follow_up_positive"),
    _values("surveys", "comments_follow_up_negative"),
]
SPECIAL_COMMENTS: list[str] = _values("surveys", "special_comments")
