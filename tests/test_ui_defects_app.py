"""Issue 14's defects on the server side (AppTest): the Data page's tiles follow the filters, one
empty state on every page, one label per value, the presenter's Report page."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics import charts, db, metrics, registry, render, report, schema
from critac_metrics.filters import Filters
from dashboard import show
from dashboard.pages import PAGES

from . import app_charts
from .conftest import ROOT, unescape

TIMEOUT = 60
EMPTY = (  # the one empty state, word for word on every page
    "No engagements match these filters. Widen the date range or clear a filter "
    "(Reset filters in the sidebar)."
)


def _open(monkeypatch, demo_db, page: str, **params) -> AppTest:
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page != PAGES[0].path:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _headline(demo_db, filters: Filters) -> dict:
    con = db.connect(demo_db)
    try:
        return metrics.headline(con, filters)
    finally:
        con.close()


# -- 2. the Data page's tiles ---------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"agency_type": "tribal"}], ids=["all", "tribal"])
def test_data_page_tiles_follow_the_filters_with_the_registry_labels(monkeypatch, demo_db, params):
    at = _open(monkeypatch, demo_db, "views/data.py", **params)
    filters = Filters(agency_types=tuple(params.values()))
    head = _headline(demo_db, filters)
    tiles = {m.label: (m.value, m.help) for m in at.metric}
    for name in ("requests", "engagements", "agencies_served", "survey_responses"):
        metric = registry.METRICS[name]
        assert tiles[metric.label] == (metric.format(head[name]), metric.description), name
    if params:  # the filter changes the figures (they are not the whole store's row counts)
        assert head["engagements"] < _headline(demo_db, Filters())["engagements"]
    # "Engagements" counts engagements (declined and withdrawn excluded), not requests.
    assert head["engagements"] != head["requests"]


# -- 7. one empty state ---------------------------------------------------------------------------


def _requests_but_no_engagements(demo_db) -> tuple[str, str]:
    """The first (state, assistance type) whose requests were all declined, withdrawn or are
    still awaiting approval (read with plain SQL on the records, not the metrics)."""
    con = db.connect(demo_db)
    try:
        row = con.execute(
            """select a.state, e.assistance_type from engagements e join agencies a using (agency_id)
            group by all
            having bool_and(e.status in ('declined', 'withdrawn', 'requested'))
            order by all limit 1"""
        ).fetchone()
    finally:
        con.close()
    assert row is not None, "the demo data has no such selection"
    return str(row[0]), str(row[1])


@pytest.mark.parametrize("page", [p.path for p in PAGES], ids=[p.title for p in PAGES])
def test_every_page_shows_the_same_empty_state(monkeypatch, demo_db, page):
    # A selection with requests, none of which became an engagement (found in the demo data).
    state, assistance = _requests_but_no_engagements(demo_db)
    head = _headline(demo_db, Filters(states=(state,), assistance_types=(assistance,)))
    assert head["requests"] > 0 and head["engagements"] == 0
    at = _open(monkeypatch, demo_db, page, state=state, assistance_type=assistance)
    assert [i.value for i in at.info if i.value.startswith(EMPTY[:20])] == [EMPTY]
    assert not app_charts.charts(at), "no chart of zeros"
    assert not [m for m in at.metric if m.value in ("0", "–", "—")], "no tiles of 0 and –"


# -- 9. the presenter's Report page ---------------------------------------------------------------


def _report_page(monkeypatch, demo_db) -> AppTest:
    # Without a renderer the HTML download is still offered: enough to see the buttons stay.
    monkeypatch.setattr(render, "available", lambda: False)
    monkeypatch.setattr(render, "start", _no_chromium)
    return _open(monkeypatch, demo_db, "views/report.py")


def _no_chromium():
    raise render.ChromiumMissing()


def _exports(at: AppTest) -> list[str]:
    return [b.label for b in at.download_button if not (b.key or "").startswith("report_preview")]


def test_report_downloads_stay_after_a_filter_change(monkeypatch, demo_db):
    at = _report_page(monkeypatch, demo_db)
    at.multiselect(key="report_sections").set_value(["pipeline"]).run()
    at.button(key="report_build").click().run()
    assert _exports(at) == ["HTML report (opens offline)"]
    at.sidebar.multiselect(key="w_agency_types").set_value(["tribal"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _exports(at) == ["HTML report (opens offline)"], "the buttons disappeared"
    built_for = [w.value for w in at.warning if "built for" in w.value]
    assert len(built_for) == 1 and "build again" in built_for[0]
    at.sidebar.multiselect(key="w_agency_types").set_value([]).run()  # back to the built view
    assert _exports(at) == ["HTML report (opens offline)"]
    assert not [w.value for w in at.warning if "built for" in w.value]


def test_report_preview_shows_every_chart_of_the_chosen_sections(monkeypatch, demo_db):
    at = _report_page(monkeypatch, demo_db)
    for sections in (list(report.SECTIONS), ["reach", "pipeline"]):
        at.multiselect(key="report_sections").set_value(sections).run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(app_charts.charts(at)) == report.chart_count(sections) > 1


def test_the_toolbar_is_for_viewers(tmp_path):
    """No "Deploy" button or developer options: Streamlit itself reads the project's config."""
    code = "from streamlit import config; print(config.get_option('client.toolbarMode'))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "HOME": str(tmp_path)},  # no ~/.streamlit/config.toml of the user's
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "viewer"


