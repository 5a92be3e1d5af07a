"""Requests and their course: dates, agencies, topics, assistance, delivery, provider, timeline,
status and participants, calibrated by ``data/calibration/{timeline,topics,engagements}.json``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..catalogue import TOPICS_CSV
from .calibration import (
    AGENCY_TYPES,
    ASSIST_BASE,
    ASSIST_PERIOD_STARTS,
    ASSIST_TOPIC,
    ASSISTANCE_TYPES,
    BORDER_STATES,
    BORDER_TOPIC_WEIGHT,
    COVID_START,
    DATA_END,
    DELIVERY_MODES,
    DURATION,
    EARLY_SIZE_PULL,
    FIRST_RANDOM_DAY,
    LAUNCH_ROWS,
    MCSA_JOINS,
    MIXED_MODE,
    MODE,
    PARTICIPANTS_MEDIAN,
    PROVIDER_BASE,
    PROVIDER_TOPIC,
    PROVIDERS,
    REQUIRED_TOPICS,
    START_LAG,
    STATUSES,
    TOPIC_BASE,
    TOPIC_COUNT_P,
    TOPIC_PERIOD_MULT,
    TOPIC_PERIOD_STARTS,
    TOPIC_TYPE_MULT,
    TRIBAL_TOPIC_WEIGHT,
    VOLUME_ANCHORS,
    day,
)
from .common import draw, period

_T = AGENCY_TYPES.index  # code by name
_A = ASSISTANCE_TYPES.index
_P = PROVIDERS.index


def _daily_volume() -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(FIRST_RANDOM_DAY, DATA_END + 1, dtype=np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    anchor_m = np.array([np.datetime64(m, "M").astype(np.int64) for m, _ in VOLUME_ANCHORS])
    anchor_v = np.array([v for _, v in VOLUME_ANCHORS], float)
    level = np.interp(months, anchor_m, anchor_v)
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    level = level * np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.12, 0.08))
    # Fewer requests over the year-end holidays.
    md = days.astype("datetime64[D]") - days.astype("datetime64[D]").astype("datetime64[Y]")
    yday = md.astype(np.int64)
    level = level * np.where((yday >= 354) | (yday <= 1), 0.4, 1.0)
    return days, level / level.sum()


def _topic_tables(catalogue: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    topics = catalogue["topic"].tolist()
    missing = [t for t in REQUIRED_TOPICS if t not in topics]
    if missing:
        raise ValueError(f"{TOPICS_CSV} lacks required topics: {missing}")
    k = len(topics)
    base = np.array([float(TOPIC_BASE.get(t, 1.0)) for t in topics])
    n_periods = len(TOPIC_PERIOD_STARTS) + 1
    n_keys = len(AGENCY_TYPES) + 1  # + border sheriff
    table = np.zeros((n_periods * n_keys, k))
    tribal_i = topics.index("Tribal Law Enforcement")
    border_i = topics.index("Border Sheriff Training")
    for p in range(n_periods):
        pmult = np.array([TOPIC_PERIOD_MULT.get(t, (1,) * n_periods)[p] for t in topics], float)
        for key in range(n_keys):
            tname = AGENCY_TYPES[key] if key < len(AGENCY_TYPES) else "sheriff"
            tmult = np.array([TOPIC_TYPE_MULT.get(tname, {}).get(t, 1.0) for t in topics])
            w = base * pmult * tmult
            w[tribal_i] = TRIBAL_TOPIC_WEIGHT.get(tname, 0.0)
            w[border_i] = BORDER_TOPIC_WEIGHT if key == len(AGENCY_TYPES) else 0.0
            table[p * n_keys + key] = w
    groups = catalogue["topic_group"].to_numpy()
    same_group = (groups[:, None] == groups[None, :]).astype(float)
    return topics, table, same_group, n_keys


def _requests(
    rng: np.random.Generator, n: int, n_fixed: int, ag: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Request days (in order) and the requesting agency of each engagement."""
    n_ag = len(ag["name"])
    m = n - n_fixed
    # Request dates.
    days, p = _daily_volume()
    req = np.empty(n, dtype=np.int64)
    req[:n_fixed] = [day(r[0]) for r in LAUNCH_ROWS[:n_fixed]]
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
    early_key = EARLY_SIZE_PULL * np.log(ag["sworn"][n_fixed:] + 10.0) + rng.gumbel(size=first)
    agency[np.sort(slots[:first])] = n_fixed + np.argsort(-early_key, kind="stable")
    propensity = rng.lognormal(0.0, 1.0, n_ag) * (ag["sworn"] + 10.0) ** 0.35
    extra = m - first
    if extra > 0:
        agency[slots[first:]] = draw(rng, propensity[None, :], np.zeros(extra, dtype=np.int64))
    return req, agency


