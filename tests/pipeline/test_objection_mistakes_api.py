"""Correcting and withdrawing a mistaken objection through the JSON API: 200, 403, 404, 409, 422 in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.pipeline.test_pipeline_api import chain, today  # noqa: F401  (fixtures)
from tests.web.pipeline_data import candidate, new_batch, recommend


@pytest.fixture
def filed(chain, session, admin, rules, today):  # noqa: F811
    """An open real-name objection on a 浙江省 小巨人 list in publicity; returns (batch url, objection)."""
    batch = new_batch(chain["province"], today)
    ent = candidate(session, admin, rules, today)
    application = chain["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                         json={"enterprise_id": ent.id}).get_json()
    assert recommend(chain, application["id"]).status_code == 201
    url = f"/api/v1/batches/{batch['id']}"
    assert chain["province"].post(f"{url}/publicity", json={
        "starts_on": (today - timedelta(days=8)).isoformat(), "ends_on": (today - timedelta(days=1)).isoformat(),
        "published_where": "浙江省经济和信息化厅网站"}).status_code == 200
    objection = chain["province"].post(f"{url}/objections", json={
        "application_id": application["id"], "submitter_name": "王建国", "submitter_identity": "real_name",
        "contact": "13800000000", "grounds": "研发费用与审计报告不符",
        "received_on": (today - timedelta(days=2)).isoformat()})
    assert objection.status_code == 201
    return url, objection.get_json()


def test_correction_then_withdrawal_then_finalising(chain, filed, today):  # noqa: F811
    url, objection = filed
    path = f"/api/v1/objections/{objection['id']}"
    new_day = (today - timedelta(days=3)).isoformat()
    no_reason = chain["province"].post(f"{path}/correction", json={"received_on": new_day})
    assert no_reason.status_code == 422 and list(no_reason.get_json()["errors"]) == ["reason"]
    late = chain["province"].post(f"{path}/correction", json={"reason": "笔误", "received_on": today.isoformat()})
    assert late.status_code == 422 and "公示期" in str(late.get_json()["errors"]["received_on"])
    done = chain["province"].post(f"{path}/correction", json={"reason": "收到日期登记错误", "received_on": new_day})
    assert done.status_code == 200 and done.get_json()["received_on"] == new_day
    assert done.get_json()["grounds"] == "研发费用与审计报告不符" and done.get_json()["status"] == "open"
    again = chain["province"].post(f"{path}/correction", json={"reason": "收到日期登记错误", "received_on": new_day})
    assert again.status_code == 409 and "没有修改任何内容" in again.get_json()["error"]
    assert chain["province"].post(f"{url}/finalise", json={"published_on": today.isoformat()}).status_code == 409
    assert chain["province"].post(f"{path}/withdrawal", json={"reason": ""}).status_code == 422
    gone = chain["province"].post(f"{path}/withdrawal", json={"reason": "登记错了申请"})
    assert gone.status_code == 200 and gone.get_json()["status"] == "withdrawn"
    twice = chain["province"].post(f"{path}/withdrawal", json={"reason": "登记错了申请"})
    assert twice.status_code == 409 and "已撤回" in twice.get_json()["error"]
    trail = chain["province"].get(f"/api/v1/audit?entity_type=objection&entity_id={objection['id']}").get_json()
    assert sorted(e["action"] for e in trail["items"]) == ["objection.corrected", "objection.filed",
                                                          "objection.withdrawn"]
    done = chain["province"].post(f"{url}/finalise", json={"published_on": today.isoformat()})
    assert done.status_code == 200 and done.get_json()["applications"][0]["status"] == "granted"


def test_offices_other_than_the_publisher_and_readers_are_refused(chain, filed):
    _, objection = filed
    path = f"/api/v1/objections/{objection['id']}"
    body = {"reason": "登记错了申请"}
    for who in ("city", "district"):
        refused = chain[who].post(f"{path}/withdrawal", json=body)
        assert refused.status_code == 403 and "发布公示名单的单位" in refused.get_json()["error"]
    assert chain["auditor"].post(f"{path}/withdrawal", json=body).status_code == 403
    assert chain["hangzhou"].post(f"{path}/withdrawal", json=body).status_code == 404
    assert chain["province"].post("/api/v1/objections/999999/withdrawal", json=body).status_code == 404
    assert chain["province"].post(f"{path}/correction", json={"reason": "x", "submitter_identity": "nobody"}
                                  ).status_code == 422
    assert chain["province"].post(f"{path}/withdrawal", data="not json").status_code in (400, 415, 422)
