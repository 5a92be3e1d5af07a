"""The dashboard's metric cache takes the metric function itself (a misspelt name fails in mypy and
on import, not in front of a reader) and keys it by the function's qualified name, its arguments
and the data version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st

from critac_metrics import db, metrics
from critac_metrics.filters import Filters

CALLS: list[str] = []


def counted_headline(con, filters, **kwargs):
    CALLS.append("headline")
    return metrics.headline(con, filters)


def counted_reach(con, filters, **kwargs):
    CALLS.append("reach")
    return metrics.reach(con, filters)


@pytest.fixture
def data(monkeypatch, tmp_path, tiny_db):
    from dashboard import data

    target = tmp_path / "critac.duckdb"
    shutil.copyfile(tiny_db, target)
    monkeypatch.setenv("CRITAC_DB", str(target))
    st.cache_data.clear()
    CALLS.clear()
    yield data
    st.cache_data.clear()


def _direct(path: Path, fn, filters: Filters, **kwargs):
    con = db.connect(path)
    try:
        return fn(con, filters, **kwargs)
    finally:
        con.close()


def test_a_metric_by_reference_gives_the_metric(data):
    path = data.database_path()
    for filters in (Filters(), Filters(agency_types=("campus",))):
        assert data.metric(metrics.headline, filters) == _direct(path, metrics.headline, filters)
    by_topic = data.metric(metrics.breakdown, Filters(), dimension="topic")
    assert by_topic.equals(_direct(path, metrics.breakdown, Filters(), dimension="topic"))


def test_names_are_no_longer_accepted(data):
    with pytest.raises(AttributeError):
        data.metric("headline", Filters())


def test_cached_by_function_and_arguments(data):
    everyone, campus = Filters(), Filters(agency_types=("campus",))
    first = data.metric(counted_headline, everyone)
    assert data.metric(counted_headline, everyone) == first
    assert CALLS == ["headline"]  # the second call came from the cache
    # Same arguments, another function: its own entry, not the first function's result.
    reach = data.metric(counted_reach, everyone)
    assert CALLS == ["headline", "reach"] and reach != first
    # Same function, other arguments: computed again.
    data.metric(counted_headline, campus)
    data.metric(counted_headline, everyone, unused=1)
    assert CALLS == ["headline", "reach", "headline", "headline"]


# -- metrics computed ahead, in the background, while a page draws ------------------------------


def failing(con, filters, **kwargs):
    CALLS.append("failing")
    raise LookupError("no such figure")


def test_a_metric_computed_ahead_is_computed_once_and_is_the_same(data):
    everyone = Filters()
    data.ahead(everyone, (counted_headline, {}), (counted_reach, {}))
    assert data.metric(counted_reach, everyone) == _direct(
        data.database_path(), metrics.reach, everyone
    )
    assert data.metric(counted_headline, everyone) == _direct(
        data.database_path(), metrics.headline, everyone
    )
    assert sorted(CALLS) == ["headline", "reach"]  # computed ahead (or, not started, at once)
    keys = [data._key(fn, everyone, {}, data.version()) for fn in (counted_headline, counted_reach)]
    assert not set(keys) & set(data._AHEAD)  # both taken
    # Asked for ahead again: cached, so not computed again.
    data.ahead(everyone, (counted_headline, {}), (counted_reach, {}))
    assert not set(keys) & set(data._AHEAD)
    data.metric(counted_headline, everyone)
    assert sorted(CALLS) == ["headline", "reach"]


def test_a_wrong_guess_costs_a_query_not_a_wrong_figure(data):
    campus = Filters(agency_types=("campus",))
    data.ahead(campus, (metrics.breakdown, {"dimension": "topic"}))
    got = data.metric(metrics.breakdown, campus, dimension="agency_type")  # the widget changed
    want = _direct(data.database_path(), metrics.breakdown, campus, dimension="agency_type")
    assert got.equals(want)


def test_a_cleared_cache_is_computed_ahead_again(data):
    everyone = Filters()
    data.metric(counted_headline, everyone)
    st.cache_data.clear()
    data.ahead(everyone, (counted_headline, {}))
    key = data._key(counted_headline, everyone, {}, data.version())
    assert key in data._AHEAD
    data.metric(counted_headline, everyone)
    assert CALLS == ["headline", "headline"] and key not in data._AHEAD


def test_an_error_ahead_is_raised_where_the_metric_is_asked_for(data):
    data.ahead(Filters(), (failing, {}))
    with pytest.raises(LookupError, match="no such figure"):
        data.metric(failing, Filters())
    assert CALLS == ["failing"]


def test_a_metric_ahead_is_filed_under_the_version_its_query_reads(data, monkeypatch):
    """An import published while ``ahead`` files its calls must not put the old file's results
    under the new version's key (the cache would keep them for every viewer)."""
    real = data.version()
    asked = []

    def version():
        asked.append(1)
        return real if len(asked) == 1 else (real[0] + 1, real[1])  # published meanwhile

    monkeypatch.setattr(data, "version", version)
    monkeypatch.setattr(data, "_AHEAD", type(data._AHEAD)())
    data.ahead(Filters(), (counted_headline, {}), (counted_reach, {}))
    assert len(data._AHEAD) == 2
    assert {key[3] for key in data._AHEAD} == {real}


def test_work_ahead_nobody_will_take_is_cancelled_not_queued(data, monkeypatch):
    """Beyond the kept results, a job not started yet is cancelled (it would only hold the pool
    and an old connection)."""
    import threading

    monkeypatch.setattr(data, "_AHEAD_MAX", 2)
    monkeypatch.setattr(data, "_AHEAD", type(data._AHEAD)())
    busy = threading.Event()
    blockers = [data._AHEAD_POOL.submit(busy.wait, 30) for _ in range(2)]  # both workers busy
    submitted = []
    submit = data._AHEAD_POOL.submit
    monkeypatch.setattr(data._AHEAD_POOL, "submit", lambda *a, **k: submitted.append(
        submit(*a, **k)) or submitted[-1])  # fmt: skip
    try:
        dimensions = ("topic", "agency_type", "state", "assistance_type")
        data.ahead(Filters(), *((metrics.breakdown, {"dimension": d}) for d in dimensions))
        kept = list(data._AHEAD.values())
        assert len(submitted) == 4 and len(kept) == 2
        assert [f.cancelled() for f in submitted] == [True, True, False, False]
        assert kept == submitted[2:]
    finally:
        busy.set()
        for blocker in blockers:
            blocker.result(timeout=30)
