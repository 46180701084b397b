"""Reading files and cells: xlsx and csv encodings, header aliases and units, dates, amounts."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from registry.roster.imports import values as v
from registry.roster.imports.columns import map_headers, match_header
from registry.roster.imports.problems import FileProblem
from registry.roster.imports.reading import read_table
from tests.roster.files import HEADERS, csv_bytes, xlsx

ROW = [1, "台州精工机械有限公司", "91331002MA0500001G", "331002", "创新型中小企业", date(2024, 6, 15),
       "2024年第一批", "浙经信企业〔2024〕88号"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_reads_the_same(encoding):
    sheet = read_table("名单.csv", csv_bytes([ROW], encoding=encoding))
    assert sheet.headers == HEADERS
    assert sheet.rows == [(2, ["1", "台州精工机械有限公司", "91331002MA0500001G", "331002", "创新型中小企业",
                               "2024-06-15", "2024年第一批", "浙经信企业〔2024〕88号"])]


def test_xlsx_keeps_spreadsheet_row_numbers_and_drops_blank_rows():
    content = xlsx([ROW, [], [None, "  "], [2, "第二家"], [], [], []])
    sheet = read_table("名单.xlsx", content)
    assert sheet.header_row == 1
    assert [n for n, _ in sheet.rows] == [2, 5]
    assert sheet.rows[0][1][5] == date(2024, 6, 15)


def test_a_title_line_above_the_header_is_skipped():
    content = xlsx([["2024年第一批创新型中小企业名单"], [], HEADERS, ROW], headers=None)
    sheet = read_table("公告.xlsx", content)
    assert sheet.header_row == 3 and sheet.rows[0][0] == 4
    assert sheet.preamble == [(1, ["2024年第一批创新型中小企业名单"])]


def test_full_width_text_is_normalised_and_the_export_quote_undone():
    content = csv_bytes([["１", "＝公司（台州）", "９１３３１００２ＭＡ０５０００１Ｇ", "'+86 576 1"]],
                        headers=["序号", "企业名称", "统一社会信用代码", "联系电话"])
    cells = read_table("x.csv", content).rows[0][1]
    assert cells == ["1", "=公司(台州)", "91331002MA050001G", "+86 576 1"]


def test_unreadable_files_are_refused_with_a_reason():
    with pytest.raises(FileProblem, match="电子表格"):
        read_table("名单.xlsx", b"PK\x03\x04 not really a zip")
    with pytest.raises(FileProblem, match="为空"):
        read_table("名单.csv", b"")
    with pytest.raises(FileProblem, match="编码"):
        read_table("名单.csv", b"\xff\xfe\x00\xd8\x00")


def test_header_aliases_units_and_unknown_columns():
    headers = ["企业名称", "USCC", "称号/层级", "营业收入（万元）", "资产负债率(%)", "备注", "地区代码", "所在地区"]
    mapping, errors, warnings = map_headers(headers, 1)
    fields = {m.column.field: m for m in mapping}
    assert set(fields) == {"name", "uscc", "tier", "revenue", "debt_ratio", "region_code"}
    assert fields["revenue"].unit == Decimal(10_000)
    assert [w.header for w in warnings] == ["备注"]
    assert [(e.col, e.field) for e in errors] == [(7, "region_code")]  # two region columns
    assert match_header("营业收入（美元）") == (match_header("营业收入")[0], None)


def test_missing_uscc_column_is_a_file_error():
    _, errors, _ = map_headers(["企业名称", "称号"], 1)
    assert errors[0].field == "uscc" and "缺少" in errors[0].message


@pytest.mark.parametrize("cell", [date(2024, 6, 15), datetime(2024, 6, 15), "2024-06-15", "2024/6/15",
                                  "2024.6.15", "2024年6月15日", "20240615", "2024-06-15 00:00:00"])
def test_dates_in_every_accepted_form(cell):
    assert v.to_date(cell) == date(2024, 6, 15)


@pytest.mark.parametrize("cell, problem", [("2024-02-30", "不存在"), ("15/06/2024", "无法识别"),
                                           (45458.0, "数字")])
def test_bad_dates(cell, problem):
    with pytest.raises(v.CellError, match=problem):
        v.to_date(cell)


@pytest.mark.parametrize("cell, unit, expected", [
    ("1,234,567.891", 1, "1234567.89"), (1234567.89, 1, "1234567.89"), ("123.4万元", 1, "1234000.00"),
    ("123.4万", 1, "1234000.00"), (123.4, 10_000, "1234000.00"), ("5元", 10_000, "5.00"), ("¥1.5亿", 1, "150000000.00"),
])
def test_amounts(cell, unit, expected):
    assert v.money(cell, Decimal(unit)) == Decimal(expected)


@pytest.mark.parametrize("cell, problem", [("-5", "负数"), ("abc", "数字"), ("1,23", "千位"), ("NaN", "数字")])
def test_bad_amounts(cell, problem):
    with pytest.raises(v.CellError, match=problem):
        v.money(cell)


def test_counts_percentages_years_sizes():
    assert v.count("120人") == 120 and v.count(35.0) == 35
    with pytest.raises(v.CellError, match="整数"):
        v.count("12.5")
    assert v.percent("45.5%") == v.percent(45.5) == Decimal("45.50")
    assert v.year("2024年度", date(2026, 1, 1)) == 2024
    with pytest.raises(v.CellError, match="不合理"):
        v.year(2031, date(2026, 1, 1))
    assert v.size_class("小型") == v.size_class("small")
    assert v.text(13812345678.0) == "13812345678"
