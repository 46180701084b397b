"""三员分立 and four-eyes (issue 16 §4), tried the way an assessor would try to break them.

The three administrator roles cannot be combined; a system administrator proposes account
changes and reads neither business data nor the audit trail; a security administrator approves
them; an audit administrator reads the whole trail and can change nothing. A revocation that
carries a ban, an early ban lifting and a USCC change wait for a second officer of the region:
the proposer cannot confirm their own, a second confirmation changes nothing, and both people are
in the audit events. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.accounts.users import create_user
from registry.audit.models import AuditEvent
from registry.domain.actors import Role, single_role
from registry.domain.errors import RuleViolation
from registry.enterprises.models import Enterprise
from registry.proposals.models import Proposal
from registry.titles.models import Ban, Certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, make_uscc
from tests.web.fixtures import PASSWORD, csrf_from, login
from tests.web.test_concurrency import N, live  # noqa: F401  (the live-app fixture)

GOOD = "Strong-pass-2026"
WRITES = [("post", "/api/v1/enterprises", {"uscc": "x", "name": "甲", "region_code": "331002"}),
          ("patch", "/api/v1/enterprises/{e}", {"name": "乙", "version": 1}),
          ("post", "/api/v1/certifications/{c}/events", {"action": "withdraw", "effective_on": "2026-05-01"}),
          ("post", "/api/v1/users", {"username": "x1", "email": "x@gov.cn", "role": "officer",
                                     "region_code": "331000", "password": GOOD}),
          ("post", "/api/v1/users/{u}/disable", {}),
          ("post", "/api/v1/account-proposals/1/approve", {}),
          ("post", "/api/v1/proposals/1/confirm", {}),
          ("post", "/api/v1/enterprises/{e}/uscc", {"uscc": "x"}),
          ("post", "/api/v1/bans/1/lift", {"lifted_on": "2026-05-01"})]


def events(session, *names: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(names)).order_by(AuditEvent.id)))


@pytest.fixture
def title(session, admin, rules):
    """A 创新型中小企业 title in 椒江区 (台州 331000)."""
    ent = make_enterprise(session, admin, region_code="331002")
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-06-15"))
    session.commit()
    return ent, cert


# ------------------------------------------------------------------------------ the administrator roles

def test_two_administrator_roles_cannot_be_combined(session, admin, api_as):
    with pytest.raises(RuleViolation, match="三员分立"):
        single_role(["sysadmin", "secadmin"])
    with pytest.raises(RuleViolation, match="三员分立"):
        single_role("auditadmin,sysadmin")
    assert single_role("leader") == Role.LEADER
    sysadmin = api_as("sysadmin", "330000")
    both = sysadmin.post("/api/v1/users", json={"username": "wu", "email": "wu@gov.cn", "region_code": "331000",
                                                "role": ["sysadmin", "auditadmin"], "password": GOOD})
    assert both.status_code == 422 and "三员分立" in both.get_json()["errors"]["role"][0]
    # one person (one e-mail) cannot hold a second administrator role through a second account either
    same = sysadmin.post("/api/v1/users", json={"username": "wu2", "email": "SYSADMIN330000@gov.example.cn",
                                                "region_code": "330000", "role": "secadmin", "password": GOOD})
    assert same.status_code == 422 and "不得由同一人兼任" in same.get_json()["errors"]["role"][0]
    with pytest.raises(RuleViolation, match="不得由同一人兼任"):  # nor on the operator's command line
        create_user(session, actor=admin, username="wu3", role="auditadmin", region_code="000000",
                    email="sysadmin330000@gov.example.cn", password=PASSWORD, at=NOW)
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_a_system_administrator_reads_neither_the_trail_nor_business_data(login_as, api_as, title):
    ent, _ = title
    for client in (api_as("sysadmin", "000000"),):
        assert client.get("/api/v1/audit").status_code == 403
        assert client.get("/api/v1/audit/export?format=csv").status_code in (403, 404)
        assert client.get(f"/api/v1/enterprises/{ent.id}").status_code == 403
        assert client.post("/api/v1/enterprises", json={"name": "x"}).status_code == 403
    page = login_as("sysadmin", "330000")
    assert page.get("/audit").status_code == 403
    assert page.get("/").headers["Location"].endswith("/accounts")  # lands on its own page
    assert "账号管理" in page.get("/accounts").get_data(as_text=True)


def test_an_audit_administrator_reads_the_whole_trail_and_writes_nothing(api_as, login_as, session, title):
    ent, cert = title
    sysadmin = api_as("sysadmin", "000000")
    assert sysadmin.post("/api/v1/users/officer-331000/disable").status_code == 404  # no such user yet
    auditadmin = api_as("auditadmin", "000000")
    trail = auditadmin.get("/api/v1/audit?per_page=200").get_json()["items"]
    assert {"enterprise.created", "user.created"} <= {e["action"] for e in trail}
    for method, url, body in WRITES:
        answer = getattr(auditadmin, method)(url.format(e=ent.id, c=cert.id, u="sysadmin-000000"), json=body)
        assert answer.status_code == 403, (url, answer.get_json())
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    browser = login_as("auditadmin", "330000")
    assert browser.get("/").headers["Location"].endswith("/audit")
    assert browser.get("/audit").status_code == 200
    assert browser.get("/accounts").status_code == 403


def test_a_security_administrator_reads_security_events_only(api_as, title):
    secadmin = api_as("secadmin", "000000")
    actions = {e["action"] for e in secadmin.get("/api/v1/audit?per_page=200").get_json()["items"]}
    assert "user.created" in actions and "enterprise.created" not in actions
    assert not any(a.startswith(("certification.", "enterprise.")) for a in actions)


# ------------------------------------------------------------------------------ account changes

def test_an_account_takes_effect_only_when_a_security_administrator_approves(app, api_as, make_user, session):
    sysadmin, secadmin = api_as("sysadmin", "330000"), api_as("secadmin", "330000")
    proposed = sysadmin.post("/api/v1/users", json={"username": "zhou", "display_name": "周", "email": "zhou@gov.cn",
                                                    "role": "officer", "region_code": "331000", "password": GOOD})
    assert proposed.status_code == 202 and proposed.get_json()["status"] == "pending"
    assert GOOD not in proposed.get_data(as_text=True)
    assert session.scalar(sa.select(User).where(User.username == "zhou")) is None  # nothing yet
    pid = proposed.get_json()["id"]
    assert sysadmin.post(f"/api/v1/account-proposals/{pid}/approve").status_code == 403  # not its own
    assert [p["id"] for p in secadmin.get("/api/v1/account-proposals").get_json()["items"]] == [pid]
    approved = secadmin.post(f"/api/v1/account-proposals/{pid}/approve", json={"note": "核实在编"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"
    assert secadmin.post(f"/api/v1/account-proposals/{pid}/approve").status_code == 409  # once
    user = session.scalar(sa.select(User).where(User.username == "zhou"))
    assert user.role == Role.OFFICER and user.must_change_password
    [created] = events(session, "user.created")[-1:]
    assert created.actor_name == "secadmin-330000" and created.changes["proposed_by"] == [None, "token:sysadmin-330000"]
    assert created.changes["role"] == [None, "officer"] and GOOD not in str(created.changes)
    assert [e.action for e in events(session, "account.proposed", "account.approved")] == [
        "account.proposed", "account.approved"]
    # the first login leads to the change-password page
    browser = app.test_client()
    assert login(browser, "zhou", GOOD).headers["Location"].endswith("/account/password")


def test_disable_reset_unlock_and_role_change_wait_for_approval(app, api_as, make_user, session):
    officer = make_user("officer", "331000")
    sysadmin, secadmin = api_as("sysadmin", "330000"), api_as("secadmin", "330000")

    def approve(answer):
        assert answer.status_code == 202, answer.get_json()
        assert secadmin.post(f"/api/v1/account-proposals/{answer.get_json()['id']}/approve").status_code == 200
        session.refresh(officer)

    disable = sysadmin.post("/api/v1/users/officer-331000/disable", json={"note": "调离"})
    session.refresh(officer)
    assert disable.status_code == 202 and officer.is_active  # not yet
    approve(disable)
    assert not officer.is_active
    approve(sysadmin.post("/api/v1/users/officer-331000/enable"))
    assert officer.is_active
    weak = sysadmin.post("/api/v1/users/officer-331000/password-reset", json={"password": "short"})
    assert weak.status_code == 422 and "password" in weak.get_json()["errors"]
    approve(sysadmin.post("/api/v1/users/officer-331000/password-reset", json={"password": GOOD}))
    assert officer.must_change_password
    approve(sysadmin.patch("/api/v1/users/officer-331000", json={"role": "auditor", "region_code": "331002"}))
    assert (officer.role, officer.region_code) == (Role.AUDITOR, "331002")
    [updated] = events(session, "user.updated")
    assert updated.changes["role"] == ["officer", "auditor"] and updated.changes["region_code"] == ["331000", "331002"]
    assert updated.changes["confirmed_by"] == [None, "token:secadmin-330000"]
    nothing = sysadmin.post("/api/v1/users/officer-331002/unlock")
    assert nothing.status_code == 404  # the username did not follow the region; the user is officer-331000
    assert sysadmin.post("/api/v1/users/officer-331000/unlock").status_code == 409  # not locked


def test_nobody_administers_their_own_account(api_as, session):
    sysadmin = api_as("sysadmin", "330000")
    assert sysadmin.post("/api/v1/users/sysadmin-330000/disable").status_code == 403
    other = api_as("sysadmin", "331000")
    secadmin = api_as("secadmin", "330000")
    filed = other.patch("/api/v1/users/secadmin-330000", json={"region_code": "000000"})
    assert filed.status_code == 404  # a provincial account is outside a city administrator's region
    filed = other.post("/api/v1/users/officer-x/disable")
    assert filed.status_code == 404
    filed = sysadmin.post("/api/v1/users/secadmin-330000/disable")
    assert filed.status_code == 202
    refused = secadmin.post(f"/api/v1/account-proposals/{filed.get_json()['id']}/approve")
    assert refused.status_code == 403 and "本人" in refused.get_json()["error"]


def test_account_pages_propose_and_approve_in_plain_chinese(login_as, make_user, session):
    make_user("officer", "331000")
    sysadmin, secadmin = login_as("sysadmin", "330000"), login_as("secadmin", "330000")
    page = sysadmin.get("/accounts/officer-331000").get_data(as_text=True)
    assert "重置密码" in page and "变更角色或地区" in page
    answer = sysadmin.post("/accounts/officer-331000/reset",
                           data={"csrf_token": csrf_from(page), "password": GOOD})
    assert answer.status_code == 302
    listing = secadmin.get("/accounts").get_data(as_text=True)
    assert "重置账号 officer-331000 的密码" in listing and "批准" in listing
    pid = session.scalar(sa.select(Proposal.id))
    assert secadmin.post(f"/accounts/proposals/{pid}/approve",
                         data={"csrf_token": csrf_from(listing)}).status_code == 302
    user = session.scalar(sa.select(User).where(User.username == "officer-331000"))
    session.refresh(user)
    assert user.must_change_password
    assert "已批准并生效" in secadmin.get("/accounts").get_data(as_text=True)


# ------------------------------------------------------------------------------ four-eyes

def _revoke(client, cert):
    return client.post(f"/api/v1/certifications/{cert.id}/events",
                       json={"action": "revoke", "effective_on": "2026-05-01", "reason_code": "major_accident",
                             "document_no": "台经信〔2026〕1号"})


def test_a_revocation_with_a_ban_waits_for_a_second_officer(api_as, session, title):
    ent, cert = title
    first, second = api_as("officer", "331002"), api_as("admin", "331000")
    filed = _revoke(first, cert)
    assert filed.status_code == 202 and filed.get_json()["kind"] == "certification.revoke"
    session.refresh(cert)
    assert cert.status.value == "active" and session.scalar(sa.select(sa.func.count()).select_from(Ban)) == 0
    pid = filed.get_json()["id"]
    own = first.post(f"/api/v1/proposals/{pid}/confirm")
    assert own.status_code == 403 and "提出人不能确认" in own.get_json()["error"]
    assert api_as("officer", "330100").post(f"/api/v1/proposals/{pid}/confirm").status_code == 404  # other city
    assert api_as("auditor", "331000").post(f"/api/v1/proposals/{pid}/confirm").status_code == 403
    assert second.post(f"/api/v1/proposals/{pid}/confirm").status_code == 200
    again = second.post(f"/api/v1/proposals/{pid}/confirm")
    assert again.status_code == 409
    session.refresh(cert)
    assert cert.status.value == "revoked" and session.scalar(sa.select(sa.func.count()).select_from(Ban)) == 1
    for event in events(session, "certification.revoke", "ban.created"):
        assert event.changes["proposed_by"] == [None, "token:officer-331002"]
        assert event.changes["confirmed_by"] == [None, "token:admin-331000"]


def test_a_revocation_without_a_ban_needs_one_officer(api_as, title):
    _, cert = title
    done = api_as("officer", "331002").post(f"/api/v1/certifications/{cert.id}/events", json={
        "action": "revoke", "effective_on": "2026-05-01", "reason_code": "no_longer_qualifies"})
    assert done.status_code == 200 and done.get_json()["status"] == "revoked"


def test_a_uscc_change_and_an_early_ban_lifting_wait_for_a_second_officer(api_as, session, title):
    ent, cert = title
    first, second = api_as("officer", "331002"), api_as("officer", "331000")
    new = make_uscc("331002")
    direct = first.patch(f"/api/v1/enterprises/{ent.id}", json={"uscc": new, "version": ent.version})
    assert direct.status_code == 403 and "两人办理" in direct.get_json()["error"]
    filed = first.post(f"/api/v1/enterprises/{ent.id}/uscc", json={"uscc": new, "note": "工商变更"})
    assert filed.status_code == 202
    bad = first.post(f"/api/v1/enterprises/{ent.id}/uscc", json={"uscc": "91331002MA0000001X"})
    assert bad.status_code == 422 and "uscc" in bad.get_json()["errors"]
    session.refresh(ent)
    old = ent.uscc
    assert old != new
    assert second.post(f"/api/v1/proposals/{filed.get_json()['id']}/confirm").status_code == 200
    session.refresh(ent)
    assert ent.uscc == new
    [changed] = [e for e in events(session, "enterprise.updated") if "uscc" in e.changes]
    assert changed.changes["uscc"] == [old, new] and changed.changes["proposed_by"] == [None, "token:officer-331002"]
    # a ban, then lifted early by two people
    revoke = _revoke(first, cert)
    assert second.post(f"/api/v1/proposals/{revoke.get_json()['id']}/confirm").status_code == 200
    ban = session.scalar(sa.select(Ban))
    lift = first.post(f"/api/v1/bans/{ban.id}/lift", json={"lifted_on": "2026-05-20"})
    assert lift.status_code == 422 and "document_no" in lift.get_json()["errors"]
    lift = first.post(f"/api/v1/bans/{ban.id}/lift", json={"lifted_on": "2026-05-20", "document_no": "复议〔2026〕2号"})
    assert lift.status_code == 202
    session.refresh(ban)
    assert ban.lifted_on is None
    assert first.post(f"/api/v1/proposals/{lift.get_json()['id']}/confirm").status_code == 403
    assert api_as("admin", "331002").post(f"/api/v1/proposals/{lift.get_json()['id']}/reject",
                                          json={"note": "依据不足"}).status_code == 200
    session.refresh(ban)
    assert ban.lifted_on is None
    assert [p["status"] for p in first.get("/api/v1/proposals?status=all").get_json()["items"]] == [
        "rejected", "confirmed", "confirmed"]


def test_the_pages_file_a_revocation_and_another_officer_confirms_it(login_as, session, title):
    ent, cert = title
    first = login_as("officer", "331002")
    form = first.get(f"/certifications/{cert.id}/revoke").get_data(as_text=True)
    data = {"csrf_token": csrf_from(form), "version": str(cert.version), "effective_on": "2026-05-01",
            "reason_code": "major_accident", "document_no": "台经信〔2026〕1号", "confirmed": "1"}
    answer = first.post(f"/certifications/{cert.id}/revoke", data=data, follow_redirects=True)
    assert "须由同地区另一位业务人员或业务管理员" in answer.get_data(as_text=True)
    session.refresh(cert)
    assert cert.status.value == "active"
    own = first.get("/proposals").get_data(as_text=True)
    assert "本人提出，须由他人确认" in own
    second = login_as("admin", "331000")
    listing = second.get("/proposals").get_data(as_text=True)
    assert "撤销" in listing and "确认生效" in listing
    pid = session.scalar(sa.select(Proposal.id))
    done = second.post(f"/proposals/{pid}/confirm", data={"csrf_token": csrf_from(listing)}, follow_redirects=True)
    assert "已确认并生效" in done.get_data(as_text=True)
    session.refresh(cert)
    assert cert.status.value == "revoked"


# ------------------------------------------------------------------------------ concurrency

def test_six_confirmations_at_once_have_one_effect(live):  # noqa: F811
    def build(session, rules):
        from registry.domain.actors import system_actor

        ent = make_enterprise(session, system_actor("cli", "t"), region_code="331002")
        return grant(session, system_actor("cli", "t"), rules, ent, "innovative_sme", d("2024-06-15")).id

    cert_id = live.seed(build)
    filed = live.client("district").post(f"/api/v1/certifications/{cert_id}/events", json={
        "action": "revoke", "effective_on": live.today.isoformat(), "reason_code": "major_accident",
        "document_no": "台经信〔2026〕1号"})
    assert filed.status_code == 202, filed.get_json()
    pid = filed.get_json()["id"]
    results = live.race(lambda c: c.post(f"/api/v1/proposals/{pid}/confirm", json={}), level="city")
    assert Counter(status for status, _ in results) == Counter({200: 1, 409: N - 1}), results
    assert live.count(Ban) == 1
    assert live.audit("proposal.confirmed") == 1 and live.audit("certification.revoke") == 1
    assert live.count(Certification, Certification.status == "revoked") == 1
    assert live.count(Enterprise) == 1


def _title_in_jiaojiang(live):  # noqa: F811
    def build(session, rules):
        from registry.domain.actors import system_actor

        ent = make_enterprise(session, system_actor("cli", "t"), region_code="331002")
        return ent.id, grant(session, system_actor("cli", "t"), rules, ent, "innovative_sme", d("2024-06-15")).id
    return live.seed(build)


@pytest.mark.parametrize("what", ["revocation", "uscc"])
def test_six_identical_proposals_at_once_file_one(live, what):  # noqa: F811
    """A double submit of a four-eyes proposal files it once: one 202, five 409 naming the waiting one."""
    ent_id, cert_id = _title_in_jiaojiang(live)
    if what == "revocation":
        url, body = f"/api/v1/certifications/{cert_id}/events", {
            "action": "revoke", "effective_on": live.today.isoformat(), "reason_code": "major_accident",
            "document_no": "台经信〔2026〕1号"}
    else:
        url, body = f"/api/v1/enterprises/{ent_id}/uscc", {"uscc": make_uscc("331002", 4242)}
    results = live.race(lambda c: c.post(url, json=body), level="district")
    assert Counter(status for status, _ in results) == Counter({202: 1, 409: N - 1}), results
    assert live.count(Proposal) == 1 and live.audit("proposal.created") == 1
