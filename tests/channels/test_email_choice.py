"""E-mail as each user's choice (issue 18 §8): off means no e-mail from the scan, the inbox and channels still get
every reminder, nothing is sent twice when it is switched back on; audited; on the page and in the API."""

from collections import Counter

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.audit.queries import ACTION_NAMES
from registry.channels import services
from registry.channels.models import ChannelKind, InboxMessage
from registry.domain.actors import Actor, Role
from registry.domain.errors import PermissionDenied, RuleViolation
from registry.reminders.deliveries import ReminderFilter, list_reminders
from registry.reminders.digests import weekly_officer_digests
from registry.reminders.models import OutboxMessage, OutboxStatus
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN, add_target
from tests.channels.test_channel_settings import events, person
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise
from tests.jobs.conftest import scan
from tests.jobs.test_pipeline_reminders import officers, offices, opinion_mail, waiting  # noqa: F401 (fixtures)
from tests.jobs.test_reminders import holder, officer
from tests.web.fixtures import csrf_from


def rows(session):
    return session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)
                           .execution_options(populate_existing=True)).all()


def inbox_of(session, user_id):
    return session.scalars(sa.select(InboxMessage).where(InboxMessage.user_id == user_id)).all()


def test_with_e_mail_off_the_officer_gets_the_inbox_and_channels_and_no_mail_is_repeated_when_on_again(
        session, admin, rules):
    li = officer(session, admin)
    ent, _ = holder(session, admin, rules, officer_id=li.id, contact_email="boss@factory.cn")
    robot = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, user_id=li.id)
    services.set_email(session, actor=person(li), enabled=False, at=NOW)
    first = scan(session, rules, d("2026-05-20"))
    assert first.reminders.queued == 1
    assert Counter((str(m.channel.value), m.to_addr if m.channel == "email" else m.target_id) for m in rows(session)) \
        == {("email", "boss@factory.cn"): 1, ("dingtalk", robot.id): 1}  # the enterprise's mail goes; not li's
    assert len(inbox_of(session, li.id)) == 1  # the inbox always receives
    shown, _ = list_reminders(session, officer_of("331000"), ReminderFilter(), page=1, per_page=50,
                              today=d("2026-05-20"), policies=rules.policies)
    assert shown and all(v.officer_email_off for v in shown)  # the reminders page says why li's e-mail is missing
    services.set_email(session, actor=person(li), enabled=True, at=NOW)
    assert scan(session, rules, d("2026-05-20")).reminders.messages == 0  # on again: the day's reminder not re-sent
    assert li.email not in {m.to_addr for m in rows(session)}
    later = scan(session, rules, d("2026-08-03"))  # the next milestone (30 days before 2026-09-01) mails li again
    assert later.reminders.queued == 1
    assert li.email in {m.to_addr for m in rows(session)} and len(inbox_of(session, li.id)) == 2


def test_a_digest_officer_with_e_mail_off_gets_no_digest_mail_but_the_channel_digest(session, admin, rules):
    li = officer(session, admin, digest=True)
    for _ in range(2):
        holder(session, admin, rules, officer_id=li.id)
    robot = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET, user_id=li.id)
    li.wants_reminder_email = False
    scan(session, rules, d("2026-05-20"))
    assert [m for m in rows(session) if m.to_addr == li.email] == []
    [chat] = [m for m in rows(session) if m.target_id == robot.id]
    assert "共 2 项提醒" in chat.subject and len(inbox_of(session, li.id)) == 2


def test_an_office_officer_with_e_mail_off_gets_the_opinion_reminder_in_the_inbox_only(
        session, admin, rules, offices, waiting):  # noqa: F811
    offices["district"].wants_reminder_email = False
    assert scan(session, rules, d("2026-06-13")).reminders.queued == 1
    assert opinion_mail(session) == []  # jj was the only one to mail: nothing leaves by e-mail
    [entry] = inbox_of(session, offices["district"].id)
    assert "区县级推荐意见截止" in entry.subject


def test_mails_already_queued_when_e_mail_is_switched_off_are_still_sent(session, admin, rules):
    li = officer(session, admin)
    holder(session, admin, rules, officer_id=li.id)
    scan(session, rules, d("2026-05-20"))
    [queued] = [m for m in rows(session) if m.to_addr == li.email]
    services.set_email(session, actor=person(li), enabled=False, at=NOW)
    again = session.get(OutboxMessage, queued.id)
    assert again.status == OutboxStatus.PENDING  # decided and documented: the switch governs what is queued next


