"""An officer's day in a real browser: dashboard, roster filters, timeline, annual report, revocation."""

from __future__ import annotations

import re

from tests.conftest import TEST_NOW
from tests.e2e.conftest import login, screenshot, second_person_confirms

TODAY = TEST_NOW.date().isoformat()  # the pinned day; the server runs on it too (REGISTRY_CLOCK)


def open_taizhou_enterprise(page, **filters):  # noqa: ANN001, ANN201
    """Filter the roster to 台州 (and `filters`) and open the first enterprise."""
    page.goto("/enterprises")
    page.get_by_label("地区").select_option("331000")  # 台州市
    for label, value in filters.items():
        page.get_by_label(label).select_option(value)
    page.get_by_role("button", name="查询").click()
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))


def test_dashboard_charts_render(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    charts = page.locator("svg[role='img']")
    assert charts.count() >= 2
    assert charts.first.locator("rect").count() > 0
    screenshot(page, "dashboard")


def test_filter_roster_by_city_and_tier(page):
    login(page, "tz_officer")
    page.goto("/enterprises")
    page.get_by_label("地区").select_option("331000")  # 台州市
    page.get_by_label("称号层级").select_option("specialized_sme")
    page.get_by_role("button", name="查询").click()
    heading = page.get_by_role("heading", name=re.compile(r"共 \d+ 家企业")).inner_text()
    assert int(re.search(r"\d+", heading).group()) > 0
    regions = page.locator("table tbody tr td:nth-child(3)").all_inner_texts()
    assert regions and all(r for r in regions)
    assert all("专精特新中小企业" in row for row in page.locator("table tbody tr td:nth-child(4)").all_inner_texts())
    screenshot(page, "roster", full_page=False)


def test_timeline_and_annual_report(page):
    login(page, "tz_officer")
    open_taizhou_enterprise(page)
    assert page.get_by_role("heading", name="称号与历程").is_visible()
    assert page.locator("article.title").count() >= 1
    screenshot(page, "enterprise")
    page.get_by_role("link", name="登记年度信息").click()
    page.get_by_label("数据年度").fill("2025")
    page.get_by_label("填报日期").fill(TODAY)
    page.get_by_label("营业收入（元）").fill("23456789.00")
    page.get_by_label("主营业务收入（元）").fill("21000000.00")  # not above revenue (the plausibility rule)
    page.get_by_label("从业人员（人）").fill("120")
    # the form is prefilled with the year's filed figures: the main product's sales must stay within the
    # lowered main-business revenue (the plausibility rule, issue 14), so the officer corrects it too
    page.get_by_label("主导产品销售收入（元）").fill("15000000.00")
    page.get_by_role("button", name="下一步：查看办理后果").click()
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "23,456,789.00" in page.content() or "23456789.00" in page.content()


def test_revoke_shows_ban_and_audit_entry(page, browser, server):
    login(page, "tz_officer")
    open_taizhou_enterprise(page, **{"称号状态": "active"})
    page.get_by_role("link", name="撤销").first.click()
    page.get_by_label("撤销原因").select_option("major_accident")
    page.get_by_label("撤销依据文号").fill("台经信〔2026〕撤1号")
    page.get_by_label("生效日期").fill(TODAY)
    page.get_by_role("button", name="下一步：查看办理后果").click()
    consequence = page.locator(".consequence").inner_text()
    assert "禁止" in consequence
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "已提交撤销申请" in page.content()  # a revocation with a ban waits for a second person (issue 16)
    second_person_confirms(browser, server)
    page.reload()
    bans = page.locator("section[aria-labelledby='h-bans']").inner_text()
    assert "台经信〔2026〕撤1号" in bans or "重大安全" in bans
    history = page.locator("section[aria-labelledby='h-history']").inner_text()
    assert "撤销" in history
    screenshot(page, "enterprise-revoked")


def test_form_post_without_csrf_is_refused(page):
    login(page, "tz_officer")
    open_taizhou_enterprise(page)
    response = page.request.post(page.url + "/annual-reports/new",
                                 form={"year": "2024", "submitted_on": TODAY}, fail_on_status_code=False)
    assert response.status == 400
    assert "安全令牌" in response.text() or "CSRF" in response.text()
