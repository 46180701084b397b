"""Issue 14 through the API (the same guards as every other path): future facts, a review outside its
window with the window's dates, 复核通过 twice, figures, a change report marked filed later."""

from datetime import timedelta

import pytest

from registry.cli.base import today_in
from registry.domain.periods import add_years
from tests.factories import grant, make_enterprise


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def client(api_as):
    return api_as("officer", "331000")


def test_future_facts_are_422_naming_the_field(client, session, admin, today):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    tomorrow = str(today + timedelta(days=1))
    refused = client.post(f"/api/v1/enterprises/{ent.id}/certifications",
                          json={"tier": "innovative_sme", "recognized_on": tomorrow})
    assert refused.status_code == 422 and "晚于今天" in refused.get_json()["errors"]["recognized_on"][0]
    refused = client.post(f"/api/v1/enterprises/{ent.id}/change-reports",
                          json={"kind": "rename", "occurred_on": tomorrow})
    assert refused.status_code == 422 and "occurred_on" in refused.get_json()["errors"]
    refused = client.post(f"/api/v1/enterprises/{ent.id}/annual-reports",
                          json={"year": today.year - 1, "submitted_on": str(today), "employees": 10, "rd_staff": 11})
    assert refused.status_code == 422 and "多于从业人员数" in refused.get_json()["errors"]["rd_staff"][0]
    accepted = client.post(f"/api/v1/enterprises/{ent.id}/annual-reports",
                           json={"year": today.year - 1, "submitted_on": str(today), "employees": 10, "rd_staff": 10,
                                 "revenue": 100, "rd_expense": 200})
    assert accepted.status_code == 201 and "研发费用" in accepted.get_json()["warnings"][0]


def test_a_review_outside_its_window_and_a_second_pass_are_refused(client, session, admin, rules, today):
    ent = make_enterprise(session, admin, region_code="331002")
    early = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=300))
    session.commit()
    refused = client.post(f"/api/v1/certifications/{early.id}/events",
                          json={"action": "submit_review", "effective_on": str(today)})
    opens = early.valid_until - timedelta(days=90)
    assert refused.status_code == 422 and f"复核窗口为 {opens} 至" in refused.get_json()["errors"]["action"][0]
    passed = client.post(f"/api/v1/certifications/{early.id}/events",
                         json={"action": "pass_review", "effective_on": str(today)})
    assert passed.status_code == 409  # no review under way

    other = make_enterprise(session, admin, region_code="331002")
    due = grant(session, admin, rules, other, "innovative_sme", add_years(today, -3) + timedelta(days=30))
    session.commit()
    url = f"/api/v1/certifications/{due.id}/events"
    assert client.post(url, json={"action": "submit_review", "effective_on": str(today)}).status_code == 200
    assert client.post(url, json={"action": "pass_review", "effective_on": str(today)}).status_code == 200
    again = client.post(url, json={"action": "pass_review", "effective_on": str(today)})
    assert again.status_code == 409
    assert len(client.get(f"/api/v1/certifications/{due.id}").get_json()["terms"]) == 2


def test_a_change_report_is_marked_filed_later(client, session, admin, rules, today):
    ent = make_enterprise(session, admin, region_code="331002")
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    session.commit()
    made = client.post(f"/api/v1/enterprises/{ent.id}/change-reports",
                       json={"kind": "rename", "occurred_on": str(today - timedelta(days=100))}).get_json()
    url = f"/api/v1/change-reports/{made['id']}/reported"
    future = client.post(url, json={"reported_on": str(today + timedelta(days=1))})
    assert future.status_code == 422 and "reported_on" in future.get_json()["errors"]
    done = client.post(url, json={"reported_on": str(today)})
    body = done.get_json()
    assert done.status_code == 200 and body["reported_on"] == str(today)
    assert body["warnings"] and "逾期报告" in body["warnings"][0]  # 100 days later is past 30 working days
    detail = client.get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert detail["certifications"][0]["review_eligible"] is False
    assert client.post(url, json={"reported_on": str(today)}).status_code == 409
    assert client.post("/api/v1/change-reports/999999/reported", json={"reported_on": str(today)}).status_code == 404
