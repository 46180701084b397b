"""Every API route with an id, walked as each role from the own, parent, child and sibling region.

The enterprise lives in 椒江区 331002 (台州 331000, 浙江 330000). Users of 330000, 331000 and
331002 contain it; users of 331003 (a sibling district) and 330100 (a sibling city) must get 404
for reads and writes alike — the record must look as if it did not exist.
"""

from __future__ import annotations

import pytest

from tests.conftest import d
from tests.factories import grant, make_enterprise

INSIDE = ("330000", "331000", "331002")
OUTSIDE = ("331003", "330100")
READS = ["/api/v1/enterprises/{e}", "/api/v1/certifications/{c}"]
WRITES = [
    ("patch", "/api/v1/enterprises/{e}", {"contact_phone": "0576-1", "version": "{v}"}),
    ("post", "/api/v1/enterprises/{e}/annual-reports", {"year": 2025, "submitted_on": "2026-03-01"}),
    ("post", "/api/v1/enterprises/{e}/change-reports", {"kind": "other", "occurred_on": "2026-03-01"}),
    ("post", "/api/v1/enterprises/{e}/certifications", {"tier": "specialized_sme", "recognized_on": "2025-03-01"}),
    ("post", "/api/v1/certifications/{c}/events", {"action": "submit_review", "effective_on": "2026-12-01"}),
]


@pytest.fixture
def target(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002")
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-01-10"))
    session.commit()
    return ent, cert


def fill(template, ent, cert):
    return template.format(e=ent.id, c=cert.id)


def body_of(body, ent):
    return {k: (ent.version if v == "{v}" else v) for k, v in body.items()}


@pytest.mark.parametrize("role", ["admin", "officer", "auditor"])
@pytest.mark.parametrize("region", INSIDE + OUTSIDE)
def test_reads(api_as, target, role, region):
    ent, cert = target
    client = api_as(role, region)
    for url in READS:
        status = client.get(fill(url, ent, cert)).status_code
        assert status == (200 if region in INSIDE else 404), (url, role, region)
    listed = client.get("/api/v1/enterprises").get_json()["items"]
    assert (ent.id in {e["id"] for e in listed}) == (region in INSIDE)


@pytest.mark.parametrize("role", ["admin", "officer", "auditor"])
@pytest.mark.parametrize("region", INSIDE + OUTSIDE)
@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=[w[1].split("}")[-1] or w[0] for w in WRITES])
def test_writes(api_as, target, role, region, method, url, body):
    ent, cert = target
    client = api_as(role, region)
    response = getattr(client, method)(fill(url, ent, cert), json=body_of(body, ent))
    if role == "auditor":
        assert response.status_code == 403
    elif region in OUTSIDE:
        assert response.status_code == 404
    else:
        assert response.status_code in (200, 201), response.get_json()
