"""The pipeline pages in Chinese: pools, batches, the board, the application, publicity and objections."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from registry.cli.base import today_in
from tests.web.fixtures import csrf_from, login
from tests.web.pipeline_data import LEVELS, candidate, new_batch, publicity_scene, recommend


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
    """A batch in publicity with one objection, a returned application beside it, and a pool, made through the API."""
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    return {**publicity_scene(clients, session, admin, rules, today), "api": clients["province"]}


def confirm(client, url: str, data: dict, *, expect: tuple[str, ...]) -> str:
    """Submit a form: check the consequence page lists `expect` and nothing changed yet; return the confirm page."""
    token = csrf_from(client.get(url).get_data(as_text=True))
    shown = client.post(url, data={"csrf_token": token, **data})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "办理后将产生以下结果" in html, html
    for text in expect:
        assert text in html, text
    return html


def confirmed(client, url: str, confirm_page: str):
    """Post the confirmation page's form back (its hidden fields, a fresh CSRF token, confirmed=1)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm_page))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    return client.post(url, data={**fields, "confirmed": "1"})


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
    assert ("王建国" in board) == (role == "officer")  # the submitter is confidential to the handling officers
    assert ('action="/objections/' in board) == (role == "officer")
    pool = client.get(f"/pools/{scene['pool']}").get_data(as_text=True)
    assert "依据" in pool and "营业收入" in pool


def test_auditor_gets_403_on_writes(browser, scene):
    client = browser("auditor", "330000")
    token = csrf_from(client.get("/batches").get_data(as_text=True))
    actions = (f"/batches/{scene['batch']}/finalise", f"/batches/{scene['batch']}/publicity",
               f"/objections/{scene['objection']}/resolution", f"/applications/{scene['application']}/opinions",
               f"/applications/{scene['returned']}/resubmission")
    for url in ("/pools/run", "/batches", *actions):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    for url in actions:
        assert client.get(url).status_code == 403, url


def test_forms_carry_csrf_and_labels(browser, scene):
    client = browser("officer", "330000")
    html = client.get(f"/batches/{scene['batch']}").get_data(as_text=True)
    forms = html.count("<form")
    assert forms >= 3 and html.count('name="csrf_token"') >= forms
    assert "<label" in html and "异议人姓名或单位名称" in html
    assert client.post(f"/objections/{scene['objection']}/resolution", data={"outcome": "rejected"}).status_code == 400
    for url in (f"/batches/{scene['batch']}/finalise", f"/objections/{scene['objection']}/resolution",
                f"/applications/{scene['returned']}/resubmission", f"/batches/{scene['batch']}/publicity"):
        page = client.get(url).get_data(as_text=True)
        assert 'lang="zh-CN"' in page and 'name="csrf_token"' in page and "下一步：查看办理后果" in page, url
        controls = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
        assert controls and all(f'for="{c}"' in page for c in controls if not c.endswith("csrf_token")), url


def test_finalise_page_lists_who_is_granted_and_who_not_before_confirming(browser, scene, today):
    client = browser("officer", "330000")
    board, api = f"/batches/{scene['batch']}", scene["api"]
    token = csrf_from(client.get(board).get_data(as_text=True))
    blocked = client.post(f"{board}/finalise", data={"csrf_token": token, "published_on": today.isoformat()})
    assert blocked.status_code == 409 and "异议未处理" in blocked.get_data(as_text=True)  # shown before anything

    resolution = f"/objections/{scene['objection']}/resolution"
    prefix = f"o{scene['objection']}-"
    page = confirm(client, resolution, {prefix + "outcome": "rejected", prefix + "note": "经核实数据一致"},
                   expect=(f"异议 #{scene['objection']} 不成立", "保留在公示名单", "异议全部处理完毕"))
    assert api.get(f"/api/v1/batches/{scene['batch']}").get_json()["objections"][0]["status"] == "open"
    assert confirmed(client, resolution, page).status_code == 302
    assert api.get(f"/api/v1/batches/{scene['batch']}").get_json()["objections"][0]["status"] == "rejected"

    page = confirm(client, f"{board}/finalise", {"published_on": today.isoformat(), "document_no": "浙经信〔2026〕9号"},
                   expect=(f"予以认定 1 件：#{scene['application']}", "有效期", f"不予认定：申请 #{scene['returned']}",
                           "退回补正后未重新提交", f"名单公布日期即认定日期：{today}"))
    assert "确认办理" in page and api.get(f"/api/v1/batches/{scene['batch']}").get_json()["status"] == "publicity"
    done = confirmed(client, f"{board}/finalise", page)
    assert done.status_code == 302
    shown = client.get(board).get_data(as_text=True)
    assert "批次已办结" in shown and "已认定" in shown
    statuses = {a["id"]: a["status"] for a in api.get(f"/api/v1/batches/{scene['batch']}").get_json()["applications"]}
    assert statuses == {scene["application"]: "granted", scene["returned"]: "not_granted"}


