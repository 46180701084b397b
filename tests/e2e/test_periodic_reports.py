"""Issue 17 point 3 and issue 18 point 11 in a real browser: periodic reports. A tier that declares them
(重庆 领军企业: 一企一策 once, a quarterly summary, a yearly evaluation) is not in the Zhejiang demo, so
`chongqing_scene` adds, through the services, a 重庆 officer and an enterprise listed on 1 March of the
pinned year. The officer sees the overdue quarterly summary in 待办, opens the enterprise, files it on the
confirm page, sees it listed, and 待办 moves on to the next quarter."""

from __future__ import annotations

import re
from datetime import date

from tests.conftest import TEST_NOW
from tests.e2e.conftest import DEMO_PASSWORD, login, screenshot, seed_with_services

TODAY = TEST_NOW.date()  # the pinned day; the server runs on it too (REGISTRY_CLOCK)
LISTED = date(TODAY.year, 3, 1)  # Q1 of this year is long overdue (due 15 April) — on any pinned day after April
FIRM = "重庆渝中领军演示机械有限公司"
SUMMARY = "领军企业培育工作推进情况（季度梳理）"


def chongqing_scene() -> None:
    """In the server's database: officer cq_officer (重庆市经济信息委) and a 领军企业 listed on LISTED."""
    import sqlalchemy as sa

    from app import app
    from registry.accounts.models import User
    from registry.accounts.users import create_user
    from registry.cli.base import cli_actor, now, today_in, unit_of_work
    from registry.cli.demo import demo_uscc
    from registry.enterprises.services import register_enterprise
    from registry.policies.rules import load_rules
    from registry.titles.services import grant_certification

    actor = cli_actor("seed-demo")
    with app.app_context(), unit_of_work() as session:
        if session.scalar(sa.select(User.id).where(User.username == "cq_officer")) is not None:
            return
        create_user(session, actor=actor, username="cq_officer", role="officer", region_code="500000",
                    email="cq_officer@demo.gov.cn", password=DEMO_PASSWORD, at=now(), display_name="重庆市经济信息委业务人员")
        firm, _ = register_enterprise(session, actor=actor, at=now(), data={
            "uscc": demo_uscc("500103", 1), "name": FIRM, "region_code": "500103", "industry_code": "C34",
            "size_class": "medium", "contact_name": "刘强", "contact_email": "cq1@demo-enterprise.cn"})
        rules = load_rules(session, app.extensions["registry.policies"])
        grant_certification(session, actor=actor, rules=rules, enterprise_id=firm.id, tier="cq_leading",
                            recognized_on=LISTED, at=now(), today=today_in(app.config["REGISTRY"].timezone),
                            document_no=f"渝经信发〔{LISTED.year}〕8号", authority="重庆市经济和信息化委员会")


def todo_text(page) -> str:  # noqa: ANN001
    page.goto("/todo")
    return page.locator("main").inner_text()


def test_an_officer_files_an_overdue_periodic_report(page, server):
    seed_with_services(server, f"{__name__}:chongqing_scene")
    login(page, "cq_officer")
    page.wait_for_url("**/")

    q1, q2 = f"{SUMMARY}（{LISTED.year}年第1季度）", f"{SUMMARY}（{LISTED.year}年第2季度）"
    todo = todo_text(page)
    assert q1 in todo and "已逾期" in todo, todo[:1500]
    assert "公示期截止" not in todo  # the demo's 台州 publicity is not 重庆's business
    item = page.locator("main tr", has_text=q1).first
    group = page.locator("main section", has=page.locator("tr", has_text=q1)).locator("h2").inner_text()
    assert "已逾期" in group  # listed under 已逾期
    screenshot(page, "periodic-report-todo", full_page=False)
    item.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert page.get_by_role("heading", name=FIRM).is_visible()

    section = page.locator("section", has=page.locator("#h-periodic"))
    row = section.locator("tr", has_text=SUMMARY)
    assert f"{LISTED.year}年第1季度" in row.inner_text() and "已逾期" in row.inner_text()
    row.get_by_role("link", name="登记报送").click()
    page.wait_for_url(re.compile(r"/certifications/\d+/report-filing"))
    page.get_by_label("报告", exact=True).select_option("quarterly_progress")
    page.get_by_label(re.compile("^报告期")).fill(f"{LISTED.year}Q1")
    page.get_by_label("报送日期").fill(TODAY.isoformat())
    page.get_by_role("button", name=re.compile("下一步")).click()
    assert f"报告期「{LISTED.year}年第1季度」于 {TODAY.isoformat()} 报送" in page.locator("main").inner_text()
    page.get_by_role("button", name=re.compile("确认")).click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))

    section = page.locator("section", has=page.locator("#h-periodic"))
    listed = section.locator("tr", has_text=SUMMARY).inner_text()
    assert f"{LISTED.year}年第1季度：{TODAY.isoformat()}" in listed  # the filing, listed
    assert f"{LISTED.year}年第2季度" in listed  # the next period now due
    section.scroll_into_view_if_needed()
    screenshot(page, "periodic-report", full_page=False)

    todo = todo_text(page)
    assert q1 not in todo and q2 in todo  # filed: off the list; the next unfiled quarter is overdue in turn
