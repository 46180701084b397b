"""The enterprise page lists each declared periodic report with its next due period and its filings; an
officer records a filing through the page (preview, confirm), a bad period is refused naming the field."""

from __future__ import annotations

import pytest

from tests.conftest import d
from tests.factories import grant, leading_title, make_enterprise
from tests.web.fixtures import csrf_from

pytestmark = pytest.mark.usefixtures("app", "clock_at_now")


@pytest.fixture
def leader(session, admin, rules):
    return leading_title(session, admin, rules, name="页面领军测试有限公司")


def test_the_page_lists_each_report_and_a_filing_made_on_the_page(session, leader, login_as):
    officer = login_as("officer", "500000")
    html = officer.get(f"/enterprises/{leader.enterprise_id}").get_data(as_text=True)
    assert "定期报告" in html and "领军企业培育工作推进情况（季度梳理）" in html and "培育成效评估（年度）" in html
    assert "2026年第1季度" in html and "2026-04-15" in html and "已逾期" in html and "2026-12-31" in html

    url = f"/certifications/{leader.id}/report-filing"
    form = officer.get(url)
    assert form.status_code == 200 and "下一报告期：2026年第1季度，截止 2026-04-15" in form.get_data(as_text=True)
    body = {"csrf_token": csrf_from(form.get_data(as_text=True)), "report_code": "quarterly_progress",
            "period": "2026Q1", "filed_on": "2026-04-10", "note": ""}
    preview = officer.post(url, data=body)
    assert preview.status_code == 200 and "报告期「2026年第1季度」于 2026-04-10 报送" in preview.get_data(as_text=True)
    done = officer.post(url, data={**body, "confirmed": "1"})
    assert done.status_code == 302
    html = officer.get(f"/enterprises/{leader.enterprise_id}").get_data(as_text=True)
    assert "2026年第1季度：2026-04-10" in html and "2026年第2季度" in html

    again = officer.post(url, data={**body, "confirmed": "1"})
    assert again.status_code == 409 and "已登记报送" in again.get_data(as_text=True)


def test_a_bad_period_is_refused_on_the_page_naming_it(session, leader, login_as):
    officer = login_as("officer", "500000")
    url = f"/certifications/{leader.id}/report-filing"
    token = csrf_from(officer.get(url).get_data(as_text=True))
    refused = officer.post(url, data={"csrf_token": token, "report_code": "quarterly_progress", "period": "2026Q3",
                                      "filed_on": "2026-05-01", "confirmed": "1"})
    assert refused.status_code == 422 and "尚未开始" in refused.get_data(as_text=True)
    html = officer.get(f"/enterprises/{leader.enterprise_id}").get_data(as_text=True)
    assert "2026年第3季度" not in html


def test_a_title_without_reports_shows_no_section_and_no_form(session, admin, rules, login_as):
    firm = make_enterprise(session, admin, region_code="500103")
    cert = grant(session, admin, rules, firm, "innovative_sme", d("2026-03-01"))
    session.commit()
    officer = login_as("officer", "500000")
    assert 'id="h-periodic"' not in officer.get(f"/enterprises/{firm.id}").get_data(as_text=True)
    assert officer.get(f"/certifications/{cert.id}/report-filing").status_code == 404
