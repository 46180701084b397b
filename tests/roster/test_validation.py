"""Every kind of bad row is named by row and column, and one bad row imports nothing."""

from datetime import date

import pytest

from registry.domain.actors import Role
from registry.domain.errors import PermissionDenied
from registry.titles.models import Ban
from tests.conftest import d, officer_of
from tests.factories import grant, make_enterprise, make_uscc
from tests.roster.conftest import registry_counts
from tests.roster.files import HEADERS, read_xlsx, roster_rows, xlsx

WIDE = [*HEADERS, "年度", "营业收入（万元）"]  # A..H as HEADERS, I 年度, J 营业收入


def good_rows(n=3, serial=610_000):
    return [[*row, 2025, "1,200.5"] for row in roster_rows(n, serial=serial)]


def set_cell(rows, index, column, value):
    rows[index][column] = value
    return rows


def banned(session, rows):
    session.add(Ban(uscc=rows[1][2], reason_code="fraud", reason="弄虚作假", starts_on=d("2023-01-01"),
                    ends_on=d("2026-12-31"), document_no="浙经信〔2023〕1号"))
    session.flush()
    return rows


CASES = {
    "bad uscc": (lambda s, r: set_cell(r, 1, 2, r[1][2][:-1] + ("0" if r[1][2][-1] != "0" else "1")),
                 "C列（统一社会信用代码）", "校验位"),
    "blank uscc": (lambda s, r: set_cell(r, 1, 2, None), "C列（统一社会信用代码）", "不能为空"),
    "unknown region": (lambda s, r: set_cell(r, 1, 3, "999999"), "D列（所在地区）", "不存在"),
    "ambiguous region name": (lambda s, r: set_cell(r, 1, 3, "市中区"), "D列（所在地区）", "多个"),
    "bad date": (lambda s, r: set_cell(r, 1, 5, "2024-02-30"), "F列（认定日期）", "不存在"),
    "future date": (lambda s, r: set_cell(r, 1, 5, date(2026, 7, 1)), "F列（认定日期）", "晚于今天"),
    "missing date": (lambda s, r: set_cell(r, 1, 5, None), "F列（认定日期）", "缺少认定日期"),
    "negative amount": (lambda s, r: set_cell(r, 1, 9, -5), "J列（营业收入（万元））", "负数"),
    "non-numeric amount": (lambda s, r: set_cell(r, 1, 9, "一千万"), "J列（营业收入（万元））", "数字"),
    "unknown tier": (lambda s, r: set_cell(r, 1, 4, "金牌企业"), "E列（称号）", "未知的称号"),
    "missing prerequisite": (lambda s, r: set_cell(r, 1, 4, "专精特新中小企业"), "E列（称号）", "缺少前置称号"),
    "banned uscc": (banned, "C列（统一社会信用代码）", "禁止申报"),
    "duplicate title": (lambda s, r: set_cell(r, 1, 2, r[0][2]) and set_cell(r, 1, 1, r[0][1]),
                        "E列（称号）", "与第2行重复"),
    "conflicting data": (lambda s, r: [r[0], [2, "另一个名称有限公司", r[0][2], "331002", None, None, None, None,
                                             2025, "1,200.5"], r[2]], "B列（企业名称）", "与第2行填写"),
    "new enterprise without name": (lambda s, r: set_cell(r, 1, 1, None), "B列（企业名称）", "须填写企业名称"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_row_is_named_and_nothing_is_imported(session, do_import, case):
    mutate, column, fragment = CASES[case]
    rows = mutate(session, good_rows())
    before = registry_counts(session)
    run = do_import(xlsx(rows, WIDE))
    assert run.status == "failed"
    assert [(e["row"], e["column"]) for e in run.errors] == [(3, column)], run.errors
    assert fragment in run.errors[0]["message"]
    assert registry_counts(session) == before
    assert run.counts["error_rows"] == 1 and run.error_workbook


def test_rows_outside_the_officers_region_are_errors(session, do_import):
    rows = good_rows()
    rows[1][3] = "330106"  # 杭州西湖区, outside 台州
    run = do_import(xlsx(rows, WIDE), actor=officer_of("331000"))
    assert [(e["row"], e["column"]) for e in run.errors] == [(3, "D列（所在地区）")]
    assert "管辖范围" in run.errors[0]["message"]


def test_an_enterprise_of_another_region_cannot_be_imported(session, admin, do_import):
    other = make_enterprise(session, admin, region_code="330106", uscc=make_uscc("330106"))
    rows = good_rows()
    rows[2][2] = other.uscc
    run = do_import(xlsx(rows, WIDE), actor=officer_of("331000"))
    assert [(e["row"], e["column"]) for e in run.errors] == [(4, "C列（统一社会信用代码）")]
    assert "其他地区" in run.errors[0]["message"] and "330106" not in run.errors[0]["message"]


def test_auditors_may_not_import(do_import):
    with pytest.raises(PermissionDenied):
        do_import(xlsx(good_rows(), WIDE), actor=officer_of("331000", Role.AUDITOR))


def test_a_mixed_file_imports_nothing_and_names_exactly_the_bad_rows(session, do_import):
    rows = good_rows(12, serial=620_000)
    rows[2][2] = "91331002MA0620003X"  # row 4: bad check digit
    rows[6][5] = "2024年13月1日"  # row 8: no such month
    rows[10][9] = "-3"  # row 12: negative revenue
    before = registry_counts(session)
    run = do_import(xlsx(rows, WIDE))
    assert [(e["row"], e["column"]) for e in run.errors] == [
        (4, "C列（统一社会信用代码）"), (8, "F列（认定日期）"), (12, "J列（营业收入（万元））")]
    assert registry_counts(session) == before
    assert run.counts["rows"] == 12 and run.counts["error_rows"] == 3


def test_the_error_workbook_mirrors_the_file_with_a_column_saying_what_is_wrong(do_import):
    rows = good_rows(4, serial=630_000)
    rows[1][3] = "999999"
    rows[3][1] = "@SUM(A1:A9)有限公司"
    rows[3][4] = "金牌企业"
    run = do_import(xlsx(rows, WIDE))
    data = read_xlsx(run.error_workbook)
    assert data[0] == [*WIDE, "错误说明"]
    assert len(data) == 5
    notes = [row[len(WIDE)] if len(row) > len(WIDE) else None for row in data]
    assert notes[1] is None and notes[3] is None
    assert data[2][-1] == "第3行 D列（所在地区）：行政区划代码 999999 不存在 / unknown region code"
    assert data[4][-1].startswith("第5行 E列（称号）：未知的称号「金牌企业」")
    assert data[4][1] == "'@SUM(A1:A9)有限公司"  # echoed data is neutralised too
    listing = read_xlsx(run.error_workbook, sheet=1)
    assert listing[0] == ["行号", "列", "字段", "错误说明"]
    assert [r[:3] for r in listing[1:]] == [[3, "D列（所在地区）", "所在地区"], [5, "E列（称号）", "称号层级"]]  # labels, no codes


def test_a_file_without_the_uscc_column_fails_as_a_whole(do_import):
    run = do_import(xlsx([["甲公司", "331002"]], ["企业名称", "所在地区"]))
    assert run.status == "failed"
    assert run.errors == [{"row": 1, "column": None, "field": "uscc",
                           "message": "缺少「统一社会信用代码」列 / the USCC column is missing"}]
    assert read_xlsx(run.error_workbook)[0][-1].startswith("错误说明（第1行：缺少")


def test_an_unreadable_file_fails_with_a_workbook(do_import):
    run = do_import(b"PK\x03\x04 broken", filename="坏文件.xlsx")
    assert run.status == "failed" and run.errors[0]["row"] is None
    assert read_xlsx(run.error_workbook, sheet=1)[1][3].startswith("无法读取电子表格")


def test_exclusions_and_existing_titles_use_the_registry(session, admin, rules, do_import):
    ent = make_enterprise(session, admin, uscc=make_uscc("331002", 640_001))
    grant(session, admin, rules, ent, "innovative_sme", d("2024-01-10"))
    rows = [[1, ent.name, ent.uscc, "331002", "创新型中小企业", date(2025, 3, 1), "2025年第一批", None]]
    run = do_import(xlsx(rows))
    assert "已持有有效的创新型中小企业称号" in run.errors[0]["message"]
    assert run.errors[0]["column"] == "E列（称号）"


def test_the_error_listing_names_a_field_in_chinese_even_an_unknown_one():
    from registry.roster.imports.workbook import field_label

    assert field_label("uscc") == "统一社会信用代码" and field_label("revenue") == "营业收入"
    assert field_label("no_such_field") == "其他" and field_label(None) is None