def test_opinion_page_shows_where_the_application_goes_and_the_quota_before_confirming(
        browser, api_as, session, admin, rules, today):
    province = api_as("officer", "330000")
    batch = new_batch(province, today, quota=1)
    ent = candidate(session, admin, rules, today)
    application = province.post(f"/api/v1/batches/{batch['id']}/applications",
                                json={"enterprise_id": ent.id}).get_json()
    url = f"/applications/{application['id']}/opinions"
    district = browser("officer", "331002")
    page = district.get(f"/applications/{application['id']}").get_data(as_text=True)
    assert "出具区县级意见" in page and f'action="{url}"' in page
    token = csrf_from(page)
    refused = district.post(url, data={"csrf_token": token, "decision": "return", "note": ""})
    assert refused.status_code == 422 and "退回或不予推荐须说明理由" in refused.get_data(as_text=True)
    page = confirm(district, url, {"decision": "recommend", "note": "同意"}, expect=("区县级推荐", "转由市级出具意见"))
    assert province.get(f"/api/v1/applications/{application['id']}").get_json()["current_level"] == "district"
    assert confirmed(district, url, page).status_code == 302
    assert province.get(f"/api/v1/applications/{application['id']}").get_json()["current_level"] == "city"
    city = browser("officer", "331000")
    confirm(city, url, {"decision": "recommend"}, expect=("占用台州市（331000）市级推荐名额 1 个：推荐后已用 1 / 1",
                                                          "转由省级出具意见"))
    hangzhou = browser("officer", "330100")
    assert hangzhou.get(f"/applications/{application['id']}").status_code == 404
    assert hangzhou.get(url).status_code == 404
    assert hangzhou.post(url, data={"csrf_token": csrf_from(hangzhou.get("/batches").get_data(as_text=True)),
                                    "decision": "recommend"}).status_code == 404


def test_a_returned_application_is_resubmitted_from_its_page_and_climbs_again(
        browser, api_as, session, admin, rules, today):
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    batch = new_batch(clients["province"], today)
    ent = candidate(session, admin, rules, today)
    application = clients["province"].post(f"/api/v1/batches/{batch['id']}/applications",
                                           json={"enterprise_id": ent.id}).get_json()
    assert recommend(clients, application["id"], ("district", "city")).status_code == 201
    assert clients["province"].post(f"/api/v1/applications/{application['id']}/opinions", json={
        "level": "province", "decision": "return", "note": "请补充审计报告验证码"}).status_code == 201
    district = browser("officer", "331002")
    page = district.get(f"/applications/{application['id']}").get_data(as_text=True)
    url = f"/applications/{application['id']}/resubmission"
    assert "退回补正后重新提交" in page and f'action="{url}"' in page and '<label for="note"' in page
    assert "退回补正后重新提交" not in browser("auditor", "330000").get(
        f"/applications/{application['id']}").get_data(as_text=True)
    page = confirm(district, url, {"note": "已补充审计报告验证码"},
                   expect=("进入第 2 轮", "从区县级重新出具意见", "台州市（331000）市级推荐名额随之释放"))
    assert confirmed(district, url, page).status_code == 302
    shown = clients["province"].get(f"/api/v1/applications/{application['id']}").get_json()
    assert (shown["status"], shown["round"], shown["current_level"]) == ("in_review", 2, "district")
    assert recommend(clients, application["id"]).status_code == 201
    assert clients["province"].get(f"/api/v1/applications/{application['id']}").get_json()["status"] == "recommended"
    again = district.post(url, data={"csrf_token": csrf_from(district.get(url).get_data(as_text=True))})
    assert again.status_code == 409 and "只有被退回补正的申请才能重新提交" in again.get_data(as_text=True)


def test_publicity_page_lists_the_publicised_and_the_stopped(browser, api_as, session, admin, rules, today):
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    batch = new_batch(clients["province"], today)
    done, stuck = [clients["province"].post(f"/api/v1/batches/{batch['id']}/applications", json={
        "enterprise_id": candidate(session, admin, rules, today).id}).get_json() for _ in range(2)]
    assert recommend(clients, done["id"]).status_code == 201
    url = f"/batches/{batch['id']}/publicity"
    client = browser("officer", "330000")
    data = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=6)).isoformat(),
            "published_where": "省厅网站"}
    page = confirm(client, url, data, expect=(f"列入公示名单 1 件：#{done['id']}", f"#{stuck['id']}", "不再受理意见"))
    assert clients["province"].get(f"/api/v1/batches/{batch['id']}").get_json()["status"] == "open"
    assert confirmed(client, url, page).status_code == 302
    assert clients["province"].get(f"/api/v1/batches/{batch['id']}").get_json()["status"] == "publicity"


def test_an_officer_registers_an_application_on_the_batch_page_by_uscc(browser, api_as, session, admin, rules, today):
    province = api_as("officer", "330000")
    batch = new_batch(province, today, name="页面登记批")
    ent = candidate(session, admin, rules, today)
    client = browser("officer", "331000")  # 台州's officer, inside the batch's region
    url = f"/batches/{batch['id']}"
    page = client.get(url).get_data(as_text=True)
    assert "登记申报" in page and 'for="uscc"' in page

    def register(uscc: str) -> str:
        token = csrf_from(client.get(url).get_data(as_text=True))
        response = client.post(f"{url}/applications", data={"csrf_token": token, "uscc": uscc},
                               follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    shown = register(f" {ent.uscc.lower()} ")  # typed loosely: normalised like every USCC field
    assert "已登记申请 #" in shown and ent.name in shown and "待区县级意见（1）" in shown
    again = register(ent.uscc)
    assert "未办理：该企业已在本批次申报" in again
    elsewhere = candidate(session, admin, rules, today, region="330102")  # 杭州: outside this officer's region
    assert "未办理：本地区没有该统一社会信用代码的企业" in register(elsewhere.uscc)
    listed = province.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert [a["enterprise"]["id"] for a in listed["applications"]] == [ent.id]  # one application, the registered one
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(f"{url}/applications", data={"uscc": ent.uscc}).status_code == 400  # no CSRF token
    auditor = browser("auditor", "330000")
    assert "登记申报" not in auditor.get(url).get_data(as_text=True)
    assert auditor.post(f"{url}/applications", data={"csrf_token": token, "uscc": ent.uscc}).status_code in (400, 403)
