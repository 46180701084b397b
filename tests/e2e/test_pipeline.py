"""The cultivation pipeline in a real browser: a 小巨人 pre-check into a pool, then a batch with its quota board.

The demo files annual reports for the three years before the seeding day, so a pool for the server's
current year (checked on the previous year's figures) has data to judge. Dates are the server's: it
reckons "today" in Asia/Shanghai, which can be a day ahead of this machine's UTC date.

The first candidate of the pool is then registered in the batch by its USCC on the batch page and
waits for its district's opinion on the board.
"""

from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import TEST_NOW
from tests.e2e.conftest import login, screenshot

SERVER_TODAY = TEST_NOW.date()  # the pinned day; the server runs on it too (REGISTRY_CLOCK)
TIER = "little_giant"  # 专精特新"小巨人"企业: review chain district → city → province → ministry


def main_nav(page, label: str) -> None:  # noqa: ANN001
    """Open a page from the main menu."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label).click()


def test_pool_precheck_and_batch_board(page):
    login(page, "zj_officer")
    page.wait_for_url("**/")

    main_nav(page, "培育库")
    page.wait_for_url("**/pools")
    page.get_by_label("称号层级").select_option(TIER)
    page.get_by_label("评选年度").fill(str(SERVER_TODAY.year))
    page.get_by_role("button", name="运行预审").click()
    page.wait_for_url(re.compile(r"/pools/\d+$"))

    assert f"{SERVER_TODAY.year - 1} 年度数据" in page.locator("main").inner_text()
    members = page.get_by_role("heading", name=re.compile(r"核查结论（\d+ 家在库，\d+ 家未入库）")).inner_text()
    inside, left_out = (int(n) for n in re.findall(r"\d+", members))
    assert inside >= 1
    first = page.locator("table.verdicts > tbody > tr").first
    first.locator("summary").click()  # open its per-criterion report
    report = first.locator("ul.criteria")
    assert report.locator("> li").count() >= 2
    assert re.search(r"\d", report.locator("li > span:not(.badge):not(.muted)").first.inner_text())
    candidate_uscc = re.search(r"[0-9A-HJ-NP-RTUWXY]{18}", first.inner_text()).group()
    screenshot(page, "pool", full_page=False)

    pool_url = page.url
    page.get_by_role("link", name=re.compile(r"未入库（\d+）")).click()  # why each was left out
    page.wait_for_url(re.compile(r"standing=out"))
    rows = page.locator("table.verdicts > tbody > tr")
    assert rows.count() == min(left_out, 50) or (left_out == 0 and "没有未入库的企业" in rows.first.inner_text())
    if left_out:
        why = rows.first.inner_text()
        assert "未入库" in why and ("依据：" in why or "不能授予" in why)
        assert not re.search(r"\b(fail|unknown|little_giant|national-\d{4})\b", why)
        screenshot(page, "pool-left-out", full_page=False)
    page.goto(pool_url)
    page.get_by_role("button", name="重新核查").click()
    page.wait_for_url(re.compile(r"/pools/\d+$"))
    assert "已重新核查" in page.locator("main").inner_text()

    main_nav(page, "申报批次")
    page.wait_for_url("**/batches")
    form = page.locator("form", has=page.get_by_role("button", name="创建批次"))
    form.get_by_label("称号层级").select_option(TIER)
    form.get_by_label("年度").fill(str(SERVER_TODAY.year))
    form.get_by_label("批次名称").fill("第三批")  # the demo has 第一批（演示） and 第二批（演示）
    form.get_by_label("推荐名额").fill("331000=2\n330000=5")
    for days, level in ((20, "区县级"), (35, "市级"), (50, "省级"), (80, "部级")):
        form.get_by_label(f"{level}推荐截止日期").fill((SERVER_TODAY + timedelta(days=days)).isoformat())
    page.get_by_role("button", name="创建批次").click()
    page.wait_for_url("**/batches")
    assert "已创建批次" in page.locator("main").inner_text()

    page.get_by_role("link", name="第三批").click()
    page.wait_for_url(re.compile(r"/batches/\d+$"))
    quotas = page.locator("section[aria-labelledby='h-quota'] tbody").inner_text()
    assert "331000" in quotas and "0 / 2" in quotas
    assert "330000" in quotas and "0 / 5" in quotas
    assert page.get_by_role("heading", name="推荐看板（按待出具意见的层级）").is_visible()
    page.get_by_label("统一社会信用代码").fill(candidate_uscc)
    page.get_by_role("button", name="登记申报").click()
    page.wait_for_url(re.compile(r"/batches/\d+$"))
    board = page.locator("main").inner_text()
    assert "已登记申请 #" in board and "待区县级意见（1）" in board
    screenshot(page, "batch")
