"""The scan's reminders reach each recipient's own channels, the offices' channels and the inbox — once."""

from collections import Counter

import sqlalchemy as sa

from jobs import channels as sending
from registry.channels.models import ChannelKind, InboxMessage
from registry.reminders.models import OutboxMessage
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN, WECOM_KEY, add_target
from tests.conftest import NOW, d
from tests.jobs.conftest import scan
from tests.jobs.test_reminders import holder, officer


def rows(session):
    return session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)
                           .execution_options(populate_existing=True)).all()


def test_a_reminder_reaches_a_fake_dingtalk_robot_with_a_valid_signature_once(session, sessions, admin, rules, fake,
                                                                            channel_settings):
    li = officer(session, admin)
    ent, _ = holder(session, admin, rules, officer_id=li.id, contact_email="boss@factory.cn", contact_name="王总",
                    contact_phone="13800138000")
    mine = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, user_id=li.id,
                      label="李科长的提醒群")
    office = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code=ent.region_code, label="区经信局群")
    city = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331000", label="市经信局群")
    above = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="330000", label="省厅群")
    above.include_subregions = True
    elsewhere = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="330100", label="杭州群")
    elsewhere.include_subregions = True
    session.flush()
    first = scan(session, rules, d("2026-05-20"))
    assert first.reminders.queued == 1
    by_channel = Counter((str(m.channel.value), m.target_id) for m in rows(session))
    assert by_channel == {("email", None): 2, ("dingtalk", mine.id): 1, ("wecom", office.id): 1,
                          ("wecom", above.id): 1}  # not the city (exact region only) nor 杭州
    assert city.id not in {t for _, t in by_channel} and elsewhere.id not in {t for _, t in by_channel}
    robot_row = next(m for m in rows(session) if m.target_id == mine.id)
    assert robot_row.to_addr == "钉钉机器人：李科长的提醒群"
    assert ent.name in robot_row.subject and "复核" in robot_row.body_text
    for secret in ("王总", "13800138000", "boss@factory.cn"):  # no contact details on a chat platform
        assert secret not in robot_row.body_text and secret not in robot_row.subject
    [entry] = session.scalars(sa.select(InboxMessage)).all()
    assert entry.user_id == li.id and ent.name in entry.subject and "复核" in entry.body_text and entry.read_at is None
    assert "王总" not in entry.body_text and "13800138000" not in entry.body_text  # masked on every page: not here
    report = sending.deliver(sessions, channel_settings, clock=lambda: NOW)
    assert (report.sent, report.failed, fake.refused) == (3, 0, [])
    assert len(fake.dingtalk) == 1 and len(fake.wecom) == 2
    again = scan(session, rules, d("2026-05-20"))  # a rerun, then the sender again: nothing twice
    assert again.reminders.messages == 0
    assert sending.deliver(sessions, channel_settings, clock=lambda: NOW).sent == 0
    assert len(fake.dingtalk) == 1 and len(session.scalars(sa.select(InboxMessage)).all()) == 1


def test_an_officer_without_e_mail_still_gets_the_inbox_and_channels(session, admin, rules):
    li = officer(session, admin)
    li.email = ""
    ent, _ = holder(session, admin, rules, officer_id=li.id, contact_email="boss@factory.cn")
    add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, user_id=li.id)
    scan(session, rules, d("2026-05-20"))
    assert Counter(str(m.channel.value) for m in rows(session)) == {"email": 1, "dingtalk": 1}
    assert [m.to_addr for m in rows(session) if m.channel == "email"] == ["boss@factory.cn"]
    assert session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 1


def test_a_digest_officer_gets_one_channel_digest_and_each_reminder_in_the_inbox(session, admin, rules):
    li = officer(session, admin, digest=True)
    for _ in range(2):
        holder(session, admin, rules, officer_id=li.id)
    target = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, user_id=li.id)
    scan(session, rules, d("2026-05-20"))
    chat = [m for m in rows(session) if m.target_id == target.id]
    assert len(chat) == 1 and "共 2 项提醒" in chat[0].subject
    assert session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 2
    mails = [m for m in rows(session) if m.channel == "email" and m.to_addr == li.email]
    assert len(mails) == 1 and "2 项" in mails[0].subject  # the e-mail digest as before


def test_removed_targets_get_nothing_new(session, admin, rules):
    li = officer(session, admin)
    holder(session, admin, rules, officer_id=li.id)
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, user_id=li.id)
    target.is_active = False
    session.flush()
    scan(session, rules, d("2026-05-20"))
    assert [m for m in rows(session) if m.channel != "email"] == []
