"""An officer imports an announcement in a real browser: a bad row, the error workbook, the fix, the
dry-run diff, confirm; then exports the roster to Excel. The server runs imports in its background thread."""

from __future__ import annotations

import re
from datetime import date

from openpyxl import load_workbook

from tests.e2e.conftest import login, screenshot
from tests.factories import make_uscc
from tests.roster.files import xlsx

MARK = "浏览器导入测试"  #: in every name of the file, to find them on the roster


def announcement(*, bad_row: int | None = None) -> bytes:
    """Three new 台州 enterprises of one batch; `bad_row` (spreadsheet row) gets an unknown title."""
    rows = [[i, f"台州{MARK}{i}号有限公司", make_uscc("331002", 960_000 + i), "331002", "创新型中小企业",
             date(2025, 6, 15), "2025年第一批", "台经信〔2025〕9号"] for i in (1, 2, 3)]
    if bad_row is not None:
        rows[bad_row - 2][4] = "金牌企业"
    return xlsx(rows)


def read(download, folder) -> list[list]:  # noqa: ANN001
    """Save a download under its suggested (Chinese) name and return its first sheet's rows."""
    path = folder / download.suggested_filename
    download.save_as(path)
    return [list(r) for r in load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)]


def upload(page, path, wait_for: str) -> None:  # noqa: ANN001
    """Upload a file as a dry run from /imports and wait on its page until the run is done."""
    page.goto("/imports")
    page.get_by_label("名单文件（.xlsx 或 .csv）", exact=True).set_input_files(str(path))
    assert page.get_by_label("试运行").is_checked()  # the default
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url(re.compile(r"/imports/\d+$"))
    page.get_by_text(wait_for).first.wait_for()  # the page polls and reloads when the worker is done


def test_import_with_errors_then_fixed_then_export(page, tmp_path):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    bad = tmp_path / "台州公告名单.xlsx"
    bad.write_bytes(announcement(bad_row=3))
    upload(page, bad, "有错误，未导入")
    errors = page.locator("#import-errors tbody").inner_text()
    assert "E列（称号）" in errors and "未知的称号" in errors
    with page.expect_download() as info:
        page.get_by_role("link", name="下载错误清单").click()
    assert info.value.suggested_filename == "台州公告名单.错误清单.xlsx"
    rows = read(info.value, tmp_path)
    assert rows[0][-1] == "错误说明" and rows[2][-1].startswith("第3行 E列（称号）")

    good = tmp_path / "台州公告名单（修正）.xlsx"
    good.write_bytes(announcement())
    upload(page, good, "试运行结果（尚未写入）")
    assert page.locator("#total-new_enterprises").inner_text() == "3"
    assert page.locator("#total-new_titles").inner_text() == "3"
    assert f"台州{MARK}2号有限公司" in page.locator("#diff-new_enterprises").inner_text()
    screenshot(page, "import")
    dry_run_url = page.url
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(lambda url: url != dry_run_url and re.search(r"/imports/\d+$", url) is not None)
    page.get_by_role("heading", name="已导入").wait_for()
    assert page.locator("#total-new_enterprises").inner_text() == "3"

    page.goto("/enterprises")
    page.get_by_label("名称、统一社会信用代码或联系人电话、邮箱").fill(MARK)
    page.get_by_role("button", name="查询").click()
    assert page.get_by_role("heading", name="共 3 家企业").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    assert re.fullmatch(r"企业名录-\d{4}-\d{2}-\d{2}\.xlsx", info.value.suggested_filename)
    exported = read(info.value, tmp_path)
    assert exported[0][:4] == ["序号", "企业名称", "统一社会信用代码", "所在地区"]  # headers from the field catalogue
    uscc = exported[0].index("统一社会信用代码")
    assert sorted(r[uscc] for r in exported[1:]) == sorted(make_uscc("331002", 960_000 + i) for i in (1, 2, 3))
