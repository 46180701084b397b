"""Issue 16 point 8: an enterprise's officer (服务专员) must be an officer of the enterprise's region."""

from __future__ import annotations

import pytest

from registry.domain.errors import RuleViolation
from registry.enterprises.services import register_enterprise
from tests.conftest import NOW
from tests.factories import make_enterprise, make_uscc
from tests.web.fixtures import csrf_from
from tests.web.pages import edit_enterprise, hidden_fields


@pytest.fixture
def people(make_user):
    """Officers of 台州, 杭州 and the province; a 台州 auditor; a disabled 台州 officer."""
    return {
        "tz": make_user("officer", "331000", username="tz_officer"),
        "hz": make_user("officer", "330100", username="hz_officer"),
        "zj": make_user("officer", "330000", username="zj_officer"),
        "aud": make_user("auditor", "331000", username="tz_auditor"),
    }


def test_the_api_refuses_another_regions_officer_with_a_chinese_422(api_as, people, session, admin):
    client = api_as("officer", "331002")
    body = {"uscc": make_uscc("331002"), "name": "台州精密模具有限公司", "region_code": "331002"}
    for bad in ("hz", "aud"):
        refused = client.post("/api/v1/enterprises", json={**body, "officer_id": people[bad].id})
        assert refused.status_code == 422
        assert "服务专员须为企业所在地区" in refused.get_json()["errors"]["officer_id"][0]
    assert client.post("/api/v1/enterprises", json={**body, "officer_id": 999999}).status_code == 422
    made = client.post("/api/v1/enterprises", json={**body, "officer_id": people["tz"].id})
    assert made.status_code == 201
    ent = made.get_json()
    moved = client.patch(f"/api/v1/enterprises/{ent['id']}", json={"officer_id": people["hz"].id,
                                                                    "version": ent["version"]})
    assert moved.status_code == 422 and "officer_id" in moved.get_json()["errors"]
    province = client.patch(f"/api/v1/enterprises/{ent['id']}", json={"officer_id": people["zj"].id,
                                                                       "version": ent["version"]})
    assert province.status_code == 200  # the province's officer covers 椒江


def test_moving_an_enterprise_out_of_its_officers_region_is_refused(session, admin, people):
    ent = make_enterprise(session, admin, region_code="331002", officer_id=people["tz"].id)
    from registry.enterprises.services import update_enterprise
    with pytest.raises(RuleViolation) as refused:
        update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"region_code": "330106"},
                          version=ent.version, at=NOW)
    assert "officer_id" in refused.value.errors
    user = people["tz"]
    user.is_active = False
    with pytest.raises(RuleViolation):
        register_enterprise(session, actor=admin, at=NOW, data={
            "uscc": make_uscc("331002"), "name": "x", "region_code": "331002", "officer_id": user.id})


def test_the_page_offers_only_the_regions_officers_and_refuses_another(login_as, people, session, admin):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    client = login_as("officer", "331002")
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "tz_officer" in html and "zj_officer" in html
    assert "hz_officer" not in html and "tz_auditor" not in html
    form = {"csrf_token": csrf_from(html), "edit-version": hidden_fields(html)["edit-version"], "edit-name": ent.name,
            "edit-uscc": ent.uscc, "edit-region_code": ent.region_code}
    refused = client.post(f"/enterprises/{ent.id}", data={**form, "edit-officer_id": str(people["hz"].id)})
    assert refused.status_code == 422 and "服务专员须为企业所在地区" in refused.get_data(as_text=True)
    _, saved = edit_enterprise(client, ent.id, {**form, "edit-officer_id": str(people["tz"].id)})
    assert saved.status_code == 302
    session.refresh(ent)
    assert ent.officer_id == people["tz"].id
