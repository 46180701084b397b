"""Saved roster filters: name, save, apply, delete — each user's own, audited, junk dropped, CSRF, bounds."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.roster.models import SavedFilter
from tests.web.fixtures import csrf_from
from tests.web.pages import page

QUERY = "region=331002&tier=specialized_sme&expiring_within_days=90&sort=uscc"


def save(client, name: str, query: str = QUERY, follow: bool = True):
    token = csrf_from(page(client, "/enterprises"))
    return client.post("/enterprises/filters", data={"csrf_token": token, "name": name, "query": query},
                       follow_redirects=follow)


def rows(session) -> list[SavedFilter]:
    session.expire_all()
    return list(session.scalars(sa.select(SavedFilter).order_by(SavedFilter.id)))


def test_save_apply_and_delete(login_as, session):
    officer = login_as("officer", "331000")
    saved = save(officer, " 椒江 专精特新 90天 ")
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "已保存筛选「椒江 专精特新 90天」" in html
    [row] = rows(session)
    assert row.name == "椒江 专精特新 90天" and "tier=specialized_sme" in row.query and "region=331002" in row.query
    roster = page(officer, "/enterprises")
    assert "椒江 专精特新 90天" in roster and unescape(f'href="/enterprises?{row.query}"') in unescape(roster)
    applied = page(officer, f"/enterprises?{row.query}")
    assert re.search(r'<option[^>]*selected[^>]*value="specialized_sme"', applied) and 'value="90"' in applied
    events = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "saved_filter")).all()
    assert events == ["saved_filter.created"]
    trail = page(officer, "/audit?entity_type=saved_filter")
    assert "保存筛选" in trail and "筛选名称" in trail and "筛选条件" in trail  # named, not codes
    token = csrf_from(roster)
    deleted = officer.post(f"/enterprises/filters/{row.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "已删除筛选「椒江 专精特新 90天」" in deleted.get_data(as_text=True) and rows(session) == []


def test_filters_are_each_users_own(login_as, session):
    mine = login_as("officer", "331000")
    save(mine, "我的筛选")
    [row] = rows(session)
    other = login_as("officer", "331002")
    assert "我的筛选" not in page(other, "/enterprises")
    token = csrf_from(page(other, "/enterprises"))
    assert other.post(f"/enterprises/filters/{row.id}/delete", data={"csrf_token": token}).status_code == 404
    assert other.post("/enterprises/filters/99999999/delete", data={"csrf_token": token}).status_code == 404
    assert len(rows(session)) == 1
    assert "我的筛选" not in page(login_as("auditor", "331000"), "/enterprises")


def test_bad_names_and_junk_queries(login_as, session):
    officer = login_as("officer", "331000")
    for name, message in (("", "请填写筛选的名称"), ("   ", "请填写筛选的名称"), ("名" * 65, "名称最多 64 个字")):
        html = save(officer, name).get_data(as_text=True)
        assert "保存筛选失败（筛选名称）" in html and message in html
    assert rows(session) == []
    save(officer, "同名")
    assert "已有名为「同名」的筛选" in save(officer, "同名").get_data(as_text=True)
    save(officer, "带垃圾", "tier=nonsense&region=999999&evil=<script>&expiring_within_days=-5&q=" + "x" * 5000)
    junk = [r for r in rows(session) if r.name == "带垃圾"][0]
    assert "nonsense" not in junk.query and "999999" not in junk.query and "evil" not in junk.query
    assert "script" not in junk.query and len(junk.query) <= 1000
    assert len(rows(session)) == 2


def test_without_a_token_nothing_is_saved_or_deleted(login_as, session):
    officer = login_as("officer", "331000")
    page(officer, "/enterprises")
    assert officer.post("/enterprises/filters", data={"name": "x", "query": QUERY}).status_code == 400
    save(officer, "留着")
    [row] = rows(session)
    assert officer.post(f"/enterprises/filters/{row.id}/delete").status_code == 400 and len(rows(session)) == 1
