"""Issue 18 points 3 and 11 in a real browser: the office that published a 公示名单 withdraws an objection it
registered by mistake, with a reason; the batch page shows 已撤回 and the audit trail names the withdrawal in
Chinese (the demo's 第一批 is in publicity, a 台州 batch: its office, tz_officer, published the list)."""

from __future__ import annotations

import re

from tests.conftest import TEST_NOW
from tests.e2e.conftest import login, screenshot

TODAY = TEST_NOW.date().isoformat()  # the pinned day; the server runs on it too (REGISTRY_CLOCK)
GROUNDS = "误登记的浏览器测试异议：应登记到第二批"
REASON = "登记人员选错了批次，系误登记"


def test_a_mistaken_objection_is_withdrawn_with_a_reason(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    page.goto("/batches")
    page.get_by_role("link", name="第一批（演示）").click()
    page.wait_for_url(re.compile(r"/batches/\d+$"))
    batch_url = page.url

    form = page.locator("form", has=page.get_by_role("button", name="登记异议"))
    target = form.get_by_label("异议对象（申请）")
    target.select_option(index=target.locator("option").count() - 1)  # the one application in publicity
    form.get_by_label("异议人姓名或单位名称（须实名）").fill("张卫东")
    form.get_by_label("签署方式").select_option("real_name")
    form.get_by_label("联系电话或地址（实名异议须能联系到本人）").fill("0571-87000000")
    form.get_by_label("异议的事实和理由").fill(GROUNDS)
    form.get_by_label("收到日期").fill(TODAY)
    form.get_by_role("button", name="登记异议").click()
    page.wait_for_url(re.compile(r"/batches/\d+"))
    notice = re.search(r"已登记异议 #(\d+)", page.locator("main").inner_text())
    assert notice, page.locator("main").inner_text()[:500]
    oid = notice.group(1)

    row = page.locator("section[aria-labelledby='h-objections'] tbody tr", has_text=GROUNDS)
    assert "待处理" in row.inner_text()
    row.get_by_role("link", name="撤回误登记").click()
    page.wait_for_url(re.compile(rf"/objections/{oid}/withdrawal$"))
    page.get_by_label("撤回原因（记入审计）").fill(REASON)
    page.get_by_role("button", name="下一步：查看办理后果").click()
    consequence = page.locator("main").inner_text()
    assert "状态改为“已撤回”" in consequence and "原内容保留在审计日志中" in consequence and REASON in consequence
    screenshot(page, "withdraw-objection", full_page=False)
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(batch_url)

    assert f"已撤回误登记的异议 #{oid}" in page.locator("main").inner_text()
    row = page.locator("section[aria-labelledby='h-objections'] tbody tr", has_text=GROUNDS)
    status = row.locator("td").last.inner_text()
    assert status.startswith("已撤回") and REASON in status
    assert row.get_by_role("link", name="撤回误登记").count() == 0  # no longer open: nothing more to do

    page.goto("/audit")
    page.get_by_label("操作", exact=True).select_option(label="撤回误登记的异议")
    page.get_by_role("button", name="查询").click()
    first = page.locator("table.audit-table > tbody > tr", has_text="撤回误登记的异议").first
    text = first.inner_text()
    assert "台州市经信局业务人员" in text and "撤回误登记的异议" in text
    first.locator("summary").click()
    details = first.locator("details").inner_text()
    assert "已撤回" in details and REASON in details and "处理人" in details and "台州市经信局业务人员（tz_officer）" in details
    assert "user:" not in details and "其他信息" not in details  # who resolved it, by name
    assert not re.search(r"\b(objection\.withdrawn|withdrawn|open|resolution_note|status)\b", text + details)
    first.scroll_into_view_if_needed()
    screenshot(page, "withdraw-objection-audit", full_page=False)
