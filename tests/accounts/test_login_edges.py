"""Issue 16 point 8, logins: identical answers for unknown user and wrong password; per-IP throttling."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

import registry.accounts.users as users
from registry.accounts import auth
from registry.accounts.models import LoginFailure
from tests.conftest import NOW
from tests.web.fixtures import PASSWORD, csrf_from

CSRF_VALUE = re.compile(r'"[\w-]+\.[\w-]+\.[\w-]+"')  #: a signed CSRF token (form field, meta tag): fresh per page


def page_login(client, username: str, password: str, ip: str = "127.0.0.1"):
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def api_login(client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post("/api/v1/session", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def without_csrf(html: str) -> str:
    return CSRF_VALUE.sub('"csrf"', html)


def test_unknown_user_and_wrong_password_get_the_same_page(app, make_user):
    make_user("officer", "331000", username="wang")
    unknown = page_login(app.test_client(), "no-such-user", "whatever-1")
    wrong = page_login(app.test_client(), "wang", "whatever-1")
    assert unknown.status_code == wrong.status_code == 401
    unknown_page = without_csrf(unknown.get_data(as_text=True)).replace('value="no-such-user"', 'value="NAME"')
    wrong_page = without_csrf(wrong.get_data(as_text=True)).replace('value="wang"', 'value="NAME"')
    assert unknown_page == wrong_page  # the form echoes the typed name; nothing else differs
    assert "用户名或密码错误" in wrong.get_data(as_text=True)


def test_unknown_user_disabled_user_and_wrong_password_get_the_same_json(app, make_user, session):
    make_user("officer", "331000", username="li")
    gone = make_user("officer", "331000", username="gone")
    gone.is_active = False
    session.commit()
    answers = [api_login(app.test_client(), name, "whatever-1") for name in ("nobody", "li", "gone")]
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_data() for a in answers}) == 1


def test_unknown_user_and_wrong_password_take_the_same_time(session, admin, monkeypatch):
    """Both verify one password hash of the same cost: the dummy hash is made like real ones."""
    monkeypatch.setattr(users, "generate_password_hash",
                        lambda password, method="scrypt": generate_password_hash(password, method="scrypt:16384:8:1"))
    users.create_user(session, actor=admin, username="timed", role="officer", region_code="331000",
                      email="t@x.cn", password=PASSWORD, at=NOW)
    throttle = auth.Throttle(max_failures=1000, ip_max_failures=1000)

    def attempt(name: str) -> float:
        started = time.perf_counter()
        try:
            auth.authenticate(session, username=name, password="wrong-password", at=NOW, throttle=throttle)
        except auth.LoginFailed:
            pass
        return time.perf_counter() - started

    attempt("nobody")  # the dummy hash is made once, on first use
    unknown, wrong = [], []
    for _ in range(9):
        unknown.append(attempt("nobody"))
        wrong.append(attempt("timed"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, (unknown, wrong)  # without the dummy hash it is about 0.05


def test_per_ip_throttle_stops_password_spraying(app, make_user, clock):
    make_user("officer", "331000", username="real")
    for n in range(20):  # spraying: one guess each at many accounts, none reaching the account lock
        assert api_login(app.test_client(), f"user{n}", "Spring2026!", ip="203.0.113.9").status_code == 401
    refused = api_login(app.test_client(), "real", PASSWORD, ip="203.0.113.9")
    assert refused.status_code == 429 and "该地址登录失败次数过多" in refused.get_json()["error"]
    page = page_login(app.test_client(), "real", PASSWORD, ip="203.0.113.9")
    assert page.status_code == 429 and "该地址登录失败次数过多" in page.get_data(as_text=True)
    assert api_login(app.test_client(), "real", PASSWORD, ip="198.51.100.7").status_code == 200  # another address
    clock.advance(minutes=15, seconds=1)
    assert api_login(app.test_client(), "real", PASSWORD, ip="203.0.113.9").status_code == 200  # window passed


def test_per_ip_limit_is_a_setting_and_successes_do_not_count(app, make_user):
    app.config["REGISTRY"] = app.config["REGISTRY"].with_overrides(login_ip_max_failures=3)
    make_user("officer", "331000", username="ok")
    for _ in range(5):
        assert api_login(app.test_client(), "ok", PASSWORD, ip="192.0.2.1").status_code == 200
    for _ in range(3):
        assert api_login(app.test_client(), "ok", "bad-guess", ip="192.0.2.1").status_code == 401
    assert api_login(app.test_client(), "ok", PASSWORD, ip="192.0.2.1").status_code == 429



def test_old_failures_are_pruned(session, monkeypatch):
    for ip in ("192.0.2.10", "192.0.2.11"):
        session.add(LoginFailure(ip=ip, failed_at=NOW))
    session.flush()
    later = NOW + timedelta(days=1, minutes=1)

    def fail_from(ip: str) -> None:
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(session, username="nobody", password="x", at=later, ip=ip)

    monkeypatch.setattr(auth, "PRUNE_ALL_EVERY", 10**15)  # the address's own old rows only
    fail_from("192.0.2.10")
    assert sorted(session.scalars(sa.select(LoginFailure.ip))) == ["192.0.2.10", "192.0.2.11"]
    assert session.scalar(sa.select(sa.func.min(LoginFailure.failed_at)).where(LoginFailure.ip == "192.0.2.10")) == later
    monkeypatch.setattr(auth, "PRUNE_ALL_EVERY", 1)  # every address's old rows
    fail_from("192.0.2.12")
    assert sorted(session.scalars(sa.select(LoginFailure.ip))) == ["192.0.2.10", "192.0.2.12"]
