"""Synthetic agencies: how many, their types, states and sizes, and a real-sounding name for each,
calibrated by ``data/calibration/{places,launch,agencies}.json``.

Names come from one naming method per kind of agency (``_Namer``); a name is reused only when every
candidate for that kind and state is taken, so ids stay unique while names may repeat at large sizes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any, TypeVar

import numpy as np

from .calibration import (
    AGENCY_CAP,
    AGENCY_TYPES,
    BIG_CITY_SWORN_PER_RESIDENT,
    BIG_CITY_Z,
    BIG_COUNTY_POLICE,
    BIG_COUNTY_POLICE_SWORN,
    BIG_SHERIFF_COUNTIES,
    BIG_SHERIFF_SWORN,
    COUNTY_POLICE_STATES,
    DC_AGENCIES,
    ENGAGEMENTS_PER_AGENCY,
    FORCED_TYPE_P,
    HAWAII_POLICE,
    LAUNCH_AGENCIES,
    NO_SHERIFF,
    SERVED_PER_SWORN,
    STATE_POLICE,
    STATE_POP,
    STATE_SECONDARY,
    STATES,
    SWORN,
    TERRITORIAL,
    TERRITORIES,
    TERRITORY_WEIGHTS,
    TRIBAL,
    TYPE_P,
)
from .common import draw
from .places import places

_T = AGENCY_TYPES.index  # type code by name
_X = TypeVar("_X")

# A named agency: (name, type, state, sworn officers, population served or 0 to draw one).
Named = tuple[str, str, str, float, int]

_CAMPUS_TEMPLATES = [
    "University of {state} Police Department",
    "{state} State University Police Department",
    "{city} Community College Police Department",
    "{city} College Department of Public Safety",
]
_SPECIAL_TEMPLATES = [  # "other": special-jurisdiction agencies
    "{city} Housing Authority Police Department",
    "{city} Transit Police Department",
    "{city} Airport Police Department",
    "{city} Public Schools Police Department",
    "Port of {city} Police Department",
]


def agency_count(n: int) -> int:
    """The number of agencies for ``n`` engagements."""
    if n <= 3:
        return n
    return int(min(AGENCY_CAP, max(3, round(n / ENGAGEMENTS_PER_AGENCY))))


def _valid_type(agency_type: str, state: str) -> str:
    if state in TERRITORIES:
        return "territorial"
    if agency_type == "territorial":
        return "municipal"
    if agency_type == "sheriff" and state in NO_SHERIFF:
        return "municipal"
    if agency_type == "county" and state not in COUNTY_POLICE_STATES:
        return "sheriff" if state not in NO_SHERIFF else "municipal"
    if agency_type == "state" and state == "DC":
        return "municipal"
    if agency_type == "tribal" and not any(s == state for _, s in TRIBAL):
        return "municipal"
    return agency_type


def _rotate(seq: list[_X], u: float) -> list[_X]:
    k = int(u * len(seq)) if seq else 0
    return seq[k:] + seq[:k]


def _types_and_states(
    rng: np.random.Generator, count: int, n_launch: int
) -> tuple[list[str], list[str], int]:
    """Type and state of each agency: the launch agencies, one per state/DC, PR, GU, VI, then
    the rest drawn by type and (population-weighted) state.  Also returns the forced count."""
    types = [t for _, t, _, _, _ in LAUNCH_AGENCIES[:n_launch]]
    states = [s for _, _, s, _, _ in LAUNCH_AGENCIES[:n_launch]]
    forced = [*STATES, "PR", "GU", "VI"]
    n_forced = max(0, min(len(forced), count - n_launch))
    forced_types = list(FORCED_TYPE_P)
    ft = draw(rng, [list(FORCED_TYPE_P.values())], np.zeros(n_forced, dtype=np.int64))
    for i in range(n_forced):
        types.append(_valid_type(forced_types[ft[i]], forced[i]))
        states.append(forced[i])
    n_rest = count - len(types)
    type_names = list(TYPE_P)
    rt = draw(rng, [list(TYPE_P.values())], np.zeros(n_rest, dtype=np.int64))
    pop_w = np.array([STATE_POP[s] ** 0.75 for s in STATES])
    state_w = []
    for t in type_names:
        w = pop_w.copy()
        if t == "sheriff":
            w[[STATES.index(s) for s in NO_SHERIFF]] = 0
        elif t == "county":
            w = np.where([s in COUNTY_POLICE_STATES for s in STATES], w, 0.0)
        elif t == "state":
            w = np.where(np.array(STATES) == "DC", 0.0, 1.0)
        state_w.append(w)
    st_pick = draw(rng, np.array(state_w), rt)
    tribal_pick = rng.integers(0, len(TRIBAL), size=n_rest)
    terr_codes = list(TERRITORY_WEIGHTS)
    terr_pick = draw(rng, [list(TERRITORY_WEIGHTS.values())], np.zeros(n_rest, dtype=np.int64))
    for i in range(n_rest):
        t = type_names[rt[i]]
        if t == "tribal":
            s = TRIBAL[tribal_pick[i]][1]
        elif t == "territorial":
            s = terr_codes[terr_pick[i]]
        else:
            s = STATES[st_pick[i]]
        types.append(t)
        states.append(s)
    return types, states, n_forced


class _Namer:
    """Names agencies one at a time, preferring names not yet used.

    Each method takes the agency's drawn type ``t``, state ``s``, size score ``z`` (standard
    normal), default sworn count ``sw`` and uniform numbers ``u0``-``u2`` it needs, and returns
    the agency as ``Named`` (a method may change the type or state, and sets the size of named
    real agencies).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.places = places()
        self.used: set[str] = set()
        self.primary_done: set[str] = set()  # states whose state police is named
        self.city_used: dict[str, set[int]] = {s: set() for s in STATES}
        self.county_next: dict[tuple[str, str, str], int] = {}
        county_set = {s: set(self.places["counties"][s]) for s in STATES}
        self.big_counties: dict[tuple[str, str], list[str]] = {}
        self.small_counties: dict[tuple[str, str], list[str]] = {}
        for t, big_map in (("sheriff", BIG_SHERIFF_COUNTIES), ("county", BIG_COUNTY_POLICE)):
            for s in STATES:
                big = [c for c in big_map.get(s, []) if c in county_set[s]]
                small = [c for c in self.places["counties"][s] if c not in big]
                self.big_counties[t, s] = big
                self.small_counties[t, s] = [small[j] for j in rng.permutation(len(small))]
        self.std = NormalDist()

    def first_free(self, candidates: Iterable[str]) -> str:
        """First candidate name not yet used (the first candidate if all are used)."""
        first = None
        for c in candidates:
            if c not in self.used:
                return c
            first = c if first is None else first
        assert first is not None, "no candidate names"
        return first

    def hawaii_free(self) -> bool:
        return any(a[0] not in self.used for a in HAWAII_POLICE)

    def territorial(self, t: str, s: str, z: float, sw: float, u1: float) -> Named:
        """A territory-wide agency; once all are taken, a Puerto Rico municipal police."""
        free = [a for a in TERRITORIAL[s] if a[0] not in self.used]
        if free:
            name, base, served = free[0]
            return name, t, s, base * math.exp(0.1 * z), served
        pr_cities = _rotate(self.places["pr_cities"], u1)
        city, city_pop = next(
            (c for c in pr_cities if f"{c[0]} Municipal Police" not in self.used), pr_cities[0]
        )
        return (
            f"{city} Municipal Police",
            "municipal",
            "PR",
            min(sw, max(15.0, 0.004 * city_pop)),
            0,
        )

    def dc(self, t: str, s: str, z: float, u0: float) -> Named:
        """One of DC's named agencies, of the drawn type if one is free (the type may change)."""
        pref = [a for a in DC_AGENCIES if a[1] == t] + [a for a in DC_AGENCIES if a[1] != t]
        dc_free = [a for a in pref if a[0] not in self.used]
        name, t, base, served = dc_free[0] if dc_free else pref[int(u0 * len(pref))]
        return name, t, s, base * math.exp(0.1 * z), served

    def tribal(self, t: str, s: str, sw: float, u0: float, may_move: bool) -> Named:
        """A tribal police of the state; if all are taken, one elsewhere when ``may_move``."""
        ordered = _rotate(TRIBAL, u0)
        here = [n for n, st in ordered if st == s and n not in self.used]
        anywhere = [(n, st) for n, st in ordered if n not in self.used]
        if here:
            name = here[0]
        elif anywhere and may_move:
            name, s = anywhere[0]
        else:
            name = next(n for n, st in ordered if st == s)
        return name, t, s, sw, 0

    def state(self, t: str, s: str, z: float, sw: float, u0: float) -> Named:
        """The state police first, then the state's other agencies."""
        state_pop = STATE_POP[s] * 1e6
        served = int(round(state_pop, -1))
        if s not in self.primary_done:
            self.primary_done.add(s)
            return STATE_POLICE[s], t, s, state_pop * 0.00015 * math.exp(0.35 * z), served
        state_name = self.places["states"][s]
        name = self.first_free([o.format(s=state_name) for o in _rotate(STATE_SECONDARY, u0)])
        return name, t, s, 60 * math.exp(0.8 * z), served

    def hawaii(self, s: str, z: float) -> Named:
        """One of Hawaii's four county police departments (call while ``hawaii_free()``)."""
        name, base, served = next(a for a in HAWAII_POLICE if a[0] not in self.used)
        return name, "municipal", s, base * math.exp(0.1 * z), served

    def county(self, t: str, s: str, sw: float, u0: float, u2: float) -> Named:
        """A sheriff's office or county police: a large county only for a large agency."""
        limit = BIG_SHERIFF_SWORN if t == "sheriff" else BIG_COUNTY_POLICE_SWORN
        big, small = self.big_counties[t, s], self.small_counties[t, s]
        nb = self.county_next.get((t, s, "big"), 0)
        if (sw > limit and nb < len(big)) or not small:
            county = big[nb % len(big)]
            self.county_next[t, s, "big"] = nb + 1
            sw = max(sw, limit)
        else:
            ns = self.county_next.get((t, s, "small"), 0)
            county = small[ns % len(small)]
            self.county_next[t, s, "small"] = ns + 1
            sw = min(sw, limit * (0.6 + 0.4 * u2))
        if t == "sheriff":
            suffix = "Sheriff's Office" if u0 < 0.82 else "Sheriff's Department"
            return f"{county} {suffix}", t, s, sw, 0
        return f"{county} Police Department", t, s, sw, 0

    def municipal(
        self, t: str, s: str, z: float, sw: float, u: tuple[float, float, float]
    ) -> Named:
        """A city police department, the city picked by size; far in the size tail, the state's
        biggest free city, staffed like a large-city department."""
        u0, u1, u2 = u
        cities = self.places["cities"][s]
        q = 0.55 * self.std.cdf(z) + 0.45 * u1
        want = min(len(cities) - 1, int(q * len(cities)))
        big_city = z > BIG_CITY_Z
        if big_city:
            want = len(cities) - 1
        free_idx = [j for j in range(len(cities)) if j not in self.city_used[s]]
        j = min(free_idx, key=lambda j: (abs(j - want), j)) if free_idx else want
        self.city_used[s].add(j)
        city, city_pop = cities[j]
        sw = min(sw, max(20.0, 0.0045 * city_pop * (0.8 + 0.4 * u2)))
        if big_city:
            sw = max(sw, BIG_CITY_SWORN_PER_RESIDENT * city_pop * (0.8 + 0.4 * u2))
        suffix = "Police Department" if u0 < 0.95 else "Department of Public Safety"
        return self.first_free([f"{city} {suffix}", f"{city} Police Department"]), t, s, sw, 0

    def special(self, t: str, s: str, sw: float, u: tuple[float, float, float]) -> Named:
        """A campus police or a special-jurisdiction agency (``other``) named after the state or
        one of its cities."""
        u0, u1, u2 = u
        state_name = self.places["states"][s]
        city_names = [c for c, _ in self.places["cities"][s]] or [state_name]
        city = city_names[int(u1 * len(city_names))]
        templates = _rotate(_CAMPUS_TEMPLATES if t == "campus" else _SPECIAL_TEMPLATES, u0)
        city_templates = [o for o in templates if "{city}" in o]
        name = self.first_free(
            itertools.chain(
                (o.format(state=state_name, city=city) for o in templates),
                (
                    o.format(state=state_name, city=c)
                    for c in _rotate(city_names, u2)
                    for o in city_templates
                ),
            )
        )
        return name, t, s, sw, 0

    def name(
        self, t: str, s: str, z: float, u: tuple[float, float, float], may_move: bool
    ) -> Named:
        """Name one drawn (non-launch) agency with the method for its kind."""
        u0, u1, u2 = u
        sw = SWORN[t][0] * math.exp(SWORN[t][1] * z)
        if s in TERRITORIES:
            named = self.territorial(t, s, z, sw, u1)
        elif s == "DC":
            named = self.dc(t, s, z, u0)
        elif t == "tribal":
            named = self.tribal(t, s, sw, u0, may_move)
        elif t == "state":
            named = self.state(t, s, z, sw, u0)
        elif s == "HI" and t in ("municipal", "county") and self.hawaii_free():
            named = self.hawaii(s, z)
        elif t in ("sheriff", "county"):
            named = self.county(t, s, sw, u0, u2)
        else:  # municipal, campus, other (and Hawaii once its four departments are taken)
            if s == "HI" and t in ("municipal", "county"):
                t = "other"
            named = (
                self.municipal(t, s, z, sw, u) if t == "municipal" else self.special(t, s, sw, u)
            )
        self.used.add(named[0])
        return named


