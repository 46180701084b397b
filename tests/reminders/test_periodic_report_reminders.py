"""The reminder kind `periodic_report` (issue 17 point 3): the scan arms reminders for the next due period
of each report a live title's tier declares, tells the office's officers, and retires them once filed."""

from __future__ import annotations

import sqlalchemy as sa

from registry.domain.lifecycle import Event
from registry.reminders.models import OutboxMessage, Reminder, ReminderStatus
from registry.titles.reports import record_filing
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise
from tests.jobs.conftest import scan


def _reminders(session, cert):
    return session.scalars(sa.select(Reminder).where(Reminder.kind == "periodic_report",
                                                     Reminder.subject_id == cert.id)
                           .order_by(Reminder.reference_on, Reminder.milestone.desc())).all()


def _leader(session, admin, rules):
    firm = make_enterprise(session, admin, region_code="500103")
    return grant(session, admin, rules, firm, "cq_leading", d("2027-03-01"))


def test_the_quarterly_summary_is_armed_mailed_to_the_office_and_retired_once_filed(session, admin, rules, make_user):
    officer = make_user("officer", "500000")
    cert = _leader(session, admin, rules)
    scan(session, rules, d("2027-03-30"))  # 16 days before 15 April: nothing yet
    assert _reminders(session, cert) == []
    scan(session, rules, d("2027-03-31"))  # 15 days before
    armed = _reminders(session, cert)
    assert [(r.reference_on, r.milestone, r.status) for r in armed] == [
        (d("2027-04-15"), 15, ReminderStatus.QUEUED), (d("2027-04-15"), 3, ReminderStatus.PENDING)]
    mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reminder_id == armed[0].id)).all()
    assert officer.email in {m.to_addr for m in mails}
    assert any("季度梳理" in m.subject + m.body_text and "2027年第1季度" in m.body_text for m in mails)

    record_filing(session, actor=admin, rules=rules, certification_id=cert.id, report_code="quarterly_progress",
                  period="2027Q1", filed_on=d("2027-04-01"), at=NOW, today=d("2027-04-01"))
    scan(session, rules, d("2027-04-02"))
    assert [(r.reference_on, r.milestone, r.status) for r in _reminders(session, cert)] == [
        (d("2027-04-15"), 15, ReminderStatus.QUEUED), (d("2027-04-15"), 3, ReminderStatus.RETIRED)]


def test_an_ended_title_has_its_report_reminders_retired(session, admin, rules):
    cert = _leader(session, admin, rules)
    scan(session, rules, d("2027-03-31"))
    assert any(r.status == ReminderStatus.PENDING for r in _reminders(session, cert))
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=d("2027-04-01"),
                event=EventInput(Event.WITHDRAW, d("2027-04-01"), note="企业主动放弃"))
    scan(session, rules, d("2027-04-02"))
    assert ReminderStatus.PENDING not in {r.status for r in _reminders(session, cert)}


def test_a_title_whose_tier_declares_no_report_gets_none(session, admin, rules):
    firm = make_enterprise(session, admin, region_code="500103")
    cert = grant(session, admin, rules, firm, "innovative_sme", d("2027-03-01"))
    scan(session, rules, d("2027-03-31"))
    assert _reminders(session, cert) == []
