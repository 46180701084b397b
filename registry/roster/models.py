"""Models of roster imports: one row per uploaded file and its outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, str_enum, utcnow
from registry.platform.pi_crypto import EncryptedBytes


class ImportStatus(StrEnum):
    """Where an uploaded file stands: queued → running → failed | validated (dry run) | applied."""

    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"
    VALIDATED = "validated"
    APPLIED = "applied"




class ImportRun(Base):
    """An uploaded roster file and what became of it (dry run or apply).

    A page upload keeps the file (`content`) so a background worker can process it and a
    validated dry run can be applied as the very same file; the two binary columns are deferred,
    so lists and polls do not load them.
    """

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    mode: Mapped[str] = mapped_column(sa.String(16))  #: dry_run, apply
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, "status", length=16))
    programme: Mapped[str | None] = mapped_column(sa.String(64))  #: tier names read within this programme
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    diff: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: the uploaded file (pages) and its error workbook hold contacts as uploaded: SM4-GCM ciphertext at rest
    error_workbook: Mapped[bytes | None] = mapped_column(EncryptedBytes("imports.error_workbook"), deferred=True)
    content: Mapped[bytes | None] = mapped_column(EncryptedBytes("imports.content"), deferred=True)
    #: the validated dry run this apply run confirms; unique, so a double "确认导入" applies once
    source_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: who queued it, for the worker's actor and the audit trail: {kind, token_id, ip, request_id}
    submitted_by: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    started_at: Mapped[datetime | None]  #: claimed by a worker (queued → running)
    heartbeat_at: Mapped[datetime | None]  #: the worker's last sign of life; stale → failed by the reaper
    worker: Mapped[str | None] = mapped_column(sa.String(120))  #: host:pid of the claiming worker



class SavedFilter(Base):
    """A roster filter a user saved under a name (保存的筛选): theirs alone, applied as the roster's query string."""

    __tablename__ = "saved_filters"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    #: the roster's query string (q, region, tier, status, expiring_within_days, as_of, sort), as validated
    query: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
