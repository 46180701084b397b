"""The cultivation pipeline through the JSON API: pools, batches, the chain with quotas, publicity, finalising."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from registry.cli import today_in
from registry.domain.periods import add_years
from tests.web.pipeline_data import LEVELS, candidate, new_batch, recommend


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def chain(api_as):
    """A client per review level for 台州 (椒江区 → 台州市 → 浙江省 → 全国), plus 杭州 and an auditor."""
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    clients["hangzhou"] = api_as("officer", "330100")
    clients["auditor"] = api_as("auditor", "330000")
    return clients


def test_pool_precheck_numbers_match_the_annual_report(chain, session, admin, rules, today):
    ent = candidate(session, admin, rules, today)
    run = chain["province"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year})
    assert run.status_code == 201, run.get_json()
    pool = run.get_json()
    assert pool["figures_year"] == today.year - 1 and pool["tier_name"]
    member = next(m for m in pool["members"] if m["enterprise"]["id"] == ent.id)
    assert member["verdict"] != "fail" and member["included"]
    results = [r for top in member["evaluation"]["results"] for r in (top, *top["children"])]
    assert all(r["source"] for r in member["evaluation"]["results"])  # every criterion names its source
    values = {v["label"]: v["value"] for r in results for v in r["values"]}
    report = chain["province"].get(f"/api/v1/enterprises/{ent.id}").get_json()["annual_reports"]
    latest = next(r for r in report if r["year"] == today.year - 1)
    year = today.year - 1
    for field, label in (("revenue", "营业收入"), ("main_business_revenue", "主营业务收入"), ("rd_expense", "研发费用")):
        assert values[f"{year}年{label}"] == latest[field]
    assert chain["province"].get(f"/api/v1/pools/{pool['id']}").get_json()["members"][0]["evaluation"]
    listed = chain["auditor"].get(f"/api/v1/pools?tier=little_giant&year={today.year}").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == pool["id"]
    sheet = load_workbook(io.BytesIO(chain["auditor"].get(f"/api/v1/pools/{pool['id']}/export.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "企业名称" and any(r[1] == ent.name for r in rows[2:])


def test_pool_members_added_and_removed_with_reason(chain, session, admin, rules, today):
    ent = candidate(session, admin, rules, today)
    pool = chain["city"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year}).get_json()
    url = f"/api/v1/pools/{pool['id']}/members/{ent.id}"
    assert chain["city"].delete(url, json={"reason": " "}).status_code == 422
    assert chain["auditor"].delete(url, json={"reason": "不再培育"}).status_code == 403
    removed = chain["city"].delete(url, json={"reason": "企业主动退出"})
    assert removed.status_code == 200 and removed.get_json()["included"] is False
    added = chain["city"].post(f"/api/v1/pools/{pool['id']}/members", json={"enterprise_id": ent.id, "reason": "重新纳入"})
    assert added.status_code == 201 and added.get_json()["reason"] == "重新纳入"
    assert chain["city"].post(f"/api/v1/pools/{pool['id']}/members",
                              json={"enterprise_id": ent.id, "reason": "再次"}).status_code == 409
    assert chain["hangzhou"].get(f"/api/v1/pools/{pool['id']}").status_code == 404


def test_quota_of_two_for_taizhou_and_hangzhou_cannot_act(chain, session, admin, rules, today):
    batch = new_batch(chain["province"], today)
    apps = []
    for _ in range(3):
        ent = candidate(session, admin, rules, today)
        response = chain["province"].post(f"/api/v1/batches/{batch['id']}/applications", json={"enterprise_id": ent.id})
        assert response.status_code == 201, response.get_json()
        apps.append(response.get_json())
    assert chain["hangzhou"].post(f"/api/v1/applications/{apps[0]['id']}/opinions",
                                  json={"level": "city", "decision": "recommend"}).status_code == 404
    assert chain["hangzhou"].get(f"/api/v1/applications/{apps[0]['id']}").status_code == 404
    assert chain["auditor"].post(f"/api/v1/applications/{apps[0]['id']}/opinions",
                                 json={"level": "province", "decision": "recommend"}).status_code == 403
    for application in apps[:2]:
        assert recommend(chain, application["id"], ("district", "city")).status_code == 201
    assert recommend(chain, apps[2]["id"], ("district",)).status_code == 201
    third = recommend(chain, apps[2]["id"], ("city",))
    assert third.status_code == 409
    body = third.get_json()
    assert body["field"] == "quota" and body["quota"] == 2 and body["region_code"] == "331000"
    assert "名额为 2" in body["error"] and sorted(body["held_by"]) == [apps[0]["id"], apps[1]["id"]]
    board = chain["city"].get(f"/api/v1/batches/{batch['id']}").get_json()
    assert board["quota_usage"] == [{"region_code": "331000", "region_name": board["quota_usage"][0]["region_name"],
                                     "level": "city", "quota": 2, "used": 2,
                                     "held_by": [apps[0]["id"], apps[1]["id"]]}]
    steps = {a["id"]: [s["state"] for s in a["chain"]] for a in board["applications"]}
    assert steps[apps[2]["id"]] == ["recommend", "pending", "waiting", "waiting"]
    hangzhou = chain["hangzhou"].get(f"/api/v1/batches/{batch['id']}").get_json()
    assert hangzhou["applications"] == [] and hangzhou["quota_usage"] == []


def test_bad_input_is_422_naming_the_field(chain, today):
    bad = chain["province"].post("/api/v1/batches", json={"tier": "little_giant", "year": today.year, "name": "x",
                                                          "quotas": {"331000": -1}})
    assert bad.status_code == 422 and "quotas" in bad.get_json()["errors"]
    bad = chain["province"].post("/api/v1/pools/run", json={"tier": "nope", "year": today.year})
    assert bad.status_code == 422 and "tier" in bad.get_json()["errors"]
    assert chain["auditor"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year}).status_code == 403


def test_objection_blocks_finalising_until_rejected_then_titles_granted(chain, session, admin, rules, today):
    batch = new_batch(chain["province"], today)
    ent = candidate(session, admin, rules, today)
    application = chain["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                         json={"enterprise_id": ent.id}).get_json()
    assert recommend(chain, application["id"]).status_code == 201
    starts, ends = today - timedelta(days=8), today - timedelta(days=1)
    url = f"/api/v1/batches/{batch['id']}"
    publicity = chain["province"].post(f"{url}/publicity", json={"starts_on": starts.isoformat(), "ends_on": ends.isoformat(),
                                                                 "published_where": "浙江省经济和信息化厅网站"})
    assert publicity.status_code == 200 and publicity.get_json()["status"] == "publicity"
    objection = {"application_id": application["id"], "submitter_identity": "real_name", "contact": "13800000000",
                 "grounds": "研发费用与审计报告不符", "evidence": "审计报告复印件", "received_on": ends.isoformat()}
    anonymous = chain["province"].post(f"{url}/objections", json={**objection, "submitter_name": "匿名"})
    assert anonymous.status_code == 422 and list(anonymous.get_json()["errors"]) == ["submitter_name"]
    filed = chain["province"].post(f"{url}/objections", json={**objection, "submitter_name": "王某某"})
    assert filed.status_code == 201 and filed.get_json()["submitter_name"] == "王某某"
    hidden = chain["auditor"].get(url).get_json()["objections"]
    assert len(hidden) == 1 and "submitter_name" not in hidden[0] and "contact" not in hidden[0]
    published = today.isoformat()
    blocked = chain["province"].post(f"{url}/finalise", json={"published_on": published})
    assert blocked.status_code == 409 and blocked.get_json()["objections"] == [filed.get_json()["id"]]
    resolution = f"/api/v1/objections/{filed.get_json()['id']}/resolution"
    assert chain["province"].post(resolution, json={"outcome": "rejected", "note": ""}).status_code == 422
    assert chain["province"].post(resolution, json={"outcome": "rejected", "note": "经核实，数据一致"}).status_code == 200
    done = chain["province"].post(f"{url}/finalise", json={"published_on": published, "document_no": "工信厅企业函〔2026〕1号"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "finalised" and done.get_json()["applications"][0]["status"] == "granted"
    titles = chain["province"].get(f"/api/v1/enterprises/{ent.id}").get_json()["certifications"]
    giant = next(c for c in titles if c["tier"] == "little_giant")
    years = rules.policies.tier("little_giant", today).validity_years
    assert (giant["status"], giant["recognized_on"], giant["valid_from"], giant["valid_until"]) == (
        "active", published, published, add_years(today, years).isoformat())
