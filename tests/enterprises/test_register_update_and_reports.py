"""Enterprise services: validation, duplicates, optimistic locking, reports and deadlines."""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.actors import Role
from registry.domain.errors import Conflict, PermissionDenied, RuleViolation, StaleVersion
from registry.enterprises.services import record_change_report, register_enterprise, update_enterprise
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise, make_uscc


def test_bad_uscc_names_the_field(session, admin):
    with pytest.raises(RuleViolation) as err:
        register_enterprise(session, actor=admin, at=NOW,
                            data={"uscc": "91331002MA0000001X", "name": "甲", "region_code": "331002"})
    assert "uscc" in err.value.errors


def test_duplicate_uscc_conflicts(session, admin):
    ent = make_enterprise(session, admin)
    with pytest.raises(Conflict):
        register_enterprise(session, actor=admin, at=NOW, data={"uscc": ent.uscc.lower(), "name": "乙", "region_code": "331002"})


def test_unknown_region_and_region_warning(session, admin):
    with pytest.raises(RuleViolation) as err:
        register_enterprise(session, actor=admin, at=NOW, data={"uscc": make_uscc(), "name": "丙", "region_code": "999999"})
    assert "region_code" in err.value.errors
    _, warnings = register_enterprise(session, actor=admin, at=NOW,
                                      data={"uscc": make_uscc("331002"), "name": "丁", "region_code": "330106"})
    assert warnings and "331002" in warnings[0]


def test_stale_version_changes_nothing(session, admin):
    ent = make_enterprise(session, admin, contact_email="old@example.com")
    update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"contact_email": "new@example.com"},
                      version=ent.version, at=NOW)
    with pytest.raises(StaleVersion):
        update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"contact_email": "x@example.com"},
                          version=1, at=NOW)
    assert ent.contact_email == "new@example.com"
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "enterprise.updated",
                                                        AuditEvent.entity_id == ent.id)).one()
    assert trail.changes == {"contact_email": ["o***@example.com", "n***@example.com"]}  # the trail keeps it masked


def test_region_move_updates_titles(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-01-10"))
    update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"region_code": "330106"}, version=ent.version, at=NOW)
    assert cert.region_code == "330106"


def test_auditor_cannot_write(session):
    with pytest.raises(PermissionDenied):
        register_enterprise(session, actor=officer_of("331000", Role.AUDITOR), at=NOW,
                            data={"uscc": make_uscc(), "name": "戊", "region_code": "331002"})


def test_officer_cannot_register_outside_region(session):
    with pytest.raises(RuleViolation) as err:
        register_enterprise(session, actor=officer_of("331000"), at=NOW,
                            data={"uscc": make_uscc("330106"), "name": "己", "region_code": "330106"})
    assert "region_code" in err.value.errors


def test_change_report_deadline_and_late_report(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
    report, warnings = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                            occurred_on=d("2026-07-01"), reported_on=d("2026-09-01"), details="更名", at=NOW,
                                            today=d("2026-09-01"))  # issue 14: a report is never dated after today
    assert report.deadline_on == d("2026-10-08") and not warnings and cert.review_eligible
    _, warnings = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="merger",
                                       occurred_on=d("2026-01-05"), reported_on=d("2026-06-01"), details="", at=NOW)
    assert warnings and not cert.review_eligible and cert.review_ineligible_cause == "change_not_reported"


def test_provisional_change_deadline(session, admin, rules):
    ent = make_enterprise(session, admin)
    grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
    report, warnings = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                            occurred_on=d("2026-11-01"), reported_on=None, details="", at=NOW,
                                            today=d("2026-11-01"))  # issue 14: a change is never dated after today
    assert report.deadline_provisional and "2027" in warnings[0]
