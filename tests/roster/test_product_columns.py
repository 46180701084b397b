"""The roster's product-level columns (issue 14 §4): 主导产品 and 主导产品销售收入 import, export and are
checked for plausibility like every other annual figure."""

from decimal import Decimal

import sqlalchemy as sa

from registry.enterprises.models import AnnualReport, Enterprise
from registry.roster.export import HEADERS
from tests.factories import make_uscc
from tests.roster.files import xlsx
from tests.roster.test_apply import FULL, full_row

PRODUCT = [*FULL, "主营业务收入（万元）", "主导产品", "主导产品销售收入（万元）"]


def product_row(code, main="10,000", name="精密轴承", sales="7,000"):
    return [*full_row(code, **{"营业收入（万元）": "20,000"}), main, name, sales]


def test_export_writes_the_product_columns_under_the_import_headers():
    assert "主导产品名称" in HEADERS and "主导产品销售收入（元）" in HEADERS
    assert HEADERS.index("主导产品销售收入（元）") == HEADERS.index("主导产品名称") + 1


def test_the_product_columns_are_imported_with_their_unit(session, do_import):
    code = make_uscc("331002", 730_001)
    run = do_import(xlsx([product_row(code)], PRODUCT))
    assert run.status == "applied", run.errors
    figures = session.scalars(sa.select(AnnualReport).join(Enterprise).where(Enterprise.uscc == code)).one()
    assert (figures.main_business_revenue, figures.main_product, figures.main_product_revenue) == (
        Decimal("100000000.00"), "精密轴承", Decimal("70000000.00"))


def test_product_sales_above_main_business_revenue_are_a_row_error_and_nothing_is_written(session, do_import):
    code = make_uscc("331002", 730_002)
    run = do_import(xlsx([product_row(code, sales="10,000.01")], PRODUCT))
    assert run.status != "applied"
    assert [e["field"] for e in run.errors] == ["main_product_revenue"], run.errors
    assert "主导产品销售收入" in run.errors[0]["message"] and "高于主营业务收入" in run.errors[0]["message"]
    assert session.scalar(sa.select(Enterprise.id).where(Enterprise.uscc == code)) is None


def test_product_sales_equal_to_main_business_revenue_are_accepted(session, do_import):
    run = do_import(xlsx([product_row(make_uscc("331002", 730_003), sales="10,000")], PRODUCT))
    assert run.status == "applied", run.errors
