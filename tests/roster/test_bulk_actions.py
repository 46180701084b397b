"""The roster's bulk actions: tick rows (or all matching the filter), 指定服务专员 previewed then confirmed, 导出所选;
all or nothing, region scope, hostile selections refused with a Chinese message, CSRF."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from tests.factories import make_enterprise
from tests.roster.files import read_xlsx
from tests.web.fixtures import csrf_from
from tests.web.pages import page


@pytest.fixture
def people(make_user):
    return {"tz": make_user("officer", "331000", username="tz_officer"),
            "jj": make_user("officer", "331002", username="jj_officer"),
            "aud": make_user("auditor", "331000", username="tz_auditor")}


@pytest.fixture
def ents(session, admin):
    made = {
        "a": make_enterprise(session, admin, region_code="331002", name="椒江甲模具有限公司"),
        "b": make_enterprise(session, admin, region_code="331002", name="椒江乙泵业有限公司"),
        "c": make_enterprise(session, admin, region_code="331003", name="黄岩丙模具有限公司"),
        "hz": make_enterprise(session, admin, region_code="330106", name="杭州丁模具有限公司"),
    }
    session.commit()
    return made


def officers(session, *items) -> list[int | None]:
    session.expire_all()
    return [session.get(Enterprise, e.id).officer_id for e in items]


def events(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "enterprise.updated"))


def test_the_roster_offers_selection_and_the_officer_picker_by_name(login_as, people, ents):
    officer = login_as("officer", "331000")
    html = page(officer, "/enterprises")
    assert f'name="ids" value="{ents["a"].id}"' in html and 'name="all_matching"' in html
    assert "tz_officer（台州市）" in html and "tz_auditor" not in html
    assert "导出所选（Excel）" in html and "指定服务专员（先预览）" in html
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/enterprises")
    assert "导出所选（Excel）" in html and "指定服务专员（先预览）" not in html


def test_ticked_rows_are_previewed_then_assigned_each_audited(login_as, people, ents, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    before = events(session)
    form = {"csrf_token": token, "action": "assign", "officer_id": str(people["tz"].id),
            "ids": [str(ents["a"].id), str(ents["c"].id)]}
    preview = officer.post("/enterprises/bulk", data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "所选 2 家企业" in text and "椒江甲模具有限公司" in text
    assert "椒江乙泵业有限公司" not in text and officers(session, ents["a"], ents["c"]) == [None, None]
    done = officer.post("/enterprises/bulk", data={"csrf_token": csrf_from(text), "confirmed": "1",
                                                   "id_list": f"{ents['a'].id},{ents['c'].id}",
                                                   "officer_id": str(people["tz"].id), "reason": "年度分工"})
    assert done.status_code == 302
    assert officers(session, ents["a"], ents["b"], ents["c"]) == [people["tz"].id, None, people["tz"].id]
    assert events(session) == before + 2
    notes = session.scalars(sa.select(AuditEvent.note).where(AuditEvent.action == "enterprise.updated")
                            .order_by(AuditEvent.id.desc()).limit(2)).all()
    assert notes == ["年度分工", "年度分工"]


def test_all_matching_the_filter_takes_the_filter_not_the_page(login_as, people, ents, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    preview = officer.post("/enterprises/bulk", data={"csrf_token": token, "action": "assign", "all_matching": "1",
                                                      "f_q": "模具", "officer_id": str(people["tz"].id)})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "所选 2 家企业" in text  # 甲 and 丙; 杭州丁 is outside the region
    assert "杭州丁模具有限公司" not in text and 'name="f_q" value="模具"' in text
    ids = f"{ents['a'].id},{ents['c'].id}"
    assert f'name="id_list" value="{ids}"' in text


def test_one_enterprise_outside_the_officers_region_refuses_the_whole_set(login_as, people, ents, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    before = events(session)
    for extra in ({}, {"confirmed": "1"}):
        refused = officer.post("/enterprises/bulk", data={
            "csrf_token": token, "action": "assign", "officer_id": str(people["jj"].id),
            "id_list": f"{ents['a'].id},{ents['c'].id}", **extra})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "黄岩丙模具有限公司" in text and "未作任何修改" in text
    assert officers(session, ents["a"], ents["c"]) == [None, None] and events(session) == before


def test_another_citys_enterprise_in_the_selection_refuses_it_all(login_as, people, ents, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    refused = officer.post("/enterprises/bulk", data={
        "csrf_token": token, "action": "assign", "officer_id": str(people["tz"].id), "confirmed": "1",
        "id_list": f"{ents['a'].id},{ents['hz'].id}"})
    assert refused.status_code == 404
    assert officers(session, ents["a"], ents["hz"]) == [None, None]


@pytest.mark.parametrize("data, message", [
    ({}, "请先勾选企业"),
    ({"id_list": "1,abc"}, "所选企业无效"),
    ({"id_list": "1,-2"}, "所选企业无效"),
    ({"id_list": "99999999999"}, "所选企业无效"),
    ({"id_list": ",".join(str(i) for i in range(1, 5003))}, "一次最多处理 5000 家企业"),
    ({"ids": ["x"]}, "所选企业无效"),
])
def test_hostile_or_empty_selections_are_refused_in_chinese(login_as, people, ents, session, data, message):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    before = events(session)
    refused = officer.post("/enterprises/bulk", data={"csrf_token": token, "action": "assign",
                                                      "officer_id": str(people["tz"].id), **data})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert events(session) == before


def test_unknown_actions_readers_and_missing_tokens_are_refused(login_as, people, ents, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/enterprises"))
    ids = {"ids": [str(ents["a"].id)], "officer_id": str(people["tz"].id), "confirmed": "1"}
    assert officer.post("/enterprises/bulk", data={"csrf_token": token, "action": "drop", **ids}).status_code == 400
    assert officer.post("/enterprises/bulk", data={"action": "assign", **ids}).status_code == 400
    auditor = login_as("auditor", "331000")
    token = csrf_from(page(auditor, "/enterprises"))
    assert auditor.post("/enterprises/bulk", data={"csrf_token": token, "action": "assign", **ids}).status_code == 403
    assert officers(session, ents["a"]) == [None]


def test_export_selection_holds_the_ticked_enterprises_only(login_as, people, ents, session):
    auditor = login_as("auditor", "331000")
    token = csrf_from(page(auditor, "/enterprises"))
    ticked = {"csrf_token": token, "ids": [str(ents["a"].id), str(ents["c"].id)]}
    book = auditor.post("/enterprises/bulk", data={**ticked, "action": "export_xlsx"})
    assert book.status_code == 200
    names = sorted(row[1] for row in read_xlsx(book.data)[1:])
    assert names == ["椒江甲模具有限公司", "黄岩丙模具有限公司"]
    text = auditor.post("/enterprises/bulk", data={**ticked, "action": "export_csv"}).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3 and "椒江乙泵业有限公司" not in text
    matching = auditor.post("/enterprises/bulk", data={"csrf_token": token, "action": "export_csv",
                                                       "all_matching": "1", "f_q": "椒江"}).data.decode("utf-8-sig")
    assert "椒江甲模具有限公司" in matching and "椒江乙泵业有限公司" in matching and "黄岩" not in matching
    hidden = auditor.post("/enterprises/bulk", data={"csrf_token": token, "action": "export_csv",
                                                     "ids": [str(ents["hz"].id)]}).data.decode("utf-8-sig")
    assert "杭州丁模具有限公司" not in hidden  # another city's id exports nothing
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "export.roster")) >= 3