def make_agencies(rng: np.random.Generator, count: int) -> dict[str, Any]:
    """Agencies in generation order: 3 launch agencies, one per state/DC, PR, GU, VI, rest."""
    n_launch = min(count, len(LAUNCH_AGENCIES))
    types, states, n_forced = _types_and_states(rng, count, n_launch)
    z_size = rng.standard_normal(count)
    z_ratio = rng.standard_normal(count)
    u_name = rng.random((count, 3))
    namer = _Namer(rng)
    names: list[str] = []
    sworn = np.zeros(count)
    served_fixed = np.zeros(count, dtype=np.int64)
    for i in range(count):
        named: Named
        if i < n_launch:
            named = LAUNCH_AGENCIES[i]
            namer.used.add(named[0])
        else:
            u0, u1, u2 = (float(x) for x in u_name[i])
            may_move = i >= n_launch + n_forced  # a forced agency stays in its state
            named = namer.name(types[i], states[i], float(z_size[i]), (u0, u1, u2), may_move)
        name, t, s, sw, served = named
        names.append(name)
        types[i], states[i] = t, s
        sworn[i] = sw
        served_fixed[i] = served

    type_arr = np.array([_T(t) for t in types], dtype=np.int64)
    sworn_int = np.maximum(1, np.rint(sworn)).astype(np.int64)
    ratio_med = np.array([SERVED_PER_SWORN[t][0] for t in AGENCY_TYPES], float)[type_arr]
    ratio_sig = np.array([SERVED_PER_SWORN[t][1] for t in AGENCY_TYPES], float)[type_arr]
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
