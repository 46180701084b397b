"""Issue 16 §3: the second factor (TOTP with one-time recovery codes), on SQLite and PostgreSQL, time on the
injected clock. Administrators cannot sign in without it; codes are not replayable; recovery codes work once;
wrong codes are throttled; tokens come only from a session that passed it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from config.settings import Settings, SettingsError
from registry.accounts import second_factor
from registry.accounts.models import ApiToken, LoginFailure, RecoveryCode, User, UserSession
from registry.audit.models import AuditEvent
from registry.audit.queries import ACTION_NAMES
from tests.web.fixtures import PASSWORD, SECRETS, code_for, csrf_from, enrol, login


def password_step(client, username: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def code_step(client, code: str, url: str = "/login/second-factor"):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"code": code, "csrf_token": token})


def api_login(client, username: str, code: str | None = None, password: str = PASSWORD):
    body = {"username": username, "password": password} | ({"code": code} if code is not None else {})
    return client.post("/api/v1/session", json=body)


def actions(session, *names: str) -> list[tuple[str, dict]]:
    rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(names)).order_by(AuditEvent.id))
    return [(e.action, e.changes) for e in rows]


def logged_in(client) -> bool:
    return client.get("/api/v1/sessions").status_code == 200


@pytest.mark.parametrize("role", ["sysadmin", "secadmin", "auditadmin"])
def test_an_administrator_cannot_sign_in_without_the_code(app, make_user, session, role):
    make_user(role, "330000", username="boss")
    browser = app.test_client()
    step = password_step(browser, "boss")
    assert step.status_code == 302 and step.headers["Location"].endswith("/login/second-factor")
    assert not logged_in(browser)  # the right password alone opens nothing
    assert browser.get("/accounts").status_code == 302 and session.scalar(
        sa.select(sa.func.count()).select_from(UserSession)) == 0
    page = browser.get("/login/second-factor").get_data(as_text=True)
    assert "输入动态验证码" in page and "恢复码" in page
    assert code_step(browser, code_for(browser, "boss")).status_code == 302 and logged_in(browser)
    assert session.scalar(sa.select(UserSession.second_factor)) == "totp"
    # the JSON login: 401 naming the missing factor, then with the code
    client = app.test_client()
    refused = api_login(client, "boss")
    assert refused.status_code == 401 and refused.get_json()["second_factor"] == "required"
    assert "动态验证码" in refused.get_json()["error"] and not logged_in(client)
    # (the code the browser used is spent: the next one is the following step's)
    ok = api_login(client, "boss", code_for(client, "boss", steps_ahead=1))
    assert ok.status_code == 200 and ok.get_json()["second_factor"] == "totp" and logged_in(client)


def test_the_first_login_of_an_administrator_enrols_with_a_local_qr_code(app, session, admin):
    from registry.accounts.users import create_user
    from tests.conftest import NOW

    create_user(session, actor=admin, username="newboss", role="secadmin", region_code="330000",
                email="nb@gov.example.cn", password=PASSWORD, at=NOW)
    session.commit()
    assert api_login(app.test_client(), "newboss").status_code == 403  # enrol in the browser first
    browser = app.test_client()
    step = password_step(browser, "newboss")
    assert step.headers["Location"].endswith("/login/second-factor/enrol")
    answer = browser.get("/login/second-factor/enrol")
    page = answer.get_data(as_text=True)
    assert "绑定双因素认证" in page and "您的账号必须使用双因素认证" in page
    qr = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert qr is not None and "<script" not in page and "script-src 'self'" in answer.headers["Content-Security-Policy"]
    user = session.scalar(sa.select(User).where(User.username == "newboss"))
    session.refresh(user)
    assert user.totp_secret and user.totp_enabled_at is None and second_factor.spaced(user.totp_secret) in page
    wrong = code_step(browser, "000000", "/login/second-factor/enrol")
    assert wrong.status_code == 422 and "验证码不正确" in wrong.get_data(as_text=True) and not logged_in(browser)
    SECRETS["newboss"] = user.totp_secret
    done = code_step(browser, code_for(browser, "newboss"), "/login/second-factor/enrol")
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10 and "只显示这一次" in done.get_data(as_text=True)
    assert logged_in(browser)
    stored = session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed only
    assert [a for a, _ in actions(session, "user.2fa_enrolled", "user.login")] == ["user.2fa_enrolled", "user.login"]


def test_a_wrong_code_is_refused_counted_and_throttled(app, make_user, session):
    make_user("auditadmin", "330000", username="aud")
    browser = app.test_client()
    password_step(browser, "aud")
    good = code_for(browser, "aud")
    wrong = "000000" if good != "000000" else "111111"
    for attempt in range(1, 5):
        answer = code_step(browser, wrong)
        assert answer.status_code == 401 and "动态验证码或恢复码错误" in answer.get_data(as_text=True)
        assert session.scalar(sa.select(User.second_factor_failures).where(User.username == "aud")) == attempt
    locked = code_step(browser, wrong)
    assert locked.status_code == 302 and locked.headers["Location"].endswith("/login")
    user = session.scalar(sa.select(User).where(User.username == "aud"))
    session.refresh(user)
    assert user.locked_until is not None and not logged_in(browser)
    failed = actions(session, "user.2fa_failed", "user.locked")
    assert [a for a, _ in failed] == ["user.2fa_failed"] * 5 + ["user.locked"]
    assert failed[0][1]["reason"] == [None, "wrong"]
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 5  # the address counts them too
    # locked: even the right code does not help now (the password step says so first)
    again = password_step(app.test_client(), "aud")
    assert again.status_code == 429


def test_a_code_cannot_be_replayed_within_its_step(app, make_user, session, clock):
    make_user("sysadmin", "330000", username="sys")
    first = app.test_client()
    code = code_for(first, "sys")
    assert api_login(first, "sys", code).status_code == 200
    replay = api_login(app.test_client(), "sys", code)  # someone who watched the code being typed
    assert replay.status_code == 401 and logged_in(first)
    assert actions(session, "user.2fa_failed")[-1][1]["reason"] == [None, "replayed"]
    clock.advance(seconds=30)
    assert api_login(app.test_client(), "sys", code_for(first, "sys")).status_code == 200  # the next step's code


def test_a_recovery_code_works_once(app, session, make_user):
    user = make_user("secadmin", "330000", username="sec")
    codes = second_factor.renew_recovery_codes(
        session, user=user, code=second_factor.code_at(SECRETS["sec"], second_factor.step_of(app.extensions[
            "registry.clock"]()) - 1), at=app.extensions["registry.clock"](),
        throttle=second_factor.Throttle())
    session.commit()
    browser = app.test_client()
    password_step(browser, "sec")
    assert code_step(browser, codes[0].lower().replace("-", " ")).status_code == 302  # as typed, any case
    assert logged_in(browser) and session.scalar(
        sa.select(UserSession.second_factor).where(UserSession.ended_at.is_(None))) == "recovery"
    assert actions(session, "user.2fa_recovery_used")[-1][1]["recovery_codes_left"] == [None, 9]
    other = app.test_client()
    password_step(other, "sec")
    twice = code_step(other, codes[0])
    assert twice.status_code == 401 and not logged_in(other)
    assert actions(session, "user.2fa_failed")[-1][1]["reason"] == [None, "recovery"]
    assert api_login(app.test_client(), "sec", codes[0]).status_code == 401
    assert api_login(app.test_client(), "sec", codes[1]).status_code == 200


def test_a_token_is_created_only_from_a_session_that_passed_the_second_factor(app, make_user, session):
    make_user("officer", "331000", username="ma")
    browser = app.test_client()
    assert api_login(browser, "ma").status_code == 200  # business role, not enrolled: a password session
    refused = browser.post("/api/v1/tokens", json={"name": "etl", "scope": "read"})
    assert refused.status_code == 403 and "双因素认证" in refused.get_json()["error"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    # enrol on the 双因素认证 page: this session has then shown the second factor
    page = app.test_client()
    assert login(page, "ma").status_code == 302
    assert "绑定双因素认证" in page.get("/account/second-factor").get_data(as_text=True)
    user = session.scalar(sa.select(User).where(User.username == "ma"))
    session.refresh(user)
    SECRETS["ma"] = user.totp_secret
    done = code_step(page, code_for(page, "ma"), "/account/second-factor")
    assert done.status_code == 200 and "请保存恢复码" in done.get_data(as_text=True)
    assert page.post("/api/v1/tokens", json={"name": "etl", "scope": "read"}).status_code == 201
    # from now on this business user's logins ask for the code as well
    later = api_login(app.test_client(), "ma")
    assert later.status_code == 401 and later.get_json()["second_factor"] == "required"
    status = page.get("/account/second-factor").get_data(as_text=True)
    assert "尚未使用的恢复码：10 个" in status


def test_the_setting_makes_it_mandatory_for_business_roles(app, make_user, session):
    make_user("officer", "331000", username="niu")
    assert api_login(app.test_client(), "niu").status_code == 200  # off by default
    browser = app.test_client()
    assert login(browser, "niu").status_code == 302 and logged_in(browser)
    app.config["REGISTRY"] = app.config["REGISTRY"].with_overrides(second_factor_required_for_all=True)
    assert not logged_in(browser)  # a password-only session ends when the rule starts to apply
    assert api_login(app.test_client(), "niu").status_code == 403
    assert password_step(app.test_client(), "niu").headers["Location"].endswith("/login/second-factor/enrol")
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k"}).second_factor_required_for_all is False
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_2FA_REQUIRED_FOR_ALL": "1"}) \
        .second_factor_required_for_all is True
    with pytest.raises(SettingsError, match="REGISTRY_2FA_REQUIRED_FOR_ALL"):
        Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_2FA_REQUIRED_FOR_ALL": "maybe"})


def test_the_second_step_expires_and_the_pages_are_plain_chinese(app, make_user, clock):
    make_user("sysadmin", "330000", username="slow")
    browser = app.test_client()
    password_step(browser, "slow")
    token = csrf_from(browser.get("/login/second-factor").get_data(as_text=True))
    clock.advance(minutes=6)
    late = browser.post("/login/second-factor", data={"code": code_for(browser, "slow"), "csrf_token": token})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login") and not logged_in(browser)
    for template in ("second_factor", "second_factor_enrol", "second_factor_codes", "second_factor_status"):
        from tests.conftest import ROOT
        text = (ROOT / "registry" / "web" / "templates" / f"{template}.html").read_text(encoding="utf-8")
        visible = re.sub(r"{[{%#].*?[}%#]}|<[^>]+>", "", text, flags=re.S)
        english = set(re.findall(r"[A-Za-z]{3,}", visible)) - {"API"}  # "API 令牌" is the UI's word (创建 API 令牌)
        assert not english, (template, english)


def test_the_operator_resets_a_lost_second_factor(app, make_user, session):
    make_user("secadmin", "330000", username="lost")
    browser = app.test_client()
    assert login(browser, "lost").status_code == 302 and logged_in(browser)
    result = app.test_cli_runner().invoke(args=["reset-2fa", "lost"])
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.username == "lost"))
    session.refresh(user)
    assert user.totp_secret is None and not logged_in(browser)
    assert password_step(app.test_client(), "lost").headers["Location"].endswith("/login/second-factor/enrol")
    assert "user.2fa_reset" in ACTION_NAMES and actions(session, "user.2fa_reset")


def test_every_second_factor_event_has_a_chinese_name():
    for action in ("user.2fa_enrolled", "user.2fa_failed", "user.2fa_recovery_used", "user.2fa_reset",
                   "user.2fa_recovery_renewed", "personal_data.unmasked", "audit.archived", "audit.anchored"):
        assert re.search(r"[\u4e00-\u9fff]", ACTION_NAMES[action]), action


def test_enrol_helper_is_what_the_page_does(session, make_user):
    user = make_user("officer", "331000", username="pan")
    assert not second_factor.enrolled(user)
    enrol(session, user)
    assert second_factor.enrolled(user) and second_factor.needed(user) and not second_factor.required(user)


def test_the_secret_is_sm4_ciphertext_in_the_database(app, make_user, session):
    """The TOTP secret is a key: at rest it is SM4-GCM ciphertext bound to its column (migration 0017), like the
    contact columns; the application reads the plain base32 secret."""
    user = make_user("sysadmin", "330000", username="cipher-admin")
    stored = session.execute(sa.text("SELECT totp_secret FROM users WHERE username = 'cipher-admin'")).scalar_one()
    assert stored.startswith("sm4gcm:") and SECRETS["cipher-admin"] not in stored
    session.expire_all()
    assert session.get(User, user.id).totp_secret == SECRETS["cipher-admin"]
