"""The channel sender against local fake platforms that check signatures: delivery once, retries, rate limits,
a crash between sending and recording, failures in 待办."""

from datetime import timedelta

import sqlalchemy as sa

from jobs import channels as sending
from registry.channels.ledger import claim_deliveries
from registry.channels.models import ChannelKind
from registry.platform.channels import dingtalk_sign
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, OutboxStatus
from registry.todo.services import _failed_mail
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN, WECOM_KEY, add_target
from tests.conftest import NOW


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def queue(session, target, key="reminder:1:officer", subject="【梯度培育提醒】台州精工：称号届满", body="王科长您好：\n\n请办理。\n"):
    assert outbox.enqueue(session, dedupe_key=f"{key}:{target.kind}:{target.id}", to_addr=f"渠道：{target.label}",
                          subject=subject, body=body, at=NOW, domain="zj.example.cn")
    row = session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == f"{key}:{target.kind}:{target.id}"))
    row.channel, row.target_id = target.kind.value, target.id
    session.flush()
    return row


def reload(session, row):
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def test_the_signature_is_dingtalks_documented_one():
    # HMAC-SHA256 keyed by the secret over "timestamp\nsecret", Base64 (the URL encoding is urlencode's)
    import base64
    import hashlib
    import hmac
    want = base64.b64encode(hmac.new(b"SECx", b"1700000000000\nSECx", hashlib.sha256).digest()).decode()
    assert dingtalk_sign(1700000000000, "SECx") == want


def test_a_reminder_reaches_a_dingtalk_robot_with_a_valid_signature_once(session, sessions, fake, channel_settings):
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, region_code="331000")
    row = queue(session, target)
    clock = Clock()
    report = sending.deliver(sessions, channel_settings, clock=clock)
    assert (report.sent, report.failed, fake.refused) == (1, 0, [])
    [message] = fake.dingtalk
    assert message["msgtype"] == "markdown" and message["markdown"]["title"] == "【梯度培育提醒】台州精工：称号届满"
    assert "请办理。" in message["markdown"]["text"]
    row = reload(session, row)
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 1, NOW)
    clock.now += timedelta(hours=2)
    assert sending.deliver(sessions, channel_settings, clock=clock).sent == 0  # never again
    assert len(fake.dingtalk) == 1


def test_a_wrong_secret_is_refused_recorded_and_retried_until_fixed(session, sessions, fake, channel_settings):
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret="SECwrong", region_code="331000")
    row = queue(session, target)
    clock = Clock()
    report = sending.deliver(sessions, channel_settings, clock=clock)
    assert (report.sent, report.retried) == (0, 1) and fake.refused == ["dingtalk sign"] and fake.dingtalk == []
    row = reload(session, row)
    assert row.status == OutboxStatus.PENDING and "310000" in row.last_error and row.next_attempt_at > NOW
    target.secret = ROBOT_SECRET  # the office corrects the secret
    session.flush()
    clock.now += timedelta(minutes=5)
    assert sending.deliver(sessions, channel_settings, clock=clock).sent == 1
    row = reload(session, row)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2) and len(fake.dingtalk) == 1


def test_an_unknown_token_fails_at_once_and_shows_in_todo(session, sessions, fake, channel_settings):
    target = add_target(session, ChannelKind.DINGTALK, address="no-such-token", secret=ROBOT_SECRET,
                        region_code="331000")
    row = queue(session, target)
    assert sending.deliver(sessions, channel_settings, clock=Clock()).failed == 1
    row = reload(session, row)
    assert row.status == OutboxStatus.FAILED and "300001" in row.last_error
    [item] = _failed_mail(session)
    assert "发送失败" in item.what and "钉钉机器人 1" in item.what


def test_twenty_five_messages_to_one_robot_send_twenty_now_and_five_a_minute_later(session, sessions, fake,
                                                                                 channel_settings):
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, region_code="331000")
    wecom = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331000")
    for i in range(25):
        queue(session, target, key=f"reminder:{i}:officer")
    queue(session, wecom)  # another robot has its own limit
    clock = Clock()
    report = sending.deliver(sessions, channel_settings, clock=clock)
    assert (report.sent, report.deferred) == (21, 5)
    assert len(fake.dingtalk) == 20 and len(fake.wecom) == 1
    waiting = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                              .execution_options(populate_existing=True)).all()
    assert len(waiting) == 5 and all(m.next_attempt_at == NOW + timedelta(minutes=1) for m in waiting)
    clock.now += timedelta(seconds=30)
    assert sending.deliver(sessions, channel_settings, clock=clock).sent == 0  # still within the minute
    clock.now = NOW + timedelta(minutes=1)
    assert sending.deliver(sessions, channel_settings, clock=clock).sent == 5
    assert len(fake.dingtalk) == 25
    assert len({m["markdown"]["text"] for m in fake.dingtalk}) == 1  # same text, 25 distinct rows, each once


