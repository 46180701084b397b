"""Issue 18: no page an officer or auditor reads shows a policy, action or enum code, raw JSON or a user id.

The data is the demo roster plus a pipeline (pool, batch in publicity with an objection, a returned
application), made through the API as an office would. Every main page is fetched as a province
officer and as an auditor; the visible text (tags, attributes, scripts removed) is searched for the
shapes internal codes have.
"""

from __future__ import annotations

import html as htmllib
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.cli.base import today_in
from registry.cli.demo import seed
from registry.domain.lifecycle import LIVE
from registry.domain.policy import load_policies
from registry.enterprises.models import Enterprise
from registry.reminders.deliveries import ReminderFilter, list_reminders
from registry.reminders.models import Reminder, ReminderStatus
from registry.titles.models import Ban, Certification
from registry.web import labels
from tests.conftest import ROOT
from tests.factories import make_enterprise
from tests.roster.files import roster_rows, xlsx
from tests.web.fixtures import csrf_from, login
from tests.web.pages import page
from tests.web.pipeline_data import LEVELS, publicity_scene

CODES = {
    "policy id": re.compile(r"national-20\d\d|[a-z]+-20\d\d"),
    "snake_case code": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "dotted action": re.compile(r"\b\w+\.\w+ed\b"),
    "raw JSON": re.compile(r"\{\s*\""),
    "English word in parentheses": re.compile(r"[(（](public|private|scan|[a-z]+)[)）]"),
    # a lowercase English word (a code such as programme/national, a file's working mark); not the data a
    # person typed or the system read: the server account a command ran as (root), a token's purpose (tests),
    # the tail of a masked address (••••cdef), a file's format as its extension reads (xlsx), and webhook, the
    # word DingTalk's and WeCom's robot settings show for the address to paste
    "lowercase English word": re.compile(
        r"(?<![\w@./:•-])(?!(?:root|tests|webhook|xlsx)\b)[a-z]{4,}(?![\w@./:-])"),
    "cli actor": re.compile(r"\bcli:|@root\b"),
    "bare user id": re.compile(r"(责任人员|服务专员|用户|办理人|操作人)[：:\s]+(（空）\s*)?(→\s*)?\d+\b"),
    "unformatted amount": re.compile(r"\b\d{5,}\.\d{4}\b"),
    "bare industry code": re.compile(r"(行业(代码)?[：:\s]+|→\s*)[A-T]\d{2,4}\b"),
    "English job name": re.compile(r"\b(scan|outbox|digest)\b"),
}
INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    """The text a person reads: no tags, attributes, scripts; entities decoded."""
    return htmllib.unescape(TAG.sub("\n", INVISIBLE.sub("", page)))


def codes_in(text: str) -> list[tuple[str, str]]:
    found = []
    for name, pattern in CODES.items():
        for m in pattern.finditer(text):
            line = text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
            found.append((name, line))
    return found


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def office(app, session, api_as, make_user, admin, rules, today):
    """The demo roster plus a pool and a batch in publicity with an objection."""
    with app.app_context():
        seed(session, size=30, admin_password="demo-pass-2026", today=today)
    session.commit()
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    scene = publicity_scene(clients, session, admin, rules, today)
    app.config["IMPORTS_INLINE"] = True  # an applied import: its counts reach the trail as JSON
    make_user("officer", "331000", username="importer")
    importer = app.test_client()
    assert login(importer, "importer").status_code == 302
    uploaded = importer.post("/imports", data={"csrf_token": csrf_from(page(importer, "/imports")), "mode": "apply",
                                               "programme": "", "file": (io.BytesIO(xlsx(roster_rows(3))), "名单.xlsx")},
                             content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:1000]
    session.commit()
    return {**scene, "import": uploaded.headers["Location"].rstrip("/").rsplit("/", 1)[1]}


def main_pages(session, office) -> list[str]:
    ents = session.scalars(sa.select(Enterprise.id).join(Certification).order_by(Enterprise.id).limit(3)).all()
    # and the demo's enterprises with a ban (its reach, its basis) or a title that lost its prerequisite (the note)
    banned = session.scalars(sa.select(Enterprise.id).join(Ban, Ban.uscc == Enterprise.uscc).order_by(Enterprise.id)
                             .limit(3)).all()
    lost = session.scalars(sa.select(Certification.enterprise_id).where(Certification.prerequisite_lost)
                           .order_by(Certification.id).limit(2)).all()
    return ["/", "/enterprises", "/enterprises?page=999", *[f"/enterprises/{e}" for e in [*ents, *banned, *lost]],
            f"/enterprises/{office['enterprise']}", "/audit", "/audit?page=999", "/reminders", "/reminders?page=999",
            "/pools", f"/pools/{office['pool']}", "/batches", f"/batches/{office['batch']}",
            f"/applications/{office['application']}", "/imports", f"/imports/{office['import']}",
            "/inbox", "/inbox?page=999", "/channels",
            # the revoke form of a live title (an ended one is refused, 409: which one is live depends on the day)
            *FORMS(ents[0], session.scalar(sa.select(Certification.id).where(Certification.status.in_(LIVE))
                                           .order_by(Certification.id).limit(1)))]


