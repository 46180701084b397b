"""Pipeline data for the web tests: 小巨人 candidates in 台州 whose figures and titles are relative to today."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from registry.domain.actors import Actor
from registry.enterprises.models import Enterprise
from registry.policies.rules import Rules
from tests.factories import grant, make_enterprise, report

#: three years of figures meeting every computable 小巨人 condition (as tests/pipeline GOOD), by years back
FIGURES = {
    3: dict(revenue=Decimal("50000000"), main_business_revenue=Decimal("40000000"), rd_expense=Decimal("2000000")),
    2: dict(revenue=Decimal("60000000"), main_business_revenue=Decimal("48000000"), rd_expense=Decimal("2400000")),
    1: dict(revenue=Decimal("70000000"), main_business_revenue=Decimal("56000000"), rd_expense=Decimal("2800000"),
            employees=120, rd_staff=20, debt_ratio=Decimal("45.00"), invention_patents=3,
            audit_report_code="ZJ-0001", audit_firm="台州某会计师事务所"),
}
LEVELS = {"district": "331002", "city": "331000", "province": "330000", "ministry": "000000"}


def candidate(session: Session, admin: Actor, rules: Rules, today: date, region: str = "331002") -> Enterprise:
    """A 台州 enterprise holding 创新型 and 专精特新 today, with the last three years' reports."""
    enterprise = make_enterprise(session, admin, region_code=region, size_class="small", founded_on=date(2012, 3, 1))
    grant(session, admin, rules, enterprise, "innovative_sme", today - timedelta(days=900))
    grant(session, admin, rules, enterprise, "specialized_sme", today - timedelta(days=870))
    for back, values in FIGURES.items():
        report(session, admin, enterprise, today.year - back, **values)
    session.commit()
    return enterprise


def new_batch(client: FlaskClient, today: date, quota: int = 2, name: str = "第一批") -> dict:
    """Create a 小巨人 batch (by the province) with `quota` city-level places for 台州."""
    deadlines = {level: (today + timedelta(days=10 * (i + 1))).isoformat()
                 for i, level in enumerate(("district", "city", "province", "ministry"))}
    response = client.post("/api/v1/batches", json={"tier": "little_giant", "year": today.year, "name": name,
                                                    "quotas": {"331000": quota}, "deadlines": deadlines})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def recommend(clients: dict[str, FlaskClient], application_id: int, levels=tuple(LEVELS)):
    """Recommend at each of `levels`; return the last response."""
    response = None
    for level in levels:
        response = clients[level].post(f"/api/v1/applications/{application_id}/opinions",
                                       json={"level": level, "decision": "recommend", "note": "同意推荐"})
        if response.status_code != 201:
            return response
    return response


def publicity_scene(clients: dict[str, FlaskClient], session: Session, admin: Actor, rules: Rules, today: date) -> dict:
    """A pool, a batch in publicity with one objection, and a returned application beside it, made through the API."""
    ent = candidate(session, admin, rules, today)
    pool = clients["province"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year}).get_json()
    batch = new_batch(clients["province"], today)
    application = clients["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                           json={"enterprise_id": ent.id}).get_json()
    assert recommend(clients, application["id"]).status_code == 201
    returned = clients["province"].post(f"/api/v1/batches/{batch['id']}/applications", json={
        "enterprise_id": candidate(session, admin, rules, today).id}).get_json()
    assert clients["district"].post(f"/api/v1/applications/{returned['id']}/opinions", json={
        "level": "district", "decision": "return", "note": "请补充审计报告"}).status_code == 201
    ends = today - timedelta(days=1)
    clients["province"].post(f"/api/v1/batches/{batch['id']}/publicity", json={
        "starts_on": (today - timedelta(days=7)).isoformat(), "ends_on": ends.isoformat(), "published_where": "省厅网站"})
    objection = clients["province"].post(f"/api/v1/batches/{batch['id']}/objections", json={
        "application_id": application["id"], "submitter_name": "王建国", "submitter_identity": "real_name",
        "contact": "13800000000", "grounds": "数据不实", "received_on": ends.isoformat()}).get_json()
    return {"pool": pool["id"], "batch": batch["id"], "application": application["id"], "objection": objection["id"],
            "enterprise": ent.id, "returned": returned["id"]}
