"""How an audit event reads to a person: Chinese field and action names, before/after, the enterprise's history
(shared by the audit page and the enterprise page)."""

from __future__ import annotations

import re
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
from registry.pipeline.models import Batch, Pool
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
    return f"{entity_name(kind) if kind in ENTITY_NAMES else '其他记录'}：{VERB_NAMES.get(verb, '其他操作')}"


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
    subject: str = ""  #: the object by name: the enterprise (and its USCC), the user, the batch, the pool
    summary: str = ""  #: one line: the first changes, then the reason or note


SUMMARY_FIELDS = 3  #: changes named in a row's summary before "等 N 项"
_ASCII_KEY = re.compile(r"^[\x00-\x7f]+$")


def plain_entity(entity_type: str) -> str:
    """Return a kind of record's Chinese name; an unnamed kind reads 其他记录 (never the code)."""
    name = entity_name(entity_type)
    return "其他记录" if name == entity_type and _ASCII_KEY.match(entity_type or "") else name


def plain_field(change: FieldChange) -> FieldChange:
    """Give a field without a Chinese name the generic 其他信息 (never the key)."""
    if change.label == change.field and _ASCII_KEY.match(change.field):
        return replace(change, label="其他信息")
    return change


def actor_display(e: AuditEvent) -> str:
    """Who acted, by name: a user's 姓名 (else 用户名), a job's or a command's Chinese name."""
    if e.actor_kind == "user" and e.actor_user_id is not None:
        return labels.actor_name(e.actor_kind, labels.user_name(e.actor_user_id) or e.actor_name)
    return labels.actor_name(e.actor_kind, e.actor_name)


def summary_of(reason: str, e: AuditEvent, changes: list[FieldChange]) -> str:
    """One line for the compact row: the first changes, then the reason and note (what changed, then why)."""
    parts = [f"{c.label}：{c.before or '（空）'} → {c.after or '（空）'}" if c.before else f"{c.label}：{c.after or '（空）'}"
             for c in changes[:SUMMARY_FIELDS]]
    more = len(changes) - SUMMARY_FIELDS
    what = "；".join(parts) + (f" 等 {len(changes)} 项" if more > 0 else "")
    said = "；".join(t for t in (reason, e.note or "") if t)
    return f"{what}（{said}）" if what and said else what or said


def _subjects(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """Name the records the events concern that are not enterprises (users, batches, pools): one query each."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.entity_id is not None and e.entity_type in ("user", "batch", "pool"):
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    out: dict[tuple[str, int], str] = {}
    if wanted.get("user"):
        for i in wanted["user"]:
            out[("user", i)] = f"用户 {labels.user_name(i)}"
    if wanted.get("batch"):
        for i, year, name in session.execute(sa.select(Batch.id, Batch.year, Batch.name).where(
                Batch.id.in_(wanted["batch"]))):
            out[("batch", i)] = f"{year}年{name}"
    if wanted.get("pool"):
        for i, year, tier in session.execute(sa.select(Pool.id, Pool.year, Pool.tier).where(
                Pool.id.in_(wanted["pool"]))):
            out[("pool", i)] = f"{year}年{tier_name(tier)}培育库 #{i}"
    return out


def event_views(session: Session, events: list[AuditEvent]) -> list[EventView]:
    """Return readable views of `events`, with the names of their enterprises and records (a query per kind)."""
    ids = {e.enterprise_id for e in events if e.enterprise_id is not None}
    stmt = sa.select(Enterprise.id, Enterprise.name, Enterprise.uscc).where(Enterprise.id.in_(ids))
    firms: dict[int, tuple[str, str]] = {i: (n, u) for i, n, u in session.execute(stmt)} if ids else {}
    subjects = _subjects(session, events)
    views = []
    for e in events:
        changes = [plain_field(readable(c, e.entity_type, shown_changes(e.entity_type, e.changes or {}).get(c.field)))
                   for c in field_changes(e.entity_type, e.changes or {})]
        reason = reason_label(e.reason_code)
        entity = plain_entity(e.entity_type) + (f" #{e.entity_id}" if e.entity_id is not None else "")
        firm = firms.get(e.enterprise_id) if e.enterprise_id is not None else None
        if firm is not None:
            subject = f"{firm[0]}（{firm[1]}）"
        else:
            subject = subjects.get((e.entity_type, e.entity_id or 0), entity)
        views.append(EventView(e, actor_display(e), plain_action(e.action), entity, firm[0] if firm else None,
                               changes, reason, subject, summary_of(reason, e, changes)))
    return views


def enterprise_history(actor: Actor, enterprise_id: int) -> tuple[list[EventView], int]:
    """Return the newest page of an enterprise's trail and how many events it has in all."""
    session = get_session()
    events, total = search(session, actor, AuditFilter(enterprise_id=enterprise_id), 1, HISTORY_PER_PAGE)
    return event_views(session, events), total
