"""The audit page and the enterprise page's history: who, when, old, new, from where; filters; scope; chain check."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.services import update_enterprise
from tests.conftest import NOW, officer_of
from tests.factories import make_enterprise
from tests.web.pages import edit_enterprise, hidden_fields, page, unlabelled

IP = "10.1.2.3"
BEIJING = ZoneInfo("Asia/Shanghai")
EVENT_ID = re.compile(r'<tr id="ev-(\d+)"')


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司",
                           contact_email="old@mould.cn")
    session.commit()
    return made


@pytest.fixture
def edited(login_as, ent, session):
    """An officer of 台州 changes the contact e-mail through the enterprise page's form, from IP."""
    officer = login_as("officer", "331000")
    html = page(officer, f"/enterprises/{ent.id}")
    data = {"edit-version": hidden_fields(html)["edit-version"], "edit-name": ent.name,
            "edit-uscc": ent.uscc, "edit-region_code": ent.region_code, "edit-contact_email": "new@mould.cn"}
    _, done = edit_enterprise(officer, ent.id, data, environ_base={"REMOTE_ADDR": IP})
    assert done.status_code == 302
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "enterprise.updated",
                                                       AuditEvent.enterprise_id == ent.id)).one()


@pytest.fixture
def auditor(login_as):
    return login_as("auditor", "331000")


def listed(client, query: str = "") -> list[int]:
    """Return the ids of the events the audit page lists for `query`, in page order."""
    return [int(i) for i in EVENT_ID.findall(page(client, f"/audit{query}"))]


def article(html: str, event_id: int) -> str:
    """Return the HTML of one event's row on the audit page (its details included, up to the next row)."""
    match = re.search(rf'<tr id="ev-{event_id}">(.*?)(?=<tr id="ev-|<nav class="pager")', html, re.S)
    assert match, f"event {event_id} not listed"
    return match.group(1)


def test_trail_shows_who_when_old_new_and_ip_of_a_page_edit(auditor, ent, edited):
    assert edited.changes == {"contact_email": ["o***@mould.cn", "n***@mould.cn"]}  # stored masked (issue 16 §6)
    html = page(auditor, f"/audit?enterprise_id={ent.id}")
    shown = article(html, edited.id)
    when = edited.occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    assert f">{when}</time></td>" in shown and '<td data-label="操作">修改企业信息</td>' in shown
    assert '<td data-label="操作人">officer-331000（用户）</td>' in shown
    assert re.search(r'<th scope="row">联系邮箱</th><td>o\*\*\*@mould\.cn</td><td>n\*\*\*@mould\.cn</td>', shown)
    assert f"<dt>IP</dt><dd>{IP}</dd>" in shown and f"<code>{edited.request_id}</code>" in shown
    assert f'<a href="/enterprises/{ent.id}">台州精密模具有限公司（{ent.uscc}）</a>' in shown
    assert "联系邮箱：o***@mould.cn → n***@mould.cn（原登记有误）" in shown  # the row's summary: what, then why
    assert "<details>" in shown and "<summary>详情（1 项变更）</summary>" in shown
    assert listed(auditor, f"?enterprise_id={ent.id}")[0] == edited.id  # newest first


def test_filters_by_actor_action_dates_region_enterprise_and_entity(auditor, session, admin, ent, edited):
    other = make_enterprise(session, admin, region_code="331003", name="黄岩塑料有限公司")
    created = session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    # 2026-03-01 16:30 UTC is 2026-03-02 00:30 in Beijing: the dates filter Beijing days
    late_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    update_enterprise(session, actor=officer_of("331003"), enterprise_id=other.id, data={"contact_phone": "0576-1"},
                      version=other.version, at=late_at)
    late = session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    session.commit()
    logged_in = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "user.login",
                                                              AuditEvent.actor_name == "officer-331000"))
    assert listed(auditor, "?actor=officer-331000") == [edited.id, logged_in]  # logins are audited (issue 16)
    assert listed(auditor, "?action=enterprise.updated") == [late, edited.id]
    assert {late, edited.id, created} <= set(listed(auditor, "?action=enterprise."))
    assert listed(auditor, "?action=certification.") == []
    assert listed(auditor, "?since=2026-03-02&until=2026-03-02") == [late]
    assert late not in listed(auditor, "?since=2026-03-01&until=2026-03-01")
    assert listed(auditor, "?region=331003") == [late, created]
    assert edited.id in listed(auditor, "?region=331002") and late not in listed(auditor, "?region=331002")
    assert listed(auditor, f"?enterprise_id={other.id}") == [late, created]
    registered = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "enterprise.created",
                                                               AuditEvent.entity_id == ent.id))
    assert listed(auditor, f"?entity_type=enterprise&entity_id={ent.id}") == [edited.id, registered]


def test_region_choices_are_the_actors_subtree_and_a_bad_filter_is_shown_not_applied(auditor, ent, edited):
    html = page(auditor, "/audit?region=330102&since=2026-05-02&until=2026-05-01")
    assert 'value="331002"' in html and 'value="330102"' not in html
    assert "截止日期不能早于起始日期" in html and html.count('aria-invalid="true"') == 2
    assert edited.id in [int(i) for i in EVENT_ID.findall(html)]  # the invalid filters are ignored


