"""Models of delivery channels: where a user's or an office's reminders go besides e-mail, and the inbox.

A `ChannelTarget` belongs to one user (their own choice) or to one office (a region node, chosen by
its administrators). Its `address` — a robot's access token or webhook key, a 浙政钉 account id or
organisation code — and its signing `secret` are SM4-GCM ciphertext at rest (registry/platform/pi_crypto.py)
and are never shown back in full (`registry.channels.services.masked`). A target is never deleted:
removing it deactivates it, so the deliveries that name it keep their history.

An `InboxMessage` is one reminder in one user's 站内消息, whatever channel carried it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, str_enum, utcnow
from registry.platform.pi_crypto import EncryptedText


class ChannelKind(StrEnum):
    """The channels a target may be (e-mail is not a target: it goes to the user's own address)."""

    DINGTALK = "dingtalk"
    WECOM = "wecom"
    ZZD = "zzd"


#: what each channel is called on screen (e-mail included: the outbox shows every row's channel)
CHANNEL_NAMES = {"email": "电子邮件", "dingtalk": "钉钉机器人", "wecom": "企业微信机器人", "zzd": "浙政钉工作通知"}


class ChannelTarget(Base):
    """A DingTalk robot, a WeCom robot or a 浙政钉 recipient that reminders are delivered to."""

    __tablename__ = "channel_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind", length=16))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)  #: a user's own channel
    region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)  #: an office's channel
    label: Mapped[str] = mapped_column(sa.String(64))
    #: robot access_token (DingTalk) or webhook key (WeCom), or 浙政钉 accountId / organisation code
    address: Mapped[str] = mapped_column(EncryptedText("channel_targets.address"))
    secret: Mapped[str | None] = mapped_column(EncryptedText("channel_targets.secret"))  #: DingTalk signing secret
    #: an office's channel: also the reminders of the regions below the office
    include_subregions: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.CheckConstraint("(user_id IS NULL) <> (region_code IS NULL)", name="one_owner"),
    )



class InboxMessage(Base):
    """One reminder in one user's in-app inbox (站内消息)."""

    __tablename__ = "inbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    reminder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminders.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("user_id", "dedupe_key"),
        sa.Index("ix_inbox_messages_user_read", "user_id", "read_at"),
    )
