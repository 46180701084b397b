"""Models of reminders and the e-mail outbox."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, str_enum, utcnow


class ReminderStatus(StrEnum):
    """Life of a reminder row."""

    PENDING = "pending"
    QUEUED = "queued"
    RETIRED = "retired"



class Reminder(Base):
    """One reminder per (subject, kind, milestone, reference date): the ledger that never repeats."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(32))  #: certification, change_report, …
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(32))
    milestone: Mapped[int]  #: days before the reference date (negative: overdue by)
    reference_on: Mapped[date]  #: the date the reminder is about (expiry, due date …)
    due_on: Mapped[date]  #: when it is to be sent
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    status: Mapped[ReminderStatus] = mapped_column(str_enum(ReminderStatus, "reminder_status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("subject_type", "subject_id", "kind", "milestone", "reference_on"),
        sa.Index("ix_reminders_status_due_on", "status", "due_on"),
    )



class OutboxStatus(StrEnum):
    """Life of an outgoing e-mail."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"



class OutboxMessage(Base):
    """A rendered e-mail waiting to be sent; written in the same transaction as its cause."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    message_id: Mapped[str] = mapped_column(sa.String(200))  #: stable Message-ID header
    reminder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminders.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    __table_args__ = (sa.Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

