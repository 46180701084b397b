"""Who acts and what they may do: roles, the permission table and the region scope.

A person acts through the web or API, a token on their behalf, an operator through the CLI, and
the scheduler as a named job. Services receive an Actor and check it here; nothing reads a
request or a global.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from registry.domain.regions import contains


class Role(StrEnum):
    """What a user is allowed to do (SPEC §6; the codes are a contract)."""

    ADMIN = "admin"
    OFFICER = "officer"
    AUDITOR = "auditor"
    LEADER = "leader"
    SYSADMIN = "sysadmin"
    SECADMIN = "secadmin"
    AUDITADMIN = "auditadmin"


class Action(StrEnum):
    """Things an actor may be allowed to do."""

    READ = "read"  #: business data (enterprises, titles, rosters, dashboards)
    WRITE = "write"  #: business changes
    READ_AUDIT = "read_audit"  #: the audit trail of the actor's region (all of it nationwide)
    IMPORT = "import"
    CONFIRM = "confirm"  #: the second person of a four-eyes business action
    MANAGE_USERS = "manage_users"  #: propose account changes (they wait for a security administrator)
    APPROVE_ACCOUNTS = "approve_accounts"  #: approve or reject proposed account changes
    VIEW_ACCOUNTS = "view_accounts"  #: list accounts and pending account changes
    MANAGE_SESSIONS = "manage_sessions"  #: list and end other users' sessions and tokens
    READ_SECURITY = "read_security"  #: the security events of the trail (logins, sessions, tokens, accounts)
    #: see an enterprise contact's name, phone and e-mail in full (asked for each time, audited as pi.unmask);
    #: everyone else — and these roles too until they ask — sees them masked (docs/security.md)
    UNMASK_PI = "unmask_pi"
    SET_SECURITY_POLICY = "set_security_policy"  #: change the security policy (password, session, login values)


#: 三员分立 (SPEC §6, issue 16 §4): the three administrator roles, never held by one person
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})
_BUSINESS_WRITER = frozenset({Action.READ, Action.WRITE, Action.READ_AUDIT, Action.IMPORT, Action.CONFIRM,
                              Action.UNMASK_PI})

GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: _BUSINESS_WRITER,
    Role.OFFICER: _BUSINESS_WRITER,
    Role.AUDITOR: frozenset({Action.READ, Action.READ_AUDIT}),
    Role.LEADER: frozenset({Action.READ}),
    # accounts and settings; no business data, no audit reading
    Role.SYSADMIN: frozenset({Action.MANAGE_USERS, Action.VIEW_ACCOUNTS, Action.MANAGE_SESSIONS}),
    # approves account changes, reads security events
    Role.SECADMIN: frozenset({Action.APPROVE_ACCOUNTS, Action.VIEW_ACCOUNTS, Action.MANAGE_SESSIONS,
                              Action.READ_SECURITY, Action.SET_SECURITY_POLICY}),
    # reads and exports the whole trail (administrators' actions included); writes nothing
    Role.AUDITADMIN: frozenset({Action.READ_AUDIT}),
}

ROLE_NAMES = {Role.ADMIN: "业务管理员", Role.OFFICER: "业务人员", Role.AUDITOR: "审计人员", Role.LEADER: "领导",
              Role.SYSADMIN: "系统管理员", Role.SECADMIN: "安全管理员", Role.AUDITADMIN: "审计管理员"}
#: who acts as a person (four-eyes and account approval apply); cli and job are the operator and the scheduler
PERSON_KINDS = frozenset({"user", "token"})
#: the operator's command line and the scheduler act with every grant (named in the trail)
SYSTEM_KINDS = frozenset({"cli", "job"})


@dataclass(frozen=True)
class Actor:
    """Someone or something making a change: kind is user, token, cli or job."""

    kind: str
    name: str
    role: Role
    region_code: str
    user_id: int | None = None
    token_id: int | None = None
    ip: str | None = None
    request_id: str | None = None
    #: the browser session this person acts in passed the second factor (TOTP or a recovery code)
    second_factor: bool = False

    @property
    def label(self) -> str:
        """Return how the audit trail names the actor."""
        return f"{self.kind}:{self.name}"


def system_actor(kind: str, name: str) -> Actor:
    """Return an actor for the CLI or a job: nationwide admin rights, named in the trail."""
    return Actor(kind=kind, name=name, role=Role.ADMIN, region_code="000000")


def can(actor: Actor, action: Action) -> bool:
    """Tell whether the actor's role allows `action` (the CLI and jobs may do everything)."""
    return actor.kind in SYSTEM_KINDS or action in GRANTS[actor.role]


def require(actor: Actor, action: Action) -> None:
    """Refuse an action the role does not allow. :raises PermissionDenied:"""
    if not can(actor, action):
        raise PermissionDenied(
            f"{ROLE_NAMES[actor.role]}无权执行此操作 / role {actor.role.value} may not {action.value}")


def single_role(roles: object) -> Role:
    """Return the one role of `roles` (a code, or a list of codes); refuse an unknown code and any two
    of the three administrator roles together (三员分立). :raises RuleViolation: naming `role`."""
    written = [roles] if isinstance(roles, str) else list(roles) if isinstance(roles, list | tuple) else [roles]
    codes = [str(c).strip() for item in written for c in str(item).split(",") if str(c).strip()]
    unknown = [c for c in codes if c not in Role._value2member_map_]
    if unknown or not codes:
        names = "、".join(f"{n}（{r.value}）" for r, n in ROLE_NAMES.items())
        raise RuleViolation.on("role", f"角色应为以下之一：{names}")
    chosen = {Role(c) for c in codes}
    if len(chosen & ADMIN_ROLES) > 1:
        raise RuleViolation.on("role", "系统管理员、安全管理员、审计管理员三者不得由同一人兼任（三员分立）")
    if len(chosen) > 1:
        raise RuleViolation.on("role", "一个账号只能有一个角色")
    return chosen.pop()


def in_scope(actor: Actor, region_code: str) -> bool:
    """Tell whether `region_code` lies in the actor's region (000000 is the whole country)."""
    return actor.region_code == "000000" or contains(actor.region_code, region_code)


def require_scope(actor: Actor, region_code: str, what: str = "记录") -> None:
    """Refuse a record outside the actor's region as if it did not exist. :raises NotFound:"""
    if not in_scope(actor, region_code):
        raise NotFound(f"{what}不存在 / not found")