def test_timeliness_labels_sit_at_the_median_not_the_whisker(demo_db):
    con = db.connect(demo_db)
    try:
        frame = metrics.timeliness(con, Filters(), "assistance_type")
    finally:
        con.close()
    fig = charts.timeliness(frame, "assistance_type")
    bars = [t for t in fig.data if t.type == "bar"]
    labels = [t for t in fig.data if t.type == "scatter"]
    for bar, label in zip(bars, labels, strict=True):
        assert list(label.x) == pytest.approx(list(bar.x))  # the median, where the bar ends
        assert "middle" not in label.textposition  # above or below the whisker, not on it


# -- 8. one label per value and per figure --------------------------------------------------------


def _table(at: AppTest, column: str):
    """The page's table that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_tables_show_the_registry_labels_not_codes(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db, "views/agencies.py")
    types = set(_table(at, "agency_type")["agency_type"])
    assert "Municipal" in types and "municipal" not in types
    assert types <= {registry.value_label("agency_type", t) for t in schema.AGENCY_TYPES}
    at = _open(monkeypatch, demo_db, "views/outcomes.py")
    waves = set(_table(at, "wave")["wave"])
    assert waves and waves <= set(registry.VALUE_LABELS["wave"].values())


def test_pipeline_caption_uses_the_same_sentence_as_its_charts(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db, "views/pipeline.py")
    sentence = Filters().describe()
    assert unescape(at.caption[0].value) == sentence
    for element in app_charts.charts(at):
        spec = app_charts.figure(element)
        footer = next(a for a in spec["layout"]["annotations"] if a.get("name") == "context-footer")
        assert footer["text"].startswith(sentence)


# -- the Agencies page's all-time first-time/repeat tiles ----------------------------------------


@pytest.mark.parametrize(
    "params", [{}, {"start": "2023-10-01", "end": "2024-09-30"}], ids=["all-time", "FY2024"]
)
def test_agencies_page_explains_an_all_first_time_row(monkeypatch, demo_db, params):
    at = _open(monkeypatch, demo_db, "views/agencies.py", **params)
    tiles = {m.label: m.value for m in at.metric}
    repeat = tiles[registry.METRICS["repeat_agencies"].label]
    captions = [c.value for c in at.caption]
    if params:  # a fiscal year has agencies that came back, and no note
        assert repeat != "0"
        assert show.ALL_FIRST_TIME not in captions
    else:  # over all time every agency is first-time, and the page says why
        assert repeat == "0"
        assert show.ALL_FIRST_TIME in captions
