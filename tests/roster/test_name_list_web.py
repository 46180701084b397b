"""The name-list API and pages: upload with the title, review each row, confirm all or nothing; errors named."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from registry.roster.models import NameList
from registry.titles.models import Certification
from tests.conftest import d
from tests.factories import grant, make_enterprise
from tests.roster.namelist_files import name_list
from tests.web.fixtures import csrf_from
from tests.web.pages import page

TITLE = {"tier": "specialized_sme", "recognized_on": "2026-05-20", "document_no": "浙经信企业〔2026〕12号",
         "batch": "2026年第一批"}


def api_upload(client, content: bytes, filename: str = "公告名单.xlsx", **form):
    return client.post("/api/v1/name-lists", data={**TITLE, **form, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def certs(session, enterprise_id: int) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(Certification).where(
        Certification.enterprise_id == enterprise_id, Certification.tier == "specialized_sme"))


@pytest.fixture
def ready(session, admin, rules):
    """Two 台州 enterprises holding 创新型 (committed: each request ends with a rollback)."""
    made = []
    for name, region in (("台州精工机械有限公司", "331002"), ("台州精密模具有限公司", "331003")):
        enterprise = make_enterprise(session, admin, name=name, region_code=region)
        grant(session, admin, rules, enterprise, "innovative_sme", d("2025-03-01"))
        made.append(enterprise)
    session.commit()
    return made


def test_api_upload_review_and_confirm(api_as, session, ready):
    client = api_as("officer", "331000")
    answer = api_upload(client, name_list([[1, "浙江省", "台州精工机械有限责任公司"], [2, "台州市", "台州精密模具（有限）公司"],
                                           [3, "浙江省", "名录外企业有限公司"]]))
    body = answer.get_json()
    assert answer.status_code == 201, body
    assert [r["kind"] for r in body["rows"]] == ["match", "candidates", "none"]
    assert body["rows"][1]["candidates"][0]["id"] == ready[1].id and body["counts"]["rows"] == 3
    assert certs(session, ready[0].id) == 0  # nothing written before the confirmation
    decisions = [{"row": 3, "choice": "enterprise", "enterprise_id": ready[0].id},
                 {"row": 4, "choice": "enterprise", "enterprise_id": ready[1].id}, {"row": 5, "choice": "skip"}]
    done = client.post(f"/api/v1/name-lists/{body['id']}/confirm", json={"decisions": decisions})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "applied" and done.get_json()["outcome"]["granted"] == 2
    assert certs(session, ready[0].id) == 1 and certs(session, ready[1].id) == 1
    again = client.post(f"/api/v1/name-lists/{body['id']}/confirm", json={"decisions": decisions})
    assert again.status_code == 409 and "不能再次确认" in again.get_json()["error"]
    listed = client.get("/api/v1/name-lists").get_json()
    assert listed["items"][0]["id"] == body["id"] and "rows" not in listed["items"][0]


def test_api_refused_rows_are_named_and_nothing_is_written(api_as, session, ready):
    client = api_as("officer", "331000")
    body = api_upload(client, name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "浙江省", "另一家有限公司"]])).get_json()
    answer = client.post(f"/api/v1/name-lists/{body['id']}/confirm", json={"decisions": [
        {"row": 3, "choice": "enterprise", "enterprise_id": ready[0].id},
        {"row": 4, "choice": "uscc", "uscc": "91331002MA0000000X"}]})
    problems = answer.get_json()["problems"]
    assert answer.status_code == 422 and [p["row"] for p in problems] == [4]
    assert "统一社会信用代码" in problems[0]["message"]
    assert certs(session, ready[0].id) == 0
    twice = client.post(f"/api/v1/name-lists/{body['id']}/confirm", json={"decisions": [
        {"row": 3, "choice": "skip"}, {"row": 3, "choice": "skip"}]})
    assert twice.status_code == 422 and "两个决定" in twice.get_json()["errors"]["decisions"][0]


@pytest.mark.parametrize(("content", "filename", "form", "field", "says"), [
    (b"\x89PNG\r\n" + b"\x00" * 50, "名单.csv", {}, "file", "不是文本格式的 CSV"),
    (None, "名单.xlsx", {}, "file", "第3行 C列（企业名称）：企业名称为空"),
    (None, "名单.xlsx", {"tier": "nonexistent"}, "tier", "称号层级"),
    (None, "名单.xlsx", {"recognized_on": "2027-01-01"}, "recognized_on", "晚于今天"),
])
def test_api_bad_uploads_say_what_is_wrong(api_as, session, content, filename, form, field, says):
    client = api_as("officer", "331000")
    before = session.scalar(sa.select(sa.func.count()).select_from(NameList))
    content = content or name_list([[1, "浙江省", None], [2, "浙江省", "甲有限公司"]])
    answer = api_upload(client, content, filename, **form)
    assert answer.status_code == 422, answer.get_json()
    assert says in " ".join(answer.get_json()["errors"][field]) or field == "tier"
    assert session.scalar(sa.select(sa.func.count()).select_from(NameList)) == before


def test_another_regions_list_is_not_found(api_as, session, ready):
    mine = api_upload(api_as("officer", "331000"), name_list([[1, "", "台州精工机械有限公司"]])).get_json()
    other = api_as("officer", "330100")
    assert other.get(f"/api/v1/name-lists/{mine['id']}").status_code == 404
    assert other.post(f"/api/v1/name-lists/{mine['id']}/confirm",
                      json={"decisions": [{"row": 3, "choice": "skip"}]}).status_code == 404


def test_a_reader_may_not_upload(api_as):
    assert api_upload(api_as("leader", "331000"), name_list([[1, "", "甲有限公司"]])).status_code == 403


def page_upload(client, content: bytes, **form):
    token = csrf_from(page(client, "/name-lists"))
    return client.post("/name-lists", data={**TITLE, **form, "csrf_token": token,
                                            "file": (io.BytesIO(content), "公告名单.xlsx")},
                       content_type="multipart/form-data")


def test_pages_upload_review_and_confirm_each_row(login_as, session, ready):
    client = login_as("officer", "331000")
    assert "按名称导入公告名单" in page(client, "/imports")
    answer = page_upload(client, name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "台州市", "台州精密模具有限公司（台州）"]]))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    url = answer.headers["Location"]
    html = page(client, url)
    assert "唯一匹配" in html and "有候选，请选择" in html and "确认前不写入" in html
    assert re.search(rf'name="choice-3" value="e:{ready[0].id}" checked', html)  # the match is proposed
    assert not re.search(r'name="choice-4" value="[^"]*" checked', html)  # a candidate waits for the officer
    confirm_url = url + "/confirm"
    refused = client.post(confirm_url, data={"csrf_token": csrf_from(html), "choice-3": f"e:{ready[0].id}"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "尚未确认" in text and 'id="row-4" class="has-error"' in text
    assert re.search(rf'name="choice-3" value="e:{ready[0].id}" checked', text)  # the choices made stay
    assert certs(session, ready[0].id) == 0
    done = client.post(confirm_url, data={"csrf_token": csrf_from(text), "choice-3": f"e:{ready[0].id}",
                                          "choice-4": f"e:{ready[1].id}", "uscc-4": ""})
    assert done.status_code == 302
    result = page(client, url)
    assert "已导入" in result and "授予称号 2 家" in result and ready[0].uscc in result
    assert certs(session, ready[0].id) == 1 and certs(session, ready[1].id) == 1
    assert "确认导入" not in result.split("各行结果")[1]


def test_page_upload_errors_are_shown_with_row_and_column(login_as, session):
    client = login_as("officer", "331000")
    answer = page_upload(client, name_list([[1, "浙江省", "甲有限公司"], [2, "浙江省", "甲有限责任公司"]]))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "第4行 C列（企业名称）：与第3行的企业名称相同" in text
    missing = page_upload(client, name_list([[1, "浙江省", "甲有限公司"]]), tier="")
    assert missing.status_code == 422 and "称号层级" in missing.get_data(as_text=True)


@pytest.mark.parametrize("value", ["e:-1", "e:" + "9" * 30, "e:abc", "<script>", "uscc", "e:1' OR 1=1"])
def test_hostile_page_choices_are_refused_in_chinese(login_as, session, ready, value):
    client = login_as("officer", "331000")
    url = page_upload(client, name_list([[1, "浙江省", "台州精工机械有限公司"]])).headers["Location"]
    html = page(client, url)
    answer = client.post(url + "/confirm", data={"csrf_token": csrf_from(html), "choice-3": value, "uscc-3": "x" * 500})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "第3行" in text
    assert certs(session, ready[0].id) == 0


def test_the_pages_speak_plain_chinese(login_as, session, ready):
    from tests.web.test_plain_chinese import codes_in, visible_text

    client = login_as("officer", "331000")
    url = page_upload(client, name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "", "台州精密模具有限责任公司"]])).headers["Location"]
    shown = [page(client, "/name-lists"), page(client, url)]
    html = shown[1]
    client.post(url + "/confirm", data={"csrf_token": csrf_from(html), "choice-3": f"e:{ready[0].id}",
                                        "choice-4": f"e:{ready[1].id}"})
    shown.append(page(client, url))
    assert "已导入" in shown[2]
    audit = page(client, "/audit")
    assert "确认公告名单" in audit and "上传公告名单（待核对）" in audit
    for html in [*shown, audit]:
        assert codes_in(visible_text(html)) == []


def test_api_discard(api_as, session):
    client = api_as("officer", "331000")
    body = api_upload(client, name_list([[1, "", "甲有限公司"]])).get_json()
    answer = client.post(f"/api/v1/name-lists/{body['id']}/discard")
    assert answer.status_code == 200 and answer.get_json()["status"] == "discarded"
    assert client.post(f"/api/v1/name-lists/{body['id']}/discard").status_code == 409
    refused = client.post(f"/api/v1/name-lists/{body['id']}/confirm", json={"decisions": [{"row": 3, "choice": "skip"}]})
    assert refused.status_code == 409 and "已放弃" in refused.get_json()["error"]
