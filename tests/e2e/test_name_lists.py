"""An officer imports a published list of names only in a real browser: the match proposed, a candidate
chosen, an unmatched row completed with a USCC; an undecided row first refuses the whole list."""

from __future__ import annotations

import re

from tests.e2e.conftest import login, screenshot
from tests.factories import make_uscc
from tests.roster.files import xlsx
from tests.roster.namelist_files import name_list

MARK = "名单浏览器测试"
REGISTERED = [f"台州{MARK}精工机械有限公司", f"台州{MARK}（椒江）模具有限公司"]
NEW_USCC = make_uscc("331002", 970_001)
NEW_NAME = "椒江晨曦量子测绘服务有限公司"  #: nothing like it is registered: no match, no candidate


def test_a_list_of_names_is_imported_after_each_row_is_confirmed(page, tmp_path):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    roster = tmp_path / "登记.xlsx"  # two enterprises without titles, registered through the roster import
    roster.write_bytes(xlsx([[name, make_uscc("331002", 970_100 + i), "331002"] for i, name in enumerate(REGISTERED)],
                            headers=["企业名称", "统一社会信用代码", "所在地区"]))
    page.goto("/imports")
    page.get_by_label("名单文件（.xlsx 或 .csv）", exact=True).set_input_files(str(roster))
    page.get_by_label("直接导入").check()
    page.get_by_role("button", name="上传并校验").click()
    page.get_by_role("heading", name="已导入").wait_for()

    page.goto("/imports")
    page.get_by_role("link", name="按名称导入公告名单").click()
    published = tmp_path / "2026年创新型中小企业名单.xlsx"
    published.write_bytes(name_list([[1, "浙江省", f"台州{MARK}精工机械有限责任公司"],
                                     [2, "台州市", f"台州{MARK}(椒江)模具股份有限公司"],
                                     [3, "椒江区", NEW_NAME]]))
    page.get_by_label("公告名单文件（.xlsx 或 .csv）").set_input_files(str(published))
    page.get_by_label("称号层级").select_option(label="创新型中小企业")
    page.get_by_label("认定日期").fill("2026-11-20")
    page.get_by_label("认定文号").fill("浙经信企业〔2026〕88号")
    page.get_by_role("button", name="上传并匹配").click()
    page.wait_for_url(re.compile(r"/name-lists/\d+$"))
    assert "共 3 行：唯一匹配 1 行，有候选 1 行，未匹配 1 行" in page.locator("#list-counts").inner_text()
    assert page.locator('input[name="choice-3"]').first.is_checked()  # the exact match is proposed
    assert not page.locator('input[name="choice-4"]').first.is_checked()  # a candidate waits for the officer
    screenshot(page, "name-list")

    page.get_by_role("button", name="确认导入").click()  # rows 4 and 5 undecided: nothing is written
    alert = page.locator("#confirm-errors").inner_text()
    assert "整份名单未写入任何数据" in alert and "第4行" in alert and "第5行" in alert

    page.locator('input[name="choice-4"]').first.check()
    page.locator('input[name="choice-5"][value="uscc"]').check()
    page.locator('input[name="uscc-5"]').fill(NEW_USCC)
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("授予称号 3 家（其中新建企业 1 家）").wait_for()
    assert page.locator("#list-status").inner_text() == "已导入"

    page.get_by_role("link", name=NEW_USCC).click()
    page.get_by_role("heading", name=NEW_NAME).wait_for()
    assert "创新型中小企业" in page.content()
