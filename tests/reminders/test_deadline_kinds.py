"""Adding a reminder kind is one declaration plus its texts (issue 15, acceptance).

The test declares a kind no module knows — 复核材料准备, 60 days before a title's last valid day,
with its own label and texts — and follows it, without touching any other module, through the
scan's SQL and its Python rule, the ledger (armed ahead, queued once with its e-mails, never
twice), the weekly digest, and the reminders page and API (label, filter).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.reminders import kinds, wanted
from registry.reminders import services as reminders
from registry.reminders.digests import weekly_officer_digests
from registry.reminders.duedates import cn_date
from registry.reminders.models import OutboxMessage, Reminder, ReminderStatus
from registry.titles.models import Certification
from tests.conftest import NOW, d
from tests.jobs.conftest import scan
from tests.web.deliveries import holder
from tests.web.fixtures import login
from tests.web.pages import page

CODE, LABEL = "review_materials", "复核材料准备"


def materials_text(cert, tier):
    """The new kind's texts: what is due and what to do."""
    return (f"{tier.name}复核材料准备",
            f"称号有效期至 {cn_date(cert.valid_until)}，请提前委托会计师事务所出具近两年审计报告，备齐复核材料。")


@pytest.fixture
def declared():
    """The one declaration: a title-date kind with its label, texts and milestones (withdrawn afterwards)."""
    kind = kinds.register(kinds.DeadlineKind(CODE, LABEL, milestones=(60, 30),
                                             **kinds.title_date(Certification.valid_until, materials_text)))
    try:
        yield kind
    finally:
        kinds.unregister(CODE)


def of_kind(session, status=None):
    stmt = sa.select(Reminder).where(Reminder.kind == CODE)
    if status is not None:
        stmt = stmt.where(Reminder.status == status)
    return session.scalars(stmt.order_by(Reminder.id)).all()


def test_a_kind_declared_once_is_scanned_reminded_mailed_and_listed(session, admin, rules, app, make_user, api_as,
                                                                     declared):
    officer = make_user("officer", "331000")
    officer.email = "li@tz.gov.cn"
    ent = holder(session, admin, rules, officer_id=officer.id, contact_email="boss@a.cn", contact_name="王总")
    [cert] = ent.certifications
    assert cert.valid_until == d("2026-09-01")

    # The scan judges it in SQL: the statement was generated from the declaration and agrees with the rule.
    day = d("2026-07-03")  # 60 days before 2026-09-01
    assert declared in kinds.in_sql()
    in_sql = {tuple(r) for r in session.execute(sa.select(wanted.wanted(rules, day, [declared])))}
    in_python = {k for k in reminders.wanted_rows(reminders.collect(session, rules, day), day, NOW) if k[2] == CODE}
    assert in_sql == in_python == {("certification", cert.id, CODE, m, d("2026-09-01")) for m in (60, 30)}

    # The ledger: both milestones armed, the first queued on its day with its e-mails, each sent once.
    assert scan(session, rules, day).reminders.queued >= 1
    first, second = of_kind(session)
    assert [(r.milestone, r.due_on, r.status) for r in (first, second)] == [
        (60, d("2026-07-03"), ReminderStatus.QUEUED), (30, d("2026-08-02"), ReminderStatus.PENDING)]
    mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reminder_id == first.id)).all()
    assert {m.to_addr for m in mails} == {"boss@a.cn", "li@tz.gov.cn"}
    for mail in mails:
        assert "创新型中小企业复核材料准备" in mail.subject and "还有 60 天" in mail.subject
        assert "请提前委托会计师事务所出具近两年审计报告" in mail.body_text
    scan(session, rules, d("2026-07-04"))
    scan(session, rules, d("2026-08-02"))
    assert [r.status for r in of_kind(session)] == [ReminderStatus.QUEUED] * 2
    counts = dict(session.execute(sa.select(OutboxMessage.reminder_id, sa.func.count()).where(
        OutboxMessage.reminder_id.in_([first.id, second.id])).group_by(OutboxMessage.reminder_id)).all())
    assert counts == {first.id: 2, second.id: 2}

    # The weekly digest counts it under its label.
    weekly_officer_digests(session, rules=rules, today=d("2026-08-10"), at=NOW, domain="zj.example.cn")
    [weekly] = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("weekly:%"))).all()
    assert f"{LABEL}：1 项" in weekly.body_text and "创新型中小企业复核材料准备" in weekly.body_text
    session.commit()  # each request ends with a rollback: uncommitted test data would vanish

    # The reminders page offers it in the kind filter, lists it by its label, and filters by it.
    client = app.test_client()
    assert login(client, officer.username).status_code == 302
    html = page(client, "/reminders")
    assert f'<option value="{CODE}">{LABEL}</option>' in html and LABEL in html.split("<tbody")[-1]
    rows = page(client, f"/reminders?kind={CODE}").split("<tbody")[-1]
    assert rows.count(LABEL) == 2 and "创新型中小企业" in rows and "称号有效期届满" not in rows
    body = api_as("officer", "330000").get("/api/v1/reminders", query_string={"kind": CODE}).get_json()
    assert [(i["kind"], i["kind_name"], i["milestone"]) for i in body["items"]] == [(CODE, LABEL, 30),
                                                                                  (CODE, LABEL, 60)]


def test_a_declaration_that_cannot_work_is_refused():
    rule = kinds.title_date(Certification.valid_until, materials_text)
    with pytest.raises(ValueError, match="already declared"):
        kinds.register(kinds.DeadlineKind("expiry", "又一个", milestones=(1,), **rule))
    with pytest.raises(ValueError, match="milestones"):  # the policy files have no [reminders] entry for it
        kinds.register(kinds.DeadlineKind(CODE, LABEL, **rule))
    with pytest.raises(ValueError, match="recipients"):
        kinds.register(kinds.DeadlineKind(CODE, LABEL, milestones=(1,), recipients="everyone", **rule))
    assert CODE not in kinds.names()


def test_the_kinds_are_declared_once_and_the_ledger_reads_them():
    assert list(kinds.names()) == ["expiry", "review_window", "annual_update", "change_report", "opinion_due",
                                   "publicity_end", "periodic_report"]
    assert {k.code for k in kinds.in_sql()} == {"expiry", "review_window", "annual_update", "change_report"}
    assert [k.code for k in kinds.all_kinds() if k.recipients == kinds.OFFICE] == ["opinion_due", "periodic_report"]
