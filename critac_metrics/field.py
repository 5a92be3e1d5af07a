"""The whole field: how many US law-enforcement agencies there are, for reach as a share.

The denominators come from the Bureau of Justice Statistics' Census of State and Local Law
Enforcement Agencies (CSLLEA), 2018, as published in the highlights of its Statistical Tables
(``data/bjs_csllea_2018.csv`` quotes each figure with its source). Only what that source states is
shipped: the national total (17,541 agencies in June 2018) and each category's share of it, rounded
to a whole percent. A category's count is therefore known only to within half a percentage point of
the total (about 88 agencies), and a share of it is given with that range. Counts by state are not
shipped: they are in the report's appendix tables, which could not be quoted here (data/README.md).

The project's agency types map to the census categories as below (``BJS_CATEGORY``). The mapping is
approximate: BJS counts county police departments as local police; campus, transit, park and other
agencies with a special jurisdiction, tribal police and primary state agencies fall in one group
with constables and marshals; and the census counts agencies with at least one full-time-equivalent
sworn officer with general arrest powers, so a small campus or tribal agency served by CRI-TAC may
be outside it. Territorial agencies, and agencies in the territories, are left out of the numerator:
the census counts the agencies of the states and DC.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from . import schema

CENSUS_FILE = Path(__file__).resolve().parent.parent / "data" / "bjs_csllea_2018.csv"
CENSUS_YEAR = 2018
CENSUS_NAME = "BJS Census of State and Local Law Enforcement Agencies, 2018"

BJS_CATEGORY: dict[str, str | None] = {
    "municipal": "local_police",
    "county": "local_police",
    "sheriff": "sheriff",
    "state": "state_tribal_special",
    "tribal": "state_tribal_special",
    "campus": "state_tribal_special",
    "other": "state_tribal_special",
    "territorial": None,  # outside the census (states and DC)
}
CATEGORIES = ("local_police", "sheriff", "state_tribal_special")
assert set(BJS_CATEGORY) == set(schema.AGENCY_TYPES)
OUTSIDE_STATES = tuple(schema.TERRITORIES)


@dataclass(frozen=True)
class Denominator:
    category: str
    label: str
    share_pct: float  # of all agencies, as published (rounded to a whole percent)
    agencies: int | None  # an exact published count, or None
    low: float  # the fewest agencies the rounded share allows
    high: float  # the most
    source: str


def census() -> dict[str, Denominator]:
    """The shipped denominators by category (``all`` for every agency), from the data file."""
    with CENSUS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(int(r["agencies"]) for r in rows if r["category"] == "all")
    out = {}
    for r in rows:
        share = float(r["share_pct"])
        exact = int(r["agencies"]) if r["agencies"] else None
        if exact is not None:
            low = high = float(exact)
        else:  # a whole-percent share: the true share is within half a point of it
            low = math.ceil((share - 0.5) / 100 * total)
            high = math.floor((share + 0.5) / 100 * total)
        out[r["category"]] = Denominator(
            r["category"], r["label"], share, exact, low, high, r["source"]
        )
    return out
