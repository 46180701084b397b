"""Batch deadlines per level remind the office whose opinion is due, through the daily scan (SQLite and PostgreSQL)."""

from datetime import date

import pytest
import sqlalchemy as sa

from registry import create_app
from registry.accounts.users import create_user
from registry.pipeline.services import start_publicity
from registry.reminders.deliveries import ReminderFilter, list_reminders
from registry.reminders.kinds import due_between
from registry.reminders.models import OutboxMessage, Reminder, ReminderStatus
from tests.conftest import NOW, d, officer_of
from tests.jobs.conftest import scan
from tests.pipeline.conftest import Officers, applied, climb, giant_batch, giant_candidate, opinion

#: giant_batch's deadlines: district 2026-06-20, city 2026-06-30, province 2026-07-10, ministry 2026-08-31;
#: national-2022 reminds an office 7 and 1 days before its level's deadline (reminders.opinion_due)


@pytest.fixture
def officers(admin):
    """One actor per review level for 台州, as tests/pipeline has them."""
    return Officers(district=officer_of("331002"), city=officer_of("331000"), province=officer_of("330000"),
                    ministry=admin, hangzhou=officer_of("330100"))


@pytest.fixture
def offices(session, admin):
    """Users of the 椒江区 and 台州市 offices (one of them on a daily digest), an auditor and a 杭州 officer."""
    def user(name, region, role="officer", digest=False):
        made = create_user(session, actor=admin, username=name, role=role, region_code=region,
                           email=f"{name}@gov.example.cn", password="long-enough", at=NOW, display_name=f"{name}科长")
        made.wants_daily_digest = digest
        return made

    return {"district": user("jj", "331002"), "city": user("tz", "331000"),
            "city_digest": user("tz2", "331000", digest=True), "auditor": user("sj", "331002", role="auditor"),
            "hangzhou": user("hz", "330100")}


@pytest.fixture
def waiting(session, admin, rules, officers):
    """A 小巨人 application of a 椒江区 enterprise, waiting for the district's opinion."""
    batch = giant_batch(session, rules, officers)
    return applied(session, rules, officers, batch, giant_candidate(session, admin, rules,
                                                                       contact_email="boss@factory.cn"))


def opinion_mail(session):
    return session.scalars(sa.select(OutboxMessage).join(Reminder, Reminder.id == OutboxMessage.reminder_id)
                           .where(Reminder.kind == "opinion_due").order_by(OutboxMessage.id)).all()


def opinion_rows(session, application):
    return session.scalars(sa.select(Reminder).where(Reminder.subject_type == "application",
                                                     Reminder.subject_id == application.id)
                           .order_by(Reminder.reference_on, Reminder.milestone.desc())).all()


def test_level_deadlines_remind_the_acting_office_and_move_up_with_the_application(
        session, admin, rules, officers, offices, waiting):
    before = scan(session, rules, d("2026-06-12"))  # 8 days before the district's deadline: beyond 7 days
    assert before.reminders.queued == 0 and opinion_mail(session) == [] and opinion_rows(session, waiting) == []

    due = scan(session, rules, d("2026-06-13"))
    assert [(r.milestone, r.due_on, r.status) for r in opinion_rows(session, waiting)] == [
        (7, d("2026-06-13"), ReminderStatus.QUEUED), (1, d("2026-06-19"), ReminderStatus.PENDING)]
    [mail] = opinion_mail(session)
    assert mail.to_addr == "jj@gov.example.cn" and due.reminders.queued == 1  # the office, not the enterprise
    assert "区县级推荐意见截止" in mail.subject and f"申请 #{waiting.id}" in mail.subject
    for text in ("jj科长您好", "2026年6月20日", "还有 7 天", "小巨人", "出具推荐、退回补正或不予推荐意见"):
        assert text in mail.body_text, text
    assert scan(session, rules, d("2026-06-13")).reminders.queued == 0  # a rerun sends nothing twice
    views, total = list_reminders(session, officer_of("331000"), ReminderFilter(kind="opinion_due"), page=1,
                                  per_page=50, today=d("2026-06-13"), policies=rules.policies)
    assert total == 2 and {(v.kind_name, v.subject_name) for v in views} == {
        ("推荐意见截止", f"申请 #{waiting.id}（2026年第一批）")}  # as the reminders page lists them

    opinion(session, rules, officers, waiting, "district", on=d("2026-06-15"))
    moved = scan(session, rules, d("2026-06-19"))  # the district's 1-day reminder is no longer wanted
    assert moved.reminders.queued == 0 and len(opinion_mail(session)) == 1
    rows = {(r.reference_on, r.milestone): r.status for r in opinion_rows(session, waiting)}
    assert rows == {(d("2026-06-20"), 7): ReminderStatus.QUEUED, (d("2026-06-20"), 1): ReminderStatus.RETIRED}

    scan(session, rules, d("2026-06-23"))  # the city's deadline (2026-06-30) is armed and its 7-day reminder sent
    rows = {(r.reference_on, r.milestone): r.status for r in opinion_rows(session, waiting)}
    assert (rows[(d("2026-06-30"), 7)], rows[(d("2026-06-30"), 1)]) == (ReminderStatus.QUEUED, ReminderStatus.PENDING)
    assert [m.to_addr for m in opinion_mail(session)[1:]] == ["tz@gov.example.cn"]
    [digest] = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_addr == "tz2@gov.example.cn")).all()
    assert "市级推荐意见截止" in digest.body_text and "到期事项汇总" in digest.subject  # the officer chose a digest
    assert not session.scalars(sa.select(OutboxMessage.to_addr).where(OutboxMessage.to_addr.in_(
        ["sj@gov.example.cn", "hz@gov.example.cn", "boss@factory.cn"]))).all()  # auditors, 杭州, the enterprise

    opinion(session, rules, officers, waiting, "city", "return", "请补充材料", on=d("2026-06-24"))
    scan(session, rules, d("2026-06-29"))  # returned: no more reminders about it
    assert len(opinion_mail(session)) == 2
    assert all(r.status != ReminderStatus.PENDING for r in opinion_rows(session, waiting))


