"""Admin password attempts are throttled per server process: a growing delay, then a lockout.

The clock and the sleep are injected, so these tests wait for nothing. See docs/security.md.
"""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import admin
from dashboard.admin import SignInThrottle

from .conftest import ROOT

PASSWORD = "s3cret-passphrase"
WRONG = "wrong-guess-1234"
TIMEOUT = 60


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def throttle(fake) -> SignInThrottle:
    return SignInThrottle(clock=fake.clock, sleep=fake.sleep)


def test_each_wrong_password_makes_the_next_attempt_wait_longer(throttle, fake):
    for _ in range(4):
        assert throttle.attempt(WRONG, PASSWORD).ok is False
    assert fake.slept == [1.0, 2.0, 4.0]  # before the 2nd, 3rd and 4th attempts
    assert throttle.delay() == 8.0


def test_the_delay_stops_growing_at_its_cap(fake):
    throttle = SignInThrottle(clock=fake.clock, sleep=fake.sleep, max_failures=100)
    for _ in range(8):
        throttle.attempt(WRONG, PASSWORD)
    assert fake.slept == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_repeated_failures_lock_sign_in_even_for_the_right_password(throttle, fake):
    results = [throttle.attempt(WRONG, PASSWORD) for _ in range(5)]
    assert [r.locked_for > 0 for r in results] == [False] * 4 + [True]
    assert results[-1].locked_for == pytest.approx(300)
    slept = list(fake.slept)
    fake.now += 60
    locked = throttle.attempt(PASSWORD, PASSWORD)
    assert locked.ok is False and locked.locked_for == pytest.approx(240)
    assert fake.slept == slept  # a locked attempt is refused at once, without a comparison
    fake.now += 240
    assert throttle.attempt(PASSWORD, PASSWORD).ok is True


def test_after_a_lockout_each_wrong_password_locks_again(throttle, fake):
    for _ in range(5):
        throttle.attempt(WRONG, PASSWORD)
    fake.now += 300
    again = throttle.attempt(WRONG, PASSWORD)
    assert again.ok is False and again.locked_for == pytest.approx(300)


def test_a_right_password_clears_the_count(throttle, fake):
    for _ in range(3):
        throttle.attempt(WRONG, PASSWORD)
    assert throttle.attempt(PASSWORD, PASSWORD).ok is True
    assert throttle.delay() == 0.0
    fake.slept.clear()
    throttle.attempt(WRONG, PASSWORD)
    assert fake.slept == []


def test_old_failures_are_forgotten(throttle, fake):
    for _ in range(4):
        throttle.attempt(WRONG, PASSWORD)
    fake.now += 901  # past the 15-minute window
    assert throttle.delay() == 0.0
    for _ in range(4):
        assert throttle.attempt(WRONG, PASSWORD).locked_for == 0


def test_failures_are_logged_without_the_password(throttle, caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.admin"):
        for _ in range(6):
            throttle.attempt(WRONG, PASSWORD)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 6
    assert sum("wrong password" in m for m in messages) == 5
    assert "locked" in messages[4] and "refused" in messages[5]
    assert not any(WRONG in m or PASSWORD in m for m in messages)


def test_the_data_page_locks_sign_in_after_repeated_wrong_passwords(
    monkeypatch, demo_db, fake, caplog
):  # fmt: skip
    monkeypatch.setenv("CRITAC_DB", str(demo_db))
    monkeypatch.setenv("CRITAC_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setattr(admin, "THROTTLE", SignInThrottle(clock=fake.clock, sleep=fake.sleep))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("views/data.py").run()

    def sign_in(given: str) -> list[str]:
        next(t for t in at.text_input if t.label == "Admin password").input(given)
        next(b for b in at.button if b.label == "Sign in").click().run()
        assert not at.exception, [e.value for e in at.exception]
        return [e.value for e in at.error]

    with caplog.at_level(logging.WARNING, logger="dashboard.admin"):
        for _ in range(4):
            assert sign_in(WRONG) == ["Wrong password."]
        assert any("locked" in e for e in sign_in(WRONG))
        assert any("locked" in e for e in sign_in(PASSWORD))  # the right one is refused too
        assert not at.get("file_uploader")
        fake.now += 301
        assert sign_in(PASSWORD) == []
    assert at.get("file_uploader")
    assert fake.slept == [1.0, 2.0, 4.0, 8.0, 8.0]  # the last before the right password
    assert not any(WRONG in r.getMessage() or PASSWORD in r.getMessage() for r in caplog.records)
