"""Issue 16 point 1 (passwords): the change page for every user, policy, history, expiry, forced change after a reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.accounts import sessions
from registry.accounts.models import PasswordHistory, User, UserSession
from registry.accounts.users import reset_password
from registry.audit.models import AuditEvent
from registry.audit.queries import action_name
from registry.domain.actors import system_actor
from registry.domain.passwords import PasswordPolicy, classes, expired, problem
from tests.conftest import NOW
from tests.web.fixtures import PASSWORD, csrf_from, login

POLICY = PasswordPolicy()


def change(client, old: str, new: str, confirm: str | None = None):  # noqa: ANN001, ANN201
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/account/password", data={"csrf_token": token, "old_password": old, "new_password": new,
                                                  "confirm_password": new if confirm is None else confirm})


def test_policy_defaults_are_the_dengbao_level():
    assert (POLICY.min_length, POLICY.min_classes, POLICY.history, POLICY.max_age_days) == (10, 3, 5, 90)
    assert classes("abcDEF123!") == 4 and classes("abcdefghij") == 1
    assert problem("Ab1-short", POLICY) == "新密码至少 10 位"
    assert "至少 3 类" in problem("abcdefgh12", POLICY)
    assert problem("abcdefgh1!", POLICY) is None  # lower, digit, other: three classes
    assert problem("Wang-2026-pass", POLICY, username="wang") == "新密码不得包含用户名"
    assert not expired(NOW - timedelta(days=89), NOW, POLICY) and expired(NOW - timedelta(days=90), NOW, POLICY)


@pytest.fixture
def wang(app, make_user, session):  # noqa: ANN001, ANN201
    make_user("officer", "331000", username="wang")
    client = app.test_client()
    assert login(client, "wang").status_code == 302
    return client


def test_every_user_changes_their_password_and_other_sessions_end(wang, session, app):
    user = session.scalar(sa.select(User).where(User.username == "wang"))
    other = UserSession(id=sessions.digest("elsewhere"), user_id=user.id, user_stamp=user.session_token,
                        created_at=NOW, last_seen_at=NOW)  # a session elsewhere (e.g. before one-per-account)
    session.add(other)
    session.commit()  # the app shares this session; a request's teardown drops what is not committed
    page = wang.get("/account/password")
    assert page.status_code == 200 and "原密码" in page.get_data(as_text=True)
    done = change(wang, PASSWORD, "New-pass-2026")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert wang.get("/").status_code == 200  # this session goes on
    ended = session.execute(sa.select(UserSession.ended_at, UserSession.end_reason)
                            .where(UserSession.id == sessions.digest("elsewhere"))).one()
    assert ended.ended_at is not None and ended.end_reason == "credentials"
    fresh = app.test_client()
    assert login(fresh, "wang", PASSWORD).status_code == 401
    assert login(fresh, "wang", "New-pass-2026").status_code == 302
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_changed")).one()
    assert event.actor_name == "wang" and action_name(event.action) == "修改密码"
    assert event.changes["sessions_ended"] == [None, 1]
    assert PASSWORD not in str(event.changes) and "New-pass-2026" not in str(event.changes)


@pytest.mark.parametrize(("old", "new", "confirm", "message"), [
    ("wrong-password-1", "New-pass-2026", None, "原密码不正确"),
    (PASSWORD, "New-pass-2026", "New-pass-2027", "两次输入的新密码不一致"),
    (PASSWORD, "short-1A", None, "新密码至少 10 位"),
    (PASSWORD, "onlylowercase", None, "至少 3 类"),
    (PASSWORD, PASSWORD, None, "不得与最近 5 次使用过的密码相同"),
])
def test_a_refused_change_names_the_field_and_changes_nothing(wang, session, old, new, confirm, message):
    before = session.scalar(sa.select(User.password_hash).where(User.username == "wang"))
    response = change(wang, old, new, confirm)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert session.scalar(sa.select(User.password_hash).where(User.username == "wang")) == before
    assert not session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "user.password_changed"))


def test_none_of_the_last_five_passwords_comes_back(wang, session):
    used = [PASSWORD] + [f"Rotation-{n}-pass" for n in range(1, 6)]
    for previous, new in zip(used, used[1:], strict=False):
        assert change(wang, previous, new).status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(PasswordHistory)) == 5
    for recent in used[1:]:  # the current one and the four before it
        assert "不得与最近 5 次" in change(wang, used[-1], recent).get_data(as_text=True)
    assert change(wang, used[-1], used[0]).status_code == 302  # the sixth most recent: allowed again


def test_an_expired_password_leads_to_the_change_page_after_login(app, make_user, session, clock):
    make_user("officer", "331000", username="wang")
    clock.advance(days=90)
    client = app.test_client()
    response = login(client, "wang")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    page = client.get("/enterprises")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert "已超过 90 天有效期" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/api/v1/enterprises").status_code == 403  # the cookie's API calls wait too
    assert change(client, PASSWORD, "Fresh-pass-2027").status_code == 302
    assert client.get("/enterprises").status_code == 200


def test_after_an_admin_reset_the_next_login_must_change_it(app, make_user, session, admin):
    make_user("officer", "331000", username="wang")
    reset_password(session, actor=system_actor("cli", "tests"), username="wang", new="Reset-pass-2026",
                   at=NOW, policy=POLICY)
    session.commit()
    client = app.test_client()
    response = login(client, "wang", "Reset-pass-2026")
    assert response.headers["Location"].endswith("/account/password")
    assert "管理员已重置您的密码" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert change(client, "Reset-pass-2026", "Own-choice-2026").status_code == 302
    assert client.get("/").status_code == 200
    assert session.scalar(sa.select(User.must_change_password).where(User.username == "wang")) is False
    reset = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert reset.changes["must_change_password"] == [None, True] and action_name(reset.action) == "重置密码"
