"""Survey responses to completed engagements: who answers and when, the Likert answers and the
comments, calibrated by ``data/calibration/surveys.json``."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from .calibration import (
    AGENCY_TYPES,
    ASSISTANCE_TYPES,
    COMMENT_POOLS,
    LIKERT_ASSIST_SHIFT,
    LIKERT_FOLLOW_UP_SHIFT,
    LIKERT_ITEMS,
    LIKERT_MISSING,
    LIKERT_TARGET,
    ROLE_WEIGHTS,
    ROLES,
    SD_ENGAGEMENT,
    SD_ITEM,
    SD_RESPONDENT,
    SPECIAL_COMMENTS,
    SURVEY_END,
)
from .common import draw

_A = ASSISTANCE_TYPES.index


def _likert_thresholds() -> dict[str, np.ndarray]:
    sd = math.sqrt(SD_ENGAGEMENT**2 + SD_RESPONDENT**2 + SD_ITEM**2)
    nd = NormalDist()
    out: dict[str, np.ndarray] = {}
    for item, (top2, top1, bottom2, bottom1) in LIKERT_TARGET.items():
        cum = [bottom1, bottom2, 1 - top2, 1 - top1]  # P(score <= 1..4)
        out[item] = np.array([sd * nd.inv_cdf(c) for c in cum])
    return out


def make_surveys(rng: np.random.Generator, eng: dict[str, Any]) -> dict[str, Any]:
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
    q = rng.normal(0.0, SD_ENGAGEMENT, n_done)[owner]
    halo = rng.normal(0.0, SD_RESPONDENT, n_resp)
    shift = np.array([LIKERT_ASSIST_SHIFT[a] for a in ASSISTANCE_TYPES])[assist[owner]]
    cuts = _likert_thresholds()
    scores: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for item in LIKERT_ITEMS:
        z = q + halo + shift + rng.normal(0.0, SD_ITEM, n_resp)
        z = z + np.where(is_fu, LIKERT_FOLLOW_UP_SHIFT[item], 0.0)
        scores[item] = 1 + np.searchsorted(cuts[item], z, side="right")
        p_miss = np.where(is_fu, LIKERT_MISSING[item][1], LIKERT_MISSING[item][0])
        present[item] = rng.random(n_resp) >= p_miss

    # Respondent roles by agency type; the first respondent is more often the agency head.
    a_type = eng["a_type"][done][owner]
    role_table = np.zeros((len(AGENCY_TYPES) * 2, len(ROLES)))
    for ti, t_name in enumerate(AGENCY_TYPES):
        for j, weights in enumerate(ROLE_WEIGHTS[t_name]):
            for role_name, w in weights.items():
                role_table[ti * 2 + j, ROLES.index(role_name)] = w
    role = draw(rng, role_table, a_type * 2 + (respondent_no > 0))

    # Comments.
    sat = np.where(present["satisfaction"], scores["satisfaction"], 4)
    sentiment = np.where(sat >= 4, 0, np.where(sat == 3, 1, 2))
    pool_key = np.where(is_fu, np.where(sentiment == 0, 3, 4), sentiment)
    pool_sizes = [len(p) for p in COMMENT_POOLS]
    comment_table = np.zeros((len(COMMENT_POOLS), sum(pool_sizes)))
    start = 0
    for j, size in enumerate(pool_sizes):
        comment_table[j, start : start + size] = 1.0
        start += size
    comment = draw(rng, comment_table, pool_key)
    has_comment = rng.random(n_resp) < np.where(is_fu, 0.35, 0.28)
    comment = np.where(has_comment, comment, -1)
    comment_texts = [c for pool in COMMENT_POOLS for c in pool] + SPECIAL_COMMENTS
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
