"""Every write path leaves an audit event: the services and the web (pages, API) here, the CLI in test_cli.py.

Imports and scheduled jobs get their own tests with those features: add them here (one test per
path, asserting the event's action, actor, entity and changed fields) so this module stays the
one place that proves nothing escapes the trail.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.accounts import auth, sessions, users
from registry.accounts.models import User
from registry.audit import trail as audit
from registry.audit.queries import ACTION_NAMES, ACTOR_KINDS, FIELD_NAMES
from registry.domain.actors import Actor, Role
from registry.domain.errors import PermissionDenied
from registry.domain.lifecycle import Event
from registry.enterprises.services import record_annual_report, record_change_report, update_enterprise
from registry.platform.mail import PermanentMailError
from registry.proposals import four_eyes
from registry.reminders.models import OutboxMessage
from registry.titles.services import EventInput, apply_event
from tests.audit.helpers import events_after, last_id
from tests.conftest import NOW, d
from tests.enterprises.test_zone_holders import make_zone
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan
from tests.web.deliveries import BOUNCE, holder, settle
from tests.web.pages import submit

OFFICER = Actor(kind="user", name="tz_officer", role=Role.OFFICER, region_code="331000", user_id=None,
                ip="10.1.2.3", request_id="req-7f3a")
SECOND = Actor(kind="user", name="tz_admin", role=Role.ADMIN, region_code="331000", user_id=None)


def one_event(session, mark):
    [event] = events_after(session, mark)
    return event


def apply(session, actor, rules, cert, action, on, today=None, **kw):
    return apply_event(session, actor=actor, rules=rules, certification_id=cert.id,
                       event=EventInput(Event(action), d(on), **kw), at=NOW, today=d(today) if today else None)


def test_enterprise_created(session, admin):
    mark = last_id(session)
    ent = make_enterprise(session, OFFICER, name="台州甲有限公司")
    event = one_event(session, mark)
    assert (event.action, event.entity_type, event.entity_id, event.enterprise_id, event.region_code) == (
        "enterprise.created", "enterprise", ent.id, ent.id, "331002")
    assert event.changes["name"] == [None, "台州甲有限公司"] and event.changes["uscc"] == [None, ent.uscc]


def test_contact_email_change_shows_who_when_old_new_and_ip(session, admin):
    ent = make_enterprise(session, admin, contact_email="old@example.com")
    mark = last_id(session)
    update_enterprise(session, actor=OFFICER, enterprise_id=ent.id, data={"contact_email": "new@example.com"},
                      version=ent.version, at=NOW, why=audit.Why(note="企业来函更正"))
    event = one_event(session, mark)
    assert (event.actor_kind, event.actor_name, event.occurred_at, event.ip, event.request_id) == (
        "user", "tz_officer", NOW, "10.1.2.3", "req-7f3a")
    assert event.changes == {"contact_email": ["o***@example.com", "n***@example.com"]}  # stored masked (issue 16 §6)
    assert event.note == "企业来函更正"


def test_annual_report_recorded_and_corrected(session, admin):
    ent = make_enterprise(session, admin)
    mark = last_id(session)
    report(session, admin, ent, 2024, revenue=12_000_000)
    recorded = one_event(session, mark)
    assert recorded.action == "annual_report.recorded" and str(recorded.changes["revenue"][1]) == "12000000"
    mark = last_id(session)
    record_annual_report(session, actor=OFFICER, enterprise_id=ent.id, year=2024, data={"revenue": 12_500_000},
                         at=NOW)
    corrected = one_event(session, mark)
    assert corrected.action == "annual_report.corrected" and str(corrected.changes["revenue"][1]) == "12500000"


def test_change_report_late_costs_review_eligibility(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-01-10"))
    mark = last_id(session)
    record_change_report(session, actor=OFFICER, rules=rules, enterprise_id=ent.id, kind="rename",
                         occurred_on=d("2025-01-06"), reported_on=d("2025-09-01"), details="更名", at=NOW)
    events = events_after(session, mark)
    assert [e.action for e in events] == ["change_report.recorded", "certification.review_ineligible"]
    assert events[1].entity_id == cert.id and events[1].reason_code == "change_not_reported"


def test_grant(session, admin, rules):
    ent = make_enterprise(session, admin)
    mark = last_id(session)
    cert = grant(session, OFFICER, rules, ent, "innovative_sme", d("2024-01-10"), document_no="台经信〔2024〕1号")
    event = one_event(session, mark)
    assert (event.action, event.entity_id, event.document_no) == ("certification.granted", cert.id, "台经信〔2024〕1号")
    assert event.changes["valid_until"] == [None, "2027-01-10"]


@pytest.mark.parametrize(("action", "status"), [
    ("submit_review", "under_review"), ("withdraw", "withdrawn"), ("expire", "expired"),
    ("supersede", "superseded"), ("fail_review", "expired"),
])
def test_each_lifecycle_event(session, admin, rules, action, status):
    cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-15"))
    if action == "fail_review":  # issue 14: a result only for a review under way
        apply(session, OFFICER, rules, cert, "submit_review", "2026-03-20")
    mark = last_id(session)
    apply(session, OFFICER, rules, cert, action, "2026-04-01", note="处理说明")
    event = one_event(session, mark)
    assert (event.action, event.entity_id, event.note) == (f"certification.{action}", cert.id, "处理说明")
    assert event.changes["status"] == ["under_review" if action == "fail_review" else "active", status]


def test_pass_review(session, admin, rules):
    cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-15"))
    apply(session, OFFICER, rules, cert, "submit_review", "2026-04-01")  # issue 14: no pass without a submission
    mark = last_id(session)
    apply(session, OFFICER, rules, cert, "pass_review", "2026-05-20", document_no="复核〔2026〕1号")
    event = one_event(session, mark)
    assert event.action == "certification.pass_review" and event.document_no == "复核〔2026〕1号"
    assert event.changes["valid_until"] == ["2026-06-15", "2029-06-15"]


def test_downgrade_records_the_end_and_the_new_grant(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2023, revenue=900_000_000)
    champion = grant(session, admin, rules, ent, "single_champion", d("2024-03-01"))
    mark = last_id(session)
    apply(session, admin, rules, champion, "downgrade", "2027-02-15", today="2027-02-15")  # never after today
    assert [e.action for e in events_after(session, mark)] == ["certification.granted", "certification.downgrade"]


def test_revocation_records_the_ban_and_the_cascade(session, admin, rules):
    ent = make_enterprise(session, admin)
    innovative = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    specialized = grant(session, admin, rules, ent, "specialized_sme", d("2023-06-15") + timedelta(days=30))
    mark = last_id(session)
    # four-eyes (issue 16 §4): an officer alone no longer revokes with a ban; one proposes, another confirms
    event = EventInput(Event.REVOKE, d("2025-03-01"), "fraud", "撤〔2025〕3号")
    with pytest.raises(PermissionDenied):
        apply_event(session, actor=OFFICER, rules=rules, certification_id=specialized.id, event=event, at=NOW,
                    today=d("2026-05-01"))
    filed = four_eyes.propose_revocation(session, actor=OFFICER, rules=rules, certification_id=specialized.id,
                                         event=event, at=NOW, today=d("2026-05-01"))
    four_eyes.confirm(session, actor=SECOND, rules=rules, proposal_id=filed.id, at=NOW, today=d("2026-05-01"))
    events = [e for e in events_after(session, mark) if not e.action.startswith("proposal.")]
    assert [(e.action, e.entity_id) for e in events] == [
        ("ban.created", events[0].entity_id), ("certification.revoke", innovative.id),
        ("certification.revoke", specialized.id)]
    assert events[0].changes["uscc"] == [None, ent.uscc] and events[0].document_no == "撤〔2025〕3号"
    assert all(e.reason_code == "fraud" for e in events)
    assert all(e.changes["proposed_by"] == [None, OFFICER.label] and e.changes["confirmed_by"] == [None, SECOND.label]
               and e.actor_name == SECOND.name for e in events)


def test_users_tokens_and_lockout(session, admin):
    mark = last_id(session)
    user = users.create_user(session, actor=admin, username="li", role="officer", region_code="331000",
                             email="li@gov.example.cn", password="long-enough-1", at=NOW)
    token, _ = users.create_token(session, actor=admin, username="li", name="报表脚本", at=NOW)
    auth.revoke_token(session, actor=admin, token_id=token.id, at=NOW)
    for _ in range(2):
        with pytest.raises((auth.LoginFailed, auth.AccountLocked)):
            auth.authenticate(session, username="li", password="wrong", at=NOW, max_failures=2, lock_minutes=15,
                              ip="10.9.9.9")
    events = events_after(session, mark)
    assert [(e.action, e.entity_id) for e in events] == [
        ("user.created", user.id), ("token.created", token.id), ("token.revoked", token.id),
        ("user.login_failed", user.id), ("user.locked", user.id)]
    assert "password" not in str(events[0].changes) and events[3].ip == events[4].ip == "10.9.9.9"
    assert events[1].changes == {"user": [None, "li"], "name": [None, "报表脚本"], "scope": [None, "write"],
                                 "expires_at": [None, (NOW + timedelta(days=90)).isoformat()]}


def test_every_field_and_action_has_a_chinese_name(session, admin, rules):
    mark = last_id(session)
    ent = make_enterprise(session, admin)
    update_enterprise(session, actor=admin, enterprise_id=ent.id, version=ent.version, at=NOW,
                      data={"contact_name": "王", "contact_phone": "1", "industry_code": "C", "size_class": "small",
                            "founded_on": d("2001-01-01"), "name": "新名称有限公司"})
    report(session, admin, ent, 2023, revenue=900_000_000, employees=10, rd_staff=2, debt_ratio=50,
           rd_expense=1, main_business_revenue=1, invention_patents=1, audit_report_code="A", audit_firm="B")
    record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                         occurred_on=d("2024-01-06"), reported_on=d("2024-09-01"), details="x", at=NOW)
    innovative = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"), batch="1", authority="x")
    grant(session, admin, rules, ent, "specialized_sme", d("2023-08-15"))
    grant(session, admin, rules, ent, "champion_product", d("2024-03-01"), product_name="轴承", product_sales=1,
          product_share=50)  # issue 17: a product title's fields
    make_zone(session, admin, serial=61)  # issue 17: a zone's kind, type and managing body
    apply(session, admin, rules, innovative, "revoke", "2025-03-01", reason_code="fraud")
    users.create_user(session, actor=admin, username="wang", role="auditor", region_code="330000",
                      email="w@gov.example.cn", password="long-enough-1", at=NOW)
    users.create_token(session, actor=admin, username="wang", name="t", at=NOW)
    wang = session.scalar(sa.select(User).where(User.username == "wang"))
    sessions.start(session, user=wang, at=NOW, ip="10.0.0.1", user_agent="t")
    sessions.start(session, user=wang, at=NOW, ip="10.0.0.1", user_agent="t")  # ends the first: replaced
    sessions.end_all(session, user_id=wang.id, reason="logout", at=NOW, actor=admin)
    with pytest.raises(auth.LoginFailed):
        auth.authenticate(session, username="nobody", password="x", at=NOW, ip="10.0.0.2")
    events = events_after(session, mark)
    assert len(events) > 10
    assert {"user.login", "session.ended", "user.logout", "user.login_failed"} <= {e.action for e in events}
    assert {e.action for e in events} <= set(ACTION_NAMES)
    assert {key for e in events for key in e.changes} <= set(FIELD_NAMES)
    assert {e.actor_kind for e in events} <= set(ACTOR_KINDS)


def from_the_network(client, ip, request_id):
    """Make every request of `client` come from `ip` carrying the request id a proxy would set."""
    client.environ_base.update(REMOTE_ADDR=ip, HTTP_X_REQUEST_ID=request_id)
    return client


def test_page_action_names_the_user_the_request_and_the_ip(session, admin, login_as):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    officer = from_the_network(login_as("officer", "331000"), "10.20.30.40", "page-req-1")
    mark = last_id(session)
    _, done = submit(officer, f"/enterprises/{ent.id}/grant", {"tier": "innovative_sme", "recognized_on": "2026-05-20",
                                                                "document_no": "台经信〔2026〕5号"})
    assert done.status_code == 302
    event = one_event(session, mark)
    assert (event.action, event.enterprise_id, event.document_no) == ("certification.granted", ent.id, "台经信〔2026〕5号")
    assert (event.actor_kind, event.actor_name, event.request_id, event.ip) == (
        "user", "officer-331000", "page-req-1", "10.20.30.40")
    assert event.changes["tier"] == [None, "innovative_sme"]


def test_api_call_names_the_token_the_request_and_the_ip(session, admin, api_as):
    ent = make_enterprise(session, admin, region_code="331002", contact_phone="0576-1")
    session.commit()
    client = from_the_network(api_as("officer", "331000"), "10.20.30.41", "api-req-1")
    mark = last_id(session)
    response = client.patch(f"/api/v1/enterprises/{ent.id}", json={"contact_phone": "0576-2", "version": ent.version})
    assert response.status_code == 200
    event = one_event(session, mark)
    assert (event.action, event.entity_id, event.changes) == (
        "enterprise.updated", ent.id, {"contact_phone": ["****61", "****62"]})  # masked (issue 16 §6)
    assert (event.actor_kind, event.actor_name, event.request_id, event.ip) == (
        "token", "officer-331000", "api-req-1", "10.20.30.41")


def test_a_client_request_id_longer_than_the_column_is_replaced_not_fatal(session, admin, api_as):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    client = from_the_network(api_as("officer", "331000"), "10.20.30.42", "r" * 100)
    mark = last_id(session)
    response = client.patch(f"/api/v1/enterprises/{ent.id}", json={"contact_phone": "0576-3", "version": ent.version})
    assert response.status_code == 200
    kept = one_event(session, mark).request_id
    assert kept and kept != "r" * 64 and len(kept) <= 64  # not the client's (unsafe, too long) id, cut or whole


def test_resending_a_failed_reminder_mail_names_the_actor(session, admin, rules, api_as):
    ent = holder(session, admin, rules, contact_email="boss@bounce.cn")
    scan(session, rules, d("2026-05-20"))
    settle(session, {"boss@bounce.cn": PermanentMailError(BOUNCE)})
    session.commit()
    [message] = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_addr == "boss@bounce.cn")).all()
    client = from_the_network(api_as("officer", "331000"), "10.20.30.43", "api-req-resend")
    mark = last_id(session)
    assert client.post(f"/api/v1/outbox/{message.id}/resend").status_code == 200
    event = one_event(session, mark)
    assert (event.action, event.entity_type, event.entity_id, event.enterprise_id, event.region_code) == (
        "outbox.resent", "outbox_message", message.id, ent.id, "331002")
    assert (event.actor_kind, event.actor_name, event.request_id, event.ip) == (
        "token", "officer-331000", "api-req-resend", "10.20.30.43")
    assert event.changes["status"] == ["failed", "pending"] and event.changes["attempts"] == [1, 0]
    assert "boss@bounce.cn" in event.note and BOUNCE in event.note
    assert {event.action} <= set(ACTION_NAMES) and set(event.changes) <= set(FIELD_NAMES)
