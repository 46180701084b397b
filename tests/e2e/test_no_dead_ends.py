"""No dead ends, in a real browser: 修改基本信息 previewed with a reason, 服务专员 assigned on the enterprise page and
in bulk from the roster, 导出所选, a mistaken change report withdrawn, the audit filter by an enterprise's name."""

from __future__ import annotations

import re

from tests.conftest import TEST_NOW
from tests.e2e.conftest import login, screenshot

TODAY = TEST_NOW.date().isoformat()


def taizhou_roster(page) -> None:  # noqa: ANN001
    page.goto("/enterprises")
    page.get_by_label("地区").select_option("331000")  # 台州市
    page.get_by_role("button", name="查询").click()


def open_enterprise(page, row: int = 0) -> str:  # noqa: ANN001
    taizhou_roster(page)
    link = page.locator("table tbody th a").nth(row)
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    return name


def test_edit_is_previewed_and_needs_a_reason(page):
    login(page, "tz_officer")
    open_enterprise(page, 2)
    page.get_by_text("修改基本信息").click()
    page.get_by_label("联系人", exact=True).fill("李明")
    page.get_by_role("button", name="预览修改").click()
    assert page.get_by_role("heading", name="请确认：修改基本信息").is_visible()
    changes = page.locator("table").first.inner_text()
    assert "联系人" in changes and "企业名称" not in changes  # only what changed
    screenshot(page, "edit-preview", full_page=False)
    page.get_by_role("button", name="确认保存").click()  # no reason: the browser or the server refuses
    assert page.get_by_role("heading", name="请确认：修改基本信息").is_visible()
    page.get_by_label("修改原因").fill("企业来函更正联系人")
    page.get_by_role("button", name="确认保存").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "企业信息已保存" in page.content() and "李*" in page.content()


def test_officer_assigned_on_the_page_and_in_bulk(page):
    login(page, "tz_officer")
    open_enterprise(page, 1)
    picker = page.locator("#assign-officer")
    options = picker.locator("option").all_inner_texts()
    assert options[0] == "请选择服务专员" and all("（" in o for o in options[1:-1]) and "审计" not in "".join(options)
    picker.select_option(index=1)
    page.get_by_role("button", name="指定服务专员").click()
    assert page.get_by_role("heading", name=re.compile("请确认：指定")).is_visible()
    page.get_by_role("button", name="确认指定").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "已为 1 家企业指定服务专员" in page.content() or "原已如此" in page.content()

    taizhou_roster(page)
    boxes = page.locator("table tbody input[name=ids]")
    boxes.nth(3).check()
    boxes.nth(4).check()
    bulk = page.locator("#bulk-officer")
    bulk.select_option(index=bulk.locator("option").count() - 2)  # the last person offered (the demo's first is set)
    page.get_by_role("button", name="指定服务专员（先预览）").click()
    assert page.get_by_role("heading", name="请确认：为所选 2 家企业指定服务专员").is_visible()
    screenshot(page, "bulk-assign", full_page=False)
    page.get_by_label("原因（选填，记入审计日志）").fill("按片区分工")
    page.get_by_role("button", name="确认指定").click()
    page.wait_for_url(re.compile(r"/enterprises\?"))
    assert re.search(r"已为 \d 家企业指定服务专员", page.content())


def test_export_of_the_selection(page):
    login(page, "tz_officer")
    taizhou_roster(page)
    name = page.locator("table tbody th a").first.inner_text()
    page.locator("table tbody input[name=ids]").first.check()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出所选（CSV）").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert name in text and len(text.strip().splitlines()) >= 2


def test_a_mistaken_change_report_is_withdrawn(page):
    login(page, "tz_officer")
    open_enterprise(page, 5)
    page.get_by_role("link", name="登记重大变化").click()
    page.get_by_label("变化类型").select_option("other")
    page.get_by_label("发生日期").fill(TODAY)
    page.get_by_label("变化情况").fill("误登记的测试变化")
    page.get_by_role("button", name="下一步：查看办理后果").click()
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    row = page.locator("tr", has_text="误登记的测试变化")
    row.get_by_role("link", name="撤回").click()
    page.get_by_label(re.compile("撤回原因")).fill("系误登记")
    page.get_by_role("button", name="下一步：查看办理后果").click()
    assert "原内容保留在审计日志中" in page.content()
    screenshot(page, "withdraw-change", full_page=False)
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "已撤回误登记的重大变化" in page.content() and "误登记的测试变化" not in page.locator("#h-change").locator(
        "xpath=..").inner_text()


def test_the_audit_filter_finds_an_enterprise_by_name(page):
    login(page, "tz_officer")
    name = open_enterprise(page, 0)
    page.goto("/audit")
    page.get_by_label("企业（名称或统一社会信用代码）").fill(name[2:8])
    page.get_by_role("button", name="查询").click()
    content = page.content()
    assert f"只看企业：{name}" in content or "有多家企业符合" in content


def test_a_saved_filter_is_applied_and_deleted(page):
    login(page, "tz_officer")
    taizhou_roster(page)
    page.get_by_label("称号层级").select_option("specialized_sme")
    page.get_by_role("button", name="查询").click()
    page.get_by_label("将当前筛选保存为").fill("台州 专精特新")
    page.get_by_role("button", name="保存筛选").click()
    assert "已保存筛选「台州 专精特新」" in page.content()
    page.goto("/enterprises")
    assert page.get_by_label("称号层级").input_value() == ""
    page.get_by_role("link", name="台州 专精特新").click()
    assert page.get_by_label("称号层级").input_value() == "specialized_sme"
    assert page.get_by_label("地区").input_value() == "331000"
    screenshot(page, "saved-filters", full_page=False)
    page.get_by_role("button", name="删除筛选「台州 专精特新」").click()
    assert "已删除筛选「台州 专精特新」" in page.content()
