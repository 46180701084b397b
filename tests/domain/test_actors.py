"""Who may do what (SPEC §6): the permission table by role, the refusal naming the role in
Chinese, the system actor of the CLI and the jobs, and the region scope (000000 is the whole
country; a record outside the actor's region looks as if it did not exist)."""

import pytest

from registry.domain.actors import (
    ADMIN_ROLES,
    GRANTS,
    PERSON_KINDS,
    ROLE_NAMES,
    SYSTEM_KINDS,
    Action,
    Actor,
    Role,
    can,
    in_scope,
    require,
    require_scope,
    single_role,
    system_actor,
)
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation


def person(role, region="330000"):
    return Actor(kind="user", name="li", role=role, region_code=region, user_id=7)


BUSINESS_WRITER = {Action.READ, Action.WRITE, Action.READ_AUDIT, Action.IMPORT, Action.CONFIRM, Action.UNMASK_PI}


def test_the_permission_table_by_role():
    """SPEC §6 with 三员分立 (issue 16 §4): business roles and the three administrator roles, written out."""
    assert GRANTS[Role.ADMIN] == BUSINESS_WRITER  # an officer who also confirms four-eyes actions
    assert GRANTS[Role.OFFICER] == BUSINESS_WRITER
    assert GRANTS[Role.AUDITOR] == {Action.READ, Action.READ_AUDIT}
    assert GRANTS[Role.LEADER] == {Action.READ}
    assert GRANTS[Role.SYSADMIN] == {Action.MANAGE_USERS, Action.VIEW_ACCOUNTS, Action.MANAGE_SESSIONS}
    assert GRANTS[Role.SECADMIN] == {Action.APPROVE_ACCOUNTS, Action.VIEW_ACCOUNTS, Action.MANAGE_SESSIONS,
                                     Action.READ_SECURITY, Action.SET_SECURITY_POLICY}
    assert GRANTS[Role.AUDITADMIN] == {Action.READ_AUDIT}
    for role in Role:
        for action in Action:
            assert can(person(role), action) is (action in GRANTS[role])


def test_accounts_are_the_system_administrators_and_an_auditor_only_reads():
    assert can(person(Role.SYSADMIN), Action.MANAGE_USERS)
    assert not can(person(Role.ADMIN), Action.MANAGE_USERS)  # no business role manages accounts
    assert not can(person(Role.OFFICER), Action.MANAGE_USERS)
    assert not can(person(Role.SYSADMIN), Action.READ_AUDIT) and not can(person(Role.SYSADMIN), Action.READ)
    assert not can(person(Role.AUDITOR), Action.WRITE)
    assert not can(person(Role.AUDITOR), Action.IMPORT)


def test_the_command_line_and_the_scheduler_may_do_everything():
    for kind in ("cli", "job"):
        for action in Action:
            assert can(Actor(kind=kind, name="x", role=Role.AUDITOR, region_code="000000"), action)
    assert not can(Actor(kind="token", name="x", role=Role.AUDITOR, region_code="000000"), Action.WRITE)


def test_require_lets_an_allowed_action_through():
    assert require(person(Role.OFFICER), Action.WRITE) is None
    assert require(person(Role.SYSADMIN), Action.MANAGE_USERS) is None


def test_a_refused_action_names_the_role_in_chinese():
    with pytest.raises(PermissionDenied) as refused:
        require(person(Role.AUDITOR), Action.WRITE)
    assert refused.value.message == "审计人员无权执行此操作 / role auditor may not write"
    with pytest.raises(PermissionDenied) as refused:
        require(person(Role.OFFICER), Action.MANAGE_USERS)
    assert refused.value.message == "业务人员无权执行此操作 / role officer may not manage_users"
    assert ROLE_NAMES == {Role.ADMIN: "业务管理员", Role.OFFICER: "业务人员", Role.AUDITOR: "审计人员",
                          Role.LEADER: "领导", Role.SYSADMIN: "系统管理员", Role.SECADMIN: "安全管理员",
                          Role.AUDITADMIN: "审计管理员"}


