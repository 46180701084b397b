"""The security policy in force: the environment's values with the security administrator's changes
(issue 16 §4). Services take it explicitly; views read it once per request (`access.security_settings`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from registry.accounts.models import SecurityPolicy
from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require
from registry.domain.security_policy import RULES, checked

ROW = 1  #: the policy is one row


def overrides(session: Session) -> dict[str, int]:
    """The values the security administrator set (only known names, within bounds; others ignored)."""
    row = session.get(SecurityPolicy, ROW)
    if row is None:
        return {}
    return {name: int(value) for name, value in (row.values or {}).items() if name in RULES}


def effective(session: Session, settings: Settings) -> Settings:
    """The settings with the security administrator's policy values in force."""
    values: dict[str, Any] = overrides(session)
    if "second_factor_required_for_all" in values:
        values["second_factor_required_for_all"] = bool(values["second_factor_required_for_all"])
    return settings.with_overrides(**values) if values else settings


def current_values(session: Session, settings: Settings) -> dict[str, int]:
    """Every policy value in force, by name (for the page)."""
    now = effective(session, settings)
    return {name: int(getattr(now, name)) for name in RULES}


def set_policy(session: Session, *, actor: Actor, changes: dict[str, Any], settings: Settings, at: datetime) -> dict[str, int]:
    """Change policy values (a security administrator); audited with before and after. Never commits.
    :raises PermissionDenied, RuleViolation: naming the field."""
    require(actor, Action.SET_SECURITY_POLICY)
    clean = checked(changes)
    before = current_values(session, settings)
    row = session.get(SecurityPolicy, ROW)
    if row is None:
        row = SecurityPolicy(id=ROW, values={}, updated_at=at, updated_by=actor.label)
        session.add(row)
    merged = {**(row.values or {}), **clean}
    row.values, row.updated_at, row.updated_by = merged, at, actor.label
    session.flush()
    after = current_values(session, settings)
    diff = {name: [before[name], after[name]] for name in RULES if before[name] != after[name]}
    if diff:
        audit.record(session, actor=actor, action="security.policy_changed", entity_type="security_policy",
                     entity_id=ROW, region_code=actor.region_code, changes=diff, at=at)
    return after
