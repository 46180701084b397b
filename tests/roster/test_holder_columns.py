"""The roster's holder columns (issue 17 §2, docs/holders.md): a zone and a product title import from a file,
export under the same headers (Chinese names) and import back unchanged; a zone missing its managing body,
a zone tier on an enterprise and a second product are row errors at their column, and nothing is written."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter
from registry.roster.export import HEADERS, write_xlsx
from registry.titles.models import Certification
from tests.enterprises.test_zone_holders import body_uscc
from tests.factories import make_uscc
from tests.roster.conftest import TODAY, registry_counts
from tests.roster.files import xlsx

ZONE_HEADERS = ["企业名称", "统一社会信用代码", "所在地区", "称号层级", "认定日期", "登记类型", "区域类型", "管理机构"]
PRODUCT_HEADERS = ["企业名称", "统一社会信用代码", "所在地区", "称号层级", "认定日期", "营业收入（万元）", "数据年度",
                   "产品名称", "产品销售收入（万元）", "产品销售收入占主营业务收入比重"]


def zone_row(code, kind="园区（区域）", zone_type="园区", body="台州湾新区管理委员会", tier="中外中小企业合作区"):
    return ["台州中外中小企业合作区", code, "331000", tier, "2025-01-15", kind, zone_type, body]


def product_row(code, product="高精度轴承", tier="制造业单项冠军产品"):
    return ["台州轴承有限公司", code, "331002", tier, "2024-03-01", "90,000", 2023, product, "50,000", "62.5%"]


def test_the_export_has_the_holder_columns_at_the_end():
    assert HEADERS[-6:] == ["登记类型", "区域类型", "管理机构", "产品名称", "产品销售收入（元）",
                            "产品销售收入占主营业务收入比重（%）"]


def test_a_zone_and_a_product_title_import_export_and_import_back_unchanged(session, admin, rules, policies,
                                                                           do_import):
    zone_code, firm_code = body_uscc("331000", 91), make_uscc("331002", 740_001)
    run = do_import(xlsx([zone_row(zone_code)], ZONE_HEADERS))
    assert run.status == "applied", run.errors
    run = do_import(xlsx([product_row(firm_code)], PRODUCT_HEADERS))
    assert run.status == "applied", run.errors
    zone = session.scalars(sa.select(Enterprise).where(Enterprise.uscc == zone_code)).one()
    assert (zone.holder_kind, zone.zone_type, zone.managing_body) == ("zone", "park", "台州湾新区管理委员会")
    assert [(c.tier, c.holder) for c in zone.certifications] == [("cooperation_zone", "zone")]
    product = session.scalars(sa.select(Certification).join(Enterprise).where(Enterprise.uscc == firm_code)).one()
    assert (product.holder, product.product_name, str(product.product_sales), str(product.product_share)) == (
        "product", "高精度轴承", "500000000.00", "62.50")

    out = io.BytesIO()
    write_xlsx(session, actor=admin, names=rules.tier_names(), f=RosterFilter(), today=TODAY, out=out)
    sheet = list(load_workbook(io.BytesIO(out.getvalue())).active.values)
    header = list(sheet[0])
    rows = {r[header.index("统一社会信用代码")]: r for r in sheet[1:]}
    assert rows[zone_code][header.index("登记类型")] == "园区（区域）"
    assert rows[zone_code][header.index("区域类型")] == "园区"
    assert rows[firm_code][header.index("产品名称")] == "高精度轴承"
    assert rows[firm_code][header.index("登记类型")] == "企业"
    before = registry_counts(session)
    again = do_import(out.getvalue(), mode="dry_run")
    assert again.status != "failed" and not again.errors, again.errors
    assert registry_counts(session) == before


def test_bad_holder_rows_are_errors_at_their_columns_and_nothing_is_written(session, do_import):
    before = registry_counts(session)
    rows = [zone_row(body_uscc("331000", 92), body=""),  # a zone without its managing body
            zone_row(make_uscc("331002", 740_002), kind="企业", zone_type=None, body=None),  # a zone tier on a firm
            zone_row(body_uscc("331000", 93), zone_type="星球")]  # not a zone type
    run = do_import(xlsx(rows, ZONE_HEADERS))
    assert run.status != "applied"
    found = {(e["row"], e["field"]) for e in run.errors}
    assert {(2, "managing_body"), (3, "tier"), (4, "zone_type")} <= found, run.errors
    messages = " ".join(e["message"] for e in run.errors)
    assert "园区（区域）须填写管理机构" in messages and "只授予园区（区域）" in messages and "区域类型应为" in messages
    assert registry_counts(session) == before


def test_a_second_product_and_a_product_beside_a_demonstration_title_are_row_errors(session, do_import):
    code = make_uscc("331002", 740_003)
    two = [product_row(code), [*product_row(code, product="齿轮")[:4], "2024-06-01", *product_row(code)[5:7], "齿轮",
                               None, None]]
    run = do_import(xlsx(two, PRODUCT_HEADERS))
    assert run.status != "applied" and any("只能申请一个产品" in e["message"] for e in run.errors), run.errors
    champion = [*product_row(code, tier="制造业单项冠军示范企业")[:7], None, None, None]
    both = [champion, product_row(code)]
    run = do_import(xlsx(both, PRODUCT_HEADERS))
    assert any("不再认定" in e["message"] for e in run.errors), run.errors


def test_a_file_cannot_turn_an_enterprise_with_titles_into_a_zone(session, admin, rules, do_import):
    from tests.conftest import d
    from tests.factories import grant, make_enterprise

    firm = make_enterprise(session, admin)
    grant(session, admin, rules, firm, "innovative_sme", d("2025-03-01"))
    bare = make_enterprise(session, admin)
    rows = [[firm.name, firm.uscc, "331002", None, None, "园区（区域）", "园区", "某管委会"]]
    run = do_import(xlsx(rows, ZONE_HEADERS))
    assert run.status != "applied" and any("不能变更登记类型" in e["message"] for e in run.errors), run.errors
    run = do_import(xlsx([[bare.name, bare.uscc, "331002", None, None, "园区（区域）", "行政区域", "椒江区人民政府"]],
                         ZONE_HEADERS))
    assert run.status == "applied", run.errors  # a record without titles may be corrected
    session.expire_all()
    assert (bare.holder_kind, bare.zone_type) == ("zone", "area")
