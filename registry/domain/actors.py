"""Who acts and what they may do: roles, the permission table and the region scope.

A person acts through the web or API, a token on their behalf, an operator through the CLI, and
the scheduler as a named job. Services receive an Actor and check it here; nothing reads a
request or a global.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry.domain.errors import NotFound, PermissionDenied
from registry.domain.regions import contains


class Role(StrEnum):
    """What a user is allowed to do (SPEC §6)."""

    ADMIN = "admin"
    OFFICER = "officer"
    AUDITOR = "auditor"


class Action(StrEnum):
    """Things an actor may be allowed to do."""

    READ = "read"
    WRITE = "write"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    IMPORT = "import"


GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OFFICER: frozenset({Action.READ, Action.WRITE, Action.READ_AUDIT, Action.IMPORT}),
    Role.AUDITOR: frozenset({Action.READ, Action.READ_AUDIT}),
}

ROLE_NAMES = {Role.ADMIN: "管理员", Role.OFFICER: "业务人员", Role.AUDITOR: "审计人员"}


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

    @property
    def label(self) -> str:
        """Return how the audit trail names the actor."""
        return f"{self.kind}:{self.name}"


def system_actor(kind: str, name: str) -> Actor:
    """Return an actor for the CLI or a job: nationwide admin rights, named in the trail."""
    return Actor(kind=kind, name=name, role=Role.ADMIN, region_code="000000")


def can(actor: Actor, action: Action) -> bool:
    """Tell whether the actor's role allows `action`."""
    return action in GRANTS[actor.role]


def require(actor: Actor, action: Action) -> None:
    """Refuse an action the role does not allow. :raises PermissionDenied:"""
    if not can(actor, action):
        raise PermissionDenied(
            f"{ROLE_NAMES[actor.role]}无权执行此操作 / role {actor.role.value} may not {action.value}")


def in_scope(actor: Actor, region_code: str) -> bool:
    """Tell whether `region_code` lies in the actor's region (000000 is the whole country)."""
    return actor.region_code == "000000" or contains(actor.region_code, region_code)


def require_scope(actor: Actor, region_code: str, what: str = "记录") -> None:
    """Refuse a record outside the actor's region as if it did not exist. :raises NotFound:"""
    if not in_scope(actor, region_code):
        raise NotFound(f"{what}不存在 / not found")
