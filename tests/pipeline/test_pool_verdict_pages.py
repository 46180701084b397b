"""The pool page and API explain every verdict: 未入库 with the reason (rule, values, source), paged, filtered,
re-run by the office that ran the pool; the enterprise page shows its latest verdict per pool."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from registry.cli.base import today_in
from tests.factories import grant, make_enterprise, report
from tests.web.fixtures import csrf_from, login
from tests.web.pipeline_data import FIGURES, candidate


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


def weak(session, admin, rules, today):
    """A 专精特新 holder whose main business is just under 70 % of its revenue last year."""
    enterprise = make_enterprise(session, admin, region_code="331002", size_class="small", name="椒江弱势制造有限公司")
    grant(session, admin, rules, enterprise, "innovative_sme", today - timedelta(days=900))
    grant(session, admin, rules, enterprise, "specialized_sme", today - timedelta(days=870))
    for back, values in FIGURES.items():
        figures = dict(values)
        if back == 1:
            figures["main_business_revenue"] = Decimal("48999999")
        report(session, admin, enterprise, today.year - back, **figures)
    session.commit()
    return enterprise


@pytest.fixture
def pool(api_as, session, admin, rules, today):
    good = candidate(session, admin, rules, today)
    left_out = [weak(session, admin, rules, today) for _ in range(3)]
    city = api_as("officer", "331000")
    made = city.post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year})
    assert made.status_code == 201
    return {"id": made.get_json()["id"], "good": good.id, "out": [e.id for e in left_out], "api": city}


def test_api_lists_verdicts_with_the_reason_filtered_and_paged(pool):
    api, url = pool["api"], f"/api/v1/pools/{pool['id']}/verdicts"
    body = api.get(f"{url}?standing=out&per_page=2").get_json()
    assert body["total"] == 3 and [v["enterprise"]["id"] for v in body["items"]] == pool["out"][:2]
    first = body["items"][0]
    assert first["standing_name"] == "未入库" and first["verdict_name"] == "不符合" and not first["in_pool"]
    deciding = first["reasons"]["criteria"][0]
    assert deciding["verdict"] == "fail" and deciding["source"] and deciding["values"]
    assert api.get(f"{url}?standing=out&per_page=2&page=2").get_json()["items"][0]["enterprise"]["id"] == pool["out"][2]
    inside = api.get(f"{url}?standing=in").get_json()
    assert inside["total"] == 1 and inside["items"][0]["enterprise"]["id"] == pool["good"]
    for bad in ("standing=gone", "page=0", "per_page=100000", "page=abc"):
        answer = api.get(f"{url}?{bad}")
        assert answer.status_code == 422, bad
        assert answer.get_json()["errors"]
    assert api.get("/api/v1/pools/999999/verdicts").status_code == 404


def test_rerun_through_the_api_only_by_the_office_that_ran_it(pool, api_as):
    assert pool["api"].post(f"/api/v1/pools/{pool['id']}/rerun").status_code == 200
    assert pool["api"].post(f"/api/v1/pools/{pool['id']}/rerun").status_code == 200  # twice: same verdicts
    assert pool["api"].get(f"/api/v1/pools/{pool['id']}/verdicts").get_json()["total"] == 4
    assert api_as("officer", "330000").post(f"/api/v1/pools/{pool['id']}/rerun").status_code == 403
    assert api_as("officer", "510000").post(f"/api/v1/pools/{pool['id']}/rerun").status_code == 404
    assert api_as("auditor", "331000").post(f"/api/v1/pools/{pool['id']}/rerun").status_code == 403


def test_the_pool_page_shows_why_each_was_left_out(app, make_user, pool):
    make_user("officer", "331000", username="web-officer-331000")
    client = app.test_client()
    assert login(client, "web-officer-331000").status_code == 302
    page = client.get(f"/pools/{pool['id']}?standing=out").get_data(as_text=True)
    assert "未入库（3）" in page and "在库（1）" in page and "椒江弱势制造有限公司" in page
    assert "不符合" in page and "依据：" in page and "主营业务收入占营业收入比重" in page
    assert "第 1 / 1 页（共 3 家）" in page
    past = client.get(f"/pools/{pool['id']}?standing=out&page=99").get_data(as_text=True)
    assert "第 1 / 1 页" in past  # past the end: the last page, never "第 99 / 1 页"
    odd = client.get(f"/pools/{pool['id']}?standing=<script>&page=-3")
    assert odd.status_code == 200 and "<script>" not in odd.get_data(as_text=True)
    for code in ("little_giant", "national-2022", "unknown", "fail", "pass"):
        assert f">{code}<" not in page
    token = csrf_from(page)
    done = client.post(f"/pools/{pool['id']}/rerun", data={"csrf_token": token}, follow_redirects=True)
    assert "已重新核查：核查 4 家企业" in done.get_data(as_text=True)


def test_the_enterprise_page_shows_its_verdict_in_each_pool(app, make_user, pool):
    make_user("officer", "331000", username="web-officer-331000")
    client = app.test_client()
    assert login(client, "web-officer-331000").status_code == 302
    page = client.get(f"/enterprises/{pool['out'][0]}").get_data(as_text=True)
    assert "培育库核查结论" in page and "未入库" in page and "主营业务收入占营业收入比重" in page
    assert f"/pools/{pool['id']}" in page


def test_api_lists_an_enterprises_verdict_in_each_pool(pool, api_as):
    answer = pool["api"].get(f"/api/v1/enterprises/{pool['out'][0]}/pool-verdicts")
    assert answer.status_code == 200
    [item] = answer.get_json()["items"]
    assert item["pool_id"] == pool["id"] and item["standing_name"] == "未入库" and item["tier_name"]
    assert item["enterprise"]["id"] == pool["out"][0] and item["reasons"]["criteria"]
    assert api_as("officer", "330100").get(f"/api/v1/enterprises/{pool['out'][0]}/pool-verdicts").status_code == 404
    assert pool["api"].get("/api/v1/enterprises/999999/pool-verdicts").status_code == 404


def test_the_export_lists_those_left_out_with_each_reason(pool):
    import io

    from openpyxl import load_workbook

    answer = pool["api"].get(f"/api/v1/pools/{pool['id']}/export.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data), read_only=True)
    assert book.sheetnames == ["培育库", "未入库"]
    rows = [list(r) for r in book["未入库"].iter_rows(values_only=True)]
    assert rows[0][:6] == ["序号", "企业名称", "统一社会信用代码", "地区代码", "总体结论", "未入库原因"]
    assert {r[1] for r in rows[1:]} == {"椒江弱势制造有限公司"} and {r[0] for r in rows[1:]} == {1, 2, 3}
    failed = [r for r in rows[1:] if r[5] == "未通过的条件" and r[7] == "不符合"]
    assert failed and all(r[10] for r in failed) and "主营业务收入占营业收入比重" in failed[0][8]
