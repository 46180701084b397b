"""Models of the audit trail: the chained events and the chain's head."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base

#: how an event's `changes` is stored: as the trail hashes it (sorted keys at every depth, no spaces,
#: UTF-8 kept), so verify can put the stored text into the hashed bytes as it is (registry/audit/trail.py)
STORED_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class CanonicalJSON(sa.types.TypeDecorator[Any]):
    """A JSON column (json on PostgreSQL, text on SQLite) whose text is written canonically.

    Reading is the JSON type's; only the text written differs from `json.dumps`'s: the same
    value, the same bytes as its part of the event's hashed encoding. Another driver than
    psycopg or sqlite3 gets the JSON type's own serialisation (verify then re-encodes in Python).
    """

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
        encode, null = STORED_JSON.encode, sa.JSON.NULL
        if dialect.name == "sqlite":
            return lambda value: encode(None if value is null else value)
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            wrap = dialect._psycopg_Json  # type: ignore[attr-defined]  # psycopg.types.json.Json
            return lambda value: wrap(None if value is null else value, dumps=encode)
        return super().bind_processor(dialect)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail (triggers refuse UPDATE/DELETE)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  #: user, token, cli, job
    actor_name: Mapped[str] = mapped_column(sa.String(128))
    actor_user_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(64))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[int | None]
    enterprise_id: Mapped[int | None] = mapped_column(index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)  #: {field: [before, after]}
    reason_code: Mapped[str | None] = mapped_column(sa.String(64))
    document_no: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the function `hash` was made with: sha256 or sm3 (REGISTRY_AUDIT_HASH at the time; migration 0015)
    hash_alg: Mapped[str] = mapped_column(sa.String(8), default="sha256", server_default="sha256")
    __table_args__ = (
        sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_events_occurred_at", "occurred_at"),
    )



class AuditChainHead(Base):
    """The single row that serialises appends to the audit chain (locked FOR UPDATE).

    `base_event_id`/`base_hash`: the last event archived out of the table (the chain continues from
    it; the database lets only events up to it be deleted). `anchor`: HMAC-SM3 of the base and the
    head under REGISTRY_AUDIT_ANCHOR_KEY, renewed on every append (None: no key configured yet).
    """

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    base_event_id: Mapped[int | None]
    base_hash: Mapped[str] = mapped_column(sa.String(64), default="0" * 64, server_default="0" * 64)
    anchor: Mapped[str | None] = mapped_column(sa.String(64))

