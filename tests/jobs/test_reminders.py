"""The reminder ledger on SQLite and PostgreSQL: armed ahead, queued once, retired when the date moves."""

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from registry.accounts.users import create_user
from registry.domain.lifecycle import Event, Status
from registry.enterprises.services import record_change_report
from registry.reminders.models import OutboxMessage, Reminder, ReminderStatus
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan


def officer(session, admin, name="li", digest=False):
    user = create_user(session, actor=admin, username=name, role="officer", region_code="331000",
                       email=f"{name}@tz.gov.cn", password="long-enough", at=NOW, display_name=f"{name}科长")
    user.wants_daily_digest = digest
    return user


def holder(session, admin, rules, until_year=2026, recognized=None, **kw):
    """An enterprise with its annual updates filed and one innovative_sme title."""
    ent = make_enterprise(session, admin, **kw)
    for year in (2023, 2024, 2025):
        report(session, admin, ent, year, revenue=10_000_000)
    cert = grant(session, admin, rules, ent, "innovative_sme", recognized or d(f"{until_year - 3}-09-01"))
    return ent, cert


def reminders_of(session, cert, status=None):
    stmt = sa.select(Reminder).where(Reminder.subject_type == "certification", Reminder.subject_id == cert.id)
    if status:
        stmt = stmt.where(Reminder.status == status)
    return session.scalars(stmt.order_by(Reminder.reference_on, Reminder.milestone.desc())).all()


def outbox(session):
    return session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_milestones_are_armed_ahead_and_each_is_mailed_once(session, admin, rules):
    li = officer(session, admin)
    ent, cert = holder(session, admin, rules, officer_id=li.id, contact_email="boss@factory.cn", contact_name="王总")
    assert cert.valid_until == d("2026-09-01")
    first = scan(session, rules, d("2026-05-20"))  # review window opens 2026-06-03: 14 days before is today
    assert first.reminders.queued == 1 and first.reminders.messages == 2
    pending = [(r.kind, r.milestone, r.due_on) for r in reminders_of(session, cert, ReminderStatus.PENDING)]
    assert ("review_window", 0, d("2026-06-03")) in pending
    mails = outbox(session)
    assert {m.to_addr for m in mails} == {"boss@factory.cn", "li@tz.gov.cn"}
    to_enterprise = next(m for m in mails if m.to_addr == "boss@factory.cn")
    assert ent.name in to_enterprise.subject and "复核申报窗口开启" in to_enterprise.subject
    for text in ("王总您好", "创新型中小企业", "2026年6月3日", "还有 14 天", "li科长（li@tz.gov.cn）", "复核材料"):
        assert text in to_enterprise.body_text, text
    assert to_enterprise.message_id.startswith("<reminder.") and to_enterprise.message_id.endswith("@zj.example.cn>")
    again = scan(session, rules, d("2026-05-20"))
    assert (again.reminders.armed, again.reminders.queued, again.reminders.messages) == (0, 0, 0)
    assert len(outbox(session)) == 2


def test_a_scan_skipped_for_ten_days_sends_every_due_reminder_once(session, admin, rules):
    certs = {}
    for until in ("2026-06-12", "2026-07-05", "2026-06-08", "2026-08-30"):
        _, certs[until] = holder(session, admin, rules, recognized=d(until) - timedelta(days=365 * 3 + 1))
    assert {c.valid_until.isoformat() for c in certs.values()} == set(certs)
    for day in range(20, 32):
        scan(session, rules, d(f"2026-05-{day}"))
    before = len(outbox(session))
    result = scan(session, rules, d("2026-06-11"))  # nothing ran from 1 to 10 June
    queued = {(r.subject_id, r.kind, r.milestone) for r in session.scalars(sa.select(Reminder).where(
        Reminder.status == ReminderStatus.QUEUED, Reminder.queued_at == NOW + timedelta(days=10)))}
    assert queued == {(certs["2026-06-12"].id, "expiry", 7), (certs["2026-07-05"].id, "expiry", 30),
                      (certs["2026-08-30"].id, "expiry", 90)}
    assert len(outbox(session)) - before == 3 == result.reminders.messages
    assert certs["2026-06-08"].status == Status.EXPIRED  # its 7-day reminder was overtaken: no late mail
    assert not reminders_of(session, certs["2026-06-08"], ReminderStatus.PENDING)
    for day in range(12, 31):
        scan(session, rules, d(f"2026-06-{day}"))
    keys = Counter((m.reminder_id, m.to_addr) for m in outbox(session))
    assert max(keys.values()) == 1  # never the same reminder to the same address twice
    sent = Counter((r.subject_id, r.kind, r.milestone, r.reference_on) for r in session.scalars(
        sa.select(Reminder).where(Reminder.status == ReminderStatus.QUEUED)))
    assert max(sent.values()) == 1


