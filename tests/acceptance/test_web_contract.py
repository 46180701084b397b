"""Issue 3 (Web application): the points no narrower test proved on its own.

- the region acceptance on the demo roster itself (not on hand-made enterprises);
- passwords and API tokens are stored hashed; a token from `create-token` works and is revocable;
- a locked account unlocks after the delay;
- the web tier is stateless: a session cookie from one worker is honoured by another, and failed
  logins count across workers (two app instances, two engines, one database file).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.accounts import auth
from registry.accounts.models import ApiToken, User
from registry.accounts.users import create_user
from registry.cli.demo import seed
from registry.enterprises.models import Enterprise
from tests.conftest import NOW, ROOT, d
from tests.factories import grant, make_enterprise
from tests.web.fixtures import code_for

DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo(app, session):
    """The demo roster (80 enterprises, as of 2026-11-22) in the test's database, with its users."""
    with app.app_context():
        seed(session, size=80, admin_password=DEMO_PASSWORD, today=d("2026-11-22"))
    session.commit()
    enterprises = session.scalars(sa.select(Enterprise)).all()
    taizhou = [e for e in enterprises if e.region_code.startswith("3310")]
    hangzhou = [e for e in enterprises if e.region_code.startswith("3301")]
    assert taizhou and hangzhou
    return taizhou, hangzhou


def logged_in(app, username):  # noqa: ANN001, ANN201
    client = app.test_client()
    response = client.post("/api/v1/session", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return client


def every_item(client, url):  # noqa: ANN001, ANN201
    """Walk every page of a list endpoint."""
    items, page = [], 1
    while True:
        body = client.get(f"{url}?per_page=100&page={page}").get_json()
        items += body["items"]
        if len(items) >= body["total"]:
            return items, body["total"]
        page += 1


def test_taizhou_officer_on_the_demo_roster_sees_only_taizhou_and_cannot_reach_hangzhou(app, demo):
    taizhou, hangzhou = demo
    officer = logged_in(app, "tz_officer")  # the demo's officer of 331000 台州
    items, total = every_item(officer, "/api/v1/enterprises")
    assert total == len(taizhou) and {e["id"] for e in items} == {e.id for e in taizhou}
    assert all(e["region_code"].startswith("3310") for e in items)
    certs, _ = every_item(officer, "/api/v1/certifications")
    assert certs and all(c["region_code"].startswith("3310") for c in certs)
    target = hangzhou[0]
    assert officer.get(f"/api/v1/enterprises/{target.id}").status_code == 404
    assert officer.get(f"/api/v1/enterprises?q={target.uscc}").get_json()["total"] == 0
    refused = officer.post(f"/api/v1/enterprises/{target.id}/certifications",
                           json={"tier": "innovative_sme", "recognized_on": "2026-11-01"})
    assert refused.status_code == 404
    assert officer.get(f"/api/v1/enterprises/{taizhou[0].id}").status_code == 200


def test_demo_auditor_cannot_write_anything(app, demo, session):
    taizhou, _ = demo
    auditor = logged_in(app, "auditor")
    ent = taizhou[0]
    cert = next(c for c in ent.certifications)
    before = session.scalar(sa.select(sa.func.count()).select_from(sa.table("audit_events")))
    for method, url, body in [
        ("post", "/api/v1/enterprises", {"uscc": "91331002MA0000001K", "name": "x", "region_code": "331002"}),
        ("patch", f"/api/v1/enterprises/{ent.id}", {"name": "y", "version": ent.version}),
        ("post", f"/api/v1/enterprises/{ent.id}/annual-reports", {"year": 2025, "submitted_on": "2026-03-01"}),
        ("post", f"/api/v1/enterprises/{ent.id}/change-reports", {"kind": "rename", "occurred_on": "2026-03-01"}),
        ("post", f"/api/v1/enterprises/{ent.id}/certifications", {"tier": "specialized_sme", "recognized_on": "2026-01-10"}),
        ("post", f"/api/v1/certifications/{cert.id}/events", {"action": "withdraw", "effective_on": "2026-01-10"}),
    ]:
        assert getattr(auditor, method)(url, json=body).status_code == 403, url
    assert session.scalar(sa.select(sa.func.count()).select_from(sa.table("audit_events"))) == before


def test_passwords_and_tokens_are_stored_hashed(app, make_user, session):
    user = make_user("officer", "331000", username="hash_check", second_factor=True)  # tokens need a 2FA session
    assert user.password_hash.startswith("scrypt:") and "correct-horse-9" not in user.password_hash
    client = app.test_client()
    assert client.post("/api/v1/session", json={"username": "hash_check", "password": "correct-horse-9",
                                                "code": code_for(client, "hash_check")}).status_code == 200
    made = client.post("/api/v1/tokens", json={"name": "etl"}).get_json()
    row = session.get(ApiToken, made["id"])
    assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["token"] not in {str(v) for v in row.__dict__.values()}


def test_create_token_cli_prints_a_token_that_works_until_revoked(tmp_path):
    settings = Settings(env="testing", database_url=f"sqlite:///{tmp_path / 'tok.db'}", secret_key="t",
                        policy_dir=ROOT / "config" / "policies")
    app = create_app(settings)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["create-user", "li", "--role", "officer", "--region", "331000", "--email",
                               "li@x.cn", "--password-stdin"], input="Long-enough-1\n").exit_code == 0
    made = runner.invoke(args=["create-token", "li"])
    assert made.exit_code == 0
    token = made.output.strip().splitlines()[-1]
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/enterprises", headers=bearer).status_code == 200
    assert client.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    engine = app.extensions["registry.engine"]
    with engine.connect() as conn:
        token_id = conn.execute(sa.text("SELECT id FROM api_tokens")).scalar_one()
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer).status_code == 200
    assert client.get("/api/v1/enterprises", headers=bearer).status_code == 401
    engine.dispose()


