"""The daily scan on SQLite and PostgreSQL: automatic transitions, flags, ban lifting, all audited."""

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.lifecycle import Event, Status
from registry.enterprises.services import record_change_report
from registry.titles.models import Ban, CertificationEvent
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan


def audit_of(session, cert, action):
    return session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "certification", AuditEvent.entity_id == cert.id,
        AuditEvent.action == action)).all()


def test_unreviewed_title_expires_the_day_after_validity_ends_naming_the_job(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    assert cert.valid_until == d("2026-06-15")
    assert scan(session, rules, d("2026-06-15")).transitions == []
    assert cert.status == Status.ACTIVE
    result = scan(session, rules, d("2026-06-16"))
    assert len(result.transitions) == 1
    assert (cert.status, cert.ended_on) == (Status.EXPIRED, d("2026-06-16"))
    event = session.scalars(sa.select(CertificationEvent).where(
        CertificationEvent.certification_id == cert.id, CertificationEvent.action == "expire")).one()
    assert (event.effective_on, event.actor, event.from_status) == (d("2026-06-16"), "job:scan", Status.ACTIVE)
    [entry] = audit_of(session, cert, "certification.expire")
    assert (entry.actor_kind, entry.actor_name) == ("job", "scan")
    assert entry.changes["status"] == ["active", "expired"]
    assert scan(session, rules, d("2026-06-17")).transitions == []


def test_missed_review_revokes_when_the_policy_says_so_even_after_a_gap(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2022, revenue=500_000_000)
    cert = grant(session, admin, rules, ent, "single_champion", d("2023-09-01"))
    scan(session, rules, d("2026-10-20"))  # the scan was down for weeks: the date is still exact
    assert (cert.status, cert.ended_on) == (Status.REVOKED, d("2026-09-02"))
    event = cert.events[-1]
    assert (event.action, event.reason_code, event.actor) == ("revoke", "review_missed", "job:scan")
    assert session.scalar(sa.select(sa.func.count()).select_from(Ban).where(Ban.uscc == ent.uscc)) == 0
    assert audit_of(session, cert, "certification.revoke")[0].actor_name == "scan"


def test_submitted_review_is_left_for_the_officer(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                event=EventInput(Event.SUBMIT_REVIEW, d("2026-04-01")), at=NOW)
    scan(session, rules, d("2026-07-01"))
    assert cert.status == Status.UNDER_REVIEW


def test_ending_a_lower_title_flags_the_higher_one(session, admin, rules):
    ent = make_enterprise(session, admin)
    lower = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    higher = grant(session, admin, rules, ent, "specialized_sme", d("2024-01-10"))
    scan(session, rules, d("2026-06-16"))
    assert lower.status == Status.EXPIRED
    assert higher.status == Status.ACTIVE and higher.prerequisite_lost
    [entry] = audit_of(session, higher, "certification.prerequisite_lost")
    assert entry.actor_name == "scan"


def test_missed_annual_update_costs_review_eligibility_the_day_after_it_was_due(session, admin, rules):
    late = make_enterprise(session, admin)
    filed = make_enterprise(session, admin)
    for ent in (late, filed):
        report(session, admin, ent, 2024, revenue=10_000_000)  # the 2025 update was made
    report(session, admin, filed, 2025, revenue=10_000_000)
    late_cert = grant(session, admin, rules, late, "innovative_sme", d("2024-03-01"))
    filed_cert = grant(session, admin, rules, filed, "innovative_sme", d("2024-03-01"))
    new_cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2026-02-01"))
    scan(session, rules, d("2026-04-30"))
    assert late_cert.review_eligible
    result = scan(session, rules, d("2026-05-01"))
    assert len(result.flags) == 1
    assert (late_cert.review_eligible, late_cert.review_ineligible_cause) == (False, "annual_update_missed")
    assert filed_cert.review_eligible and new_cert.review_eligible  # filed; recognised in the year itself
    [entry] = audit_of(session, late_cert, "certification.review_ineligible")
    assert (entry.actor_name, entry.reason_code) == ("scan", "annual_update_missed")
    assert scan(session, rules, d("2026-05-02")).flags == []


def test_zhejiang_policy_only_flags_a_missed_update(session, admin, rules):
    ent = make_enterprise(session, admin)
    grant(session, admin, rules, ent, "innovative_sme", d("2023-01-10"))
    report(session, admin, ent, 2023, revenue=10_000_000)
    report(session, admin, ent, 2024, revenue=10_000_000)
    national = grant(session, admin, rules, ent, "specialized_sme", d("2023-06-10"))
    hidden = grant(session, admin, rules, ent, "zj_hidden_champion", d("2024-06-10"))
    scan(session, rules, d("2026-06-01"))  # the 2025 figures were never filed
    assert hidden.review_eligible  # 03-31 missed under a "flag" policy: reminded, not penalised
    assert national.review_ineligible_cause == "annual_update_missed"


def test_unreported_change_past_its_deadline_costs_review_eligibility(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2025, revenue=10_000_000)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2025-03-01"))
    change, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                     occurred_on=d("2026-07-01"), reported_on=None, details="更名", at=NOW,
                                     today=d("2026-07-01"))  # issue 14: never dated after today
    assert change.deadline_on == d("2026-10-08")
    scan(session, rules, d("2026-10-08"))
    assert cert.review_eligible
    result = scan(session, rules, d("2026-10-09"))
    assert (cert.review_eligible, cert.review_ineligible_cause) == (False, "change_not_reported")
    assert len(result.flags) == 1


def test_ban_is_lifted_the_day_after_it_ends_and_audited(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2022-09-01"))
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                event=EventInput(Event.REVOKE, d("2023-01-10"), reason_code="major_accident"), at=NOW)
    ban = session.scalars(sa.select(Ban).where(Ban.uscc == ent.uscc)).one()
    assert ban.ends_on == d("2026-01-10")
    scan(session, rules, d("2026-01-10"))
    assert ban.lifted_on is None
    result = scan(session, rules, d("2026-02-01"))
    assert ban.lifted_on == d("2026-01-11") and len(result.bans_lifted) == 1
    entry = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "ban",
                                                        AuditEvent.action == "ban.lifted")).one()
    assert entry.actor_kind == "job" and entry.changes["lifted_on"] == [None, "2026-01-11"]
    assert scan(session, rules, d("2026-02-02")).bans_lifted == []
