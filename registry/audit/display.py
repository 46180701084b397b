"""How an audit event reads to a person: Chinese field and action names, before/after, the enterprise's history
(shared by the audit page and the enterprise page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from registry.audit.models import AuditEvent
from registry.audit.queries import (
    ENTITY_NAMES,
    AuditFilter,
    FieldChange,
    action_name,
    entity_name,
    field_changes,
    search,
    shown_changes,
)
from registry.domain.actors import Actor
from registry.enterprises.models import SIZE_NAMES, Enterprise
from registry.platform.extensions import get_session
from registry.web import labels
from registry.web.pages.helpers import region_name, tier_name

HISTORY_PER_PAGE = 50  #: events of an enterprise shown on its page (the audit page shows as many per page)


def local_seconds(at: datetime) -> str:
    """Show a UTC instant in the configured zone (北京时间) to the second, as the trail needs."""
    return at.astimezone(ZoneInfo(current_app.config["REGISTRY"].timezone)).strftime("%Y-%m-%d %H:%M:%S")


def reason_label(code: str | None) -> str:
    """Return a reason code's Chinese name (a flag's cause or any policy's revocation reason)."""
    return labels.reason_name(code)


#: codes the trail stores that a person reads better by name (the export keeps the codes)
CODE_NAMES: dict[str, Callable[[str], str]] = {
    "tier": tier_name,
    "region_code": region_name,
    "size_class": lambda code: SIZE_NAMES.get(code, code),
}


def _raw(value: Any) -> tuple[Any, Any]:
    return tuple(value) if isinstance(value, list) and len(value) == 2 else (None, value)  # type: ignore[return-value]


def readable(change: FieldChange, entity_type: str = "", raw: Any = None) -> FieldChange:
    """Name the codes in a changed field (tiers, regions, sizes, policies, reasons, users, statuses, JSON)."""
    name = CODE_NAMES.get(change.field)
    if name is not None:
        return replace(change, before=name(change.before) if change.before else "",
                       after=name(change.after) if change.after else "")
    before, after = _raw(raw)
    return replace(change, before=labels.field_value(entity_type, change.field, before, change.before),
                   after=labels.field_value(entity_type, change.field, after, change.after))


def plain_action(code: str) -> str:
    """Return an action's Chinese name; an action without one is named by its kind of record."""
    name = action_name(code)
    if name != code:
        return name
    kind, _, verb = code.partition(".")
    return f"{entity_name(kind) if kind in ENTITY_NAMES else '记录'}：{VERB_NAMES.get(verb, '其他操作')}"


#: the verbs of actions that have no name of their own yet
VERB_NAMES = {"created": "新建", "updated": "修改", "deleted": "删除", "applied": "已导入", "validated": "已校验",
              "queued": "已排队", "failed": "失败", "sent": "已发送", "resent": "重发", "run": "运行", "started": "开始",
              "finished": "完成", "revoked": "吊销", "locked": "锁定", "unlocked": "解锁"}


@dataclass(frozen=True)
class EventView:
    """One event as a person reads it."""

    event: AuditEvent
    actor: str
    action: str
    entity: str
    enterprise_name: str | None
    changes: list[FieldChange]
    reason: str


def event_views(session: Session, events: list[AuditEvent]) -> list[EventView]:
    """Return readable views of `events`, with the names of their enterprises (one query)."""
    ids = {e.enterprise_id for e in events if e.enterprise_id is not None}
    stmt = sa.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))
    names: dict[int, str] = {i: n for i, n in session.execute(stmt)} if ids else {}
    return [EventView(e, labels.actor_name(e.actor_kind, e.actor_name), plain_action(e.action),
                      entity_name(e.entity_type) + (f" #{e.entity_id}" if e.entity_id is not None else ""),
                      names.get(e.enterprise_id),
                      [readable(c, e.entity_type, shown_changes(e.entity_type, e.changes or {}).get(c.field))
                       for c in field_changes(e.entity_type, e.changes or {})],
                      reason_label(e.reason_code))
            for e in events]


def enterprise_history(actor: Actor, enterprise_id: int) -> tuple[list[EventView], int]:
    """Return the newest page of an enterprise's trail and how many events it has in all."""
    session = get_session()
    events, total = search(session, actor, AuditFilter(enterprise_id=enterprise_id), 1, HISTORY_PER_PAGE)
    return event_views(session, events), total
