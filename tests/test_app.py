"""The Streamlit app, server side (AppTest): every page, empty data, widgets, and URL parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from critac_metrics import db, metrics, registry, store
from critac_metrics.filters import Filters
from dashboard.pages import PAGES

from . import app_charts
from .conftest import ROOT, unescape

TIMEOUT = 60


@pytest.fixture
def app(monkeypatch, demo_db):
    monkeypatch.setenv("CRITAC_DB", str(demo_db))

    def make(**params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.query_params.update(params)
        return at

    return make


@pytest.fixture
def empty_db(tmp_path):
    path = tmp_path / "empty.duckdb"
    store.create_empty_database(path)
    return path


def _run_page(at: AppTest, page: str) -> AppTest:
    at.run()
    if page != PAGES[0].path:
        at.switch_page(page)
        at.run()
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _expected_kpis(demo_db, filters: Filters) -> dict[str, str]:
    con = db.connect(demo_db)
    try:
        head = metrics.headline(con, filters)
    finally:
        con.close()
    return {
        "Engagements accepted": registry.METRICS["engagements"].format(head["engagements"]),
        "Agencies served": registry.METRICS["agencies_served"].format(head["agencies_served"]),
    }


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_runs_on_the_demo_data(app, page):
    at = _run_page(app(), page)
    assert not at.exception, [e.value for e in at.exception]
    assert any("Synthetic demo data" in w.value for w in at.warning)
    assert unescape(at.caption[0].value).startswith("Engagement") or unescape(
        at.caption[0].value
    ).startswith("Requests")
    if page != "views/data.py":
        assert app_charts.charts(at), f"{page} drew no chart"


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_runs_on_an_empty_database(monkeypatch, empty_db, page):
    monkeypatch.setenv("CRITAC_DB", str(empty_db))
    at = _run_page(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT), page)
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Synthetic demo data" in w.value for w in at.warning)
    if page != "views/data.py":
        assert any("No engagements match" in i.value for i in at.info)


def test_a_missing_database_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("CRITAC_DB", str(tmp_path / "nothing.duckdb"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "No database at" in at.error[0].value


def test_first_kpis_equal_the_summary_figures(app, demo_db):
    at = app().run()
    kpis = _kpis(at)
    assert list(kpis)[:3] == ["Engagements delivered", "Engagements accepted", "Agencies served"]
    assert {k: kpis[k] for k in ("Engagements accepted", "Agencies served")} == _expected_kpis(
        demo_db, Filters()
    )


URL_CASES = [
    {"agency_type": ["tribal", "campus"]},
    {"start": "2023-10-01", "end": "2024-09-30", "topic": "De-escalation"},
    {"state": ["ID", "MT", "WY"], "assistance_type": "training"},
    {"delivery_mode": "virtual", "start": "2020-03-01"},
]


@pytest.mark.parametrize("params", URL_CASES)
@pytest.mark.parametrize("page", ["views/overview.py", "views/agencies.py"])
def test_url_parameters_give_the_same_figures_as_the_metrics_layer(app, demo_db, params, page):
    filters, notices = Filters.from_query_params(params, ["De-escalation"])
    assert not notices
    at = _run_page(app(**params), page)
    assert not at.exception
    assert unescape(at.caption[0].value) == filters.describe()
    if page == "views/overview.py":
        kpis = _kpis(at)
        assert {k: kpis[k] for k in ("Engagements accepted", "Agencies served")} == _expected_kpis(
            demo_db, filters
        )
    else:
        con = db.connect(demo_db)
        reach = metrics.reach(con, filters)
        con.close()
        assert _kpis(at)["Agencies served"] == f"{reach['agencies_served']:,}"


def test_filters_survive_a_page_switch(app):
    at = app(agency_type="tribal").run()
    sentence = unescape(at.caption[0].value)
    at.switch_page("views/outcomes.py")
    at.query_params.clear()  # Streamlit drops query parameters on a page switch
    at.run()
    assert not at.exception
    assert unescape(at.caption[0].value) == sentence
    assert at.query_params.get("agency_type") in ("tribal", ["tribal"])


def test_bad_url_values_are_ignored_with_a_notice(app):
    at = app(agency_type=["tribal", "martian"], start="yesterday", colour="red").run()
    assert not at.exception
    notices = " ".join(i.value for i in at.info)
    assert "martian" in notices and "yesterday" in notices and "colour" in notices
    assert unescape(at.caption[0].value) == Filters(agency_types=("tribal",)).describe()


def test_changing_a_widget_changes_the_numbers_and_the_url(app, demo_db):
    at = app().run()
    before = _kpis(at)["Engagements accepted"]
    at.multiselect(key="w_agency_types").set_value(["campus"]).run()
    assert not at.exception
    expected = _expected_kpis(demo_db, Filters(agency_types=("campus",)))
    assert _kpis(at)["Engagements accepted"] == expected["Engagements accepted"] != before
    assert at.query_params.get("agency_type") in ("campus", ["campus"])


def test_fiscal_year_preset_sets_the_dates(app, demo_db):
    at = app().run()
    at.selectbox(key="w_preset").set_value("FY2024").run()
    assert not at.exception
    assert at.query_params.get("start") in ("2023-10-01", ["2023-10-01"])
    assert at.query_params.get("end") in ("2024-09-30", ["2024-09-30"])
    filters = Filters(start=dt.date(2023, 10, 1), end=dt.date(2024, 9, 30))
    assert unescape(at.caption[0].value) == filters.describe()
    assert {k: _kpis(at)[k] for k in ("Engagements accepted", "Agencies served")} == _expected_kpis(
        demo_db, filters
    )


def test_reset_clears_every_filter(app):
    at = app(agency_type="tribal", start="2022-01-01").run()
    _button(at, "Reset filters").click().run()
    assert not at.exception
    assert unescape(at.caption[0].value) == Filters().describe()
    assert not any(k in at.query_params for k in ("agency_type", "start"))


def test_presentation_mode_hides_the_sidebar_but_keeps_the_caption(app):
    at = app(_present="1", agency_type="tribal").run()
    assert not at.exception
    assert not at.sidebar.multiselect
    assert unescape(at.caption[0].value) == Filters(agency_types=("tribal",)).describe()


def test_import_is_disabled_without_an_admin_password(app, monkeypatch):
    monkeypatch.delenv("CRITAC_ADMIN_PASSWORD", raising=False)
    at = _run_page(app(), "views/data.py")
    assert not at.exception
    assert any("Import is disabled" in i.value for i in at.info)
    assert not at.get("file_uploader")


def test_admin_sign_in_compares_the_password(app, monkeypatch):
    monkeypatch.setenv("CRITAC_ADMIN_PASSWORD", "s3cret-passphrase")
    at = _run_page(app(), "views/data.py")
    at.text_input[-1].input("wrong")
    _button(at, "Sign in").click().run()
    assert any("Wrong password" in e.value for e in at.error)
    at.text_input[-1].input("s3cret-passphrase")
    _button(at, "Sign in").click().run()
    assert not at.exception
    assert at.get("file_uploader")


class FakeUpload:
    def __init__(self, name: str, content: bytes, size: int | None = None):
        self.name, self._content = name, content
        self.size = len(content) if size is None else size

    def getvalue(self) -> bytes:
        return self._content


def test_uploads_are_bounded_typed_and_all_or_nothing(monkeypatch, tiny_db, copy_db):
    from dashboard import admin

    from .conftest import TINY

    target = copy_db(tiny_db)
    monkeypatch.setenv("CRITAC_DB", str(target))
    big = FakeUpload("engagements.csv", b"x", size=admin.MAX_UPLOAD_MB * 1024 * 1024 + 1)
    assert "larger than" in admin._import([big])
    assert "not CSV" in admin._import([FakeUpload("engagements.exe", b"MZ")])
    bad = TINY["agencies.csv"].replace(",tribal,", ",martian,")
    report = admin._import([FakeUpload("../../agencies.csv", bad.encode())])
    assert not report.ok and report.errors[0].source == "agencies.csv"
    update = "agency_id,agency_name,agency_type,state\nA9,New Agency,campus,OR\n"
    report = admin._import([FakeUpload("agencies_new.csv", update.encode())])
    assert report.ok and report.rows == {"agencies": 1}
    con = db.connect(target)
    assert con.execute("select count(*) from agencies").fetchone()[0] == 5
    con.close()
