"""The annual report form accepts amounts as people type them, read by the import's parser (issue 18 §6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import AnnualReport
from tests.factories import make_enterprise
from tests.web.pages import post, submit


@pytest.fixture
def enterprise(session, admin):
    ent = make_enterprise(session, admin, region_code="331002", name="台州填报测试有限公司")
    session.commit()
    return ent


def url(ent) -> str:
    return f"/enterprises/{ent.id}/annual-reports/new?year=2025"


def filed(session, ent) -> AnnualReport | None:
    session.expire_all()
    return session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id, AnnualReport.year == 2025))


@pytest.mark.parametrize(("typed", "yuan"), [
    ("1,234.5万", "12345000.00"), ("1.2亿", "120000000.00"), ("1,234,567.89", "1234567.89"),
    ("１２３４５６", "123456.00"), ("１，２３４．５万元", "12345000.00"), ("12345元", "12345.00"),
    ("¥ 12 345.67", "12345.67"), ("8000000", "8000000.00"),
])
def test_each_accepted_form_of_an_amount_stores_its_yuan(login_as, session, enterprise, typed, yuan):
    officer = login_as("officer", "331000")
    confirmation, done = submit(officer, url(enterprise), {"year": 2025, "submitted_on": "2026-03-01",
                                                           "revenue": typed, "debt_ratio": "45.5％"})
    assert done.status_code == 302, done.get_data(as_text=True)[:600]
    report = filed(session, enterprise)
    assert report.revenue == Decimal(yuan) and report.debt_ratio == Decimal("45.50")


@pytest.mark.parametrize(("typed", "why"), [
    ("12万3", "应为数字"), ("1e9", "应为数字"), ("-5", "不能为负数"), ("12,34", "千位分隔符"), ("abc", "应为数字"),
])
def test_junk_is_refused_naming_the_field_and_changes_nothing(login_as, session, enterprise, typed, why):
    officer = login_as("officer", "331000")
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = post(officer, url(enterprise), {"year": 2025, "submitted_on": "2026-03-01", "rd_expense": typed,
                                               "confirmed": 1})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422), response.status_code
    summary = html[html.index('href="#rd_expense"'):][:400]
    assert "研发费用（元）</a>：" in summary and "数值必须" not in summary and why in summary and "1,234.5万" in summary  # names the field, says why, shows how
    assert f'value="{typed}"' in html  # what was typed stays in the box to be corrected
    assert filed(session, enterprise) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_amount_boxes_are_text_boxes_so_units_and_separators_reach_the_server(login_as, enterprise):
    html = login_as("officer", "331000").get(url(enterprise)).get_data(as_text=True)
    box = html[html.index('id="revenue"') - 200:html.index('id="revenue"') + 200]
    assert 'type="text"' in box and 'inputmode="decimal"' in box


def test_the_api_keeps_plain_numbers_and_names_the_field_it_refuses(api_as, session, enterprise):
    client = api_as("officer", "331000")
    target = f"/api/v1/enterprises/{enterprise.id}/annual-reports"
    refused = client.post(target, json={"year": 2025, "submitted_on": "2026-03-01", "revenue": "1,234.5万"})
    assert refused.status_code == 422 and "revenue" in refused.get_json()["errors"]
    assert filed(session, enterprise) is None
    taken = client.post(target, json={"year": 2025, "submitted_on": "2026-03-01", "revenue": 12345000})
    assert taken.status_code == 201, taken.get_json()
    assert filed(session, enterprise).revenue == Decimal("12345000.00")
