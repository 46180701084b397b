"""The cultivation pipeline through the JSON API: pools, batches, the chain with quotas, publicity, finalising."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from registry.cli.base import today_in
from registry.cli.demo import seed
from registry.domain.deadlines import review_window_opens, validity_end
from registry.domain.periods import add_years
from registry.pipeline.services import run_pool
from registry.policies.rules import load_rules
from tests.conftest import NOW, officer_of
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
    # the 小巨人 pre-check computes 主营业务收入/营业收入 (63号 附件3); R&D was in the 重点小巨人 conditions
    # of 112号, which are no pre-check of 小巨人 (issue 14)
    for field, label in (("revenue", "营业收入"), ("main_business_revenue", "主营业务收入")):
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


def test_acceptance_quota_of_two_for_taizhou_third_recommendation_refused_naming_it_hangzhou_cannot_act(
        chain, session, admin, rules, today):
    """Acceptance: a batch with a quota of 2 for 台州 refuses the third 台州 recommendation, naming the quota;
    a 杭州 officer cannot act on 台州 applications (not even see them)."""
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
    assert chain["city"].get(f"/api/v1/applications/{apps[2]['id']}").get_json()["current_level"] == "city"
    returned = chain["city"].post(f"/api/v1/applications/{apps[2]['id']}/opinions", json={
        "level": "city", "decision": "return", "note": "名额已满，请补充材料后再报"})
    assert returned.status_code == 201
    assert chain["hangzhou"].post(f"/api/v1/applications/{apps[2]['id']}/resubmission", json={}).status_code == 404
    assert chain["hangzhou"].get(f"/api/v1/audit?entity_type=application&entity_id={apps[2]['id']}"
                                 ).get_json()["total"] == 0


def test_bad_input_is_422_naming_the_field(chain, today):
    bad = chain["province"].post("/api/v1/batches", json={"tier": "little_giant", "year": today.year, "name": "x",
                                                          "quotas": {"331000": -1}})
    assert bad.status_code == 422 and "quotas" in bad.get_json()["errors"]
    bad = chain["province"].post("/api/v1/pools/run", json={"tier": "nope", "year": today.year})
    assert bad.status_code == 422 and "tier" in bad.get_json()["errors"]
    assert chain["auditor"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year}).status_code == 403


def test_acceptance_open_objection_blocks_finalising_once_rejected_titles_granted_on_publication_date_with_policy_terms(
        chain, session, admin, rules, today):
    """Acceptance: an objection left open blocks finalising; once rejected with a note, finalising grants the
    titles, recognised on the publication date, with the terms the policy gives."""
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
    assert anonymous.status_code == 201  # recorded as such, not accepted: it holds nothing up
    assert (anonymous.get_json()["status"], anonymous.get_json()["submitter_identity"]) == ("not_accepted", "anonymous")
    bad = chain["province"].post(f"{url}/objections", json={**objection, "submitter_name": "王建国",
                                                             "submitter_identity": "nobody"})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["submitter_identity"]
    filed = chain["province"].post(f"{url}/objections", json={**objection, "submitter_name": "王建国"})
    assert filed.status_code == 201 and filed.get_json()["submitter_name"] == "王建国"
    hidden = chain["auditor"].get(url).get_json()["objections"]
    assert len(hidden) == 2 and all("submitter_name" not in o and "contact" not in o for o in hidden)
    published = today.isoformat()
    blocked = chain["province"].post(f"{url}/finalise", json={"published_on": published})
    assert blocked.status_code == 409 and blocked.get_json()["objections"] == [filed.get_json()["id"]]
    assert "异议未处理" in blocked.get_json()["error"]
    preview = chain["province"].get(f"{url}/finalise/preview?published_on={published}")
    assert preview.status_code == 409 and preview.get_json()["objections"] == [filed.get_json()["id"]]
    assert chain["province"].get(url).get_json()["status"] == "publicity"
    resolution = f"/api/v1/objections/{filed.get_json()['id']}/resolution"
    assert chain["province"].post(resolution, json={"outcome": "rejected", "note": ""}).status_code == 422
    assert chain["province"].post(resolution, json={"outcome": "rejected", "note": "经核实，数据一致"}).status_code == 200
    rule = rules.policies.tier("little_giant", today)
    plan = chain["province"].get(f"{url}/finalise/preview?published_on={published}").get_json()
    assert [g["application_id"] for g in plan["granted"]] == [application["id"]] and plan["not_granted"] == []
    assert (plan["valid_until"], plan["policy_code"]) == (validity_end(rule, today).isoformat(), rule.policy_code)
    assert chain["auditor"].get(f"{url}/finalise/preview?published_on={published}").status_code == 403
    done = chain["province"].post(f"{url}/finalise", json={"published_on": published, "document_no": "工信厅企业函〔2026〕1号"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "finalised" and done.get_json()["applications"][0]["status"] == "granted"
    titles = chain["province"].get(f"/api/v1/enterprises/{ent.id}").get_json()["certifications"]
    giant = next(c for c in titles if c["tier"] == "little_giant")
    ends = validity_end(rule, today)
    assert (giant["status"], giant["recognized_on"], giant["valid_from"], giant["valid_until"]) == (
        "active", published, published, ends.isoformat())
    assert ends == add_years(today, rule.validity_years)  # national-2022: 3 years from publication
    assert giant["review_window_opens_on"] == review_window_opens(rule, ends).isoformat()
    assert (giant["policy_code"], giant["batch"], giant["document_no"]) == (
        rule.policy_code, "第一批", "工信厅企业函〔2026〕1号")
    trail = chain["province"].get(f"/api/v1/audit?entity_type=objection&entity_id={filed.get_json()['id']}").get_json()
    assert [e["action"] for e in trail["items"]] == ["objection.rejected", "objection.filed"] or \
        sorted(e["action"] for e in trail["items"]) == ["objection.filed", "objection.rejected"]


def test_resubmission_through_the_api_by_an_officer_of_its_region_then_the_chain_again(chain, session, admin, rules,
                                                                                       today):
    batch = new_batch(chain["province"], today)
    ent = candidate(session, admin, rules, today)
    app = chain["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                 json={"enterprise_id": ent.id}).get_json()
    url = f"/api/v1/applications/{app['id']}"
    assert chain["district"].post(f"{url}/resubmission").status_code == 409  # not returned: nothing to resubmit
    assert recommend(chain, app["id"], ("district",)).status_code == 201
    assert chain["city"].post(f"{url}/opinions", json={"level": "city", "decision": "return",
                                                       "note": "请补充审计报告"}).status_code == 201
    assert chain["auditor"].post(f"{url}/resubmission", json={}).status_code == 403
    assert chain["hangzhou"].post(f"{url}/resubmission", json={}).status_code == 404
    assert chain["district"].post(f"{url}/resubmission", json={"note": "x" * 2001}).status_code == 422
    done = chain["district"].post(f"{url}/resubmission", json={"note": "已补充审计报告"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["status"], body["round"], body["current_level"]) == ("in_review", 2, "district")
    assert [s["state"] for s in body["chain"]] == ["pending", "waiting", "waiting", "waiting"]
    assert recommend(chain, app["id"]).status_code == 201
    shown = chain["city"].get(url).get_json()
    assert shown["status"] == "recommended"
    assert [(o["round"], o["level"], o["decision"]) for o in shown["opinions"]] == [
        (1, "district", "recommend"), (1, "city", "return"), (2, "district", "recommend"), (2, "city", "recommend"),
        (2, "province", "recommend"), (2, "ministry", "recommend")]
    trail = chain["province"].get(f"/api/v1/audit?entity_type=application&entity_id={app['id']}").get_json()["items"]
    resubmitted = [e for e in trail if e["action"] == "application.resubmitted"]
    assert len(resubmitted) == 1 and resubmitted[0]["note"] == "已补充审计报告"
    assert resubmitted[0]["action_name"] == "补正后重新提交" and resubmitted[0]["actor_name"] == "officer-331002"


def test_the_openapi_document_covers_resubmission_and_the_finalise_preview(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    resubmission = paths["/api/v1/applications/{application_id}/resubmission"]["post"]
    assert resubmission["requestBody"]["required"] is False and "退回补正" in resubmission["summary"]
    preview = paths["/api/v1/batches/{batch_id}/finalise/preview"]["get"]
    assert any(p["name"] == "published_on" for p in preview["parameters"]) and "办结预览" in preview["summary"]


DEMO_DAY = date(2026, 11, 22)
FIGURE_FIELDS = {"营业收入": "revenue", "主营业务收入": "main_business_revenue", "研发费用": "rd_expense",
                 "职工总数": "employees", "研发人员数": "rd_staff", "资产负债率": "debt_ratio",
                 "有效发明专利数": "invention_patents"}
NAME = "|".join(FIGURE_FIELDS)
RAW = re.compile(rf"^(\d{{4}})年({NAME})$")
SHARE = re.compile(rf"^(\d{{4}})年({NAME})占({NAME})比重$")
GROWTH = re.compile(rf"^(\d{{4}})年({NAME})增长率$")
TOTAL = re.compile(rf"^(\d{{4}})—(\d{{4}})年({NAME})占({NAME})比重$")


def figure(reports: dict[int, dict], year: int, name: str) -> Decimal:
    """A figure of the enterprise's annual report as the API returns it (debt ratio as a fraction)."""
    number = Decimal(str(reports[year][FIGURE_FIELDS[name]]))
    return number / 100 if name == "资产负债率" else number


