"""Issue 13 §8b: unsent mail older than REGISTRY_OUTBOX_ALARM_MINUTES raises an alarm — in /health, on the
admins' dashboard (tests/reminders/test_outbox_alarm.py) and in one mail a day to each admin concerned."""

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from jobs.digests import watchdog_once
from registry import create_app
from registry.accounts.users import create_user
from registry.reminders import outbox
from registry.reminders.digests import alert_if_outbox_backlog
from registry.reminders.models import OutboxMessage, OutboxStatus
from tests.conftest import NOW

SHANGHAI = "Asia/Shanghai"


def queue(session, key, *, at, region="331002", status=None):
    outbox.enqueue(session, dedupe_key=key, to_addr="boss@factory.cn", subject="【梯度培育提醒】测试", body="测试\n",
                   at=at, domain="zj.example.cn", region_code=region)
    session.flush()
    if status is not None:
        session.execute(sa.update(OutboxMessage).where(OutboxMessage.dedupe_key == key).values(status=status))


def admin_of(session, admin, name, region):
    return create_user(session, actor=admin, username=name, role="admin", region_code=region,
                       email=f"{name}@gov.cn", password="long-enough", at=NOW, display_name=name)


def alerts(session):
    return session.scalars(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("watchdog:outbox-backlog:%"))
                           .order_by(OutboxMessage.id)).all()


def test_backlog_counts_unsent_mail_and_ages_the_oldest(session):
    assert outbox.backlog(session, now=NOW, alarm_minutes=30).as_json() == {
        "backlog": 0, "oldest_minutes": None, "alarm_minutes": 30, "status": "ok"}
    queue(session, "sent", at=NOW - timedelta(days=3), status=OutboxStatus.SENT)  # delivered: not a backlog
    queue(session, "failed", at=NOW - timedelta(days=3), status=OutboxStatus.FAILED)  # on the reminders page
    queue(session, "young", at=NOW - timedelta(minutes=10))
    assert outbox.backlog(session, now=NOW, alarm_minutes=30).as_json() == {
        "backlog": 1, "oldest_minutes": 10, "alarm_minutes": 30, "status": "ok"}
    queue(session, "sending", at=NOW - timedelta(minutes=30), status=OutboxStatus.SENDING)
    assert not outbox.backlog(session, now=NOW, alarm_minutes=30).alarm  # exactly 30 minutes is not older
    found = outbox.backlog(session, now=NOW + timedelta(seconds=61), alarm_minutes=30)
    assert found.alarm and found.as_json() == {"backlog": 2, "oldest_minutes": 31, "alarm_minutes": 30,
                                               "status": "alarm"}
    assert not outbox.backlog(session, now=NOW + timedelta(seconds=61), alarm_minutes=45).alarm
    assert outbox.backlog(session, now=NOW, alarm_minutes=1, region_code="330100").count == 0  # 杭州: none
    assert outbox.backlog(session, now=NOW, alarm_minutes=1, region_code="330000").count == 2


def test_health_reports_the_outbox_backlog(settings, session):
    app = create_app(settings.with_overrides(outbox_alarm_minutes=30))
    session.info["shared"] = True
    app.extensions["registry.sessionmaker"] = lambda: session
    queue(session, "old", at=NOW - timedelta(minutes=50))
    queue(session, "new", at=NOW - timedelta(minutes=5))
    session.commit()
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/health").get_json()
    assert body["outbox"] == {"backlog": 2, "oldest_minutes": 50, "alarm_minutes": 30, "status": "alarm"}
    with time_machine.travel(NOW - timedelta(minutes=40), tick=False):  # 10 minutes after the oldest was queued
        assert client.get("/api/v1/health").get_json()["outbox"]["status"] == "ok"


def test_admins_get_one_backlog_alarm_a_day_for_their_region(session, admin):
    admin_of(session, admin, "province", "330000")
    admin_of(session, admin, "taizhou", "331000")
    admin_of(session, admin, "hangzhou", "330100")
    queue(session, "stuck", at=NOW - timedelta(hours=2), region="331002")
    kwargs = dict(alarm_minutes=30, timezone=SHANGHAI, domain="zj.example.cn")
    assert alert_if_outbox_backlog(session, now=NOW, today=NOW.date(), **kwargs) == 2
    assert alert_if_outbox_backlog(session, now=NOW + timedelta(hours=1), today=NOW.date(), **kwargs) == 0
    sent = alerts(session)
    assert sorted(m.to_addr for m in sent) == ["province@gov.cn", "taizhou@gov.cn"]  # not Hangzhou's admin
    mail = sent[0]
    assert "1 封邮件积压未发出" in mail.subject and "已等待 120 分钟" in mail.subject
    assert "REGISTRY_SMTP_HOST" in mail.body_text and "send-reminders" in mail.body_text
    tomorrow = NOW + timedelta(days=1)
    assert alert_if_outbox_backlog(session, now=tomorrow, today=tomorrow.date(), **kwargs) >= 2  # again, next day
    session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.SENT))  # the relay is back: all delivered
    later = NOW + timedelta(days=2)
    assert alert_if_outbox_backlog(session, now=later, today=later.date(), **kwargs) == 0


def test_the_watchdog_sends_the_backlog_alarm_with_the_configured_age(session, sessions, admin):
    admin_of(session, admin, "taizhou", "331000")
    queue(session, "stuck", at=NOW - timedelta(minutes=50))
    session.commit()
    common = dict(today=NOW.date(), clock=lambda: NOW, timezone=SHANGHAI, domain="zj.example.cn")
    watchdog_once(sessions, outbox_alarm_minutes=60, **common)
    assert alerts(session) == []
    watchdog_once(sessions, outbox_alarm_minutes=45, **common)
    watchdog_once(sessions, outbox_alarm_minutes=45, **common)
    assert [m.to_addr for m in alerts(session)] == ["taizhou@gov.cn"]
