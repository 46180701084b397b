"""Grant and lifecycle services on SQLite and PostgreSQL: checks, terms, bans, cascades, audit."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.domain.errors import IllegalTransition, NotFound, RuleViolation, StaleVersion
from registry.domain.lifecycle import Event, Status
from registry.enterprises.queries import holders_as_of
from registry.titles.models import Ban, CertificationEvent
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise, report

LADDER_START = d("2023-06-15")


def ladder(session, admin, rules, enterprise, start=LADDER_START):
    innovative = grant(session, admin, rules, enterprise, "innovative_sme", start)
    specialized = grant(session, admin, rules, enterprise, "specialized_sme", start + timedelta(days=30))
    giant = grant(session, admin, rules, enterprise, "little_giant", start + timedelta(days=60))
    return innovative, specialized, giant


def event(session, admin, rules, cert, action, on, today=None, **kw):
    return apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                       event=EventInput(Event(action), d(on) if isinstance(on, str) else on, **kw), at=NOW,
                       today=d(today) if isinstance(today, str) else today)


def test_grant_records_term_event_policy_and_audit(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-02-29"), document_no="浙经信〔2024〕9号")
    assert (cert.status, cert.valid_until, cert.policy_code) == (Status.ACTIVE, d("2027-02-28"), "national-2022")
    assert cert.review_window_opens_on == d("2027-02-28") - timedelta(days=90)
    assert [(t.seq, t.valid_until, t.policy_code) for t in cert.terms] == [(1, d("2027-02-28"), "national-2022")]
    assert session.scalar(sa.select(CertificationEvent.action).where(CertificationEvent.certification_id == cert.id)) == "grant"
    logged = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "certification",
                                                         AuditEvent.entity_id == cert.id)).one()
    assert logged.action == "certification.granted" and logged.document_no == "浙经信〔2024〕9号"


def test_little_giant_without_specialized_is_refused_with_reason(session, admin, rules):
    ent = make_enterprise(session, admin)
    grant(session, admin, rules, ent, "innovative_sme", d("2024-01-10"))
    with pytest.raises(RuleViolation) as err:
        grant(session, admin, rules, ent, "little_giant", d("2025-01-10"))
    assert "专精特新中小企业" in err.value.errors["tier"][0]


def test_pass_review_adds_a_term_starting_the_day_after(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    event(session, admin, rules, cert, "submit_review", "2026-04-01")
    assert cert.status == Status.UNDER_REVIEW
    event(session, admin, rules, cert, "pass_review", "2026-05-20", document_no="复核〔2026〕1号")
    assert [(t.valid_from, t.valid_until) for t in cert.terms] == [
        (d("2023-06-15"), d("2026-06-15")), (d("2026-06-16"), d("2029-06-15"))]
    assert cert.status == Status.ACTIVE and cert.valid_until == d("2029-06-15")


def test_illegal_event_changes_nothing(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    event(session, admin, rules, cert, "withdraw", "2024-01-01")
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(IllegalTransition):
        event(session, admin, rules, cert, "pass_review", "2024-02-01")
    assert cert.status == Status.WITHDRAWN
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_stale_version_is_refused(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    with pytest.raises(StaleVersion):
        event(session, admin, rules, cert, "submit_review", "2026-04-01", version=cert.version + 5)
    assert cert.status == Status.ACTIVE


def test_fraud_revocation_ends_every_title_and_bans(session, admin, rules):
    ent = make_enterprise(session, admin)
    innovative, specialized, giant = ladder(session, admin, rules, ent)
    event(session, admin, rules, specialized, "revoke", "2025-03-01", reason_code="fraud", document_no="撤〔2025〕3号")
    assert {c.status for c in (innovative, specialized, giant)} == {Status.REVOKED}
    ban = session.scalars(sa.select(Ban).where(Ban.uscc == ent.uscc)).one()
    assert (ban.starts_on, ban.ends_on) == (d("2025-03-01"), d("2028-03-01"))
    with pytest.raises(RuleViolation) as err:
        grant(session, admin, rules, ent, "innovative_sme", d("2026-01-01"))
    assert "2028-03-01" in err.value.errors["uscc"][0]


def test_this_tier_revocation_flags_dependants(session, admin, rules):
    ent = make_enterprise(session, admin)
    innovative, specialized, giant = ladder(session, admin, rules, ent)
    event(session, admin, rules, specialized, "revoke", "2025-03-01", reason_code="major_accident")
    assert specialized.status == Status.REVOKED
    assert innovative.status == Status.ACTIVE and not innovative.prerequisite_lost
    assert giant.status == Status.ACTIVE and giant.prerequisite_lost


def test_revoke_needs_a_known_reason(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    with pytest.raises(RuleViolation) as err:
        event(session, admin, rules, cert, "revoke", "2025-03-01")
    assert "reason_code" in err.value.errors
    with pytest.raises(RuleViolation):
        event(session, admin, rules, cert, "revoke", "2025-03-01", reason_code="bad_weather")


def test_failed_review_follows_policy(session, admin, rules):
    ent = make_enterprise(session, admin)
    national = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    event(session, admin, rules, national, "submit_review", "2026-05-01")  # issue 14: a result needs a review under way
    event(session, admin, rules, national, "fail_review", "2026-06-01")
    assert national.status == Status.EXPIRED
    big = make_enterprise(session, admin)
    report(session, admin, big, 2023, revenue=500_000_000)
    champion = grant(session, admin, rules, big, "single_champion", d("2024-03-01"))
    event(session, admin, rules, champion, "submit_review", "2026-12-01", today="2026-12-01")
    event(session, admin, rules, champion, "fail_review", "2027-02-01", today="2027-02-01")
    assert champion.status == Status.REVOKED


def test_downgrade_supersedes_and_grants_product(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2023, revenue=900_000_000)
    champion = grant(session, admin, rules, ent, "single_champion", d("2024-03-01"))
    event(session, admin, rules, champion, "downgrade", "2027-02-15", today="2027-02-15", document_no="降〔2027〕1号")
    assert champion.status == Status.SUPERSEDED and champion.ended_on == d("2027-02-15")
    product = [c for c in ent.certifications if c.tier == "champion_product"]
    assert len(product) == 1 and product[0].recognized_on == d("2027-02-15")


def test_as_of_is_exact_across_renewal_and_revocation(session, admin, rules):
    renewed = make_enterprise(session, admin, region_code="331002")
    revoked = make_enterprise(session, admin, region_code="331003")
    other_city = make_enterprise(session, admin, region_code="330106")
    a = grant(session, admin, rules, renewed, "innovative_sme", d("2023-06-15"))
    event(session, admin, rules, a, "submit_review", "2026-04-01")  # issue 14: no pass without a submission
    event(session, admin, rules, a, "pass_review", "2026-05-01")
    b = grant(session, admin, rules, revoked, "innovative_sme", d("2023-06-15"))
    event(session, admin, rules, b, "revoke", "2025-01-10", reason_code="major_accident")
    grant(session, admin, rules, other_city, "innovative_sme", d("2023-06-15"))

    def holders(on, region="331000"):
        return {e.id for e in session.scalars(holders_as_of("innovative_sme", d(on), region))}

    assert holders("2023-06-14") == set()
    assert holders("2023-06-15") == {renewed.id, revoked.id}
    assert holders("2025-01-09") == {renewed.id, revoked.id}
    assert holders("2025-01-10") == {renewed.id}
    assert holders("2026-06-16") == {renewed.id}  # first day of the renewed term
    assert holders("2029-06-15") == {renewed.id}
    assert holders("2029-06-16") == set()
    assert holders("2024-01-01", "330000") == {renewed.id, revoked.id, other_city.id}
    assert holders("2024-01-01", "331003") == {revoked.id}


def test_outside_region_is_not_found(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="330106")
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    taizhou = officer_of("331000")
    with pytest.raises(NotFound):
        event(session, taizhou, rules, cert, "withdraw", "2024-01-01")
    with pytest.raises(NotFound):
        grant(session, taizhou, rules, ent, "specialized_sme", d("2024-01-01"))


def test_every_change_leaves_a_verifiable_chain(session, admin, rules):
    ent = make_enterprise(session, admin)
    ladder(session, admin, rules, ent)
    result = audit.verify(session)
    assert result.ok and result.checked >= 4


def test_as_of_across_a_downgrade(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2023, revenue=900_000_000)
    champion = grant(session, admin, rules, ent, "single_champion", d("2024-03-01"))
    event(session, admin, rules, champion, "downgrade", "2026-02-15")

    def holds(tier, on):
        return ent.id in {e.id for e in session.scalars(holders_as_of(tier, d(on)))}

    assert holds("single_champion", "2026-02-14") and not holds("single_champion", "2026-02-15")
    assert not holds("champion_product", "2026-02-14") and holds("champion_product", "2026-02-15")