def test_switching_is_audited_once_per_change_in_plain_chinese_and_refused_without_a_user(session, make_user):
    user = make_user("officer", "331000")
    for enabled in (False, False, True, True):  # twice each: the repeat changes and records nothing
        assert services.set_email(session, actor=person(user), enabled=enabled, at=NOW).enabled is enabled
    [off] = events(session, "channel.email_off")
    [on] = events(session, "channel.email_on")
    assert off.changes == {"wants_reminder_email": [True, False]} and "站内消息" in off.note
    assert (ACTION_NAMES["channel.email_off"], ACTION_NAMES["channel.email_on"]) == ("关闭邮件提醒", "开启邮件提醒")
    token = Actor(kind="token", name="cli", role=Role.OFFICER, region_code="331000", user_id=None)
    with pytest.raises(PermissionDenied):
        services.set_email(session, actor=token, enabled=False, at=NOW)
    with pytest.raises(RuleViolation) as refused:
        services.set_email(session, actor=person(user), enabled="no", at=NOW)
    assert "邮件提醒" in refused.value.errors["enabled"][0]
    assert services.email_choice(session, token) is None


def test_the_page_switches_e_mail_off_and_on_with_csrf_and_says_so(session, login_as):
    client = login_as("officer", "331000")
    html = client.get("/channels").get_data(as_text=True)
    assert "已开启：提醒也发到您的邮箱" in html and "关闭邮件提醒" in html
    assert "officer331000@gov.example.cn" not in html  # the address shown partly
    assert client.post("/channels/email", data={"enabled": "0"}).status_code == 400  # no CSRF token (CSRFProtect)
    user = session.scalar(sa.select(User).where(User.username == "officer-331000")
                          .execution_options(populate_existing=True))
    assert user.wants_reminder_email is True
    for _ in range(2):  # a double click or a stale page: the second changes nothing
        answer = client.post("/channels/email", data={"enabled": "0", "csrf_token": csrf_from(html)},
                             follow_redirects=True)
    assert "邮件提醒本已关闭" in answer.get_data(as_text=True)
    html = client.get("/channels").get_data(as_text=True)
    assert "已关闭" in html and "开启邮件提醒" in html
    assert "您已关闭邮件提醒" in client.get("/todo").get_data(as_text=True)
    assert "您已关闭邮件提醒" in client.get("/reminders").get_data(as_text=True)
    bad = client.post("/channels/email", data={"enabled": "maybe", "csrf_token": csrf_from(html)},
                      follow_redirects=True)
    assert "邮件提醒：请选择开启或关闭" in bad.get_data(as_text=True)
    client.post("/channels/email", data={"enabled": "1", "csrf_token": csrf_from(html)})
    assert len(events(session, "channel.email_off")) == 1 and len(events(session, "channel.email_on")) == 1


def test_the_api_reads_and_sets_the_e_mail_choice(session, api_as):
    client = api_as("officer", "331000")
    assert client.get("/api/v1/channels").get_json()["email"]["enabled"] is True
    answer = client.put("/api/v1/channels/email", json={"enabled": False})
    assert answer.status_code == 200 and answer.get_json() == {
        "enabled": False, "has_address": True, "address": "o•••@gov.example.cn"}
    assert client.get("/api/v1/channels").get_json()["email"]["enabled"] is False
    for body in ({"enabled": "maybe"}, {}, {"enabled": None}, {"enabled": False, "extra": 1}):
        refused = client.put("/api/v1/channels/email", json=body)
        assert refused.status_code == 422, body
    assert client.put("/api/v1/channels/email", data="x", content_type="application/json").status_code in (400, 422)


def test_an_officer_with_e_mail_off_gets_no_monday_digest_while_the_others_do(session, admin, rules):
    quiet, loud = officer(session, admin, "quiet"), officer(session, admin, "loud")
    quiet.wants_reminder_email = False
    grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-20"))
    assert weekly_officer_digests(session, rules=rules, today=d("2026-06-01"), at=NOW, domain="x.cn") == 1
    assert {m.to_addr for m in rows(session)} == {loud.email}
