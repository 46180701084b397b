"""Issue 17 §4: recording and removing a region's annual-update override — who may, what is refused, the trail.

The service (registry/policies/overrides.py) never commits, takes an explicit actor and instant,
records one audit event per change with the 文号, and refuses bad input with a Chinese message
naming the field (nothing written). The page and the API route use it.
"""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.actors import Role
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from registry.policies.models import DeadlineOverride
from registry.policies.overrides import add_override, list_overrides, remove_override
from registry.policies.rules import load_rules
from tests.conftest import NOW, d, officer_of
from tests.web.fixtures import csrf_from

DOC = "台经信〔2026〕12号"


def add(session, actor, rules, **kw):
    data = {"region_code": "331000", "year": 2026, "due_on": d("2026-06-26"), "document_no": DOC, **kw}
    return add_override(session, actor=actor, rules=rules, at=NOW, **data)


def count(session):
    return session.scalar(sa.select(sa.func.count()).select_from(DeadlineOverride))


def test_adding_and_removing_are_audited_with_the_document(session, rules, policies):
    actor = officer_of("330000", Role.ADMIN, user_id=None)
    row = add(session, actor, rules, note="全市延长")
    assert load_rules(session, policies).overrides.for_region("331002", 2026, (4, 30)).due_on == d("2026-06-26")
    remove_override(session, actor=actor, override_id=row.id, at=NOW)
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "deadline_override")
                             .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["deadline_override.added", "deadline_override.removed"]
    added, removed = events
    assert added.changes["due_on"] == [None, "2026-06-26"] and added.changes["region_code"] == [None, "331000"]
    assert added.document_no == DOC and removed.document_no == DOC
    assert (added.actor_name, added.region_code) == (actor.name, "331000")
    assert removed.changes["due_on"] == ["2026-06-26", None]
    assert count(session) == 0
    assert load_rules(session, policies).overrides.for_region("331002", 2026, (4, 30)) is None


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({"region_code": "999999"}, "region_code", "地区"),
    ({"region_code": "331002"}, "region_code", "区县"),
    ({"year": "二〇二六"}, "year", "年度"),
    ({"due_on": "6月26日"}, "due_on", "截止日期"),
    ({"due_on": d("2027-06-26")}, "due_on", "应在 2026 年内"),
    ({"due_on": d("2026-04-20")}, "due_on", "不能早于政策规定的 2026-04-30"),
    ({"document_no": "  "}, "document_no", "文号"),
    ({"document_no": "文" * 201}, "document_no", "文号"),
    ({"note": "说" * 501}, "note", "说明"),
    ({"policy_date": "05-01"}, "policy_date", "调整的事项"),
])
def test_bad_input_is_refused_in_chinese_naming_the_field_and_nothing_is_written(session, admin, rules, kw, field,
                                                                                  words):
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(RuleViolation) as refused:
        add(session, admin, rules, **kw)
    assert field in refused.value.errors
    assert words in refused.value.errors[field][0]
    assert count(session) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_one_override_per_region_year_and_policy_date(session, admin, rules):
    add(session, admin, rules)
    with pytest.raises(RuleViolation) as refused:
        add(session, admin, rules, due_on=d("2026-06-30"))
    assert "已登记" in refused.value.errors["year"][0]
    add(session, admin, rules, policy_date="03-31", due_on=d("2026-04-15"))  # the 31 March report: another date


def test_only_an_admin_of_the_region_records_or_removes(session, admin, rules):
    with pytest.raises(PermissionDenied):
        add(session, officer_of("331000"), rules)  # an officer may not
    with pytest.raises(PermissionDenied):
        add(session, officer_of("331000", Role.LEADER), rules)
    with pytest.raises(RuleViolation) as refused:
        add(session, officer_of("330100", Role.ADMIN), rules)  # 杭州's admin, 台州's node
    assert "管辖范围" in refused.value.errors["region_code"][0]
    row = add(session, officer_of("331000", Role.ADMIN), rules)
    with pytest.raises(NotFound):
        remove_override(session, actor=officer_of("330100", Role.ADMIN), override_id=row.id, at=NOW)
    with pytest.raises(PermissionDenied):
        remove_override(session, actor=officer_of("331000"), override_id=row.id, at=NOW)
    # 台州's officers see it; a district's officer too (it governs them); 杭州's do not
    assert [r.id for r in list_overrides(session, officer_of("331002"), rules)] == [row.id]
    assert list_overrides(session, officer_of("330100"), rules) == []


def test_the_page_lists_adds_refuses_and_removes_in_plain_chinese(session, login_as):
    browser = login_as("admin", "330000")
    page = browser.get("/deadline-overrides")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "截止日期调整" in html and "尚未登记任何调整" in html
    token = csrf_from(html)
    form = {"csrf_token": token, "region_code": "331000", "year": "2026", "policy_date": "04-30",
            "due_on": "2026-04-01", "document_no": DOC, "note": ""}
    refused = browser.post("/deadline-overrides", data=form)
    assert refused.status_code == 422
    assert "不能早于政策规定的 2026-04-30" in refused.get_data(as_text=True) and count(session) == 0
    done = browser.post("/deadline-overrides", data={**form, "due_on": "2026-06-26"})
    assert done.status_code == 302
    listed = browser.get("/deadline-overrides").get_data(as_text=True)
    assert "台州市" in listed and "2026-06-26" in listed and DOC in listed
    row = session.scalars(sa.select(DeadlineOverride)).one()
    gone = browser.post(f"/deadline-overrides/{row.id}/remove", data={"csrf_token": csrf_from(listed)})
    assert gone.status_code == 302 and count(session) == 0


def test_an_officer_sees_the_page_without_the_form(session, login_as):
    html = login_as("officer", "331000").get("/deadline-overrides").get_data(as_text=True)
    assert "已登记的调整" in html and "登记一项调整" not in html


def test_the_api_lists_adds_refuses_and_removes(session, api_as):
    api = api_as("admin", "330000")
    body = {"region_code": "331000", "year": 2026, "due_on": "2026-06-26", "document_no": DOC}
    bad = api.post("/api/v1/deadline-overrides", json={**body, "region_code": "331002"})
    assert bad.status_code == 422 and "区县" in bad.get_json()["errors"]["region_code"][0]
    made = api.post("/api/v1/deadline-overrides", json=body)
    assert made.status_code == 201, made.get_json()
    out = made.get_json()
    assert (out["region_name"], out["due_on"], out["policy_due_on"], out["policy_date"]) == (
        "台州市", "2026-06-26", "2026-04-30", "04-30")
    assert [r["id"] for r in api.get("/api/v1/deadline-overrides?year=2026").get_json()["items"]] == [out["id"]]
    assert api_as("officer", "331000").post("/api/v1/deadline-overrides", json=body).status_code == 403
    assert api.delete(f"/api/v1/deadline-overrides/{out['id']}").status_code == 200
    assert api.delete(f"/api/v1/deadline-overrides/{out['id']}").status_code == 404