def test_the_system_actor_is_a_nationwide_admin_named_in_the_trail():
    actor = system_actor("job", "scan")
    assert actor == Actor(kind="job", name="scan", role=Role.ADMIN, region_code="000000")
    assert actor.user_id is None and actor.token_id is None and actor.ip is None and actor.request_id is None
    assert actor.label == "job:scan"
    assert in_scope(actor, "510100")


def test_the_label_is_kind_and_name():
    assert person(Role.OFFICER).label == "user:li"


def test_the_whole_country_sees_every_region():
    assert in_scope(person(Role.AUDITOR, "000000"), "330000")
    assert in_scope(person(Role.AUDITOR, "000000"), "510104")


def test_a_province_sees_its_own_codes_and_no_other_province():
    zhejiang = person(Role.OFFICER, "330000")
    assert in_scope(zhejiang, "330000")
    assert in_scope(zhejiang, "331002")
    assert not in_scope(zhejiang, "510100")
    assert not in_scope(zhejiang, "000000")  # the national level lies above a province
    city = person(Role.OFFICER, "331000")
    assert in_scope(city, "331002")
    assert not in_scope(city, "330000")  # the province lies above the city
    assert not in_scope(city, "330100")


def test_a_record_outside_the_region_is_not_found():
    city = person(Role.OFFICER, "331000")
    assert require_scope(city, "331002") is None
    with pytest.raises(NotFound) as refused:
        require_scope(city, "330100")
    assert refused.value.message == "记录不存在 / not found"
    with pytest.raises(NotFound) as refused:
        require_scope(city, "510100", "企业")
    assert refused.value.message == "企业不存在 / not found"


@pytest.mark.parametrize(("given", "role"), [
    ("officer", Role.OFFICER), (" sysadmin ", Role.SYSADMIN), (["auditor"], Role.AUDITOR), (("leader",), Role.LEADER),
    ("admin,admin", Role.ADMIN), (Role.SECADMIN, Role.SECADMIN), ("officer,", Role.OFFICER), (" , leader", Role.LEADER),
])
def test_a_single_role_is_read_from_a_code_or_a_list(given, role):
    assert single_role(given) is role


@pytest.mark.parametrize(("given", "message"), [
    ("root", "角色应为以下之一："), ("", "角色应为以下之一："), (None, "角色应为以下之一："), (7, "角色应为以下之一："), ([], "角色应为以下之一："), (["officer", "x"], "角色应为以下之一："),
    ("sysadmin,secadmin", "系统管理员、安全管理员、审计管理员三者不得由同一人兼任（三员分立）"),
    (["secadmin", "auditadmin"], "系统管理员、安全管理员、审计管理员三者不得由同一人兼任（三员分立）"),
    ("officer,auditor", "一个账号只能有一个角色"), ("sysadmin,officer", "一个账号只能有一个角色"),
])
def test_an_unknown_role_or_two_roles_are_refused_naming_the_field(given, message):
    with pytest.raises(RuleViolation) as refused:
        single_role(given)
    assert list(refused.value.errors) == ["role"] and refused.value.errors["role"][0].startswith(message)


def test_the_refusal_lists_every_role_by_name_and_code():
    with pytest.raises(RuleViolation) as refused:
        single_role("root")
    text = refused.value.errors["role"][0]
    assert all(f"{ROLE_NAMES[r]}（{r.value}）" in text for r in Role)
    assert text == "角色应为以下之一：" + "、".join(f"{n}（{r.value}）" for r, n in ROLE_NAMES.items())


def test_people_and_systems_are_told_apart():
    assert PERSON_KINDS == {"user", "token"} and SYSTEM_KINDS == {"cli", "job"}
    assert ADMIN_ROLES == {Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN}
    assert Actor(kind="user", name="x", role=Role.OFFICER, region_code="330000").second_factor is False
