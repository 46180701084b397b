"""POST/GET /api/v1/certifications/{id}/report-filings: 201, 409 (twice, ended title), 422 naming the field."""

import pytest

from registry.domain.lifecycle import Event
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import leading_title

pytestmark = pytest.mark.usefixtures("clock_at_now")


@pytest.fixture
def leader(session, admin, rules):
    return leading_title(session, admin, rules)


def test_a_filing_is_201_then_409_and_the_next_period_is_due(api_as, leader):
    client = api_as("officer", "500000")
    url = f"/api/v1/certifications/{leader.id}/report-filings"
    before = client.get(url).get_json()
    assert {r["report_code"]: (r["period"], r["due_on"], r["overdue"]) for r in before["due"]} == {
        "one_plan": ("once", "2026-05-30", True), "quarterly_progress": ("2026Q1", "2026-04-15", True),
        "yearly_evaluation": ("2026", "2026-12-31", False)}
    made = client.post(url, json={"report_code": "quarterly_progress", "period": "2026Q1", "filed_on": "2026-04-10"})
    assert made.status_code == 201 and made.get_json()["period"] == "2026Q1"
    again = client.post(url, json={"report_code": "quarterly_progress", "period": "2026q1", "filed_on": "2026-04-11"})
    assert again.status_code == 409 and "已登记报送" in str(again.get_json())
    after = client.get(url).get_json()
    assert {r["report_code"]: r["period"] for r in after["due"]}["quarterly_progress"] == "2026Q2"
    assert [f["period"] for f in after["filings"]] == ["2026Q1"]


@pytest.mark.parametrize(("body", "field"), [
    ({"report_code": "quarterly_progress", "period": "2026Q3", "filed_on": "2026-06-01"}, "period"),  # not begun
    ({"report_code": "quarterly_progress", "period": "2026Q1", "filed_on": "2026-06-02"}, "filed_on"),  # tomorrow
    ({"report_code": "quarterly_progress", "period": "Q1", "filed_on": "2026-06-01"}, "period"),
    ({"report_code": "nope", "period": "2026", "filed_on": "2026-06-01"}, "report_code"),
    ({"report_code": "yearly_evaluation", "period": "2026"}, "filed_on"),
    ({"report_code": "yearly_evaluation", "period": 2026, "filed_on": "2026-06-01"}, "period"),
    ({"report_code": "yearly_evaluation", "period": "2026", "filed_on": "2026-02-30"}, "filed_on"),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(api_as, leader, body, field):
    client = api_as("officer", "500000")
    url = f"/api/v1/certifications/{leader.id}/report-filings"
    refused = client.post(url, json=body)
    assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert client.get(url).get_json()["filings"] == []


def test_an_ended_title_is_409_and_lists_nothing_due(api_as, session, admin, rules, leader):
    apply_event(session, actor=admin, rules=rules, certification_id=leader.id, at=NOW, today=d("2026-05-01"),
                event=EventInput(Event.WITHDRAW, d("2026-05-01"), note="企业主动放弃"))
    session.commit()
    client = api_as("officer", "500000")
    url = f"/api/v1/certifications/{leader.id}/report-filings"
    refused = client.post(url, json={"report_code": "quarterly_progress", "period": "2026Q1", "filed_on": "2026-04-10"})
    assert refused.status_code == 409
    assert client.get(url).get_json()["due"] == []


def test_another_regions_officer_gets_404_and_a_viewer_403(api_as, leader):
    url = f"/api/v1/certifications/{leader.id}/report-filings"
    body = {"report_code": "yearly_evaluation", "period": "2026", "filed_on": "2026-06-01"}
    assert api_as("officer", "330000").post(url, json=body).status_code == 404
    assert api_as("auditor", "500000").post(url, json=body).status_code == 403