def test_no_reminder_without_a_deadline_or_after_publicity(session, admin, rules, officers, offices):
    batch = giant_batch(session, rules, officers, deadlines={"city": "2026-06-30"}, name="只设市级截止")
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    scan(session, rules, d("2026-06-19"))
    assert opinion_rows(session, application) == []  # the district has no deadline in this batch
    items = due_between(session, rules, d("2026-06-01"), d("2026-07-31"), "331000")
    assert not [i for i in items if i.kind == "opinion_due"]
    opinion(session, rules, officers, application, "district")
    items = due_between(session, rules, d("2026-06-01"), d("2026-07-31"), "331000")
    [item] = [i for i in items if i.kind == "opinion_due"]  # the weekly digest lists it for the city
    assert (item.reference_on, item.office_code) == (d("2026-06-30"), "331000")
    scan(session, rules, d("2026-06-23"))
    assert {(r.milestone, r.status) for r in opinion_rows(session, application)} == {
        (7, ReminderStatus.QUEUED), (1, ReminderStatus.PENDING)}
    winner = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    climb(session, rules, officers, winner)
    start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d("2026-06-24"),
                    ends_on=d("2026-06-30"), published_where="省经信厅网站", at=NOW)
    items = due_between(session, rules, d("2026-06-01"), d("2026-07-31"), "331000")
    assert not [i for i in items if i.kind == "opinion_due"]  # publicity closes the chain: no opinion is due
    scan(session, rules, d("2026-06-24"))
    assert {(r.milestone, r.status) for r in opinion_rows(session, application)} == {
        (7, ReminderStatus.QUEUED), (1, ReminderStatus.RETIRED)}


def test_the_scan_command_before_and_after_the_reminder_day(settings, sessions, session, admin, rules, officers,
                                                            offices, waiting):
    session.commit()  # the CLI's sessions share the test connection: release the savepoint they read
    app = create_app(settings)
    app.extensions["registry.sessionmaker"] = sessions
    runner = app.test_cli_runner()

    before = runner.invoke(args=["scan", "--today", "2026-06-12"])
    assert before.exit_code == 0 and "发出 0" in before.output, before.output
    assert opinion_mail(session) == []
    preview = runner.invoke(args=["scan", "--today", "2026-06-13", "--dry-run"])
    assert preview.exit_code == 0 and f"申请 #{waiting.id} 区县级推荐意见截止" in preview.output, preview.output
    assert opinion_mail(session) == []
    after = runner.invoke(args=["scan", "--today", "2026-06-13"])
    assert after.exit_code == 0 and "发出 1，邮件 1" in after.output, after.output
    assert [m.to_addr for m in opinion_mail(session)] == ["jj@gov.example.cn"]
    again = runner.invoke(args=["scan", "--today", "2026-06-13"])
    assert again.exit_code == 0 and "已经完成" in again.output
    assert len(opinion_mail(session)) == 1
    assert date(2026, 6, 13) in set(session.scalars(sa.select(Reminder.due_on).where(
        Reminder.kind == "opinion_due", Reminder.status == ReminderStatus.QUEUED)))


def publicity_mail(session):
    return session.scalars(sa.select(OutboxMessage).join(Reminder, Reminder.id == OutboxMessage.reminder_id)
                           .where(Reminder.kind == "publicity_end").order_by(OutboxMessage.id)).all()


def test_the_end_of_publicity_is_reminded_the_day_before_exactly_once(session, admin, rules, officers,
                                                                                offices):
    """national-2022: reminders.publicity_end = [1]; the publicised enterprise (and its officer) hear of it once."""
    batch = giant_batch(session, rules, officers, name="公示提醒批")
    publicised = applied(session, rules, officers, batch,
                         giant_candidate(session, admin, rules, contact_email="boss@factory.cn"))
    climb(session, rules, officers, publicised)
    start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d("2026-07-20"),
                    ends_on=d("2026-07-26"), published_where="省经信厅网站", at=NOW)
    assert scan(session, rules, d("2026-07-24")).reminders.queued == 0 and publicity_mail(session) == []
    due = scan(session, rules, d("2026-07-25"))
    [row] = session.scalars(sa.select(Reminder).where(Reminder.kind == "publicity_end")).all()
    assert (row.subject_type, row.subject_id, row.milestone, row.reference_on, row.status) == (
        "application", publicised.id, 1, d("2026-07-26"), ReminderStatus.QUEUED)
    mails = publicity_mail(session)
    assert due.reminders.queued == 1 and "boss@factory.cn" in {m.to_addr for m in mails}
    [to_enterprise] = [m for m in mails if m.to_addr == "boss@factory.cn"]
    assert "公示期截止" in to_enterprise.subject
    for text in ("2026年7月26日", "省经信厅网站", "实名异议", "确认结果并认定称号"):
        assert text in to_enterprise.body_text, text
    assert scan(session, rules, d("2026-07-25")).reminders.queued == 0  # never twice
    items = due_between(session, rules, d("2026-07-20"), d("2026-07-31"), "331000")
    assert [(i.kind, i.subject_id) for i in items if i.kind == "publicity_end"] == [("publicity_end", publicised.id)]