def test_out_of_range_filters_are_refused_not_a_database_error(auditor, api_as, ent, edited):
    html = page(auditor, f"/audit?entity_id={2**40}&enterprise_id=0&since=0001-01-01&until=9999-12-31&page={10**30}")
    assert html.count('aria-invalid="true"') == 4 and "日期应在 1900 年至 2999 年之间" in html
    api = api_as("auditor", "330000")
    for query in (f"entity_id={2**40}", f"enterprise_id={2**40}", "since=0001-01-01", "until=9999-12-31"):
        assert api.get(f"/api/v1/audit?{query}").status_code == 422, query


def test_an_auditor_of_a_sibling_region_sees_none_of_it(login_as, session, admin, ent, edited):
    hangzhou = make_enterprise(session, admin, region_code="330102", name="杭州西湖电子有限公司")
    session.commit()
    sibling = login_as("auditor", "330100")
    for query in ("", f"?enterprise_id={ent.id}", "?region=331002", "?actor=officer-331000", "?verify=1"):
        html = page(sibling, f"/audit{query}")
        assert "new@mould.cn" not in html and f'"ev-{edited.id}"' not in html and "台州精密模具" not in html
    assert "共 0 条审计记录" in page(sibling, f"/audit?enterprise_id={ent.id}")
    page(sibling, f"/enterprises/{ent.id}", status=404)
    assert listed(sibling, f"?enterprise_id={hangzhou.id}") != []
    nationwide = login_as("admin", "000000")
    assert edited.id in listed(nationwide) and listed(nationwide, f"?enterprise_id={hangzhou.id}") != []


def test_enterprise_page_history_lists_the_change_newest_first(login_as, auditor, ent, edited):
    for client in (login_as("officer", "331002"), auditor):
        html = page(client, f"/enterprises/{ent.id}")
        history = html.split('id="h-history"', 1)[1]
        assert "联系邮箱：o***@mould.cn → n***@mould.cn" in history and "officer-331000（用户）" in history
        assert f'href="/audit?enterprise_id={ent.id}"' in history and "全部 2 条记录" in history
        assert history.index("修改企业信息") < history.index("登记企业")


def test_fifty_per_page_newest_first_and_the_history_shows_the_latest_fifty(auditor, session, admin, ent):
    for n in range(51):
        update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"contact_phone": f"0576-{n:04d}"},
                          version=ent.version, at=NOW)
    session.commit()
    first = page(auditor, f"/audit?enterprise_id={ent.id}")
    ids = [int(i) for i in EVENT_ID.findall(first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and "第 1 / 2 页" in first
    assert "057****0050" in article(first, ids[0])  # the phone as the trail keeps it: masked (issue 16 §6)
    assert f'href="/audit?page=2&amp;enterprise_id={ent.id}" rel="next"' in first
    assert len(listed(auditor, f"?enterprise_id={ent.id}&page=2")) == 2
    history = page(auditor, f"/enterprises/{ent.id}").split('id="h-history"', 1)[1]
    assert history.count("<time ") == 50 and "仅列最近 50 条" in history and "查看全部 52 条" in history


def test_chain_check_shows_ok_then_names_the_tampered_row(auditor, session, edited):
    html = page(auditor, "/audit?verify=1&actor=officer-331000")
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert "审计链完整" in html and f"已校验 {total} 条记录" in html
    assert '<input type="hidden" name="actor" value="officer-331000">' in html  # the check keeps the filters
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        connection.execute(sa.text("DROP TRIGGER audit_events_no_update"))
    connection.execute(sa.text("UPDATE audit_events SET ip = '192.0.2.99' WHERE id = :id"), {"id": edited.id})
    tampered = page(auditor, "/audit?verify=1")
    assert "审计链已被破坏" in tampered and f"首个异常记录 #{edited.id}，内容与其哈希不符" in tampered


def test_export_links_carry_the_filters(auditor, ent, edited):
    query = "actor=officer-331000&action=enterprise.updated&since=2026-01-01&region=331002"
    html = page(auditor, f"/audit?{query}")
    links = {fmt: unescape(href) for href, fmt in
             re.findall(r'href="(/api/v1/audit/export\.(xlsx|csv)\?[^"]*)"', html)}
    assert set(links) == {"xlsx", "csv"}
    for link in links.values():
        assert parse_qs(urlsplit(link).query) == parse_qs(query)
    rows = list(csv.reader(io.StringIO(auditor.get(links["csv"]).get_data().decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1:3] == ["officer-331000（用户）", "修改企业信息"]
    assert rows[1][7:10] == ["联系邮箱", "o***@mould.cn", "n***@mould.cn"] and rows[1][-1] == IP
    assert auditor.get(links["xlsx"]).status_code == 200


def test_pages_are_accessible_and_in_the_menu(auditor, client, ent, edited):
    urls = ["/audit", "/audit?verify=1&since=2026-05-02&until=2026-05-01&region=331002", f"/enterprises/{ent.id}"]
    for url in urls:
        html = page(auditor, url)
        assert 'lang="zh-CN"' in html and unlabelled(html) == [], url
        assert all("scope=" in th for th in re.findall(r"<th\b[^>]*>", html)), url
    assert '<a href="/audit" aria-current="page">审计日志</a>' in page(auditor, "/audit")
    assert client.get("/audit").status_code == 302  # anonymous: to the login page
