"""The audit page as a compact table: one row per event (time, actor by name, action, object by name/USCC,
summary), its changes in <details>, paged with the filters kept; nothing unnamed shows a code."""

from __future__ import annotations

import re

from registry.audit import trail as audit
from registry.domain.actors import Actor, Role
from registry.pipeline.services import run_pool
from tests.conftest import NOW, officer_of
from tests.factories import make_enterprise
from tests.web.pages import page


def row(html: str, event_id: int) -> str:
    match = re.search(rf'<tr id="ev-{event_id}">(.*?)(?=<tr id="ev-|<nav class="pager")', html, re.S)
    assert match, event_id
    return match.group(1)


def visible(html: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def test_an_unknown_action_record_and_field_read_as_chinese_generics(session, login_as):
    who = Actor(kind="user", name="officer-331000", role=Role.OFFICER, region_code="331000")
    event_id = audit.record(session, actor=who, action="gizmo.frobnicated", entity_type="gizmo", entity_id=7,
                            changes={"frobnicate_level": [1, 2], "wobble": [None, "x"]}, region_code="331000",
                            at=NOW)
    session.commit()
    html = page(login_as("auditor", "331000"), "/audit")
    shown = row(html, event_id)
    assert '<td data-label="操作">其他记录：其他操作</td>' in shown
    assert "其他记录 #7" in shown and "其他信息" in shown
    text = visible(shown)
    assert not {"gizmo", "frobnicated", "frobnicate_level", "wobble"} & set(re.findall(r"[a-z_]+", text))


def test_rows_name_the_object_and_summarise_many_changes(session, admin, rules, login_as):
    firm = make_enterprise(session, admin, region_code="331002", name="台州审计表格有限公司")
    session.commit()
    city = officer_of("331000")
    pool = run_pool(session, actor=city, rules=rules, tier="little_giant", year=2026, on=NOW.date(), at=NOW)
    session.commit()
    html = page(login_as("auditor", "331000"), "/audit")
    created = re.search(rf'<tr id="ev-(\d+)">(?:(?!<tr id="ev-).)*?台州审计表格有限公司（{firm.uscc}）', html, re.S)
    assert created, "the enterprise is named with its USCC"
    run = re.search(r'<tr id="ev-(\d+)">(?:(?!<tr id="ev-).)*?运行资格预审', html, re.S)
    shown = row(html, int(run.group(1)))
    assert re.search(rf"2026年[^<]+培育库 #{pool.id}", shown), shown  # by year and tier name, not a code
    assert "评选年度：2026" in shown  # a pool's year is the selection year, not the figures' year
    assert re.search(r"等 \d+ 项", shown)  # the summary names three changes, then counts
    assert "<details>" in shown


def test_paging_keeps_the_filters(session, admin, login_as):
    for n in range(55):
        make_enterprise(session, admin, region_code="331002", name=f"分页企业{n:02d}")
    session.commit()
    client = login_as("auditor", "331000")
    first = page(client, "/audit?action=enterprise.created&region=331002")
    assert "第 1 / 2 页" in first
    nxt = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "action=enterprise.created" in nxt and "region=331002" in nxt and "page=2" in nxt
    second = page(client, nxt)
    assert "第 2 / 2 页" in second and len(re.findall(r'<tr id="ev-', second)) == 5
    past = page(client, "/audit?action=enterprise.created&region=331002&page=99")
    assert "第 2 / 2 页" in past


def test_rows_carry_labels_for_the_phone_layout(session, admin, login_as):
    for n in range(3):
        make_enterprise(session, admin, region_code="331002", name=f"手机企业{n}")
    session.commit()
    html = page(login_as("auditor", "331000"), "/audit")
    rows = len(re.findall(r'<tr id="ev-', html))
    assert rows >= 3
    for label in ("时间", "操作人", "操作", "对象", "摘要"):
        assert html.count(f'data-label="{label}"') == rows
