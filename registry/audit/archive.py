"""Archive the oldest audit events to a file and remove them, never younger than the retention period.

`archive` (the `flask audit archive` command) moves a prefix of the chain — the events that
happened before a date at least REGISTRY_AUDIT_RETENTION_DAYS (≥ 180) before today — into a
JSON Lines file, and only then deletes them:

1. the whole chain is verified, its HMAC-SM3 head anchor included (an anchor key is required);
2. the events are written to a new file (never over an existing one): a header line with the
   range, the hash the segment continues from, its last hash and the segment's own HMAC-SM3
   anchor, then one line per event with every hashed field, the hash and its function;
3. the file is read back and verified on its own (every hash recomputed, every link, the anchor)
   and against the database (same last hash, same starting hash);
4. the chain head records the archived base (the last archived event and its hash) and is
   re-anchored; the database lets only events up to that base be deleted (migration 0015); the
   events are deleted; an `audit.archived` event records the file, its SHA-256 and the range.

`verify_archive` checks a file later on its own, with the key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.audit.models import AuditChainHead, AuditEvent
from registry.domain.actors import Actor
from registry.domain.errors import DomainError
from registry.platform.digests import same

FORMAT = "registry-audit-archive/1"
BEIJING = ZoneInfo("Asia/Shanghai")
_FIELDS = (*audit.HASHED_FIELDS, "hash", "hash_alg")


class ArchiveRefused(DomainError):
    """The archive would break the retention rule, or the chain or the file does not verify."""


@dataclass(frozen=True)
class Archived:
    """What was archived: the event range, how many, the file and its SHA-256."""

    first_id: int
    last_id: int
    count: int
    path: Path
    file_sha256: str


def start_of(day: date) -> datetime:
    """The first instant of a Beijing calendar day, in UTC."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


def archive(session: Session, *, before: date, out: Path, today: date, retention_days: int,
            actor: Actor, at: datetime) -> Archived:
    """Move the events that happened before `before` (Beijing) out of the table into `out`.

    :raises ArchiveRefused: `before` is within the retention period, no anchor key, the chain or the
        written file does not verify, nothing to archive, or `out` exists.
    """
    try:
        cutoff = audit.retention_cutoff(start_of(today), retention_days)
    except audit.RetentionError as exc:
        raise ArchiveRefused(str(exc)) from None
    if start_of(before) > cutoff:
        raise ArchiveRefused(f"只能归档 {retention_days} 天保存期限之前的事件：--before 不得晚于 "
                             f"{cutoff.astimezone(BEIJING).date().isoformat()}（--today {today.isoformat()}）")
    key = audit.chain_config(session).anchor_key
    if key is None:
        raise ArchiveRefused("归档前须配置锚点密钥 REGISTRY_AUDIT_ANCHOR_KEY，以核验链头锚点")
    if out.exists():
        raise ArchiveRefused(f"归档文件 {out} 已存在，不会覆盖")
    checked = audit.verify(session, anchor_key=key)
    if not checked.ok or not checked.anchored:
        raise ArchiveRefused(f"审计链未通过核验，不归档、不删除任何事件：{checked.problem or '链头未锚定'}")
    head = session.execute(sa.select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update(),
                           execution_options={"populate_existing": True}).scalar_one()
    base_id, base_hash = head.base_event_id or 0, head.base_hash or audit.GENESIS
    first_young = session.scalar(sa.select(sa.func.min(AuditEvent.id)).where(
        AuditEvent.id > base_id, AuditEvent.occurred_at >= start_of(before)))
    last_id = (first_young - 1) if first_young is not None else (head.last_event_id or 0)
    if last_id <= base_id:
        raise ArchiveRefused(f"{before.isoformat()} 之前没有尚未归档的事件")
    last_hash = _write(session, out, base_id, base_hash, last_id, key, before, at)
    try:
        header = verify_archive(out, key)
    except ArchiveRefused:
        out.unlink(missing_ok=True)
        raise
    if header["prev_hash"] != base_hash or header["last_hash"] != last_hash or header["last_id"] != last_id:
        out.unlink(missing_ok=True)
        raise ArchiveRefused("归档文件与数据库中的审计链不一致，未删除任何事件")
    file_sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    head.base_event_id, head.base_hash = last_id, last_hash
    head.anchor = audit.anchor_of(key, last_id, last_hash, head.last_event_id, head.last_hash)
    session.flush()  # the database allows deleting events up to the base only once the base is moved
    session.connection().execute(sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.id <= last_id))
    count = last_id - base_id
    audit.record(session, actor=actor, action="audit.archived", entity_type="audit_event", entity_id=None, at=at,
                 changes={"first_id": [None, base_id + 1], "last_id": [None, last_id], "count": [None, count],
                          "before": [None, before.isoformat()], "file": [None, out.name],
                          "file_sha256": [None, file_sha256], "last_hash": [None, last_hash]})
    return Archived(base_id + 1, last_id, count, out, file_sha256)


