"""Editing a channel on the 提醒渠道 page (issue 18 §8): the same service, guards and audit as PATCH; the address and
secret are never shown back and change only when typed; hostile input is refused beside its field, never a 5xx."""

import sqlalchemy as sa

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.channels.models import ChannelKind, ChannelTarget
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN, WECOM_KEY, add_target
from tests.web.fixtures import csrf_from


def uid(session, username):
    return session.scalar(sa.select(User.id).where(User.username == username))


def stored(session, target_id):
    return session.scalar(sa.select(ChannelTarget).where(ChannelTarget.id == target_id)
                          .execution_options(populate_existing=True))


def changed_events(session):
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "channel.changed")).all()


def own_robot(session, username):
    target = add_target(session, ChannelKind.DINGTALK, address=ROBOT_TOKEN, secret=ROBOT_SECRET,
                        user_id=uid(session, username), label="我的群")
    session.commit()
    return target


def test_a_user_renames_a_robot_and_replaces_its_secret_only_when_typed(session, login_as):
    client = login_as("officer", "331000")
    target = own_robot(session, "officer-331000")
    assert f'/channels/{target.id}/edit' in client.get("/channels").get_data(as_text=True)
    html = client.get(f"/channels/{target.id}/edit").get_data(as_text=True)
    assert 'value="我的群"' in html and "••••" + ROBOT_TOKEN[-4:] in html
    assert ROBOT_TOKEN not in html and ROBOT_SECRET not in html  # never shown back in full
    answer = client.post(f"/channels/{target.id}/edit", data={"csrf_token": csrf_from(html), "label": "改名后的群",
                                                                "address": "", "secret": ""})
    assert answer.status_code == 302
    after = stored(session, target.id)
    assert (after.label, after.address, after.secret) == ("改名后的群", ROBOT_TOKEN, ROBOT_SECRET)  # blanks keep
    client.post(f"/channels/{target.id}/edit", data={"csrf_token": csrf_from(html), "label": "改名后的群",
                                                       "secret": "SECnew0123456789"})
    assert stored(session, target.id).secret == "SECnew0123456789"
    events = changed_events(session)
    assert [sorted(e.changes) for e in events] == [["label"], ["secret"]]
    assert events[1].changes["secret"] == ["已设置", "已更换"] and "SECnew" not in str(events[1].changes)
    assert "修改钉钉机器人：改名后的群" in events[1].note
    # the same values again: nothing changes, nothing is recorded
    client.post(f"/channels/{target.id}/edit", data={"csrf_token": csrf_from(html), "label": "改名后的群"})
    assert len(changed_events(session)) == 2


def test_hostile_input_is_refused_beside_its_field_in_chinese_and_writes_nothing(session, login_as):
    client = login_as("officer", "331000")
    target = own_robot(session, "officer-331000")
    token = csrf_from(client.get(f"/channels/{target.id}/edit").get_data(as_text=True))
    for data, message in (({"label": "群" * 10_000}, "名称：最多 64 个字"),
                          ({"label": "\u200b\u200c\u2060\ufeff"}, "名称：请填写"),  # zero-width only: empty
                          ({"label": "群", "address": "a" * 10_240}, "地址：最多 500 个字符"),
                          ({"label": "群", "address": "https://oapi.dingtalk.com/robot/send?x=1"},
                           "地址：webhook 地址中没有 access_token 参数"),
                          ({"label": "群", "secret": "短"}, "加签密钥：请粘贴机器人“加签”处给出的密钥"),
                          ({"label": "群", "secret": "S" * 5_000}, "加签密钥：最多 128 个字符")):
        answer = client.post(f"/channels/{target.id}/edit", data={"csrf_token": token, **data})
        assert answer.status_code == 422, data
        assert message in answer.get_data(as_text=True), data
    after = stored(session, target.id)
    assert (after.label, after.address, after.secret) == ("我的群", ROBOT_TOKEN, ROBOT_SECRET)
    assert changed_events(session) == []
    assert client.post(f"/channels/{target.id}/edit", data={"label": "x"}).status_code == 400  # no CSRF token
    spaced = client.post(f"/channels/{target.id}/edit", data={"csrf_token": token, "label": "\u200b新群\u200b"})
    assert spaced.status_code == 302 and stored(session, target.id).label == "新群"  # cleaned, not refused


def test_anothers_or_a_removed_or_an_unknown_channel_is_404_on_the_page_and_in_the_api(session, login_as, api_as,
                                                                                       make_user):
    make_user("officer", "331002")
    theirs = own_robot(session, "officer-331002")
    client = login_as("officer", "331000")
    token = csrf_from(client.get("/channels").get_data(as_text=True))
    for target_id in (theirs.id, 999_999):
        assert client.get(f"/channels/{target_id}/edit").status_code == 404
        assert client.post(f"/channels/{target_id}/edit", data={"csrf_token": token, "label": "x"}).status_code == 404
    mine = own_robot(session, "officer-331000")
    client.post(f"/channels/{mine.id}/remove", data={"csrf_token": token})
    assert client.get(f"/channels/{mine.id}/edit").status_code == 404  # deactivated: not editable
    assert client.post(f"/channels/{mine.id}/edit", data={"csrf_token": token, "label": "x"}).status_code == 404
    api = api_as("officer", "330100")
    assert api.patch(f"/api/v1/channels/{theirs.id}", json={"label": "x"}).status_code == 404
    assert api.patch(f"/api/v1/channels/{mine.id}", json={"label": "x"}).status_code == 404
    assert api.patch(f"/api/v1/channels/{theirs.id}", json={"label": "群" * 10_000}).status_code == 422
    assert stored(session, theirs.id).label == "我的群" and stored(session, mine.id).label == "我的群"


def test_an_admin_edits_an_office_channel_and_its_reach(session, login_as):
    client = login_as("admin", "331000")
    office = add_target(session, ChannelKind.WECOM, address=WECOM_KEY, region_code="331002", label="椒江群")
    session.commit()
    html = client.get(f"/channels/{office.id}/edit").get_data(as_text=True)
    assert "也接收下级地区的提醒" in html and "加签密钥" not in html and WECOM_KEY not in html
    answer = client.post(f"/channels/{office.id}/edit", data={"csrf_token": csrf_from(html), "label": "椒江区经信局群",
                                                                "include_subregions": "y"})
    assert answer.status_code == 302
    after = stored(session, office.id)
    assert (after.label, after.include_subregions, after.address) == ("椒江区经信局群", True, WECOM_KEY)
    refused = client.post(f"/channels/{office.id}/edit", data={"csrf_token": csrf_from(html), "label": "群",
                                                                 "secret": "SECabcdef0123"})
    assert refused.status_code == 422 and "加签密钥：只有钉钉机器人需要" in refused.get_data(as_text=True)
