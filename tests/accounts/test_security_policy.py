"""安全策略 (issue 16 §4): the security administrator sets the password, session and login values within
the 等保 bounds; the change takes effect at once, is audited, and nobody else may make it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from tests.web.fixtures import PASSWORD, csrf_from

pytestmark = pytest.mark.usefixtures("app")


def policy_form(client) -> dict:
    html = client.get("/security-policy").get_data(as_text=True)
    return {"csrf_token": csrf_from(html), "password_min_length": 10, "password_min_classes": 3,
            "password_history": 5, "password_max_age_days": 90, "session_idle_minutes": 30,
            "session_max_hours": 12, "login_max_failures": 5, "login_lock_minutes": 15,
            "login_ip_max_failures": 20, "second_factor_required_for_all": 0}


def change_password(client, old: str, new: str):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/account/password", data={"csrf_token": token, "old_password": old, "new_password": new,
                                                  "confirm_password": new})


def test_a_longer_minimum_takes_effect_at_once_and_is_audited(login_as, session):
    secadmin = login_as("secadmin", "330000")
    answer = secadmin.post("/security-policy", data={**policy_form(secadmin), "password_min_length": 12})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:1500]

    officer = login_as("officer", "331000")
    refused = change_password(officer, PASSWORD, "Abcdefgh123")  # 11 characters, three classes
    assert refused.status_code == 200 and "新密码至少 12 位" in refused.get_data(as_text=True)  # the form, with why
    assert change_password(officer, PASSWORD, "Abcdefgh1234").status_code == 302

    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "security.policy_changed")).one()
    assert event.changes == {"password_min_length": [10, 12]} and event.actor_name == "secadmin-330000"
    trail = login_as("auditadmin", "330000").get("/audit").get_data(as_text=True)
    assert "修改安全策略" in trail and "密码最短长度" in trail


def test_a_value_below_the_dengbao_floor_is_refused_naming_the_field(login_as, session):
    secadmin = login_as("secadmin", "330000")
    answer = secadmin.post("/security-policy", data={**policy_form(secadmin), "password_min_length": 9,
                                                     "password_history": 4})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "密码最短长度应在 10 至 128" in html and "不得重复使用最近的密码应在 5 至 24" in html
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "security.policy_changed")) == 0


def test_a_shorter_idle_timeout_ends_a_session_sooner(login_as, clock):
    secadmin = login_as("secadmin", "330000")
    assert secadmin.post("/security-policy", data={**policy_form(secadmin), "session_idle_minutes": 5}).status_code == 302
    officer = login_as("officer", "331000")
    assert officer.get("/enterprises").status_code == 200
    clock.advance(minutes=6)
    assert officer.get("/enterprises").status_code == 302  # back to the login page


def test_only_the_security_administrator_changes_it(login_as):
    sysadmin = login_as("sysadmin", "330000")
    page = sysadmin.get("/security-policy")
    assert page.status_code == 200 and "只有安全管理员可以修改" in page.get_data(as_text=True)
    assert sysadmin.post("/security-policy", data=policy_form(sysadmin)).status_code == 403
    assert login_as("officer", "331000").get("/security-policy").status_code == 403
    assert login_as("auditadmin", "330000").get("/security-policy").status_code == 403