def _write(session: Session, out: Path, base_id: int, base_hash: str, last_id: int, key: bytes, before: date,
           at: datetime) -> str:
    """Write the segment base_id+1 … last_id to a new file; return its last hash."""
    last_hash = session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == last_id))
    header = {"format": FORMAT, "first_id": base_id + 1, "last_id": last_id, "count": last_id - base_id,
              "prev_hash": base_hash, "last_hash": last_hash, "before": before.isoformat(),
              "created_at": at.astimezone(UTC).isoformat(),
              "anchor": audit.anchor_of(key, base_id, base_hash, last_id, last_hash)}
    rows = session.execute(sa.select(AuditEvent).where(AuditEvent.id > base_id, AuditEvent.id <= last_id)
                           .order_by(AuditEvent.id).execution_options(yield_per=1000)).scalars()
    with out.open("x", encoding="utf-8") as f:  # "x": never over an existing file
        f.write(json.dumps(header, ensure_ascii=False, sort_keys=True) + "\n")
        for event in rows:
            line = {name: audit.plain(getattr(event, name)) for name in _FIELDS}
            f.write(json.dumps(line, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n")
            session.expunge(event)
        f.flush()
        os.fsync(f.fileno())
    return last_hash


def verify_archive(path: Path, key: bytes | None) -> dict[str, Any]:
    """Check an archive file on its own: every hash, every link, the count and (with the key) its anchor.

    Returns the header. :raises ArchiveRefused: naming the first thing that does not fit.
    """
    try:
        with path.open(encoding="utf-8") as f:
            header = json.loads(f.readline())
            if header.get("format") != FORMAT:
                raise ArchiveRefused(f"{path.name} 不是审计归档文件")
            expected_id, prev, count = header["first_id"], header["prev_hash"], 0
            for line in f:
                event = json.loads(line)
                alg = event.get("hash_alg", "sha256")
                if event["id"] != expected_id or event["prev_hash"] != prev:
                    raise ArchiveRefused(f"归档文件中事件 #{expected_id} 缺失或链接断开")
                if alg not in ("sha256", "sm3") or audit.event_hash(event, alg) != event["hash"]:
                    raise ArchiveRefused(f"归档文件中事件 #{event['id']} 的内容与其哈希不符")
                prev, expected_id, count = event["hash"], expected_id + 1, count + 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArchiveRefused(f"归档文件 {path.name} 无法读取：{exc}") from None
    if count != header["count"] or expected_id - 1 != header["last_id"] or prev != header["last_hash"]:
        raise ArchiveRefused("归档文件的事件数或末尾哈希与文件头不符")
    if key is not None:
        anchor = audit.anchor_of(key, header["first_id"] - 1, header["prev_hash"], header["last_id"],
                                 header["last_hash"])
        if not same(header.get("anchor"), anchor):
            raise ArchiveRefused("归档文件的 HMAC-SM3 锚点不符（密钥不对，或文件被改写）")
    return header
