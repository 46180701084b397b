"""The pipeline pages in Chinese: pools, batches, the board, the application, publicity and objections."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.cli import today_in
from tests.web.conftest import csrf_from, login
from tests.web.pipeline_data import LEVELS, candidate, new_batch, recommend


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def browser(app, make_user):
    """Return a client logged in through the form as a new page user (named apart from the API users)."""
    def make(role: str, region: str):
        make_user(role, region, username=f"web-{role}-{region}")
        client = app.test_client()
        assert login(client, f"web-{role}-{region}").status_code == 302
        return client
    return make


@pytest.fixture
def scene(api_as, session, admin, rules, today):
    """A batch in publicity with one objection, and a pool, made through the API."""
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    ent = candidate(session, admin, rules, today)
    pool = clients["province"].post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year}).get_json()
    batch = new_batch(clients["province"], today)
    application = clients["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                           json={"enterprise_id": ent.id}).get_json()
    assert recommend(clients, application["id"]).status_code == 201
    ends = today - timedelta(days=1)
    clients["province"].post(f"/api/v1/batches/{batch['id']}/publicity", json={
        "starts_on": (today - timedelta(days=7)).isoformat(), "ends_on": ends.isoformat(), "published_where": "省厅网站"})
    objection = clients["province"].post(f"/api/v1/batches/{batch['id']}/objections", json={
        "application_id": application["id"], "submitter_name": "王某某", "submitter_identity": "real_name",
        "contact": "13800000000", "grounds": "数据不实", "received_on": ends.isoformat()}).get_json()
    return {"pool": pool["id"], "batch": batch["id"], "application": application["id"], "objection": objection["id"],
            "enterprise": ent.id}


def pages(scene):
    return ["/pools", f"/pools/{scene['pool']}", "/batches", f"/batches/{scene['batch']}",
            f"/applications/{scene['application']}"]


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_every_page_renders_for_officer_and_auditor(browser, scene, role):
    client = browser(role, "330000")
    for url in pages(scene):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert 'lang="zh' in html or "培育库" in html or "批次" in html
    board = client.get(f"/batches/{scene['batch']}").get_data(as_text=True)
    assert "已用 / 名额" in board and "1 / 2" in board
    assert ("王某某" in board) == (role == "officer")  # the submitter is confidential to the handling officers
    assert ('action="/objections/' in board) == (role == "officer")
    pool = client.get(f"/pools/{scene['pool']}").get_data(as_text=True)
    assert "依据" in pool and "营业收入" in pool


def test_auditor_gets_403_on_writes(browser, scene):
    client = browser("auditor", "330000")
    token = csrf_from(client.get("/batches").get_data(as_text=True))
    for url in ("/pools/run", "/batches", f"/batches/{scene['batch']}/finalise",
                f"/objections/{scene['objection']}/resolution", f"/applications/{scene['application']}/opinions"):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_forms_carry_csrf_and_labels(browser, scene):
    client = browser("officer", "330000")
    html = client.get(f"/batches/{scene['batch']}").get_data(as_text=True)
    forms = html.count("<form")
    assert forms >= 3 and html.count('name="csrf_token"') >= forms
    assert "<label" in html and "异议人姓名或单位名称" in html
    assert client.post(f"/objections/{scene['objection']}/resolution", data={"outcome": "rejected"}).status_code == 400


def test_resolve_then_finalise_through_the_pages(browser, scene, today):
    client = browser("officer", "330000")
    board = f"/batches/{scene['batch']}"
    token = csrf_from(client.get(board).get_data(as_text=True))
    blocked = client.post(f"{board}/finalise", data={"csrf_token": token, "published_on": today.isoformat()},
                          follow_redirects=True).get_data(as_text=True)
    assert "未办理" in blocked and "异议未处理" in blocked
    prefix = f"o{scene['objection']}-"
    client.post(f"/objections/{scene['objection']}/resolution",
                data={"csrf_token": token, prefix + "outcome": "rejected", prefix + "note": "经核实数据一致"})
    done = client.post(f"{board}/finalise", data={"csrf_token": token, "published_on": today.isoformat()},
                       follow_redirects=True).get_data(as_text=True)
    assert "批次已办结" in done and "已认定" in done


def test_opinion_form_at_the_officers_level(browser, api_as, session, admin, rules, today):
    province = api_as("officer", "330000")
    batch = new_batch(province, today)
    ent = candidate(session, admin, rules, today)
    application = province.post(f"/api/v1/batches/{batch['id']}/applications", json={"enterprise_id": ent.id}).get_json()
    district = browser("officer", "331002")
    page = district.get(f"/applications/{application['id']}").get_data(as_text=True)
    assert "出具区县级意见" in page
    token = csrf_from(page)
    returned = district.post(f"/applications/{application['id']}/opinions",
                             data={"csrf_token": token, "decision": "return", "note": ""}, follow_redirects=True)
    assert "未办理" in returned.get_data(as_text=True)  # a return needs a note
    district.post(f"/applications/{application['id']}/opinions",
                  data={"csrf_token": token, "decision": "recommend", "note": ""})
    assert province.get(f"/api/v1/applications/{application['id']}").get_json()["current_level"] == "city"
    assert browser("officer", "330100").get(f"/applications/{application['id']}").status_code == 404
