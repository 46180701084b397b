"""The bulk-DML guard: bulk UPDATE/DELETE on audited tables is refused unless recorded; audit rows never change."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from registry.accounts.models import User
from registry.audit import trail as audit
from registry.audit.guard import (
    AUDITED_TABLES,
    UnauditedWrite,
    _guard_statement,
    guarded_sessionmaker,
    install_audit_guard,
)
from registry.audit.models import AuditChainHead, AuditEvent
from registry.enterprises.models import AnnualReport, Enterprise
from registry.reminders.models import Reminder
from registry.titles.models import Certification
from tests.audit.helpers import events_after, last_id
from tests.conftest import NOW
from tests.factories import make_enterprise, report


@pytest.mark.parametrize("statement", [
    sa.update(Enterprise).values(contact_email="x@example.com"),
    sa.update(Enterprise.__table__).where(Enterprise.__table__.c.id > 0).values(name="x"),
    sa.delete(AnnualReport),
    sa.update(User).values(is_active=False),
    sa.update(Certification).where(Certification.status == "active").values(status="expired"),
], ids=["orm-update", "core-update", "delete", "users", "certifications"])
def test_bulk_dml_on_audited_tables_is_refused(session, admin, statement):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2024, revenue=1)
    mark = last_id(session)
    with pytest.raises(UnauditedWrite, match="escape the audit trail"):
        session.execute(statement)
    assert session.get(Enterprise, ent.id).contact_email == "contact@example.com"
    assert events_after(session, mark) == []


def test_bulk_update_inside_bulk_allowed_is_recorded(session, admin):
    # the contact e-mail is ciphertext in the table (issue 16 §6): rows are picked by another column
    kept = make_enterprise(session, admin, contact_email="keep@example.com", industry_code="C35")
    changed = [make_enterprise(session, admin, contact_email="old@example.com", industry_code="C34")
               for _ in range(3)]
    mark = last_id(session)
    with audit.bulk_allowed(session, actor=admin, action="enterprise.bulk_contact_fix", at=NOW,
                            why=audit.Why(note="统一更正联系邮箱"), region_code="331002"):
        result = session.execute(sa.update(Enterprise).where(Enterprise.industry_code == "C34")
                                 .values(contact_email="new@example.com"))
    assert result.rowcount == 3
    [logged] = events_after(session, mark)
    assert (logged.action, logged.entity_type, logged.entity_id, logged.region_code, logged.note) == (
        "enterprise.bulk_contact_fix", "enterprise", None, "331002", "统一更正联系邮箱")
    assert logged.changes["ids"] == [None, sorted(e.id for e in changed)]
    assert logged.changes["rows"] == [None, 3]
    assert "UPDATE enterprises" in logged.changes["statement"][1]
    assert "n***@example.com" in logged.changes["parameters"][1].values()  # masked: no clear contact in the trail
    assert "new@example.com" not in str(logged.changes)
    assert {session.get(Enterprise, e.id).contact_email for e in changed} == {"new@example.com"}
    assert kept.id not in logged.changes["ids"][1]
    assert audit.verify(session).ok
    with pytest.raises(UnauditedWrite):  # the permit ends with the block
        session.execute(sa.update(Enterprise).values(name="x"))


def test_bulk_update_by_primary_key_lists_the_rows(session, admin):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2023, revenue=1)
    report(session, admin, ent, 2024, revenue=2)
    ids = list(session.scalars(sa.select(AnnualReport.id).where(AnnualReport.enterprise_id == ent.id)))
    mark = last_id(session)
    with audit.bulk_allowed(session, actor=admin, action="annual_report.bulk_fix", at=NOW, enterprise_id=ent.id):
        session.execute(sa.update(AnnualReport), [{"id": i, "audit_firm": "某会计师事务所"} for i in ids])
    [logged] = events_after(session, mark)
    assert logged.changes["ids"] == [None, sorted(ids)] and logged.enterprise_id == ent.id


def test_bulk_delete_with_returning_is_recorded_and_returns_rows(session, admin):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2024, revenue=1)
    mark = last_id(session)
    with audit.bulk_allowed(session, actor=admin, action="annual_report.purged", at=NOW):
        deleted = session.execute(sa.delete(AnnualReport).where(AnnualReport.enterprise_id == ent.id)
                                  .returning(AnnualReport.year)).scalars().all()
    assert deleted == [2024]
    assert [e.action for e in events_after(session, mark)] == ["annual_report.purged"]


@pytest.mark.parametrize("statement", [
    sa.update(AuditEvent).values(note="x"), sa.delete(AuditEvent),
    sa.update(AuditChainHead).values(last_event_id=0), sa.text("UPDATE audit_events SET note = 'x'"),
    sa.text("delete from audit_events"), sa.text('UPDATE "enterprises" SET name = 1'),
], ids=["orm-update", "orm-delete", "chain-head", "text-update", "text-delete", "text-enterprises"])
def test_audit_rows_never_change_through_a_session_even_with_a_permit(session, admin, statement):
    make_enterprise(session, admin)
    with pytest.raises(UnauditedWrite), audit.bulk_allowed(session, actor=admin, action="x", at=NOW):
        session.execute(statement)
    assert audit.verify(session).ok


def test_modifying_an_audit_object_is_refused_at_flush(session, admin):
    make_enterprise(session, admin)
    logged = session.scalars(sa.select(AuditEvent)).first()
    logged.note = "悄悄改一下"
    with pytest.raises(UnauditedWrite, match="append-only"):
        session.flush()


def test_deleting_an_audit_object_is_refused_at_flush(session, admin):
    make_enterprise(session, admin)
    session.delete(session.scalars(sa.select(AuditEvent)).first())
    with pytest.raises(UnauditedWrite, match="never deleted"):
        session.flush()


def test_reads_and_ordinary_writes_pass(session, admin):
    ent = make_enterprise(session, admin)
    session.execute(sa.text("SELECT id FROM enterprises WHERE id = :id FOR UPDATE" if
                            session.bind.dialect.name == "postgresql" else "SELECT id FROM enterprises WHERE id = :id"),
                    {"id": ent.id})
    session.execute(sa.update(Reminder).values(due_on=NOW.date()).where(sa.false()))  # not an audited table
    ent.contact_phone = "0576-88888888"
    session.flush()


def test_the_app_session_factory_is_guarded(engine):
    factory = guarded_sessionmaker(engine)
    assert event.contains(factory, "do_orm_execute", _guard_statement)
    assert install_audit_guard(factory) is factory  # idempotent
    with factory() as app_session, pytest.raises(UnauditedWrite):
        app_session.execute(sa.delete(Enterprise).where(sa.false()))


def test_every_audited_table_exists():
    assert set(AUDITED_TABLES) <= set(AuditEvent.metadata.tables)


def test_a_new_session_is_guarded_even_when_the_event_registry_answers_for_another(monkeypatch):
    """SQLAlchemy's event registry is keyed by id(): a stale entry of a collected session whose id a new
    session reuses made `event.contains` answer yes, and the new session went unguarded (a flaky test run).
    A session is asked for its own listeners instead."""
    from sqlalchemy.orm import Session

    from registry.audit import guard

    monkeypatch.setattr(guard.event, "contains", lambda *args: True)  # what the stale entry said
    fresh = install_audit_guard(Session())
    assert any(fn is _guard_statement for fn in fresh.dispatch.do_orm_execute)
