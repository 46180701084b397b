"""Issue 16 §5: every security event is in the audit trail — logins and failures, logouts, each way a session
ends, the second factor's events — and every such action has a Chinese name (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from registry.accounts import second_factor
from registry.audit.models import AuditEvent
from registry.audit.queries import ACTION_NAMES, SECURITY_PREFIXES
from tests.web.fixtures import PASSWORD, SECRETS, code_for

SECURITY_ACTIONS = {
    "user.login", "user.login_failed", "user.logout", "session.ended", "user.locked",
    "user.2fa_enrolled", "user.2fa_failed", "user.2fa_recovery_used",
}


def api_login(client, username: str, password: str = PASSWORD, code: str | None = None):
    body = {"username": username, "password": password}
    if code is not None:
        body["code"] = code
    return client.post("/api/v1/session", json=body)


def trail(session) -> list[tuple[str, str, dict]]:
    rows = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
    return [(e.action, e.actor_name, e.changes) for e in rows if e.action.startswith(SECURITY_PREFIXES)]


def test_logins_failures_logouts_session_ends_and_second_factor_events_are_audited(app, make_user, session, clock):
    make_user("officer", "331000", username="cov")
    make_user("secadmin", "330000", username="covsec")  # enrolled by the fixture (user.2fa_enrolled)
    recovery = second_factor.renew_recovery_codes(
        session, user=session.scalar(sa.select(second_factor.User).where(second_factor.User.username == "covsec")),
        code=second_factor.code_at(SECRETS["covsec"], second_factor.step_of(clock.at) - 1), at=clock.at,
        throttle=second_factor.Throttle())
    session.commit()
    a, b = app.test_client(), app.test_client()
    assert api_login(a, "cov", "wrong-password").status_code == 401          # user.login_failed (password)
    assert api_login(a, "nobody").status_code == 401                          # user.login_failed (unknown)
    assert api_login(a, "cov").status_code == 200                             # user.login
    assert api_login(b, "cov").status_code == 200                             # session.ended (replaced)
    assert b.delete("/api/v1/session").status_code == 200                     # user.logout
    assert api_login(a, "cov").status_code == 200
    clock.advance(minutes=31)
    assert a.get("/api/v1/sessions").status_code == 401                       # session.ended (idle)
    assert api_login(a, "cov").status_code == 200
    for _ in range(26):                                                       # active, but past 12 hours
        clock.advance(minutes=29)
        a.get("/api/v1/sessions")
    assert a.get("/api/v1/sessions").status_code == 401                       # session.ended (expired)
    assert api_login(a, "covsec", code="000000" if code_for(a, "covsec") != "000000" else "111111").status_code == 401
    assert api_login(a, "covsec", code=recovery[0]).status_code == 200        # user.2fa_recovery_used
    events = trail(session)
    seen = {action for action, _, _ in events}
    assert SECURITY_ACTIONS - {"user.locked"} <= seen, SECURITY_ACTIONS - seen
    ended = [c["reason"][1] for action, _, c in events if action == "session.ended"]
    assert {"replaced", "idle", "expired"} <= set(ended)
    failures = [c["reason"][1] for action, _, c in events if action == "user.login_failed"]
    assert {"password", "unknown"} <= set(failures)
    assert [c["reason"][1] for action, _, c in events if action == "user.2fa_failed"] == ["wrong"]
    logins = [(name, c.get("second_factor", [None, None])[1]) for action, name, c in events if action == "user.login"]
    assert ("covsec", "recovery") in logins and ("cov", None) in logins  # how each login passed is recorded
    assert {action for action, _, _ in events} <= set(ACTION_NAMES)


def test_every_security_action_has_a_chinese_name():
    """Including the ones other work records: permission changes (user.updated, account.*), downloads
    (export.*) and the unmasking of personal data (personal_data.unmasked, for the masking work)."""
    for action in (*SECURITY_ACTIONS, "user.updated", "account.proposed", "account.approved",
                   "personal_data.unmasked", "audit.archived", "audit.anchored"):
        assert action in ACTION_NAMES and ACTION_NAMES[action] != action, action
