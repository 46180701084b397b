"""Saved roster filters (保存的筛选): a user names the roster's current filter, applies it later, deletes it.

Each user's own: listed, applied and deleted only by the user who saved it (another user's id is
"not found"). The query string stored is the one the roster built from its validated filter, so a
saved filter never carries what the roster would not accept. Saving and deleting are audited
(`saved_filter.created` / `saved_filter.deleted`) like every other change of data.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.text import clean_text
from registry.roster.models import SavedFilter

MAX_NAME = 64
MAX_QUERY = 1000
MAX_PER_USER = 50


def saved_filters(session: Session, actor: Actor) -> list[SavedFilter]:
    """The actor's saved filters, by name."""
    if actor.user_id is None:
        return []
    return list(session.scalars(sa.select(SavedFilter).where(SavedFilter.user_id == actor.user_id)
                                .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(session: Session, *, actor: Actor, name: str, query: str, at: datetime) -> SavedFilter:
    """Save the roster's `query` under `name` for the actor. :raises RuleViolation: on `name`. :raises Conflict:"""
    require(actor, Action.READ)
    if actor.user_id is None:
        raise RuleViolation.on("name", "只有登录的用户可以保存筛选 / only a signed-in user saves filters")
    name = clean_text(name or "").strip()
    if not name:
        raise RuleViolation.on("name", "请填写筛选的名称 / a name is required")
    if len(name) > MAX_NAME:
        raise RuleViolation.on("name", f"名称最多 {MAX_NAME} 个字（现有 {len(name)} 个）")
    if len(query) > MAX_QUERY:
        raise RuleViolation.on("name", "筛选条件过长，无法保存 / filter too long")
    mine = saved_filters(session, actor)
    if any(f.name == name for f in mine):
        raise Conflict(f"已有名为「{name}」的筛选，请换一个名称或先删除原有的 / name taken", field="name")
    if len(mine) >= MAX_PER_USER:
        raise RuleViolation.on("name", f"每人最多保存 {MAX_PER_USER} 个筛选，请先删除不用的 / too many")
    row = SavedFilter(user_id=actor.user_id, name=name, query=query, created_at=at)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="saved_filter.created", entity_type="saved_filter", entity_id=row.id,
                 region_code=actor.region_code, changes={"name": [None, name], "query": [None, query]}, at=at)
    return row


def delete_filter(session: Session, *, actor: Actor, filter_id: int, at: datetime) -> str:
    """Delete one of the actor's saved filters; return its name. :raises NotFound: not the actor's."""
    require(actor, Action.READ)
    row = session.get(SavedFilter, filter_id)
    if row is None or actor.user_id is None or row.user_id != actor.user_id:
        raise NotFound("该筛选不存在 / no such saved filter")
    name, query = row.name, row.query
    session.delete(row)
    session.flush()
    audit.record(session, actor=actor, action="saved_filter.deleted", entity_type="saved_filter", entity_id=filter_id,
                 region_code=actor.region_code, changes={"name": [name, None], "query": [query, None]}, at=at)
    return name
