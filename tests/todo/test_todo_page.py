"""待办 (issue 18 point 2): what the signed-in officer must act on, live, region-scoped, with links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.enterprises.services import record_change_report
from registry.platform.clock import today_in, utcnow
from tests.factories import grant, make_enterprise

pytestmark = pytest.mark.usefixtures("app")


def overdue_change(session, admin, rules, region: str, name: str):
    today = today_in("Asia/Shanghai")
    ent = make_enterprise(session, admin, region_code=region, name=name)
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    report, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                     occurred_on=today - timedelta(days=200), reported_on=None, details="企业更名",
                                     at=utcnow(), today=today)
    session.commit()
    assert report.deadline_on is not None and report.deadline_on < today  # the rule gives a deadline, long passed
    return ent


def test_an_overdue_change_report_registered_a_minute_ago_is_listed_with_a_link(session, admin, rules, login_as):
    ent = overdue_change(session, admin, rules, "331002", "待办椒江测试有限公司")
    officer = login_as("officer", "331000")  # the city office sees its districts

    html = officer.get("/todo").get_data(as_text=True)

    assert "已逾期" in html and "重大变化（更名）报告截止（已逾期）" in html
    assert f'href="/enterprises/{ent.id}"' in html
    assert '<span class="count"' in html  # the menu's 待办 shows how many
    page = officer.get(f"/enterprises/{ent.id}")
    assert page.status_code == 200  # the link opens the enterprise to act on


def test_another_citys_deadlines_are_not_listed(session, admin, rules, login_as):
    overdue_change(session, admin, rules, "330106", "待办杭州测试有限公司")  # 杭州西湖区
    officer = login_as("officer", "331000")

    html = officer.get("/todo").get_data(as_text=True)

    assert "待办杭州测试有限公司" not in html
    assert "今天没有需要您办理的事项" in html


def test_read_only_roles_have_nothing_to_do_and_no_count(session, admin, rules, login_as):
    overdue_change(session, admin, rules, "331002", "待办只读测试有限公司")
    auditor = login_as("auditor", "331000")

    html = auditor.get("/todo").get_data(as_text=True)

    assert "您的账号只读" in html and '<span class="count"' not in html
    assert 'href="/todo"' not in auditor.get("/enterprises").get_data(as_text=True)  # no menu entry either


def test_the_list_is_in_due_order_overdue_first(session, admin, rules, login_as):
    from registry.domain.actors import Actor, Role
    from registry.todo.services import todo_list

    overdue_change(session, admin, rules, "331002", "待办排序一有限公司")
    overdue_change(session, admin, rules, "331003", "待办排序二有限公司")
    actor = Actor(kind="user", name="officer-331000", role=Role.OFFICER, region_code="331000", user_id=None)
    items = todo_list(session, actor, rules, today_in("Asia/Shanghai"))

    groups = [i.group for i in items]
    assert groups == sorted(groups, key=["overdue", "soon", "review", "proposal", "objection", "mail",
                                         "import"].index)
    overdue = [i for i in items if i.group == "overdue"]
    assert len(overdue) >= 2 and [i.due_on for i in overdue] == sorted(i.due_on for i in overdue)


def test_a_dashboard_figure_opens_the_matching_roster(session, admin, rules, login_as):
    import html as html_lib
    import re

    ent = overdue_change(session, admin, rules, "331002", "待办钻取测试有限公司")
    other = make_enterprise(session, admin, region_code="331002", name="待办钻取无称号有限公司")
    session.commit()
    officer = login_as("officer", "331000")

    dashboard = officer.get("/").get_data(as_text=True)
    links = [html_lib.unescape(h) for h in re.findall(r'href="(/enterprises\?[^"]+)"', dashboard)]
    target = next(h for h in links if "tier=innovative_sme" in h and "status=active" in h and "region=3310" in h)
    roster = officer.get(target).get_data(as_text=True)

    assert ent.name in roster and other.name not in roster  # the figure's enterprises, not the whole city
