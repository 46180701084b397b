"""指定服务专员 on the enterprise page: picked by name, previewed (now → then), confirmed with a reason, audited;
only active officers or business admins covering the enterprise's region; never an auditor; region scope."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from tests.factories import make_enterprise
from tests.web.fixtures import csrf_from
from tests.web.pages import page


@pytest.fixture
def people(make_user):
    return {
        "tz": make_user("officer", "331000", username="tz_officer"),
        "jj": make_user("officer", "331002", username="jj_officer"),
        "hz": make_user("officer", "330100", username="hz_officer"),
        "aud": make_user("auditor", "331000", username="tz_auditor"),
        "lead": make_user("leader", "331000", username="tz_leader"),
    }


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司")
    session.commit()
    return made


def assigned(session, ent) -> list[AuditEvent]:
    session.expire_all()
    return [e for e in session.scalars(sa.select(AuditEvent).where(
        AuditEvent.enterprise_id == ent.id, AuditEvent.action == "enterprise.updated")) if "officer_id" in e.changes]


def picker(html: str) -> str:
    return re.search(r'<select id="assign-officer".*?</select>', html, re.S).group(0)


def test_the_picker_offers_names_of_those_who_may_serve_only(login_as, people, ent):
    officer = login_as("officer", "331000")
    options = picker(page(officer, f"/enterprises/{ent.id}"))
    assert "tz_officer（台州市）" in options and "jj_officer（椒江区）" in options
    assert "hz_officer" not in options and "tz_auditor" not in options and "tz_leader" not in options
    assert "不指定（取消服务专员）" in options


def test_preview_then_confirm_assigns_with_the_reason_in_the_trail(login_as, people, ent, session):
    officer = login_as("officer", "331000")
    url = f"/enterprises/{ent.id}/officer"
    token = csrf_from(page(officer, f"/enterprises/{ent.id}"))
    preview = officer.post(url, data={"csrf_token": token, "officer_id": str(people["jj"].id)})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "请确认" in text and "jj_officer（椒江区）" in text and "其中 1 家将改变" in text
    assert assigned(session, ent) == [] and session.get(Enterprise, ent.id).officer_id is None
    done = officer.post(url, data={"csrf_token": csrf_from(text), "officer_id": str(people["jj"].id), "confirmed": "1",
                                   "reason": "按片区分工"})
    assert done.status_code == 302
    [event] = assigned(session, ent)
    assert event.changes["officer_id"] == [None, people["jj"].id] and event.note == "按片区分工"
    assert session.get(Enterprise, ent.id).officer_id == people["jj"].id
    again = officer.post(url, data={"csrf_token": token, "officer_id": str(people["jj"].id), "confirmed": "1"},
                         follow_redirects=True)
    assert "另 1 家原已如此" in again.get_data(as_text=True) and len(assigned(session, ent)) == 1  # twice: once
    removed = officer.post(url, data={"csrf_token": token, "officer_id": "none", "confirmed": "1"})
    assert removed.status_code == 302 and session.get(Enterprise, ent.id).officer_id is None


@pytest.mark.parametrize("who", ["aud", "lead", "hz"])
def test_an_auditor_a_leader_or_another_citys_officer_is_never_assigned(login_as, people, ent, session, who):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, f"/enterprises/{ent.id}"))
    for extra in ({}, {"confirmed": "1"}):
        refused = officer.post(f"/enterprises/{ent.id}/officer",
                               data={"csrf_token": token, "officer_id": str(people[who].id), **extra})
        assert refused.status_code == 422 and "不能担任" in refused.get_data(as_text=True)
    assert assigned(session, ent) == []


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999", "0", "１２"])
def test_a_missing_or_hostile_choice_is_a_clear_422(login_as, people, ent, session, value):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, f"/enterprises/{ent.id}"))
    refused = officer.post(f"/enterprises/{ent.id}/officer", data={"csrf_token": token, "officer_id": value,
                                                                   "confirmed": "1"})
    assert refused.status_code == 422 and "请选择服务专员" in refused.get_data(as_text=True)
    assert assigned(session, ent) == []


def test_an_unknown_user_is_refused(login_as, people, ent, session):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, f"/enterprises/{ent.id}"))
    refused = officer.post(f"/enterprises/{ent.id}/officer", data={"csrf_token": token, "officer_id": "987654"})
    assert refused.status_code == 422 and "所选服务专员不存在" in refused.get_data(as_text=True)


def test_another_city_cannot_touch_it_and_readers_cannot_assign(login_as, people, ent, session):
    hangzhou = login_as("officer", "330100")
    token = csrf_from(page(hangzhou, "/enterprises"))
    assert hangzhou.post(f"/enterprises/{ent.id}/officer", data={
        "csrf_token": token, "officer_id": str(people["hz"].id), "confirmed": "1"}).status_code == 404
    auditor = login_as("auditor", "331000")
    token = csrf_from(page(auditor, "/enterprises"))
    assert auditor.post(f"/enterprises/{ent.id}/officer", data={
        "csrf_token": token, "officer_id": str(people["tz"].id), "confirmed": "1"}).status_code == 403
    assert "assign-officer" not in page(auditor, f"/enterprises/{ent.id}")
    assert assigned(session, ent) == []


def test_without_the_csrf_token_nothing_is_assigned(login_as, people, ent, session):
    officer = login_as("officer", "331000")
    refused = officer.post(f"/enterprises/{ent.id}/officer", data={"officer_id": str(people["tz"].id),
                                                                   "confirmed": "1"})
    assert refused.status_code == 400 and assigned(session, ent) == []
