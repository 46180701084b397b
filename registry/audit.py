"""The audit trail: append an event in the caller's transaction, chained by SHA-256; verify it.

Each event stores the hash of the previous event and its own hash over a canonical JSON encoding
of its content (its id and the previous hash included, so a changed, deleted, renumbered or
reordered row breaks the chain). Appends are serialised by locking the single chain-head row
(FOR UPDATE on PostgreSQL; SQLite's single writer serialises already), so concurrent writers
never fork the chain. The database refuses UPDATE and DELETE of audit rows (triggers in the
baseline migration); `registry.audit_guard` refuses bulk ORM DML that would escape the trail
unless it runs inside `bulk_allowed`, which records it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import Actor
from registry.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
_INSERT = sa.insert(AuditEvent)
_INSERT_MANY = AuditEvent.__table__.insert()  # Core executemany: no per-row ORM bookkeeping
_LOCK_HEAD = sa.select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
HASHED_FIELDS = (
    "id", "occurred_at", "actor_kind", "actor_name", "actor_user_id", "action", "entity_type",
    "entity_id", "enterprise_id", "region_code", "changes", "reason_code", "document_no", "note",
    "request_id", "ip", "prev_hash",
)
BULK_KEY = "registry.audit.bulk_permits"
_AS_IS = frozenset({str, int, bool})  #: exact types `plain` returns unchanged (not subclasses: StrEnum)


def plain(value: Any) -> Any:
    """Turn a value into what JSON stores and gives back: ISO dates, decimals as strings, enums by value.

    Nested lists and dicts are converted throughout (dict keys become strings, tuples lists), so
    the encoding hashed when an event is written equals the one recomputed from the stored row.
    """
    if value is None or type(value) in _AS_IS:  # the common case first: bulk imports hash 10⁵ events
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/Infinity (PostgreSQL refuses them)
    if isinstance(value, list | tuple):  # before Mapping: an ABC check is slow
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def diff(obj: object, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set attributes from `data` on `obj`; return {field: [before, after]} for those that changed."""
    changes: dict[str, list[Any]] = {}
    for key, new in data.items():
        old = getattr(obj, key)
        if plain(old) != plain(new):
            changes[key] = [plain(old), plain(new)]
            setattr(obj, key, new)
    return changes


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Return {field: [None, value]} for a created record."""
    return {f: [None, plain(getattr(obj, f))] for f in fields if getattr(obj, f) is not None}


def canonical(values: Mapping[str, Any]) -> bytes:
    """Encode an event's content canonically: sorted keys at every depth, no spaces, UTF-8."""
    return json.dumps({k: plain(values[k]) for k in HASHED_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(values: Mapping[str, Any]) -> str:
    """Return the SHA-256 of an event's canonical encoding."""
    return hashlib.sha256(canonical(values)).hexdigest()


@dataclass(frozen=True)
class Why:
    """Why a change was made: a reason code, the basis document (文号) and a note."""

    reason_code: str | None = None
    document_no: str | None = None
    note: str | None = None


def _lock_head(session: Session) -> AuditChainHead:
    # populate_existing: a head object left in the identity map by an earlier transaction
    # (expire_on_commit=False) must not hide the row another writer committed meanwhile.
    return session.execute(_LOCK_HEAD, execution_options={"populate_existing": True}).scalar_one()


@dataclass(frozen=True)
class Entry:
    """One event for `record_many`: what `record` takes, less the session, actor and clock."""

    action: str
    entity_type: str
    entity_id: int | None
    changes: Mapping[str, Any]
    enterprise_id: int | None = None
    region_code: str | None = None
    why: Why = Why()


def _chained(actor: Actor, at: datetime, event_id: int, prev_hash: str, entry: Entry) -> dict[str, Any]:
    """Return an event's row, hash included, linked to the event before it."""
    values: dict[str, Any] = dict(
        id=event_id, occurred_at=at.astimezone(UTC), actor_kind=actor.kind, actor_name=actor.name,
        actor_user_id=actor.user_id, action=entry.action, entity_type=entry.entity_type,
        entity_id=entry.entity_id, enterprise_id=entry.enterprise_id, region_code=entry.region_code,
        changes=plain(dict(entry.changes)), reason_code=entry.why.reason_code,
        document_no=entry.why.document_no, note=entry.why.note,
        request_id=actor.request_id, ip=actor.ip, prev_hash=prev_hash,
    )
    values["hash"] = event_hash(values)
    return values


def record(session: Session, *, actor: Actor, action: str, entity_type: str,
           entity_id: int | None, changes: Mapping[str, Any], at: datetime,
           enterprise_id: int | None = None, region_code: str | None = None,
           why: Why = Why()) -> int:
    """Append one event to the chain in the caller's transaction and return its id."""
    if at.tzinfo is None:
        raise ValueError("audit.record needs an aware datetime (UTC)")
    session.flush()
    head = _lock_head(session)
    next_id = (head.last_event_id or 0) + 1
    values = _chained(actor, at, next_id, head.last_hash,
                      Entry(action, entity_type, entity_id, changes, enterprise_id, region_code, why))
    session.execute(_INSERT, [values])  # one cached statement, values bound as parameters
    head.last_event_id, head.last_hash = next_id, values["hash"]
    session.flush()
    return next_id


def record_many(session: Session, *, actor: Actor, entries: Iterable[Entry], at: datetime,
                chunk: int = 1000) -> int:
    """Append many events by one actor at one instant (bulk imports): one head lock, chunked inserts.

    The events are chained exactly as `record` chains them one by one; returns how many were added.
    """
    if at.tzinfo is None:
        raise ValueError("audit.record_many needs an aware datetime (UTC)")
    session.flush()
    head = _lock_head(session)
    last_id, last_hash, batch, added = head.last_event_id or 0, head.last_hash, [], 0
    for entry in entries:
        last_id += 1
        values = _chained(actor, at, last_id, last_hash, entry)
        last_hash = values["hash"]
        batch.append(values)
        if len(batch) >= chunk:
            session.execute(_INSERT_MANY, batch)
            added, batch = added + len(batch), []
    if batch:
        session.execute(_INSERT_MANY, batch)
        added += len(batch)
    head.last_event_id, head.last_hash = last_id, last_hash
    session.flush()
    return added


@dataclass(frozen=True)
class BulkPermit:
    """Leave to run bulk UPDATE/DELETE on audited tables; each statement is recorded as `action`."""

    actor: Actor
    action: str
    at: datetime
    why: Why = Why()
    region_code: str | None = None
    enterprise_id: int | None = None


@contextmanager
def bulk_allowed(session: Session, *, actor: Actor, action: str, at: datetime, why: Why = Why(),
                 region_code: str | None = None, enterprise_id: int | None = None) -> Iterator[BulkPermit]:
    """Allow bulk ORM UPDATE/DELETE on audited tables inside the block, recording each statement."""
    permit = BulkPermit(actor, action, at, why, region_code, enterprise_id)
    stack = session.info.setdefault(BULK_KEY, [])
    stack.append(permit)
    try:
        yield permit
    finally:
        stack.pop()


def current_permit(session: Session) -> BulkPermit | None:
    """Return the innermost bulk permit active on `session`, if any."""
    stack = session.info.get(BULK_KEY)
    return stack[-1] if stack else None


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain."""

    ok: bool
    checked: int
    first_bad_id: int | None
    problem: str | None = None
    head_id: int | None = None
    head_hash: str | None = None


def _rows(session: Session, after: int, batch: int = 5000) -> Iterator[Mapping[str, Any]]:
    columns = [getattr(AuditEvent, f) for f in (*HASHED_FIELDS, "hash")]
    last = after
    while True:
        rows = session.execute(sa.select(*columns).where(AuditEvent.id > last)
                               .order_by(AuditEvent.id).limit(batch)).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


class _Walk:
    """The expected next link while walking the chain from the genesis."""

    def __init__(self, anchors: Mapping[int, str]) -> None:
        self.anchors, self.last_id, self.last_hash = dict(anchors), 0, GENESIS

    def bad(self, event_id: int | None, problem: str) -> Verification:
        return Verification(False, self.last_id, event_id, problem)

    def step(self, row: Mapping[str, Any]) -> Verification | None:
        expected = self.last_id + 1
        if row["id"] != expected:
            return self.bad(expected, f"事件 #{expected} 缺失 / event {expected} is missing")
        if row["prev_hash"] != self.last_hash:
            return self.bad(row["id"], "与前一事件的哈希链接断开 / previous-hash link broken")
        if event_hash(row) != row["hash"]:
            return self.bad(row["id"], "内容与其哈希不符（记录被改动） / content does not match its hash")
        if self.anchors.pop(row["id"], row["hash"]) != row["hash"]:
            return self.bad(row["id"], "哈希与外部留存的锚点不符（链尾被重算） / hash differs from the anchored value")
        self.last_id, self.last_hash = row["id"], row["hash"]
        return None

    def finish(self, head_id: int, head_hash: str) -> Verification:
        if head_id > self.last_id:
            return self.bad(self.last_id + 1, f"事件 #{self.last_id + 1} 至 #{head_id} 缺失"
                                              f" / events after {self.last_id} are missing")
        if head_id < self.last_id:
            return self.bad(head_id + 1, f"链头停在 #{head_id}，其后的事件不属于本链"
                                         f" / events after the chain head {head_id}")
        if head_hash != self.last_hash:
            return self.bad(self.last_id or None, "链头哈希与最后一条事件不符（链尾被重算）"
                                                  " / chain head hash does not match the last event")
        if self.anchors:
            first = min(self.anchors)
            return self.bad(first, f"锚定的事件 #{first} 不存在 / anchored event {first} is missing")
        return Verification(True, self.last_id, None, head_id=head_id, head_hash=head_hash)


def verify(session: Session, anchors: Mapping[int, str] | None = None) -> Verification:
    """Recompute the chain from the first event; name the first event that does not fit.

    `anchors` ({event id: hash}, kept outside the database) catch a tail rewritten together with
    the chain head. Run it on an unscoped session: a region-scoped one hides other regions' events.
    Events committed while the walk runs are walked too, so concurrent writers cause no alarm.
    """
    walk, seen_head = _Walk(anchors or {}), -1
    while True:
        # The head first, then the events: the head moves in the same commit as its events, so every
        # event up to the head read here is visible to the event query that follows it.
        head = session.execute(sa.select(AuditChainHead.last_event_id, AuditChainHead.last_hash)
                               .where(AuditChainHead.id == 1)).one_or_none()
        if head is None:
            return walk.bad(None, "链头记录缺失 / the chain head row is missing")
        head_id = head.last_event_id or 0
        for row in _rows(session, after=walk.last_id):
            if (bad := walk.step(row)) is not None:
                return bad
        if walk.last_id > head_id != seen_head:
            seen_head = head_id
            continue  # appended while we walked: read the newer head and walk on (a head that
            # stays behind the events on a second look is reported by finish)
        return walk.finish(head_id, head.last_hash)
