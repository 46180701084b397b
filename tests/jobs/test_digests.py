"""The weekly officer digest and the watchdog alert, both through the outbox."""

from datetime import timedelta

import sqlalchemy as sa

from jobs.digests import weekly_digest_once
from registry.accounts.users import create_user
from registry.reminders.digests import alert_if_scan_late, weekly_officer_digests
from registry.reminders.models import OutboxMessage
from registry.runs import ledger as jobruns
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise


def user(session, admin, name, role="officer", region="331000"):
    return create_user(session, actor=admin, username=name, role=role, region_code=region,
                       email=f"{name}@gov.cn", password="long-enough", at=NOW, display_name=name)


def mails_to(session, addr):
    return session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_addr == addr)
                           .order_by(OutboxMessage.id)).all()  # [-1] is the latest: no ORDER BY left it to the heap


def test_weekly_digest_lists_the_next_30_days_of_the_officers_region(session, admin, rules):
    user(session, admin, "taizhou")
    user(session, admin, "hangzhou", region="330100")
    soon = make_enterprise(session, admin)
    grant(session, admin, rules, soon, "innovative_sme", d("2023-06-20"))  # valid until 2026-06-20
    later = make_enterprise(session, admin)
    grant(session, admin, rules, later, "innovative_sme", d("2023-12-20"))
    assert weekly_officer_digests(session, rules=rules, today=d("2026-06-01"), at=NOW, domain="x.cn") == 1
    [mail] = mails_to(session, "taizhou@gov.cn")
    assert "未来 30 天到期事项" in mail.subject and "共 1 项" in mail.subject
    assert soon.name in mail.body_text and later.name not in mail.body_text
    assert "称号有效期届满：1 项" in mail.body_text
    assert mails_to(session, "hangzhou@gov.cn") == []
    assert weekly_officer_digests(session, rules=rules, today=d("2026-06-01"), at=NOW, domain="x.cn") == 0


def test_weekly_digest_is_claimed_once_per_day(session, sessions, admin, rules, policies):
    user(session, admin, "taizhou")
    grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-20"))
    session.commit()
    kwargs = dict(policies=policies, today=d("2026-06-01"), clock=lambda: NOW, domain="x.cn")
    assert weekly_digest_once(sessions, **kwargs) == 1
    assert weekly_digest_once(sessions, **kwargs) is None


def test_watchdog_alerts_admins_once_a_day_while_the_scan_is_late(session, admin):
    user(session, admin, "root", role="admin", region="330000")
    user(session, admin, "taizhou")
    now = NOW
    assert alert_if_scan_late(session, now=now, today=now.date(), timezone="Asia/Shanghai", domain="x.cn") == 1
    assert alert_if_scan_late(session, now=now + timedelta(hours=1), today=now.date(), timezone="Asia/Shanghai",
                              domain="x.cn") == 0
    [alert] = mails_to(session, "root@gov.cn")
    assert "26 小时" in alert.subject and "尚未成功运行过" in alert.body_text
    assert mails_to(session, "taizhou@gov.cn") == []
    run = jobruns.claim(session, job_name="scan", run_on=now.date(), at=now)
    jobruns.finish(session, run, at=now)
    later = now + timedelta(days=1)
    assert alert_if_scan_late(session, now=later, today=later.date(), timezone="Asia/Shanghai", domain="x.cn") == 0
    much_later = now + timedelta(days=3)
    assert alert_if_scan_late(session, now=much_later, today=much_later.date(), timezone="Asia/Shanghai",
                              domain="x.cn") == 1
    assert "距今已 72 小时" in mails_to(session, "root@gov.cn")[-1].body_text
