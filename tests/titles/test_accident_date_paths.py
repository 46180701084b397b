"""The accident's date on a revocation through the API and the page form (issue 14 §4), both backends."""

from tests.conftest import d
from tests.factories import grant, make_enterprise
from tests.titles.test_page_actions import second_officer_confirms
from tests.web.pages import page, submit


def titles(session, admin, rules):
    made = [grant(session, admin, rules, make_enterprise(session, admin, region_code="331002"), "innovative_sme",
                  d("2024-06-15")) for _ in range(2)]
    session.commit()
    return made


def test_the_api_takes_checks_and_returns_the_accident_date(session, admin, rules, api_as):
    first, _ = titles(session, admin, rules)
    client = api_as("officer", "331000")
    bad = client.post(f"/api/v1/certifications/{first.id}/events", json={
        "action": "revoke", "effective_on": "2026-03-01", "reason_code": "major_accident", "document_no": "X",
        "incident_on": "2026-03-02"})
    assert bad.status_code == 422 and "incident_on" in bad.get_json()["errors"]
    # a revocation for a major accident carries a ban: it waits for a second officer (issue 16 four-eyes),
    # and the accident's date travels with the proposal to the confirmed event
    proposed = client.post(f"/api/v1/certifications/{first.id}/events", json={
        "action": "revoke", "effective_on": "2026-03-01", "reason_code": "major_accident", "document_no": "X",
        "incident_on": "2026-02-01"})
    assert proposed.status_code == 202, proposed.get_json()
    second = api_as("admin", "331000")
    confirmed = second.post(f"/api/v1/proposals/{proposed.get_json()['id']}/confirm", json={})
    assert confirmed.status_code == 200, confirmed.get_json()
    events = second.get(f"/api/v1/certifications/{first.id}").get_json()["events"]
    assert [e.get("incident_on") for e in events] == [None, "2026-02-01"]


def test_the_revocation_page_takes_and_shows_the_accident_date(session, admin, rules, login_as):
    _, other = titles(session, admin, rules)
    officer = login_as("officer", "331000")
    url = f"/certifications/{other.id}/revoke"
    assert "事故（违法行为）发生日期" in page(officer, url)
    _, final = submit(officer, url, {"version": other.version, "effective_on": "2026-03-01",
                                     "reason_code": "major_accident", "document_no": "X〔2026〕2号",
                                     "incident_on": "2026-02-10"})
    assert final.status_code == 302, final.get_data(as_text=True)[:2000]
    second_officer_confirms(login_as, session)  # a revocation with a ban waits for a second person (issue 16)
    assert "事故（违法行为）发生日期：2026-02-10" in page(officer, f"/enterprises/{other.enterprise_id}")
