"""Issue 16 point 2: server-side sessions and API tokens, judged by the injected clock (no sleeping)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_login.utils import encode_cookie

from registry.accounts.models import ApiToken, User, UserSession
from registry.audit.models import AuditEvent
from tests.factories import make_enterprise
from tests.web.fixtures import PASSWORD, SECRETS, code_for, login

WRITE = "/api/v1/enterprises/{id}/change-reports"


def api_login(client, username: str, password: str = PASSWORD):
    """Log in as a JSON client (with the current code for a user enrolled in the second factor)."""
    body = {"username": username, "password": password}
    if username in SECRETS and password == PASSWORD:
        body["code"] = code_for(client, username)
    return client.post("/api/v1/session", json=body)


def actions(session, *names: str) -> list[tuple[str, str, dict]]:
    rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(names)).order_by(AuditEvent.id))
    return [(e.action, e.actor_name, e.changes) for e in rows]


def test_logout_then_replaying_the_old_cookie_is_refused(app, make_user, session):
    make_user("officer", "331000", username="wang")
    client = app.test_client()
    assert login(client, "wang").status_code == 302
    old = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", old)
    page = replay.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert replay.get("/api/v1/enterprises").status_code == 401
    assert [(a, n, c["reason"][1]) for a, n, c in actions(session, "user.logout")] == [("user.logout", "wang", "logout")]


def test_api_logout_then_replay_is_401(app, make_user):
    make_user("officer", "331000", username="li")
    client = app.test_client()
    assert api_login(client, "li").status_code == 200
    old = client.get_cookie("session").value
    assert client.delete("/api/v1/session").status_code == 200
    replay = app.test_client()
    replay.set_cookie("session", old)
    assert replay.get("/api/v1/enterprises").status_code == 401


def test_a_remember_cookie_cannot_outlive_the_session(app, make_user, session):
    make_user("officer", "331000", username="zhao")
    client = app.test_client()
    assert api_login(client, "zhao").status_code == 200
    secret = session.scalar(sa.select(UserSession)).id  # only the hash is stored: it is not a cookie
    with client.session_transaction() as cookie:
        plain = cookie["_user_id"]
    assert secret != plain
    assert client.delete("/api/v1/session").status_code == 200
    forged = app.test_client()
    with app.test_request_context():
        forged.set_cookie("remember_token", encode_cookie(plain))
    assert forged.get("/api/v1/enterprises").status_code == 401
    assert forged.get("/").status_code == 302


def test_a_second_login_ends_the_first_and_the_first_is_told_in_chinese(app, make_user, session):
    make_user("officer", "331000", username="qian")
    first, second = app.test_client(), app.test_client()
    assert login(first, "qian").status_code == 302
    assert first.get("/").status_code == 200
    assert login(second, "qian").status_code == 302
    assert second.get("/").status_code == 200
    bounced = first.get("/", follow_redirects=True)
    assert "您的账号已在其他地方登录" in bounced.get_data(as_text=True)
    assert first.get("/").status_code == 302  # stays logged out; told once
    assert second.get("/").status_code == 200
    assert [c["reason"][1] for _, _, c in actions(session, "session.ended")] == ["replaced"]
    open_rows = session.scalars(sa.select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert len(open_rows) == 1


def test_a_second_login_through_the_api_tells_the_first_client_why(app, make_user):
    make_user("officer", "331000", username="sun")
    first, second = app.test_client(), app.test_client()
    assert api_login(first, "sun").status_code == 200
    assert api_login(second, "sun").status_code == 200
    refused = first.get("/api/v1/enterprises")
    assert refused.status_code == 401 and "其他地方登录" in refused.get_json()["error"]
    assert refused.get_json()["reason"] == "replaced"


def test_the_session_id_rotates_on_login(app, make_user):
    make_user("officer", "331000", username="zhou")
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "planted-by-an-attacker"
    assert api_login(client, "zhou").status_code == 200
    with client.session_transaction() as cookie:
        first = cookie["_user_id"]
    assert first != "planted-by-an-attacker"
    assert api_login(client, "zhou").status_code == 200
    with client.session_transaction() as cookie:
        assert cookie["_user_id"] != first
    assert client.get("/api/v1/enterprises").status_code == 200


def test_idle_timeout_ends_the_session_but_activity_keeps_it(app, make_user, clock, session):
    make_user("officer", "331000", username="wu")
    client = app.test_client()
    assert login(client, "wu").status_code == 302
    for _ in range(3):
        clock.advance(minutes=29)
        assert client.get("/").status_code == 200
    clock.advance(minutes=30)
    bounced = client.get("/", follow_redirects=True)
    assert "长时间未操作" in bounced.get_data(as_text=True)
    assert [c["reason"][1] for _, _, c in actions(session, "session.ended")] == ["idle"]
    ended = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.ended"))
    assert ended.ip == "127.0.0.1" and ended.request_id


def test_absolute_lifetime_ends_even_an_active_session(app, make_user, clock):
    make_user("officer", "331000", username="zheng")
    client = app.test_client()
    assert api_login(client, "zheng").status_code == 200
    for _ in range(35):  # 11 h 40 min of activity every 20 minutes
        clock.advance(minutes=20)
        assert client.get("/api/v1/enterprises").status_code == 200
    clock.advance(minutes=20)
    refused = client.get("/api/v1/enterprises")
    assert refused.status_code == 401 and refused.get_json()["reason"] == "expired"


def test_timeouts_are_settings(app, make_user, clock):
    app.config["REGISTRY"] = app.config["REGISTRY"].with_overrides(session_idle_minutes=5)
    make_user("officer", "331000", username="feng")
    client = app.test_client()
    assert api_login(client, "feng").status_code == 200
    clock.advance(minutes=5)
    assert client.get("/api/v1/enterprises").status_code == 401


def test_changed_credentials_end_the_session(app, make_user, session):
    user = make_user("officer", "331000", username="chen")
    client = app.test_client()
    assert api_login(client, "chen").status_code == 200
    user.session_token = "f" * 64  # what a password, role or region change does
    session.commit()
    refused = client.get("/api/v1/enterprises")
    assert refused.status_code == 401 and "密码或权限已变更" in refused.get_json()["error"]


def test_login_and_failure_are_audited(app, make_user, session):
    make_user("officer", "331000", username="chu")
    client = app.test_client()
    assert api_login(client, "chu", "wrong-password").status_code == 401
    assert api_login(client, "nobody", "wrong-password").status_code == 401
    assert api_login(client, "chu").status_code == 200
    events = actions(session, "user.login", "user.login_failed")
    assert [(a, n, c.get("reason", [None, None])[1]) for a, n, c in events] == [
        ("user.login_failed", "chu", "password"), ("user.login_failed", "nobody", "unknown"),
        ("user.login", "chu", None)]


def test_sessions_are_listed_and_an_admin_ends_a_users_sessions(app, make_user, session):
    # 三员分立 (issue 16 §4): other users' sessions are managed by the system and security
    # administrators, no longer by the business role `admin`
    make_user("officer", "331000", username="jiang")
    admin = make_user("sysadmin", "331000", username="tz_admin")
    other_admin = make_user("sysadmin", "330100", username="hz_admin")
    officer, boss, outsider = app.test_client(), app.test_client(), app.test_client()
    for client, user in ((officer, "jiang"), (boss, admin.username), (outsider, other_admin.username)):
        assert api_login(client, user).status_code == 200
    mine = officer.get("/api/v1/sessions").get_json()["items"]
    assert [s["username"] for s in mine] == ["jiang"]
    assert officer.get("/api/v1/sessions?user=tz_admin").status_code == 404  # not an admin
    assert outsider.delete("/api/v1/sessions?user=jiang").status_code in (403, 404)  # another region
    assert officer.get("/api/v1/enterprises").status_code == 200
    assert boss.get("/api/v1/sessions?user=jiang").get_json()["total"] == 1
    assert boss.delete("/api/v1/sessions?user=jiang").get_json() == {"ended": 1}
    refused = officer.get("/api/v1/enterprises")
    assert refused.status_code == 401 and refused.get_json()["reason"] == "revoked"


# ------------------------------------------------------------------------------------------ tokens

def _token(client, scope: str, name: str = "etl") -> dict:
    made = client.post("/api/v1/tokens", json={"name": name, "scope": scope})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_a_read_only_token_reads_and_gets_403_on_writes(app, make_user, taizhou):
    tz, _, _ = taizhou
    make_user("officer", "331000", username="han", second_factor=True)  # tokens need a 2FA session
    browser = app.test_client()
    assert api_login(browser, "han").status_code == 200
    read, write = _token(browser, "read"), _token(browser, "write")
    assert read["scope"] == "read" and write["scope"] == "write"
    body = {"kind": "rename", "occurred_on": "2026-05-01"}
    for method, url, status in (("get", "/api/v1/enterprises", 200), ("post", WRITE.format(id=tz.id), 403)):
        answer = getattr(app.test_client(), method)(url, json=body, headers=_bearer(read))
        assert answer.status_code == status
    refused = app.test_client().post(WRITE.format(id=tz.id), json=body, headers=_bearer(read))
    assert "只读令牌" in refused.get_json()["error"]
    assert app.test_client().post(WRITE.format(id=tz.id), json=body, headers=_bearer(write)).status_code == 201
    # the default scope is read-only; a read token may still revoke itself
    default = browser.post("/api/v1/tokens", json={"name": "x"}).get_json()
    assert default["scope"] == "read"
    assert app.test_client().delete(f"/api/v1/tokens/{default['id']}", headers=_bearer(default)).status_code == 200


def test_a_token_cannot_create_a_token(app, make_user, session):
    make_user("officer", "331000", username="yang", second_factor=True)  # tokens need a 2FA session
    browser = app.test_client()
    assert api_login(browser, "yang").status_code == 200
    write = _token(browser, "write")
    refused = app.test_client().post("/api/v1/tokens", json={"name": "more", "scope": "write"}, headers=_bearer(write))
    assert refused.status_code == 403 and "令牌不能用于创建令牌" in refused.get_json()["error"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_tokens_expire_after_the_configured_days(app, make_user, clock):
    make_user("officer", "331000", username="liu", second_factor=True)  # tokens need a 2FA session
    browser = app.test_client()
    assert api_login(browser, "liu").status_code == 200
    token = _token(browser, "read")
    assert token["expires_at"].startswith("2026-08-30")  # NOW + 90 days
    clock.advance(days=89, hours=23)
    assert app.test_client().get("/api/v1/enterprises", headers=_bearer(token)).status_code == 200
    clock.advance(hours=1)
    assert app.test_client().get("/api/v1/enterprises", headers=_bearer(token)).status_code == 401


def test_tokens_are_listed_and_revoked_by_owner_and_admin(app, make_user, session):
    make_user("officer", "331000", username="he", second_factor=True)  # tokens need a 2FA session
    make_user("officer", "331000", username="lv")
    make_user("secadmin", "331000", username="tz_boss")  # 三员分立: the security administrator, not `admin`
    make_user("sysadmin", "330100", username="hz_boss")
    owner, peer, boss, outsider = (app.test_client() for _ in range(4))
    for client, name in ((owner, "he"), (peer, "lv"), (boss, "tz_boss"), (outsider, "hz_boss")):
        assert api_login(client, name).status_code == 200
    token = _token(owner, "read")
    listed = owner.get("/api/v1/tokens").get_json()["items"]
    assert [(t["id"], t["username"], t["scope"]) for t in listed] == [(token["id"], "he", "read")]
    assert "token" not in listed[0]
    assert peer.get("/api/v1/tokens").get_json()["items"] == []
    assert peer.get("/api/v1/tokens?user=he").status_code == 404
    assert peer.delete(f"/api/v1/tokens/{token['id']}").status_code == 404
    assert [t["id"] for t in boss.get("/api/v1/tokens?user=*").get_json()["items"]] == [token["id"]]
    assert outsider.get("/api/v1/tokens?user=*").get_json()["items"] == []
    assert outsider.delete(f"/api/v1/tokens/{token['id']}").status_code in (403, 404)
    assert boss.delete(f"/api/v1/tokens/{token['id']}").status_code == 200
    assert app.test_client().get("/api/v1/enterprises", headers=_bearer(token)).status_code == 401
    assert owner.get("/api/v1/tokens").get_json()["items"] == []
    assert [t["revoked_at"] is not None for t in owner.get("/api/v1/tokens?all=1").get_json()["items"]] == [True]
    assert [a for a, _, _ in actions(session, "token.created", "token.revoked")] == ["token.created", "token.revoked"]


def test_token_endpoints_are_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens"]) and "delete" in paths["/api/v1/tokens/{token_id}"]
    assert {"get", "delete"} <= set(paths["/api/v1/sessions"])


def _bearer(token: dict) -> dict:
    return {"Authorization": f"Bearer {token['token']}"}


def _csrf(client) -> str:
    from tests.web.fixtures import csrf_from
    return csrf_from(client.get("/").get_data(as_text=True))


def test_users_session_token_is_unchanged_by_login(app, make_user, session):
    """Logins rotate the session secret, not the user's credential stamp (that marks credential changes)."""
    user = make_user("officer", "331000", username="kong")
    stamp = user.session_token
    client = app.test_client()
    assert api_login(client, "kong").status_code == 200
    assert session.scalar(sa.select(User.session_token).where(User.username == "kong")) == stamp


@pytest.fixture
def taizhou(session, admin, rules):
    """One enterprise in 椒江 (台州)."""
    tz = make_enterprise(session, admin, region_code="331002", name="台州精工有限公司")
    session.commit()
    return tz, None, None
