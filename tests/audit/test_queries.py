"""The read side: region scoping (own, parent, child, sibling, nationwide), filters, Beijing date bounds, names."""

from datetime import UTC, datetime

import pytest

from registry.accounts.users import create_user
from registry.audit import trail as audit
from registry.audit.queries import (
    AuditFilter,
    action_name,
    audit_select,
    display_value,
    field_changes,
    field_name,
    search,
    utc_bounds,
)
from registry.domain.actors import Actor, Role
from tests.conftest import NOW, d, officer_of
from tests.factories import make_enterprise

NATIONWIDE = Actor(kind="user", name="root", role=Role.ADMIN, region_code="000000")


def note(session, actor, region, at=NOW, action="test.noted", **kw):
    return audit.record(session, actor=actor, action=action, entity_type="test", entity_id=None,
                        region_code=region, changes={"note": [None, region]}, at=at, **kw)


@pytest.fixture
def trail(session, admin):
    """One event in each of: 椒江 331002, 黄岩 331003, 台州 331000 itself, 西湖 330106, nowhere, nationwide."""
    return {region: note(session, admin, region) for region in ("331002", "331003", "331000", "330106", None, "000000")}


def seen(session, actor, f=None):
    f = f or AuditFilter()
    return {e.region_code for e in session.scalars(audit_select(actor, f))}


@pytest.mark.parametrize(("region", "role", "visible"), [
    ("331002", Role.OFFICER, {"331002"}),                                    # own district only
    ("331003", Role.AUDITOR, {"331003"}),                                    # not the sibling district
    ("331000", Role.OFFICER, {"331002", "331003", "331000"}),                # a city sees its districts
    ("330000", Role.AUDITOR, {"331002", "331003", "331000", "330106"}),      # the province sees all of 33
    ("330100", Role.ADMIN, {"330106"}),                                      # a city admin: their city only
    ("000000", Role.ADMIN, {"331002", "331003", "331000", "330106", None, "000000"}),  # nationwide: everything
])
def test_scope(session, trail, region, role, visible):
    assert seen(session, officer_of(region, role)) == visible


def test_region_filter_narrows_inside_the_scope(session, trail):
    assert seen(session, NATIONWIDE, AuditFilter(region="331000")) == {"331002", "331003", "331000"}
    assert seen(session, officer_of("331002"), AuditFilter(region="330000")) == {"331002"}
    assert seen(session, officer_of("331002"), AuditFilter(region="330106")) == set()


def test_filters(session, admin):
    first = make_enterprise(session, admin)
    second = make_enterprise(session, admin)
    officer = Actor(kind="user", name="zhang_san", role=Role.OFFICER, region_code="331000")
    note(session, officer, "331002", action="enterprise.noted")

    def ids(**kw):
        return [e.id for e in session.scalars(audit_select(NATIONWIDE, AuditFilter(**kw)))]

    assert len(ids(enterprise_id=first.id)) == 1 and len(ids(entity_type="enterprise", entity_id=second.id)) == 1
    assert len(ids(action="enterprise.")) == 3 and len(ids(action="enterprise.created")) == 2
    assert len(ids(action="enterprise.c%")) == 0  # a prefix, not a pattern
    assert len(ids(actor="ZHANG")) == 1 and len(ids(actor="zhang", actor_exact=True)) == 0
    assert len(ids(actor="zhang_san", actor_exact=True)) == 1 and len(ids(actor="user:zhang_san", actor_exact=True)) == 1
    assert ids() == sorted(ids(), reverse=True)  # newest first


def test_dates_are_beijing_days(session, admin):
    late = note(session, admin, "331002", at=datetime(2026, 6, 1, 15, 59, 59, tzinfo=UTC))  # 06-01 23:59:59 北京
    early = note(session, admin, "331002", at=datetime(2026, 6, 1, 16, 0, 0, tzinfo=UTC))   # 06-02 00:00:00 北京
    on_first = [e.id for e in session.scalars(audit_select(admin, AuditFilter(since=d("2026-06-01"), until=d("2026-06-01"))))]
    on_second = [e.id for e in session.scalars(audit_select(admin, AuditFilter(since=d("2026-06-02"))))]
    assert (on_first, on_second) == ([late], [early])
    assert utc_bounds(d("2026-06-01"), d("2026-06-01")) == (datetime(2026, 5, 31, 16, tzinfo=UTC),
                                                            datetime(2026, 6, 1, 16, tzinfo=UTC))


def test_search_pages_and_counts(session, admin, trail):
    page, total = search(session, officer_of("330000", Role.AUDITOR), AuditFilter(), page=2, per_page=3)
    assert total == 4 and [e.region_code for e in page] == ["331002"]


def test_user_created_from_the_cli_is_nationwide_only(session, admin):
    create_user(session, actor=admin, username="root2", role="admin", region_code="000000", email="r@x.cn",
                password="long-enough-1", at=NOW)
    create_user(session, actor=admin, username="tz", role="officer", region_code="331000", email="t@x.cn",
                password="long-enough-1", at=NOW)
    by_province = {e.changes["username"][1] for e in session.scalars(audit_select(officer_of("330000"), AuditFilter()))}
    by_root = {e.changes["username"][1] for e in session.scalars(audit_select(NATIONWIDE, AuditFilter(action="user.")))}
    assert (by_province, by_root) == ({"tz"}, {"root2", "tz"})


def test_chinese_names_and_readable_values():
    assert field_name("enterprise", "contact_email") == "联系邮箱"
    assert field_name("api_token", "name") == "令牌用途" and field_name("enterprise", "name") == "企业名称"
    assert field_name("x", "unknown_field") == "unknown_field"
    assert action_name("certification.revoke") == "撤销" and action_name("enterprise.updated") == "修改企业信息"
    assert (display_value("status", "revoked"), display_value("review_eligible", False), display_value("x", None)) == (
        "已撤销", "否", "")
    rows = field_changes("certification", {"valid_until": ["2026-06-15", "2029-06-15"], "status": ["under_review", "active"]})
    assert [(r.label, r.before, r.after) for r in rows] == [("状态", "复核中", "有效"), ("有效期至", "2026-06-15", "2029-06-15")]