def _type_keys(ag: dict[str, Any], agency: np.ndarray) -> np.ndarray:
    """The topic-weight row of each engagement's agency: its type, or border sheriff."""
    a_type = ag["type"][agency]
    in_border_state = np.array([s in BORDER_STATES for s in ag["state"]], dtype=bool)
    border_agency = in_border_state & (ag["type"] == _T("sheriff"))
    return np.where(border_agency[agency], len(AGENCY_TYPES), a_type)


def _topics(
    rng: np.random.Generator,
    req: np.ndarray,
    type_key: np.ndarray,
    n_fixed: int,
    catalogue: pd.DataFrame,
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Topic names, each engagement's primary topic, and its topic list as a code into the
    distinct lists' names (1 to 3 topics, the primary first)."""
    n = req.size
    topics, table, same_group, n_keys = _topic_tables(catalogue)
    k = len(topics)
    t_period = period(req, TOPIC_PERIOD_STARTS)
    gkey = t_period * n_keys + type_key
    primary = draw(rng, table, gkey)
    n_topics = 1 + draw(rng, [TOPIC_COUNT_P], np.zeros(n, dtype=np.int64))
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
    second[rows2] = draw(rng, sec_table, sec_key[rows2])
    rows3 = np.flatnonzero(n_topics >= 3)
    third[rows3] = draw(rng, sec_table, sec_key[rows3])
    for _ in range(50):
        clash = rows3[third[rows3] == second[rows3]]
        if clash.size == 0:
            break
        third[clash] = draw(rng, sec_table, sec_key[clash])
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
    return topics, primary, combo_code, combo_names


def _assistance(
    rng: np.random.Generator, req: np.ndarray, primary: np.ndarray, topics: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Assistance period and assistance type of each engagement."""
    k = len(topics)
    # Assistance type by period and primary topic.
    a_period = period(req, ASSIST_PERIOD_STARTS)
    assist_table = np.repeat(ASSIST_BASE, k, axis=0).reshape(3, k, len(ASSISTANCE_TYPES)).copy()
    for t_name, mult in ASSIST_TOPIC.items():
        if t_name in topics:
            for a_name, f in mult.items():
                assist_table[:, topics.index(t_name), _A(a_name)] *= f
    assist = draw(rng, assist_table.reshape(-1, len(ASSISTANCE_TYPES)), a_period * k + primary)
    return a_period, assist


def _delivery_mode(
    rng: np.random.Generator, a_period: np.ndarray, assist: np.ndarray
) -> np.ndarray:
    # Delivery mode by period and assistance type.
    mode_table = np.array([[MODE[a][p] for a in ASSISTANCE_TYPES] for p in range(3)], float)
    return draw(rng, mode_table.reshape(-1, 3), a_period * len(ASSISTANCE_TYPES) + assist)


def _provider(
    rng: np.random.Generator,
    req: np.ndarray,
    a_type: np.ndarray,
    primary: np.ndarray,
    topics: list[str],
) -> np.ndarray:
    k = len(topics)
    # Provider by agency type, primary topic and whether MCSA had joined.
    prov_table = np.zeros((2, len(AGENCY_TYPES), k, len(PROVIDERS)))
    for ti, t_name in enumerate(AGENCY_TYPES):
        prov_table[:, ti, :, :] = np.array(PROVIDER_BASE[t_name], float)
    for t_name, mult in PROVIDER_TOPIC.items():
        if t_name in topics:
            for p_name, f in mult.items():
                prov_table[:, :, topics.index(t_name), _P(p_name)] *= f
    prov_table[0, :, :, _P("MCSA")] = 0.0
    mcsa_era = (req >= MCSA_JOINS).astype(np.int64)
    return draw(
        rng,
        prov_table.reshape(-1, len(PROVIDERS)),
        (mcsa_era * len(AGENCY_TYPES) + a_type) * k + primary,
    )


def _timeline(
    rng: np.random.Generator, req: np.ndarray, assist: np.ndarray, mode: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and completion days and the status as of DATA_END."""
    n = req.size
    # Timeline.
    approve = req + 5 + np.rint(rng.gamma(2.0, 7.0, n)).astype(np.int64)
    s_off, s_shape, s_scale = (
        np.array([START_LAG[a][j] for a in ASSISTANCE_TYPES], float)[assist] for j in range(3)
    )
    start = approve + s_off.astype(np.int64) + np.rint(rng.gamma(s_shape, s_scale)).astype(np.int64)
    in_person = mode != DELIVERY_MODES.index("virtual")
    covid_hold = in_person & (start >= COVID_START) & (start < day("2020-09-01"))
    start = np.where(covid_hold, day("2020-09-01") + rng.integers(0, 120, n), start)
    d_base, d_shape, d_scale = (
        np.array([DURATION[a][j] for a in ASSISTANCE_TYPES], float)[assist] for j in range(3)
    )
    duration = d_base.astype(np.int64) + np.rint(rng.gamma(d_shape, d_scale)).astype(np.int64)
    complete = start + duration
    decided = req + 7 + np.rint(rng.gamma(2.0, 10.0, n)).astype(np.int64)
    withdraw_on = approve + np.rint(rng.gamma(2.0, 30.0, n)).astype(np.int64)
    covid_req = (req >= COVID_START) & (req < day("2020-10-01"))
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
    return start, complete, status


def _participants(
    rng: np.random.Generator,
    ag: dict[str, Any],
    agency: np.ndarray,
    assist: np.ndarray,
    status: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Participants and whether the number is recorded."""
    n = agency.size
    # Participants.
    sworn = np.where(ag["sworn_present"], ag["sworn"], 50)[agency]
    p_med = np.array([PARTICIPANTS_MEDIAN[a] for a in ASSISTANCE_TYPES], float)[assist]
    participants = np.rint(p_med * (sworn / 50.0) ** 0.15 * rng.lognormal(0.0, 0.6, n))
    participants = np.clip(participants, 1, 400).astype(np.int64)
    u_part = rng.random(n)
    part_present = ((status == STATUSES.index("completed")) & (u_part < 0.94)) | (
        (status == STATUSES.index("in_progress")) & (u_part < 0.35)
    )
    return participants, part_present


def make_engagements(
    rng: np.random.Generator, n: int, ag: dict[str, Any], catalogue: pd.DataFrame
) -> dict[str, Any]:
    """Engagements in request order; the first ones are the launch engagements."""
    n_fixed = min(n, len(LAUNCH_ROWS))
    req, agency = _requests(rng, n, n_fixed, ag)
    a_type = ag["type"][agency]
    topics, primary, combo_code, combo_names = _topics(
        rng, req, _type_keys(ag, agency), n_fixed, catalogue
    )
    a_period, assist = _assistance(rng, req, primary, topics)
    mode = _delivery_mode(rng, a_period, assist)
    provider = _provider(rng, req, a_type, primary, topics)
    start, complete, status = _timeline(rng, req, assist, mode)
    participants, part_present = _participants(rng, ag, agency, assist, status)

    # Mode left blank sometimes where it is not implied by the assistance type.
    mixed = np.isin(assist, [_A(a) for a in MIXED_MODE])
    u_mode = rng.random(n)
    undecided = np.isin(status, [STATUSES.index(s) for s in ("requested", "declined", "withdrawn")])
    mode = np.where(mixed & ((undecided & (u_mode < 0.45)) | (u_mode < 0.01)), -1, mode)

    # The three launch engagements.
    for i in range(n_fixed):
        r = LAUNCH_ROWS[i]
        start[i], complete[i] = day(r[1]), day(r[2])
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
