"""Roster export: the filters, region scope, formula injection, and export → import round trip."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from registry.enterprises.queries import RosterFilter
from registry.roster.export import HEADERS, csv_chunks, write_csv, write_xlsx
from tests.conftest import d, officer_of
from tests.factories import grant, make_enterprise, make_uscc, report
from tests.roster.conftest import TODAY, registry_counts
from tests.roster.files import read_xlsx

EVIL = '=HYPERLINK("http://evil.example","点我")'


def build(session, admin, rules):
    """A small roster: 台州 enterprises with and without titles, one 杭州 enterprise."""
    a = make_enterprise(session, admin, uscc=make_uscc("331002", 720_001), name=EVIL, contact_phone="+86 576 8800",
                        industry_code="C3311", size_class="small", founded_on=d("2010-03-08"))
    grant(session, admin, rules, a, "innovative_sme", d("2024-06-15"), batch="2024年第一批", document_no="浙经信〔2024〕1号")
    report(session, admin, a, 2024, revenue=Decimal("1000.00"))
    report(session, admin, a, 2025, revenue=Decimal("123456789.12"), employees=88, debt_ratio=Decimal("41.50"),
           audit_report_code="ZJ2025", audit_firm="台州会计师事务所", main_product="精密轴承",
           main_product_revenue=Decimal("100000000.00"))
    b = make_enterprise(session, admin, uscc=make_uscc("331002", 720_002), name="台州精工机械有限公司")
    grant(session, admin, rules, b, "innovative_sme", d("2023-08-01"), batch="2023年第二批")
    grant(session, admin, rules, b, "specialized_sme", d("2024-03-01"), authority="浙江省经济和信息化厅")
    make_enterprise(session, admin, uscc=make_uscc("331002", 720_003), name="台州尚无称号有限公司")
    c = make_enterprise(session, admin, uscc=make_uscc("330106", 720_004), region_code="330106", name="杭州某公司")
    grant(session, admin, rules, c, "innovative_sme", d("2024-06-15"))
    return a, b, c


def export(session, actor, rules, fmt="xlsx", unmasked=False, **filters):
    out = io.BytesIO()
    write = write_xlsx if fmt == "xlsx" else write_csv
    count = write(session, actor=actor, names=rules.tier_names(), f=RosterFilter(sort="uscc", **filters),
                  today=TODAY, out=out, unmasked=unmasked)
    return out.getvalue(), count


def column(rows, header):
    i = HEADERS.index(header)
    return [r[i] if i < len(r) else None for r in rows[1:]]  # read-only mode drops trailing empty cells


def test_export_lists_one_row_per_title_in_the_actors_region(session, admin, rules):
    build(session, admin, rules)
    content, count = export(session, officer_of("331000"), rules)
    rows = read_xlsx(content)
    assert rows[0] == HEADERS and count == 4 == len(rows) - 1
    assert column(rows, "称号层级") == ["创新型中小企业", "创新型中小企业", "专精特新中小企业", None]
    assert column(rows, "企业名称")[1:] == ["台州精工机械有限公司", "台州精工机械有限公司", "台州尚无称号有限公司"]
    assert column(rows, "状态")[:3] == ["有效"] * 3 and column(rows, "地区名称")[0] == "椒江区"
    assert column(rows, "营业收入（元）")[0] == pytest.approx(123456789.12)  # the latest year's figures
    assert column(rows, "数据年度")[0] == 2025 and column(rows, "企业规模")[0] == "小型"
    assert column(rows, "认定日期")[0].date() == date(2024, 6, 15)


@pytest.mark.parametrize("filters, expected", [
    ({"tier": "specialized_sme"}, ["专精特新中小企业"]),
    ({"expiring_within_days": 90}, ["创新型中小企业"]),  # 2023-08-01 + 3 years = 2026-08-01
    ({"q": "精工"}, ["创新型中小企业", "专精特新中小企业"]),
    ({"status": "revoked"}, []),
    ({"region": "330100"}, []),  # 杭州 lies outside the officer's region
])
def test_export_takes_the_roster_filters(session, admin, rules, filters, expected):
    build(session, admin, rules)
    content, _ = export(session, officer_of("331000"), rules, **filters)
    assert column(read_xlsx(content), "称号层级") == expected


def test_formula_like_text_is_neutralised_in_xlsx_and_csv(session, admin, rules):
    build(session, admin, rules)
    content, _ = export(session, admin, rules, q="HYPERLINK")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cell = sheet.cell(row=2, column=HEADERS.index("企业名称") + 1)
    assert cell.data_type == "s" and cell.value == "'" + EVIL
    assert sheet.cell(row=2, column=HEADERS.index("联系电话") + 1).value == "865****8800"  # masked by default
    full, _ = export(session, admin, rules, unmasked=True, q="HYPERLINK")
    sheet = load_workbook(io.BytesIO(full)).worksheets[0]
    assert sheet.cell(row=2, column=HEADERS.index("联系电话") + 1).value == "'+86 576 8800"
    raw, _ = export(session, admin, rules, fmt="csv", q="HYPERLINK")
    assert raw.startswith("\ufeff".encode())
    streamed = csv_chunks(session, actor=admin, names=rules.tier_names(), f=RosterFilter(q="HYPERLINK"), today=TODAY)
    assert b"".join(streamed) == raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and rows[1][HEADERS.index("企业名称")] == "'" + EVIL


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_exported_roster_reimports_to_the_same_registry_state(session, admin, rules, do_import, fmt):
    scope = session.begin_nested()
    build(session, admin, rules)
    before_counts = registry_counts(session)
    exported, _ = export(session, admin, rules, fmt, unmasked=True)  # moving a registry: contacts in full
    first = _table(exported, fmt)
    scope.rollback()  # the registry forgets all of it …
    run = do_import(exported, filename=f"名录.{fmt}")  # … and gets it back from the file
    assert run.status == "applied" and run.diff["warnings"] == [], (run.errors, run.diff["warnings"])
    again, _ = export(session, admin, rules, fmt, unmasked=True)
    assert _table(again, fmt) == first
    masked, _ = export(session, admin, rules, fmt)  # the default export: contacts masked …
    assert "865****8800" in str(_table(masked, fmt)) and "+86 576 8800" not in str(_table(masked, fmt))
    counts = registry_counts(session)
    assert {k: counts[k] for k in ("enterprises", "certifications")} == {
        k: before_counts[k] for k in ("enterprises", "certifications")}
    unchanged = do_import(masked, filename=f"名录.{fmt}")  # … re-imported, leaves them as they are
    assert unchanged.counts["unchanged_rows"] == unchanged.counts["rows"] == 5
    assert _table(export(session, admin, rules, fmt, unmasked=True)[0], fmt) == first


def _table(content, fmt):
    if fmt == "xlsx":
        return read_xlsx(content)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
