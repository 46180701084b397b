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



class OutboxChannel(StrEnum):
    """How an outbox row is delivered (issue 18 §8): one row per message × channel target."""

    EMAIL = "email"
    DINGTALK = "dingtalk"  #: a DingTalk custom robot (signed webhook)
    WECOM = "wecom"  #: a WeCom (企业微信/政务微信) group robot
    ZZD = "zzd"  #: a 浙政钉 work notice



class OutboxMessage(Base):
    """A rendered message waiting to be sent; written in the same transaction as its cause.

    E-mail rows carry the address in `to_addr`; the other channels name their target
    (registry/channels/models.py `ChannelTarget`, whose secrets are encrypted) in `target_id` and
    keep only its label in `to_addr`.
    """

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
    channel: Mapped[OutboxChannel] = mapped_column(str_enum(OutboxChannel, "outbox_channel", length=16),
                                                   default=OutboxChannel.EMAIL, server_default="email")
    target_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channel_targets.id"))
    #: when the last attempt was claimed: a robot's rate limit counts the attempts of the last minute
    attempted_at: Mapped[datetime | None]
    #: the senders' claims read due messages of one channel in their own order (migration 0036, issue 19)
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "channel", "next_attempt_at", "id"),
                      sa.Index("ix_outbox_messages_target_attempted", "target_id", "attempted_at"))

