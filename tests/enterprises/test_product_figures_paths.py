"""Product-level figures through every path, on SQLite and PostgreSQL (issue 14 §4): the service
records and audits them and refuses implausible ones; the pre-check judges 单项冠军's 70 % rule on
them (at, just above, just below) and leaves it 待人工核实 without them; the API and the page form
take and show them."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.criteria import Verdict
from registry.domain.errors import RuleViolation
from registry.enterprises.models import AnnualReport
from registry.enterprises.services import record_annual_report
from registry.pipeline.facts import judge
from tests.conftest import NOW, d
from tests.factories import make_enterprise, report
from tests.web.pages import page, submit

ON = d("2026-06-01")


def criterion(snapshot, criterion_id):
    def walk(items):
        for item in items:
            yield item
            yield from walk(item["children"])
    return next(r for r in walk(snapshot["results"]) if r["id"] == criterion_id)


@pytest.mark.parametrize(("product", "verdict"), [
    ("69999999.99", Verdict.FAIL), ("70000000.00", Verdict.PASS), ("70000000.01", Verdict.PASS), (None, Verdict.UNKNOWN)])
def test_the_champion_precheck_judges_the_recorded_product_share(session, admin, rules, product, verdict):
    ent = make_enterprise(session, admin)
    figures = {"revenue": Decimal("500000000"), "main_business_revenue": Decimal("100000000")}
    if product is not None:
        figures |= {"main_product": "精密轴承", "main_product_revenue": Decimal(product)}
    report(session, admin, ent, 2025, **figures)
    tier = rules.policies.tier("single_champion", ON)
    _, snapshot = judge(session, rules, tier, ent, year=2025, on=ON, stage="title")
    found = criterion(snapshot, "main_product")
    assert found["verdict"] == verdict.value, found
    if product is None:
        assert found["verdict_name"] == "待人工核实" and "主导产品销售收入" in found["detail"]
    else:
        assert any(v["label"] == "2025年主导产品销售收入（精密轴承）" for v in found["values"])


def test_the_service_records_and_audits_the_product_and_refuses_sales_above_main_business(session, admin):
    ent = make_enterprise(session, admin)
    stored, _ = record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW, today=ON, data={
        "submitted_on": d("2026-03-01"), "main_business_revenue": Decimal("100"), "main_product": "泵",
        "main_product_revenue": Decimal("100")})  # equal: allowed
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "annual_report",
                                                        AuditEvent.entity_id == stored.id)).one()
    assert trail.changes["main_product"] == [None, "泵"] and Decimal(trail.changes["main_product_revenue"][1]) == 100
    with pytest.raises(RuleViolation) as err:  # a correction is checked with the stored figures
        record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW, today=ON,
                             data={"main_business_revenue": Decimal("99.99")})
    assert "主导产品销售收入（100）高于主营业务收入（99.99）" in err.value.errors["main_product_revenue"][0]
    session.expire_all()
    assert session.get(AnnualReport, stored.id).main_business_revenue == Decimal("100.00")


def test_the_api_takes_returns_and_checks_the_product_figures(api_as, session, admin):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    client = api_as("officer", "331000")
    url = f"/api/v1/enterprises/{ent.id}/annual-reports"
    bad = client.post(url, json={"year": 2025, "submitted_on": "2026-03-01", "main_business_revenue": "100",
                                 "main_product": "泵", "main_product_revenue": "100.01"})
    assert bad.status_code == 422 and "main_product_revenue" in bad.get_json()["errors"]
    long = client.post(url, json={"year": 2025, "submitted_on": "2026-03-01", "main_product": "泵" * 201})
    assert long.status_code == 422 and "main_product" in long.get_json()["errors"]
    good = client.post(url, json={"year": 2025, "submitted_on": "2026-03-01", "main_business_revenue": "100",
                                  "main_product": "泵", "main_product_revenue": "70"})
    assert good.status_code == 201, good.get_json()
    assert (good.get_json()["main_product"], good.get_json()["main_product_revenue"]) == ("泵", "70.00")
    listed = client.get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert listed["annual_reports"][0]["main_product_revenue"] == "70.00"


def test_the_page_form_records_and_shows_the_main_product(login_as, session, admin):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    officer = login_as("officer", "331000")
    url = f"/enterprises/{ent.id}/annual-reports/new"
    assert "主导产品名称" in page(officer, url) and "主导产品销售收入（元）" in page(officer, url)
    confirm, done = submit(officer, url, {"year": 2025, "submitted_on": "2026-03-01", "main_business_revenue": "1000",
                                          "main_product": "液压阀门", "main_product_revenue": "700"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    row = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).one()
    assert (row.main_product, row.main_product_revenue) == ("液压阀门", Decimal("700.00"))
    shown = page(officer, f"/enterprises/{ent.id}")
    assert "液压阀门" in shown and "700.00" in shown