def test_a_locked_account_unlocks_after_the_delay(session, admin):
    create_user(session, actor=admin, username="slow", role="officer", region_code="331000",
                email="slow@x.cn", password="long-enough-1", at=NOW)
    for attempt in range(5):
        expected = auth.AccountLocked if attempt == 4 else auth.LoginFailed
        with pytest.raises(expected):
            auth.authenticate(session, username="slow", password="wrong", at=NOW, max_failures=5, lock_minutes=15)
    with pytest.raises(auth.AccountLocked):  # even the right password, while locked
        auth.authenticate(session, username="slow", password="long-enough-1", at=NOW + timedelta(minutes=14),
                          max_failures=5, lock_minutes=15)
    user = auth.authenticate(session, username="slow", password="long-enough-1",
                             at=NOW + timedelta(minutes=15, seconds=1), max_failures=5, lock_minutes=15)
    assert (user.username, user.failed_login_count, user.locked_until) == ("slow", 0, None)


def test_two_workers_share_sessions_and_the_login_throttle_through_the_database(tmp_path):
    """Nothing in process memory: what one worker knows, every other worker knows."""
    settings = Settings(env="testing", database_url=f"sqlite:///{tmp_path / 'two.db'}", secret_key="shared",
                        policy_dir=ROOT / "config" / "policies")
    first, second = create_app(settings), create_app(settings)
    runner = first.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["create-user", "wang", "--role", "officer", "--region", "331000", "--email",
                               "wang@x.cn", "--password-stdin"], input="Long-enough-1\n").exit_code == 0
    a, b = first.test_client(), second.test_client()
    assert a.post("/api/v1/session", json={"username": "wang", "password": "Long-enough-1"}).status_code == 200
    cookie = a.get_cookie("session")
    b.set_cookie(cookie.key, cookie.value)
    assert b.get("/api/v1/enterprises").status_code == 200  # worker B honours worker A's login
    for client in (a, b, a, b):
        assert client.post("/api/v1/session", json={"username": "wang", "password": "bad"}).status_code == 401
    assert b.post("/api/v1/session", json={"username": "wang", "password": "bad"}).status_code == 429
    assert a.post("/api/v1/session", json={"username": "wang", "password": "Long-enough-1"}).status_code == 429
    for application in (first, second):
        application.extensions["registry.engine"].dispose()
    with sa.create_engine(settings.database_url).connect() as conn:
        locked = conn.execute(sa.select(User.locked_until).where(User.username == "wang")).scalar_one()
    assert locked is not None


def test_errors_are_chinese_pages_for_the_ui_and_json_for_the_api(app, login_as, api_as, session, admin, rules):
    hz = make_enterprise(session, admin, region_code="330106")
    cert = grant(session, admin, rules, hz, "innovative_sme", d("2024-06-15"))
    session.commit()
    officer = login_as("officer", "331000")
    for url, code, title in [(f"/enterprises/{hz.id}", 404, "页面不存在"), ("/no-such-page", 404, "页面不存在")]:
        response = officer.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == code and 'lang="zh-CN"' in html and f"{code} · {title}" in html, url
    auditor = login_as("auditor", "330000")
    refused = auditor.get(f"/enterprises/{hz.id}/grant")
    assert refused.status_code == 403 and "403 · 无权访问" in refused.get_data(as_text=True)
    api = api_as("officer", "330000")
    missing = api.get(f"/api/v1/enterprises/{hz.id + 10_000}")
    assert missing.status_code == 404 and set(missing.get_json()) >= {"error"}
    api.post(f"/api/v1/certifications/{cert.id}/events", json={"action": "withdraw", "effective_on": "2025-01-10"})
    conflict = api.post(f"/api/v1/certifications/{cert.id}/events", json={"action": "withdraw", "effective_on": "2025-02-10"})
    assert conflict.status_code == 409 and "error" in conflict.get_json()
    invalid = api.post("/api/v1/enterprises", json={"uscc": "x", "name": "甲", "region_code": "331002"})
    assert invalid.status_code == 422 and list(invalid.get_json()) == ["errors"] and "uscc" in invalid.get_json()["errors"]
