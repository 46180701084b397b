"""Models of roster imports: one row per uploaded file and its outcome."""

from __future__ import annotations

from datetime import date, datetime
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



class NameListStatus(StrEnum):
    """A published list of names: matched and waiting for an officer's review, applied (titles granted), or
    discarded (set aside unapplied, e.g. uploaded with the wrong title)."""

    REVIEWING = "reviewing"
    APPLIED = "applied"
    DISCARDED = "discarded"


class NameList(Base):
    """A 公告名单 of names only (序号, 省份/地区, 企业名称), matched against the registry for review.

    `rows` holds each listed row as read and matched: {row, seq, region_text, region_code, name, kind
    (match | candidates | none), match_id, candidates [{id, name, uscc, region_code, score}], notes}.
    Confirming it grants the title named here (tier, 认定日期, 文号…) to the enterprise the officer chose
    for each row, all or nothing (registry/roster/namelists/confirm.py); `outcome` says what each row
    became. The list holds published names only (no contacts), so it is kept as read, not encrypted.
    """

    __tablename__ = "name_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[NameListStatus] = mapped_column(str_enum(NameListStatus, "status", length=16))
    tier: Mapped[str] = mapped_column(sa.String(32))
    recognized_on: Mapped[date]
    batch: Mapped[str | None] = mapped_column(sa.String(64))
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    authority: Mapped[str | None] = mapped_column(sa.String(128))
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  #: the uploader's region (scoping)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rows: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    outcome: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    applied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


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
