"""In an English Chromium (this one), the browser's own controls say nothing in English: the import's file box
shows 选择文件 and the chosen file's name, the roster's date filter is a text box (如 2026-06-30) that reads 2026年1月1日."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_the_file_box_speaks_chinese(page, tmp_path):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    page.goto("/imports")
    face = page.locator(".file-pick")
    assert face.inner_text().split() == ["选择文件", "未选择文件"]
    assert page.locator("input[type=file]").evaluate("e => getComputedStyle(e).opacity") == "0"
    chosen = tmp_path / "台州名单.csv"
    chosen.write_text("企业名称\n", encoding="utf-8")
    page.get_by_label("名单文件（.xlsx 或 .csv）", exact=True).set_input_files(str(chosen))
    assert face.inner_text().split() == ["选择文件", "台州名单.csv"]
    with page.expect_file_chooser() as chooser:  # the face opens the input's own picker
        face.click()
    assert chooser.value.element.get_attribute("name") == "file"


def test_the_date_filter_reads_chinese_order(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    page.goto("/enterprises")
    box = page.get_by_label("截至日期（历史名单）")
    assert box.get_attribute("type") == "text" and "2026-06-30" in box.get_attribute("placeholder")
    box.fill("2026年1月1日")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"as_of="))
    assert page.get_by_label("截至日期（历史名单）").input_value() == "2026年1月1日"
    assert "不是有效的日期值" not in page.content()
    assert re.search(r"共 [\d,]+ 家企业", page.locator("main").inner_text())