def expected(label: str, reports: dict[int, dict]) -> Decimal | None:
    """What a report value labelled `label` must be, computed from the annual reports (None: not a figure)."""
    if m := RAW.match(label):
        return figure(reports, int(m[1]), m[2])
    if m := SHARE.match(label):
        return figure(reports, int(m[1]), m[2]) / figure(reports, int(m[1]), m[3])
    if m := GROWTH.match(label):
        now, before = figure(reports, int(m[1]), m[2]), figure(reports, int(m[1]) - 1, m[2])
        return (now - before) / before
    if m := TOTAL.match(label):
        years = range(int(m[1]), int(m[2]) + 1)
        return sum(figure(reports, y, m[3]) for y in years) / sum(figure(reports, y, m[4]) for y in years)
    return None


def walk(results: list[dict]):
    for result in results:
        yield result
        yield from walk(result["children"])


def test_acceptance_precheck_over_the_demo_roster_lists_candidates_with_numbers_matching_the_annual_reports(
        app, api_as, session):
    """Acceptance: the pre-check over the demo roster lists candidates, each with a per-criterion report whose
    numbers are the enterprise's annual report figures (and the ratios computed from them)."""
    with app.app_context():
        seed(session, size=120, admin_password="demo-pass-1", today=DEMO_DAY)
    session.commit()
    province = api_as("officer", "330000")
    pool = run_pool(session, actor=officer_of("330000"), rules=load_rules(session, app.extensions[
        "registry.policies"]), tier="little_giant", year=DEMO_DAY.year, on=DEMO_DAY, at=NOW)
    session.commit()
    shown = province.get(f"/api/v1/pools/{pool.id}").get_json()
    assert shown["figures_year"] == DEMO_DAY.year - 1 and shown["evaluated"] > len(shown["members"]) > 0
    checked = 0
    for member in shown["members"]:
        assert member["verdict"] in ("pass", "unknown") and member["included"]
        results = list(walk(member["evaluation"]["results"]))
        assert results and all(r["source"] and r["verdict"] in ("pass", "fail", "unknown") for r in results)
        enterprise = province.get(f"/api/v1/enterprises/{member['enterprise']['id']}").get_json()
        assert any(c["tier"] == "specialized_sme" and c["status"] in ("active", "under_review")
                   for c in enterprise["certifications"])
        reports = {r["year"]: r for r in enterprise["annual_reports"]}
        for value in (v for r in results for v in r["values"]):
            want = expected(value["label"], reports)
            if want is not None:
                assert Decimal(value["value"]) == want, (member["enterprise"]["name"], value)
                checked += 1
    assert checked >= 3 * len(shown["members"])  # 营业收入, 主营业务收入 and their ratio, per member