def test_catch_up_sends_only_the_nearest_of_several_due_milestones(session, admin, rules):
    _, cert = holder(session, admin, rules)  # valid until 2026-09-01: 30 days before is 2026-08-02
    result = scan(session, rules, d("2026-08-26"))  # first scan in months: 90, 30 and 7 are all due
    expiry = [(r.milestone, r.status) for r in reminders_of(session, cert) if r.kind == "expiry"]
    assert expiry == [(90, ReminderStatus.RETIRED), (30, ReminderStatus.RETIRED), (7, ReminderStatus.QUEUED)]
    assert result.reminders.queued == 1


def test_renewal_retires_pending_reminders_and_arms_the_new_date(session, admin, rules):
    _, cert = holder(session, admin, rules)
    scan(session, rules, d("2026-06-03"))
    old = reminders_of(session, cert, ReminderStatus.PENDING)
    assert {(r.kind, r.milestone) for r in old} == {("expiry", 30), ("expiry", 7)}
    for action in (Event.SUBMIT_REVIEW, Event.PASS_REVIEW):  # issue 14: a pass only for a review under way
        apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                    event=EventInput(action, d("2026-07-01")), at=NOW, today=d("2026-07-01"))
    assert cert.valid_until == d("2029-09-01")
    result = scan(session, rules, d("2026-07-02"))
    assert result.reminders.retired == 2
    assert all(r.status == ReminderStatus.RETIRED and r.retired_at is not None for r in old)
    scan(session, rules, d("2029-05-04"))  # 120 days before the new expiry: the new date is armed
    new = reminders_of(session, cert, ReminderStatus.PENDING)
    assert {(r.kind, r.milestone, r.reference_on) for r in new} >= {("expiry", 30, d("2029-09-01")),
                                                                    ("expiry", 7, d("2029-09-01"))}


def test_officer_with_daily_digest_gets_one_mail_listing_the_day(session, admin, rules):
    zhang = officer(session, admin, "zhang", digest=True)
    names = []
    for _ in range(2):
        ent, _ = holder(session, admin, rules, officer_id=zhang.id)
        names.append(ent.name)
    scan(session, rules, d("2026-05-20"))
    to_officer = [m for m in outbox(session) if m.to_addr == "zhang@tz.gov.cn"]
    assert len(to_officer) == 1 and to_officer[0].reminder_id is None
    assert "共 2 项" in to_officer[0].subject
    assert all(name in to_officer[0].body_text for name in names)
    assert len([m for m in outbox(session) if m.to_addr == "contact@example.com"]) == 2


def test_annual_update_reminders_overdue_once_and_retired_when_filed(session, admin, rules):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2024, revenue=10_000_000)
    grant(session, admin, rules, ent, "innovative_sme", d("2024-09-01"))
    scan(session, rules, d("2026-03-31"))  # 30 days before 30 April
    rows = session.scalars(sa.select(Reminder).where(Reminder.subject_type == "enterprise",
                                                     Reminder.subject_id == ent.id)).all()
    assert {(r.milestone, r.status) for r in rows} == {(30, ReminderStatus.QUEUED), (7, ReminderStatus.PENDING),
                                                       (1, ReminderStatus.PENDING)}
    body = outbox(session)[-1].body_text
    assert "2026 年度信息更新" in body and "填报 2025 年度数据" in body and "还有 30 天" in body
    scan(session, rules, d("2026-05-01"))
    overdue = session.scalars(sa.select(Reminder).where(Reminder.subject_id == ent.id, Reminder.milestone == -1)).one()
    assert overdue.status == ReminderStatus.QUEUED and "已逾期 1 天" in outbox(session)[-1].body_text
    assert scan(session, rules, d("2026-05-02")).reminders.queued == 0

    other = make_enterprise(session, admin)
    report(session, admin, other, 2024, revenue=10_000_000)
    grant(session, admin, rules, other, "innovative_sme", d("2024-09-01"))
    scan(session, rules, d("2027-04-01"))
    report(session, admin, other, 2026, revenue=10_000_000, today=d("2027-04-01"))  # filed: the pending ones retire
    scan(session, rules, d("2027-04-02"))
    left = session.scalars(sa.select(Reminder.status).where(
        Reminder.subject_id == other.id, Reminder.subject_type == "enterprise",
        Reminder.reference_on == d("2027-04-30"), Reminder.milestone.in_([7, 1]))).all()
    assert left == [ReminderStatus.RETIRED, ReminderStatus.RETIRED]


def test_change_report_deadline_is_reminded_until_reported(session, admin, rules):
    ent, _ = holder(session, admin, rules, until_year=2028)
    change, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="merger",
                                     occurred_on=d("2026-07-01"), reported_on=None, details="吸收合并", at=NOW,
                                     today=d("2026-07-01"))  # issue 14: never dated after today
    scan(session, rules, d("2026-09-08"))  # 30 days before 2026-10-08
    [row] = session.scalars(sa.select(Reminder).where(Reminder.subject_type == "change_report",
                                                      Reminder.subject_id == change.id,
                                                      Reminder.status == ReminderStatus.QUEUED)).all()
    assert (row.milestone, row.reference_on) == (30, d("2026-10-08"))
    assert "合并" in outbox(session)[-1].body_text
