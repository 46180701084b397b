"""待办 lists a tier's periodic report whose period is overdue and not filed (issue 17 point 3), for the
region's officers only; filing it takes it off."""

from __future__ import annotations

import pytest

from registry.titles.reports import record_filing
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise

pytestmark = pytest.mark.usefixtures("app", "clock_at_now")


def test_an_overdue_quarterly_summary_is_listed_until_filed(session, admin, rules, login_as):
    ent = make_enterprise(session, admin, region_code="500103", name="待办领军测试有限公司")
    cert = grant(session, admin, rules, ent, "cq_leading", d("2026-03-01"))
    session.commit()
    officer = login_as("officer", "500000")

    html = officer.get("/todo").get_data(as_text=True)
    assert "领军企业培育工作推进情况（季度梳理）（2026年第1季度）" in html and "（已逾期）" in html
    assert f'href="/enterprises/{ent.id}"' in html
    assert "季度梳理" not in login_as("officer", "330000").get("/todo").get_data(as_text=True)  # Zhejiang's office

    record_filing(session, actor=admin, rules=rules, certification_id=cert.id, report_code="quarterly_progress",
                  period="2026Q1", filed_on=d("2026-04-10"), at=NOW, today=d("2026-06-01"))
    session.commit()
    html = officer.get("/todo").get_data(as_text=True)
    assert "2026年第1季度" not in html
    assert "一企一策" in html  # the plan, due 2026-05-30, is still overdue
