"""The audit filter finds an enterprise by name or USCC (any part, full-width folded) and an actor by 姓名 or
username — no internal id to type; several matches are offered to choose from; the region scope holds."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.enterprises.services import update_enterprise
from tests.conftest import NOW
from tests.factories import make_enterprise
from tests.web.pages import page, unlabelled


@pytest.fixture
def ents(session, admin):
    made = {"mould": make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司"),
            "pump": make_enterprise(session, admin, region_code="331002", name="台州新界泵业有限公司"),
            "hz": make_enterprise(session, admin, region_code="330102", name="杭州西湖模具有限公司")}
    session.commit()
    return made


def ev(session, ent) -> list[int]:
    return list(session.scalars(sa.select(AuditEvent.id).where(AuditEvent.enterprise_id == ent.id)))


def shown(html: str, ids: list[int]) -> bool:
    return all(f'"ev-{i}"' in html for i in ids)


def hidden(html: str, ids: list[int]) -> bool:
    return not any(f'"ev-{i}"' in html for i in ids)


def test_one_match_by_name_or_uscc_narrows_to_it(login_as, session, ents):
    auditor = login_as("auditor", "331000")
    mould, pump = ev(session, ents["mould"]), ev(session, ents["pump"])
    html = page(auditor, "/audit?enterprise=" + quote("精密模具"))
    assert shown(html, mould) and hidden(html, pump) and "只看企业：台州精密模具有限公司" in html
    assert unlabelled(html) == []
    wide = ents["pump"].uscc[-8:].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"})
    html = page(auditor, "/audit?enterprise=" + quote(wide))  # a USCC fragment typed in full-width
    assert shown(html, pump) and hidden(html, mould)


def test_several_matches_are_offered_and_nothing_is_narrowed(login_as, session, ents):
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/audit?enterprise=" + quote("台州"))
    assert "有多家企业符合「台州」" in html and f"enterprise_id={ents['mould'].id}" in html
    assert f"enterprise_id={ents['pump'].id}" in html and "杭州西湖模具" not in html
    assert shown(html, ev(session, ents["mould"]) + ev(session, ents["pump"]))


def test_no_match_says_so_beside_the_field(login_as, session, ents):
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/audit?enterprise=" + quote("不存在的企业"))
    assert "没有找到名称或统一社会信用代码包含该内容的企业" in html and 'aria-invalid="true"' in html


def test_another_regions_enterprise_is_not_found_by_name(login_as, session, ents):
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/audit?enterprise=" + quote("西湖模具"))
    assert "没有找到" in html and hidden(html, ev(session, ents["hz"])) and "杭州西湖模具" not in html
    html = page(auditor, f"/audit?enterprise_id={ents['hz'].id}")
    assert "杭州西湖模具" not in html and "共 0 条审计记录" in html


def test_an_actor_is_found_by_name(login_as, make_user, session, admin, ents):
    officer = make_user("officer", "331000", username="tz_wang")
    officer.display_name = "王芳"
    session.commit()
    actor = officer_actor(officer)
    update_enterprise(session, actor=actor, enterprise_id=ents["pump"].id, data={"name": "台州新界泵业股份有限公司"},
                      version=ents["pump"].version, at=NOW)
    session.commit()
    [mine] = session.scalars(sa.select(AuditEvent.id).where(AuditEvent.actor_user_id == officer.id,
                                                            AuditEvent.action == "enterprise.updated")).all()
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/audit?actor=" + quote("王芳"))
    assert shown(html, [mine]) and hidden(html, ev(session, ents["mould"]))
    assert shown(page(auditor, "/audit?actor=tz_wa"), [mine])


def officer_actor(user: User):
    from registry.domain.actors import Actor, Role
    return Actor(kind="user", name=user.username, role=Role(user.role), region_code=user.region_code, user_id=user.id)
