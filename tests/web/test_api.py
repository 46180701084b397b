"""The JSON API through the test client: happy paths, every error code, scoping, OpenAPI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from registry.web.api.docs import build_spec
from tests.conftest import TEST_NOW, d
from tests.factories import grant, make_enterprise, make_uscc
from tests.web.fixtures import code_for


@pytest.fixture
def taizhou(session, admin, rules):
    """An enterprise in 椒江 (台州) with an innovative title, and one in 杭州."""
    tz = make_enterprise(session, admin, region_code="331002", name="台州精工有限公司")
    hz = make_enterprise(session, admin, region_code="330106", name="杭州西湖有限公司")
    cert = grant(session, admin, rules, tz, "innovative_sme", d("2024-06-15"))
    grant(session, admin, rules, hz, "innovative_sme", d("2024-06-15"))
    session.commit()
    return tz, hz, cert


def test_officer_lists_only_own_region_and_gets_404_outside(api_as, taizhou):
    tz, hz, _ = taizhou
    client = api_as("officer", "331000")
    listed = client.get("/api/v1/enterprises").get_json()
    assert {e["id"] for e in listed["items"]} == {tz.id} and listed["total"] == 1
    assert set(listed) == {"items", "total", "page", "per_page"}
    assert client.get(f"/api/v1/enterprises/{hz.id}").status_code == 404
    refused = client.post(f"/api/v1/enterprises/{hz.id}/certifications", json={"tier": "specialized_sme", "recognized_on": "2025-01-10"})
    assert refused.status_code == 404
    assert client.get(f"/api/v1/enterprises?q={hz.uscc}").get_json()["total"] == 0
    assert client.get("/api/v1/certifications").get_json()["total"] == 1


def test_auditor_cannot_write(api_as, taizhou):
    tz, _, cert = taizhou
    client = api_as("auditor", "330000")
    assert client.get(f"/api/v1/enterprises/{tz.id}").status_code == 200
    for method, url, body in [
        ("post", "/api/v1/enterprises", {"uscc": make_uscc(), "name": "x", "region_code": "331002"}),
        ("patch", f"/api/v1/enterprises/{tz.id}", {"name": "y", "version": tz.version}),
        ("post", f"/api/v1/enterprises/{tz.id}/annual-reports", {"year": 2025, "submitted_on": "2026-03-01"}),
        ("post", f"/api/v1/enterprises/{tz.id}/change-reports", {"kind": "rename", "occurred_on": "2026-03-01"}),
        ("post", f"/api/v1/enterprises/{tz.id}/certifications", {"tier": "specialized_sme", "recognized_on": "2025-01-10"}),
        ("post", f"/api/v1/certifications/{cert.id}/events", {"action": "withdraw", "effective_on": "2025-01-10"}),
    ]:
        assert getattr(client, method)(url, json=body).status_code == 403, url


def test_create_enterprise_validation_duplicate_and_warning(api_as):
    client = api_as("officer", "330000")
    bad = client.post("/api/v1/enterprises", json={"uscc": "91331002MA0000001X", "name": "甲", "region_code": "331002"})
    assert bad.status_code == 422 and "uscc" in bad.get_json()["errors"]
    shape = client.post("/api/v1/enterprises", json={"name": "", "region_code": "33"})
    assert shape.status_code == 422 and {"uscc", "name", "region_code"} <= set(shape.get_json()["errors"])
    code = make_uscc("331002")
    made = client.post("/api/v1/enterprises", json={"uscc": code, "name": "乙", "region_code": "330106"})
    assert made.status_code == 201 and made.get_json()["warnings"] and made.get_json()["version"] == 1
    dup = client.post("/api/v1/enterprises", json={"uscc": code.lower(), "name": "丙", "region_code": "331002"})
    assert dup.status_code == 409 and "error" in dup.get_json()
    assert client.post("/api/v1/enterprises", data="not json").status_code == 422


def test_stale_version_is_409_and_record_unchanged(api_as, taizhou):
    tz, _, _ = taizhou
    client = api_as("officer", "331000")
    version = client.get(f"/api/v1/enterprises/{tz.id}").get_json()["version"]
    ok = client.patch(f"/api/v1/enterprises/{tz.id}", json={"contact_email": "a@b.cn", "version": version})
    assert ok.status_code == 200 and ok.get_json()["version"] == version + 1
    stale = client.patch(f"/api/v1/enterprises/{tz.id}", json={"contact_email": "x@y.cn", "version": version})
    assert stale.status_code == 409
    assert client.get(f"/api/v1/enterprises/{tz.id}?unmask=1").get_json()["contact_email"] == "a@b.cn"


def test_all_tiers_revocation_then_grant_refused_with_ban_end(api_as, session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002")
    innovative = grant(session, admin, rules, ent, "innovative_sme", d("2023-06-15"))
    grant(session, admin, rules, ent, "specialized_sme", d("2024-01-15"))
    session.commit()
    client = api_as("officer", "331000")
    revoked = client.post(f"/api/v1/certifications/{innovative.id}/events",
                          json={"action": "revoke", "effective_on": "2025-05-10", "reason_code": "fraud", "document_no": "台经信〔2025〕8号"})
    # four-eyes (issue 16 §4): a revocation with a ban is only proposed; a second officer confirms it
    assert revoked.status_code == 202 and revoked.get_json()["status"] == "pending"
    confirmed = api_as("admin", "331002").post(f"/api/v1/proposals/{revoked.get_json()['id']}/confirm", json={})
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    detail = client.get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert {c["status"] for c in detail["certifications"]} == {"revoked"}
    refused = client.post(f"/api/v1/enterprises/{ent.id}/certifications", json={"tier": "innovative_sme", "recognized_on": "2026-01-10"})
    assert refused.status_code == 422 and "2028-05-10" in refused.get_json()["errors"]["uscc"][0]


def test_illegal_event_is_409_and_changes_nothing(api_as, taizhou):
    _, _, cert = taizhou
    client = api_as("officer", "331000")
    assert client.post(f"/api/v1/certifications/{cert.id}/events", json={"action": "withdraw", "effective_on": "2025-01-10"}).status_code == 200
    again = client.post(f"/api/v1/certifications/{cert.id}/events", json={"action": "submit_review", "effective_on": "2025-02-10"})
    assert again.status_code == 409 and again.get_json()["status"] == "withdrawn"
    detail = client.get(f"/api/v1/certifications/{cert.id}").get_json()
    assert [e["action"] for e in detail["events"]] == ["grant", "withdraw"] and len(detail["terms"]) == 1


def test_reports_and_grant_happy_paths(api_as, taizhou):
    tz, _, cert = taizhou
    client = api_as("officer", "331000")
    report = client.post(f"/api/v1/enterprises/{tz.id}/annual-reports",
                         json={"year": 2025, "revenue": "12000000.50", "employees": 80, "submitted_on": "2026-03-01"})
    assert report.status_code == 201 and report.get_json()["revenue"] == "12000000.50"
    negative = client.post(f"/api/v1/enterprises/{tz.id}/annual-reports", json={"year": 2025, "revenue": "-1", "submitted_on": "2026-03-01"})
    assert negative.status_code == 422 and "revenue" in negative.get_json()["errors"]
    change = client.post(f"/api/v1/enterprises/{tz.id}/change-reports", json={"kind": "rename", "occurred_on": "2026-07-01"})
    assert change.status_code == 201 and change.get_json()["deadline_on"] == "2026-10-08"
    granted = client.post(f"/api/v1/enterprises/{tz.id}/certifications", json={"tier": "specialized_sme", "recognized_on": "2025-01-10"})
    assert granted.status_code == 201 and granted.get_json()["valid_until"] == "2028-01-10"
    lacking = client.post(f"/api/v1/enterprises/{tz.id}/certifications", json={"tier": "little_giant", "recognized_on": "2024-01-10"})
    assert lacking.status_code == 422 and "tier" in lacking.get_json()["errors"]
    assert cert.id in [c["id"] for c in client.get("/api/v1/certifications?tier=innovative_sme").get_json()["items"]]


def test_filters_expiring_and_as_of(api_as, session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002")
    # Recognised a year ago (valid three years), so the title is live whatever day the suite runs on.
    recognised = TEST_NOW.date() - timedelta(days=365)
    grant(session, admin, rules, ent, "innovative_sme", recognised)
    session.commit()
    client = api_as("officer", "331000")
    assert client.get("/api/v1/enterprises?expiring_within_days=3660&tier=innovative_sme").get_json()["total"] == 1
    assert client.get("/api/v1/enterprises?expiring_within_days=365&tier=innovative_sme").get_json()["total"] == 0
    before, after = recognised - timedelta(days=1), recognised + timedelta(days=31)
    assert client.get(f"/api/v1/enterprises?as_of={before}&tier=innovative_sme").get_json()["total"] == 0
    assert client.get(f"/api/v1/enterprises?as_of={after}&tier=innovative_sme").get_json()["total"] == 1
    bad = client.get("/api/v1/enterprises?as_of=someday&per_page=0&status=sleeping")
    assert bad.status_code == 422 and {"as_of", "per_page", "status"} <= set(bad.get_json()["errors"])


def test_unauthenticated_is_401(client, taizhou):
    tz, _, _ = taizhou
    for url in ("/api/v1/enterprises", f"/api/v1/enterprises/{tz.id}", "/api/v1/certifications", "/api/v1/tiers"):
        assert client.get(url).status_code == 401
    assert client.post("/api/v1/enterprises", json={}).status_code == 401
    assert client.get("/api/v1/health").status_code == 200


def test_session_login_lockout_and_tokens(client, make_user):
    make_user("officer", "331000", username="li")
    for _ in range(4):
        assert client.post("/api/v1/session", json={"username": "li", "password": "wrong"}).status_code == 401
    assert client.post("/api/v1/session", json={"username": "li", "password": "wrong"}).status_code == 429
    locked = client.post("/api/v1/session", json={"username": "li", "password": "correct-horse-9"})
    assert locked.status_code == 429 and "锁定" in locked.get_json()["error"]


def test_session_cookie_then_token_then_revoke(app, make_user):
    make_user("officer", "331000", username="wang", second_factor=True)  # tokens need a session that passed 2FA
    client = app.test_client()
    assert client.post("/api/v1/session", json={"username": "wang", "password": "correct-horse-9",
                                                "code": code_for(client, "wang")}).status_code == 200
    made = client.post("/api/v1/tokens", json={"name": "etl"})
    assert made.status_code == 201
    token = made.get_json()["token"]
    bearer = app.test_client()
    assert bearer.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made.get_json()['id']}").status_code == 200
    assert bearer.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.delete("/api/v1/session").status_code == 200
    assert client.get("/api/v1/enterprises").status_code == 401


def test_cookie_form_post_without_csrf_is_refused(app, make_user, taizhou):
    make_user("officer", "331000", username="zhao")
    client = app.test_client()
    client.post("/api/v1/session", json={"username": "zhao", "password": "correct-horse-9"})
    tz, _, _ = taizhou
    form = client.post(f"/api/v1/enterprises/{tz.id}/change-reports", data={"kind": "rename", "occurred_on": "2026-01-01"})
    assert form.status_code == 400
    assert client.get(f"/api/v1/enterprises/{tz.id}").get_json()["change_reports"] == []


def test_openapi_is_valid_and_lists_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    served = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    as_documented = {re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule) for rule in served}
    assert as_documented == set(spec["paths"])
    assert spec == build_spec(app)
    assert "422" in spec["paths"]["/api/v1/enterprises"]["post"]["responses"]


def test_tiers_lists_rules(api_as):
    items = api_as("auditor", "330000").get("/api/v1/tiers").get_json()["items"]
    giant = next(t for t in items if t["code"] == "little_giant")
    assert giant["validity"] == {"semantics": "fixed_term", "years": 3}
    assert {"code": "fraud", "name": giant["revocation_reasons"][2]["name"], "ban_years": 3, "scope": "all_tiers",
            "ban_blocks": "ladder"} in giant["revocation_reasons"]
