"""修改基本信息: form → preview of each change (old → new) → a required reason → save only what changed;
a new USCC filed for a second person; nothing written before the confirmation; region scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from registry.proposals.models import Proposal
from tests.factories import make_enterprise, make_uscc
from tests.web.fixtures import csrf_from
from tests.web.pages import edit_enterprise, hidden_fields, page


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司",
                           industry_code="C34", size_class="small")
    session.commit()
    return made


@pytest.fixture
def officer(login_as):
    return login_as("officer", "331000")


def form_of(client, ent, **changes) -> dict[str, str]:
    """The edit form as the page fills it, with `changes` typed over it."""
    html = page(client, f"/enterprises/{ent.id}")
    fields = {k: v for k, v in hidden_fields(html).items() if k.startswith("edit-")}
    base = {"edit-name": ent.name, "edit-uscc": ent.uscc, "edit-region_code": ent.region_code,
            "edit-industry_code": ent.industry_code or "", "edit-size_class": ent.size_class or "",
            "edit-founded_on": "", "edit-officer_id": ""}
    return {**fields, **base, **{f"edit-{k}": v for k, v in changes.items()}}


def events(session, ent) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.enterprise_id == ent.id,
                                                            AuditEvent.action == "enterprise.updated")))


def test_the_preview_shows_only_the_changed_fields_and_writes_nothing(officer, ent, session):
    data = form_of(officer, ent, name="台州精密模具股份有限公司", size_class="medium")
    html = page(officer, f"/enterprises/{ent.id}")
    preview = officer.post(f"/enterprises/{ent.id}", data={"csrf_token": csrf_from(html), **data})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "请确认：修改基本信息" in text
    assert "台州精密模具有限公司" in text and "台州精密模具股份有限公司" in text
    assert "小型" in text and "中型" in text and "企业规模" in text
    assert "行业代码" not in text.split("将修改的内容")[1].split("</table>")[0]  # unchanged: not listed
    assert "修改原因" in text and 'name="confirmed" value="1"' in text
    session.expire_all()
    assert session.get(Enterprise, ent.id).name == "台州精密模具有限公司" and events(session, ent) == []


def test_confirming_without_a_reason_is_refused_and_changes_nothing(officer, ent, session):
    data = form_of(officer, ent, name="改了名的公司")
    html = page(officer, f"/enterprises/{ent.id}")
    for reason in ("", "   "):
        refused = officer.post(f"/enterprises/{ent.id}",
                               data={"csrf_token": csrf_from(html), **data, "confirmed": "1", "reason": reason})
        assert refused.status_code == 422 and "请填写修改原因" in refused.get_data(as_text=True)
    too_long = officer.post(f"/enterprises/{ent.id}",
                            data={"csrf_token": csrf_from(html), **data, "confirmed": "1", "reason": "因" * 501})
    assert too_long.status_code == 422 and "修改原因最多 500 个字" in too_long.get_data(as_text=True)
    session.expire_all()
    assert session.get(Enterprise, ent.id).name == ent.name and events(session, ent) == []


def test_saving_writes_only_what_changed_with_the_reason_in_the_trail(officer, ent, session):
    _, saved = edit_enterprise(officer, ent.id, form_of(officer, ent, name="台州精密模具股份有限公司"),
                               reason="依据营业执照变更登记")
    assert saved.status_code == 302
    [event] = events(session, ent)
    assert set(event.changes) == {"name"} and event.changes["name"] == ["台州精密模具有限公司", "台州精密模具股份有限公司"]
    assert event.note == "依据营业执照变更登记"
    again = session.get(Enterprise, ent.id)
    assert (again.version, again.size_class, again.industry_code) == (2, "small", "C34")


def test_an_unchanged_form_saves_nothing(officer, ent, session):
    html = page(officer, f"/enterprises/{ent.id}")
    same = officer.post(f"/enterprises/{ent.id}", data={"csrf_token": csrf_from(html), **form_of(officer, ent)},
                        follow_redirects=True)
    assert same.status_code == 200 and "没有修改任何内容" in same.get_data(as_text=True)
    assert events(session, ent) == []
    assert session.get(Enterprise, ent.id).version == 1


def test_a_new_uscc_is_previewed_then_filed_for_a_second_person_not_saved(officer, ent, session):
    new = make_uscc("331002")
    preview, filed = edit_enterprise(officer, ent.id, form_of(officer, ent, uscc=new), reason="原代码录入错误")
    assert "不会立即生效" in preview and new in preview and "提交变更申请" in preview
    assert filed.status_code == 302
    session.expire_all()
    assert session.get(Enterprise, ent.id).uscc == ent.uscc and events(session, ent) == []
    proposal = session.scalars(sa.select(Proposal).where(Proposal.target_id == ent.id)).one()
    assert (proposal.kind, proposal.payload["uscc"], proposal.note) == ("enterprise.uscc", new, "原代码录入错误")


def test_a_refused_change_is_refused_at_the_preview(officer, ent, session, admin):
    other = make_enterprise(session, admin, region_code="331002")
    session.commit()
    html = page(officer, f"/enterprises/{ent.id}")
    taken = officer.post(f"/enterprises/{ent.id}",
                         data={"csrf_token": csrf_from(html), **form_of(officer, ent, uscc=other.uscc)})
    assert taken.status_code == 409 and "已登记" in taken.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_going_back_keeps_what_was_typed(officer, ent, session):
    html = page(officer, f"/enterprises/{ent.id}")
    back = officer.post(f"/enterprises/{ent.id}", data={
        "csrf_token": csrf_from(html), **form_of(officer, ent, name="返回后仍在的名称"), "back": "1"})
    assert back.status_code == 200 and 'value="返回后仍在的名称"' in back.get_data(as_text=True)
    assert events(session, ent) == []


def test_another_citys_officer_can_neither_preview_nor_save(login_as, ent, session):
    hangzhou = login_as("officer", "330100")
    html = page(hangzhou, "/enterprises")
    data = {"edit-version": "1", "edit-name": "杭州改的名", "edit-uscc": ent.uscc, "edit-region_code": ent.region_code}
    for extra in ({}, {"confirmed": "1", "reason": "越权"}):
        response = hangzhou.post(f"/enterprises/{ent.id}", data={"csrf_token": csrf_from(html), **data, **extra})
        assert response.status_code == 404
    assert events(session, ent) == []


def test_without_the_csrf_token_nothing_is_saved(officer, ent, session):
    page(officer, f"/enterprises/{ent.id}")
    data = {k: v for k, v in form_of(officer, ent, name="无令牌").items() if not k.endswith("csrf_token")}
    response = officer.post(f"/enterprises/{ent.id}", data={**data, "confirmed": "1", "reason": "x"})
    assert response.status_code == 400 and events(session, ent) == []
