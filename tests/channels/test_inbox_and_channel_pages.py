"""站内消息 and 提醒渠道 in the browser's HTML and in the API: own data only, paged, masked, Chinese refusals."""

import sqlalchemy as sa

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.channels.models import ChannelTarget, InboxMessage
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN
from tests.conftest import NOW
from tests.web.fixtures import csrf_from

WEBHOOK = f"https://oapi.dingtalk.com/robot/send?access_token={ROBOT_TOKEN}"


def user_id(session, username):
    return session.scalar(sa.select(User.id).where(User.username == username))


def fill_inbox(session, uid, n):
    for i in range(n):
        session.add(InboxMessage(user_id=uid, dedupe_key=f"reminder:{i}", subject=f"【梯度培育提醒】第 {i} 条",
                                 body_text=f"正文 {i}", created_at=NOW, region_code="331002"))
    session.commit()


def test_the_menu_counts_unread_messages_and_the_page_marks_them_read(session, login_as):
    client = login_as("officer", "331000")
    uid = user_id(session, "officer-331000")
    fill_inbox(session, uid, 23)
    html = client.get("/inbox").get_data(as_text=True)
    assert 'aria-label="23 条未读"' in html and "站内消息" in html
    assert "第 1 / 2 页" in html and html.count("【未读】") == 20
    assert "第 2 / 2 页" in client.get("/inbox?page=99").get_data(as_text=True)  # past the end: the last page
    newest = session.scalar(sa.select(InboxMessage.id).where(InboxMessage.user_id == uid)
                            .order_by(InboxMessage.id.desc()).limit(1))
    answer = client.post(f"/inbox/{newest}/read", data={"csrf_token": csrf_from(html)})
    assert answer.status_code == 302
    html = client.get("/inbox").get_data(as_text=True)
    assert 'aria-label="22 条未读"' in html
    assert client.post(f"/inbox/{newest}/read", data={}).status_code in (302, 400)  # no CSRF: nothing changes
    client.post("/inbox/read-all", data={"csrf_token": csrf_from(html)})
    html = client.get("/inbox?unread=1").get_data(as_text=True)
    assert "没有未读消息" in html and "条未读" not in html
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "inbox.read")) == 2


def test_nobody_reads_or_marks_anothers_messages(session, login_as, make_user):
    other = make_user("officer", "331002")
    fill_inbox(session, other.id, 1)
    theirs = session.scalar(sa.select(InboxMessage.id).where(InboxMessage.user_id == other.id))
    client = login_as("officer", "331000")
    html = client.get("/inbox").get_data(as_text=True)
    assert "第 0 条" not in html and "还没有消息" in html
    client.post(f"/inbox/{theirs}/read", data={"csrf_token": csrf_from(html)})
    session.expire_all()
    assert session.get(InboxMessage, theirs).read_at is None


def test_a_user_adds_a_robot_on_the_settings_page_and_never_sees_its_token_again(session, login_as):
    client = login_as("officer", "331000")
    html = client.get("/channels").get_data(as_text=True)
    assert "添加渠道" in html and "单位的渠道" not in html  # not an admin
    bad = client.post("/channels", data={"csrf_token": csrf_from(html), "kind": "dingtalk", "label": "我的群",
                                         "address": WEBHOOK, "secret": ""})
    assert bad.status_code == 422
    assert "加签密钥：钉钉机器人须启用" in bad.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTarget)) == 0
    good = client.post("/channels", data={"csrf_token": csrf_from(html), "kind": "dingtalk", "label": "我的群",
                                          "address": WEBHOOK, "secret": ROBOT_SECRET})
    assert good.status_code == 302
    html = client.get("/channels").get_data(as_text=True)
    assert "我的群" in html and "••••" + ROBOT_TOKEN[-4:] in html
    assert ROBOT_TOKEN not in html and ROBOT_SECRET not in html
    target = session.scalar(sa.select(ChannelTarget))
    client.post(f"/channels/{target.id}/remove", data={"csrf_token": csrf_from(html)})
    session.expire_all()
    assert session.get(ChannelTarget, target.id).is_active is False


def test_an_admin_sets_an_office_robot_for_a_district(session, login_as):
    client = login_as("admin", "331000")
    html = client.get("/channels").get_data(as_text=True)
    assert "单位的渠道" in html and "椒江区" in html
    answer = client.post("/channels", data={"csrf_token": csrf_from(html), "kind": "wecom", "label": "椒江区经信局群",
                                             "address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-123456789",
                                             "region_code": "331002", "include_subregions": "y"})
    assert answer.status_code == 302
    target = session.scalar(sa.select(ChannelTarget))
    assert (target.region_code, target.user_id, target.address, target.include_subregions) == (
        "331002", None, "wk-123456789", True)
    outside = client.post("/channels", data={"csrf_token": csrf_from(html), "kind": "wecom", "label": "杭州",
                                             "address": "wk-123456789", "region_code": "330100"})
    assert outside.status_code == 403 and "业务管理员" in outside.get_data(as_text=True)


def test_the_api_lists_adds_changes_and_removes_channels_masked(session, api_as):
    client = api_as("officer", "331000")
    answer = client.post("/api/v1/channels", json={"kind": "dingtalk", "label": "我的群", "address": WEBHOOK,
                                                   "secret": ROBOT_SECRET})
    assert answer.status_code == 201
    made = answer.get_json()
    assert made["address"] == "••••" + ROBOT_TOKEN[-4:] and made["has_secret"] is True
    assert ROBOT_TOKEN not in answer.get_data(as_text=True)
    refused = client.post("/api/v1/channels", json={"kind": "wecom", "label": "群", "address": "短"})
    assert refused.status_code == 422 and "地址" in refused.get_data(as_text=True)
    assert client.post("/api/v1/channels", json={"kind": "sms", "label": "x", "address": "y"}).status_code == 422
    assert client.post("/api/v1/channels", data="not json", content_type="application/json").status_code in (400, 422)
    changed = client.patch(f"/api/v1/channels/{made['id']}", json={"label": "改名"})
    assert changed.status_code == 200 and changed.get_json()["label"] == "改名"
    listed = client.get("/api/v1/channels").get_json()
    assert [c["label"] for c in listed["own"]] == ["改名"] and listed["offices"] == []
    assert client.delete(f"/api/v1/channels/{made['id']}").status_code == 200
    assert client.delete(f"/api/v1/channels/{made['id']}").status_code == 404
    assert client.get("/api/v1/channels").get_json()["own"] == []


def test_the_api_pages_the_inbox_and_marks_read(session, api_as):
    client = api_as("officer", "331000")
    uid = user_id(session, "officer-331000")
    fill_inbox(session, uid, 3)
    page = client.get("/api/v1/inbox?per_page=2&page=2").get_json()
    assert (page["total"], len(page["items"]), page["page"]) == (3, 1, 2)
    first = client.get("/api/v1/inbox?per_page=2").get_json()["items"][0]
    assert client.post(f"/api/v1/inbox/{first['id']}/read").get_json() == {"marked": 1, "unread": 2}
    assert client.get("/api/v1/inbox?unread=true").get_json()["total"] == 2
    assert client.post("/api/v1/inbox/999999/read").status_code == 404
    assert client.post("/api/v1/inbox/read-all").get_json() == {"marked": 2, "unread": 0}
    assert client.get("/api/v1/inbox?per_page=0").status_code == 422