def test_two_claims_together_never_exceed_the_limit(session, fake, channel_settings):
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, region_code="331000")
    for i in range(30):
        queue(session, target, key=f"reminder:{i}:officer")
    report = sending.DeliveryReport()
    first = claim_deliveries(session, NOW, channel_settings, 12, report)
    second = claim_deliveries(session, NOW + timedelta(seconds=10), channel_settings, 50, report)
    assert (len(first), len(second)) == (12, 8)
    assert claim_deliveries(session, NOW + timedelta(seconds=59), channel_settings, 50, report) == []
    assert len(claim_deliveries(session, NOW + timedelta(seconds=60), channel_settings, 50, report)) == 10  # the rest


def test_a_crash_after_a_zzd_notice_is_sent_never_repeats_it(session, sessions, fake, channel_settings, make_user):
    user = make_user("officer", "331002")
    target = add_target(session, ChannelKind.ZZD, address="acct-001", user_id=user.id, label="王科长")
    row = queue(session, target)
    clock = Clock()
    sender = sending.Sender(channel_settings, clock)
    with sessions.begin() as s:  # the sender claims and sends …
        [claimed] = claim_deliveries(s, clock(), channel_settings, 10, sending.DeliveryReport())
    sender.send(claimed)
    assert len(fake.zzd) == 1  # … and dies before recording it
    clock.now += outbox.LEASE + timedelta(minutes=1)
    report = sending.deliver(sessions, channel_settings, clock=clock)
    assert (report.released, report.sent, report.duplicates) == (1, 1, 1)
    assert len(fake.zzd) == 1 and fake.refused == []
    row = reload(session, row)
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and "判重" in row.last_error
    [notice] = fake.zzd
    assert notice["receiverIds"] == "acct-001" and notice["bizMsgId"] == row.message_id
    assert notice["tenantId"] == "196729"


def test_a_removed_target_fails_its_waiting_deliveries_visibly(session, sessions, fake, channel_settings):
    target = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331000")
    row = queue(session, target)
    target.is_active = False
    session.flush()
    sending.deliver(sessions, channel_settings, clock=Clock())
    row = reload(session, row)
    assert row.status == OutboxStatus.FAILED and "停用" in row.last_error and fake.wecom == []


def test_email_rows_are_left_to_the_mail_sender_and_channel_rows_to_this_one(session, sessions, fake,
                                                                           channel_settings):
    target = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331000")
    row = queue(session, target)
    outbox.enqueue(session, dedupe_key="mail:1", to_addr="a@b.cn", subject="s", body="b", at=NOW, domain="x.cn")
    assert [c.id for c in outbox.claim_batch(session, NOW, 50)] != [row.id]
    assert len(outbox.claim_batch(session, NOW, 50)) == 0  # the mail was claimed once, the delivery never
    assert sending.deliver(sessions, channel_settings, clock=Clock()).sent == 1


def test_a_failed_delivery_is_resent_from_the_reminders_api_and_then_delivered_once(session, sessions, fake,
                                                                                  channel_settings, api_as):
    target = add_target(session, ChannelKind.DINGTALK, address="no-such-token", secret=ROBOT_SECRET,
                        region_code="331000")
    row = queue(session, target)
    row.region_code = "331002"
    session.commit()
    assert sending.deliver(sessions, channel_settings, clock=Clock()).failed == 1
    client = api_as("officer", "331000")
    target.address = ROBOT_TOKEN  # the office fixes the robot's token
    session.commit()
    answer = client.post(f"/api/v1/outbox/{row.id}/resend")
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    assert client.post(f"/api/v1/outbox/{row.id}/resend").status_code == 409  # queued already: not twice
    clock = Clock()
    clock.now = reload(session, row).next_attempt_at
    assert sending.deliver(sessions, channel_settings, clock=clock).sent == 1
    assert len(fake.dingtalk) == 1 and reload(session, row).status == OutboxStatus.SENT


def test_the_mail_backlog_alarm_counts_e_mail_only(session, fake):
    target = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331000")
    queue(session, target)
    later = NOW + timedelta(hours=2)
    assert outbox.backlog(session, now=later, alarm_minutes=30).count == 0  # a robot's queue is no SMTP trouble
    outbox.enqueue(session, dedupe_key="mail:1", to_addr="a@b.cn", subject="s", body="b", at=NOW, domain="x.cn")
    found = outbox.backlog(session, now=later, alarm_minutes=30)
    assert found.count == 1 and found.alarm
