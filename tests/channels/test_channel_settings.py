"""Channel settings: own and office channels, checked inputs, secrets encrypted and masked, every change audited."""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.channels import services
from registry.channels.models import ChannelTarget, InboxMessage
from registry.domain.actors import Actor, Role
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN
from tests.conftest import NOW

WEBHOOK = f"https://oapi.dingtalk.com/robot/send?access_token={ROBOT_TOKEN}"


def person(user, role=Role.OFFICER, region="331000"):
    return Actor(kind="user", name=user.username, role=role, region_code=region, user_id=user.id)


def events(session, action):
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_a_user_adds_a_signed_dingtalk_robot_by_pasting_its_webhook(session, make_user):
    user = make_user("officer", "331000")
    target = services.add_target(session, actor=person(user), kind="dingtalk", label=" 我的提醒群 ", address=WEBHOOK,
                                 secret=ROBOT_SECRET, at=NOW)
    assert (target.user_id, target.region_code, target.address, target.label) == (user.id, None, ROBOT_TOKEN, "我的提醒群")
    stored = session.execute(sa.text("SELECT address, secret FROM channel_targets WHERE id = :i"), {"i": target.id}).one()
    assert stored.address.startswith("sm4gcm:") and ROBOT_TOKEN not in stored.address  # encrypted at rest
    assert stored.secret.startswith("sm4gcm:") and ROBOT_SECRET not in stored.secret
    shown = services.view(target)
    assert shown.address == "••••" + ROBOT_TOKEN[-4:] and ROBOT_TOKEN not in repr(shown)
    [event] = events(session, "channel.added")
    assert ROBOT_TOKEN not in str(event.changes) and ROBOT_SECRET not in str(event.changes)
    assert event.changes["address"] == [None, shown.address] and event.changes["secret"] == [None, "已设置"]


@pytest.mark.parametrize(("kind", "address", "secret", "field"), [
    ("dingtalk", WEBHOOK, "", "secret"),  # a DingTalk robot must be signed
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?foo=1", ROBOT_SECRET, "address"),
    ("dingtalk", "短", ROBOT_SECRET, "address"),
    ("dingtalk", "x" * 129, ROBOT_SECRET, "address"),
    ("dingtalk", WEBHOOK, "密钥中文不行", "secret"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", "", "address"),
    ("wecom", "abcd1234-ok", "SECnotforwecom", "secret"),
    ("zzd", "有空格 的账号", "", "address"),
    ("sms", "13800138000", "", "kind"),
    ("wecom", "", "", "address"),
])
def test_bad_input_names_its_field_in_chinese_and_writes_nothing(session, make_user, kind, address, secret, field):
    user = make_user("officer", "331000")
    with pytest.raises(RuleViolation) as caught:
        services.add_target(session, actor=person(user), kind=kind, label="群", address=address, secret=secret, at=NOW)
    assert field in caught.value.errors
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in caught.value.errors[field])
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTarget)) == 0


def test_only_an_admin_of_the_region_sets_office_channels(session, make_user):
    officer = make_user("officer", "331000")
    admin = make_user("admin", "331000")
    with pytest.raises(PermissionDenied):
        services.add_target(session, actor=person(officer), kind="wecom", label="群", address="wecom-key-0001",
                            region_code="331000", at=NOW)
    with pytest.raises(PermissionDenied):  # outside the admin's region
        services.add_target(session, actor=person(admin, Role.ADMIN), kind="wecom", label="群",
                            address="wecom-key-0001", region_code="330100", at=NOW)
    with pytest.raises(RuleViolation):
        services.add_target(session, actor=person(admin, Role.ADMIN), kind="wecom", label="群",
                            address="wecom-key-0001", region_code="999999", at=NOW)
    target = services.add_target(session, actor=person(admin, Role.ADMIN), kind="wecom", label="椒江区经信局群",
                                 address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-0001",
                                 region_code="331002", include_subregions=True, at=NOW)
    assert (target.region_code, target.address, target.user_id) == ("331002", "wecom-key-0001", None)
    assert [t.id for t in services.office_targets(session, person(admin, Role.ADMIN))] == [target.id]
    assert services.office_targets(session, person(officer)) == []


def test_changes_keep_blank_secrets_and_removal_deactivates_all_audited(session, make_user):
    user = make_user("officer", "331000")
    other = make_user("officer", "331000", "other")
    target = services.add_target(session, actor=person(user), kind="dingtalk", label="群", address=ROBOT_TOKEN,
                                 secret=ROBOT_SECRET, at=NOW)
    with pytest.raises(NotFound):  # another user's channel is as if absent
        services.update_target(session, actor=person(other), target_id=target.id, label="抢", at=NOW)
    services.update_target(session, actor=person(user), target_id=target.id, label="新名字", address="", secret="",
                           at=NOW)
    assert (target.label, target.address, target.secret) == ("新名字", ROBOT_TOKEN, ROBOT_SECRET)
    services.update_target(session, actor=person(user), target_id=target.id, secret="SECnew-secret-1", at=NOW)
    [first, second] = events(session, "channel.changed")
    assert first.changes == {"label": ["群", "新名字"]}
    assert second.changes == {"secret": ["已设置", "已更换"]} and "SECnew" not in str(second.changes)
    services.remove_target(session, actor=person(user), target_id=target.id, at=NOW)
    assert target.is_active is False and services.own_targets(session, person(user)) == []
    assert len(events(session, "channel.removed")) == 1
    with pytest.raises(NotFound):
        services.remove_target(session, actor=person(user), target_id=target.id, at=NOW)


def test_the_inbox_is_each_users_own_paged_and_marking_read_is_audited(session, make_user):
    user = make_user("officer", "331000")
    other = make_user("officer", "331000", "other")
    for i in range(25):
        session.add(InboxMessage(user_id=user.id, dedupe_key=f"reminder:{i}", subject=f"提醒 {i}", body_text="正文",
                                 created_at=NOW, region_code="331002"))
    session.add(InboxMessage(user_id=other.id, dedupe_key="reminder:1", subject="别人的", body_text="x", created_at=NOW))
    session.flush()
    me = person(user)
    rows, total = services.inbox_page(session, me, page=2, per_page=20)
    assert (len(rows), total) == (5, 25) and all(r.user_id == user.id for r in rows)
    assert services.unread_count(session, user.id) == 25
    theirs = session.scalar(sa.select(InboxMessage.id).where(InboxMessage.user_id == other.id))
    with pytest.raises(NotFound):
        services.mark_read(session, actor=me, message_id=theirs, at=NOW)
    assert services.mark_read(session, actor=me, message_id=rows[0].id, at=NOW) == 1
    assert services.mark_read(session, actor=me, message_id=rows[0].id, at=NOW) == 0  # twice: nothing more
    assert services.unread_count(session, user.id) == 24
    assert services.mark_read(session, actor=me, message_id=None, at=NOW) == 24
    assert services.unread_count(session, user.id) == 0 and services.unread_count(session, other.id) == 1
    assert [e.changes["count"][1] for e in events(session, "inbox.read")] == [1, 24]