def FORMS(enterprise: int, certification: int) -> list[str]:  # noqa: N802  (the officer's forms)
    return [f"/enterprises/{enterprise}/grant", f"/enterprises/{enterprise}/annual-reports/new",
            f"/enterprises/{enterprise}/change-reports/new", f"/certifications/{certification}/revoke"]


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_no_page_shows_an_internal_code(app, make_user, session, office, role):
    make_user(role, "330000", username=f"plain-{role}")
    client = app.test_client()
    assert login(client, f"plain-{role}").status_code == 302
    # login names and e-mail addresses are data a person typed (the trail shows them), not codes
    names = sorted(session.scalars(sa.select(User.username)), key=len, reverse=True)
    data = re.compile("|".join([r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", *map(re.escape, names)]))
    found = {}
    for url in main_pages(session, office):
        if role == "auditor" and (url.startswith(("/imports", "/certifications")) or url.endswith(("/new", "/grant"))):
            continue  # imports and forms are an officer's tools (403 for auditors)
        response = client.get(url)
        assert response.status_code == 200, url
        hits = codes_in(data.sub("", visible_text(response.get_data(as_text=True))))
        if hits:
            found[url] = hits
    assert not found, "\n".join(f"{url}: {name}: …{line}…" for url, hits in found.items() for name, line in hits[:8])


def test_reminders_page_puts_today_and_overdue_first_then_the_coming_ones(session, admin, login_as, today):
    """Issue 18: the page said 从近到远 but opened in 2027 with today's items on page 18."""
    ent = make_enterprise(session, admin, region_code="331002", name="提醒排序企业")
    cases = [  # (days from today, status) in the order the page must show them
        (0, ReminderStatus.PENDING), (-1, ReminderStatus.PENDING), (-30, ReminderStatus.PENDING),
        (2, ReminderStatus.PENDING), (400, ReminderStatus.PENDING), (-3, ReminderStatus.RETIRED),
        (-500, ReminderStatus.RETIRED)]
    shuffled = [cases[i] for i in (4, 6, 1, 3, 0, 5, 2)]
    for n, (days, status) in enumerate(shuffled):
        session.add(Reminder(subject_type="certification", subject_id=n + 1, kind="expiry", milestone=n,
                             reference_on=today + timedelta(days=days + 30), due_on=today + timedelta(days=days),
                             enterprise_id=ent.id, region_code="331002", status=status))
    session.commit()
    views, total = list_reminders(session, admin, ReminderFilter(), page=1, per_page=50, today=today,
                                  policies=load_policies(ROOT / "config" / "policies"), urgent_first=True)
    assert total == 7
    assert [(v.reminder.due_on - today).days for v in views] == [days for days, _ in cases]
    html = page(login_as("officer", "331000"), "/reminders")
    due = re.findall(r"<td>\d{4}-\d{2}-\d{2}</td>\s*<td>[^<]*</td>\s*<td>(\d{4}-\d{2}-\d{2})</td>", html)
    assert due == [(today + timedelta(days=days)).isoformat() for days, _ in cases]


@pytest.mark.parametrize("url", ["/enterprises", "/audit", "/reminders"])
def test_paging_past_the_end_shows_the_last_page_honestly(session, admin, login_as, url):
    for n in range(3):
        make_enterprise(session, admin, region_code="331002", name=f"翻页企业{n}")
    session.commit()
    html = page(login_as("officer", "331000"), f"{url}?page=61")
    assert "第 1 / 1 页" in html and "第 61" not in html
    if url == "/enterprises":
        assert "翻页企业0" in html  # the rows of the last page, not an empty table


def test_labels_name_what_the_pages_would_otherwise_show_as_codes(app):
    with app.test_request_context():
        assert labels.policy_name("national-2022") == "优质中小企业梯度培育管理暂行办法（工信部企业〔2022〕63号）"
        assert labels.actor_name("cli", "seed-demo@root") == "命令行：生成演示数据（服务器账户 root）"
        assert labels.actor_name("job", "scan") == "定时任务：每日扫描"
        assert labels.event_actor("cli:seed-demo@root") == "命令行：生成演示数据（服务器账户 root）"
        assert labels.reason_name("annual_update_missed") == "未按期更新年度信息"
        assert labels.change_kind_name("rename") == "更名"
        assert labels.money(Decimal("1262020500.0000")) == "1,262,020,500.00"
        assert labels.wan(Decimal("1262020500")) == "126,202.05 万元"
        assert labels.json_text({"rows": 3, "new_titles": 2, "330000": 1}) == "行数：3；新增称号：2；浙江省：1"
        assert labels.source_text("工信部企业〔2022〕63号 附件1《创新型中小企业评价标准》(public)") == (
            "工信部企业〔2022〕63号 附件1《创新型中小企业评价标准》")
        assert labels.source_text("工信部企业〔2022〕63号《优质中小企业梯度培育管理暂行办法》（public：公开文本，seeds 未收录"
                                  "原文；摘要见 shared/DOMAIN.md） 附件3") == (
            "工信部企业〔2022〕63号《优质中小企业梯度培育管理暂行办法》 附件3")
        assert labels.field_value("objection", "status", "not_accepted", "not_accepted") == "匿名，不予受理"
        assert labels.field_value("objection", "submitter_identity", "anonymous", "anonymous") == "匿名"
        assert labels.field_value("objection", "status", "open", "open") == "待处理"
        assert labels.industry_name("C28") == "化学纤维制造业（C28）" and labels.industry_name("c3511") == "专用设备制造业（C3511）"
        assert labels.industry_name("I6510") == "软件和信息技术服务业（I6510）" and labels.industry_name("E47") == "建筑业（E47）"
        assert labels.field_value("application", "current_level", "ministry", "ministry") == "部级"


def test_the_trail_and_the_pipeline_name_people_sessions_and_instants(app, session, make_user):
    """A user recorded by login shows as 姓名（登录名）; a session's end reason, the second factor and a stored
    instant read as words and 北京时间; a policy file's working note in a source never reaches the page."""
    make_user("officer", "331000", username="tz_named").display_name = "台州市经信局张三"
    session.commit()
    with app.test_request_context():
        assert labels.event_actor("user:tz_named") == "台州市经信局张三（tz_named）"
        assert labels.actor_name("user", "tz_named") == "台州市经信局张三（tz_named）"
        assert labels.field_value("import", "filter", {"q": "浏览器导入测试", "sort": "name", "region": "331000"},
                                  "x") == "搜索：浏览器导入测试；排序：按名称；地区：台州市"
        assert labels.field_value("channel_target", "kind", "wecom", "wecom") == "企业微信机器人"
        assert labels.field_value("user", "reason", "password", "password") == "密码错误"
        assert labels.field_value("user", "reason", "replayed", "replayed") == "验证码已用过"
        assert labels.field_value("certification", "holder", "enterprise", "enterprise") == "企业"
        assert labels.field_value("enterprise", "holder_kind", "zone", "zone") == "园区（区域）"
        assert labels.field_value("enterprise", "zone_type", "park", "park") == "园区"
        assert labels.field_value("objection", "resolved_by", "user:tz_named", "user:tz_named") == "台州市经信局张三（tz_named）"
        assert labels.actor_name("user", "nobody-here") == "nobody-here（用户）"
        assert labels.field_value("user", "reason", "replaced", "replaced") == "同一账号在其他地方登录"
        assert labels.field_value("user", "second_factor", "totp", "totp") == "动态验证码"
        assert labels.field_value("user", "session_started_at", "2026-12-06T11:47:39.491343+00:00", "x") == (
            "2026-12-06 19:47:39")
        assert labels.field_value("user", "session_started_at", "not a time", "not a time") == "not a time"
        assert labels.source_text("工信部企业〔2022〕63号《办法》（public：公开文本，seeds 未收录原文；摘要见 shared/DOMAIN.md）"
                                  " 附件3") == "工信部企业〔2022〕63号《办法》 附件3"
        assert labels.source_text("工信厅企业函〔2018〕381号（public，seeds 未收录原文）") == "工信厅企业函〔2018〕381号"
        assert labels.source_text("《办法》（2022年）") == "《办法》（2022年）"


def test_every_way_a_session_ends_has_a_name_in_the_trail():
    from registry.accounts.sessions import END_MESSAGES

    assert set(END_MESSAGES) == set(labels.SESSION_END_NAMES)
