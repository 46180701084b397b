"""Models of proposals: a change that takes effect only when a second person confirms it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, str_enum


class ProposalStatus(StrEnum):
    """Where a proposed change stands: waiting for the second person, done, or refused."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Proposal(Base):
    """A change that takes effect only when a second person confirms it (issue 16 §4).

    Account changes proposed by a system administrator wait for a security administrator
    (kinds `account.*`); the gravest business actions proposed by an officer wait for another
    officer or admin of the region (`certification.revoke`, `ban.lift`, `enterprise.uscc`).
    `payload` holds what the change needs (never a plain password: a reset carries its hash);
    `decided_*` is set once, by a compare-and-set on `status`, so a second confirmation changes nothing.
    """

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus, "status"), default=ProposalStatus.PENDING)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(sa.String(400))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_by: Mapped[str] = mapped_column(sa.String(128))  #: the actor's label (kind:name)
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by: Mapped[str | None] = mapped_column(sa.String(128))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    #: what the proposal changes (kind, target, or the account's username) while it waits; NULL once decided.
    #: Unique, so a double submit files one proposal even when both requests checked "none waiting" at once.
    pending_key: Mapped[str | None] = mapped_column(sa.String(200))
    __table_args__ = (sa.Index("ix_proposals_status_region_code", "status", "region_code"),
                      sa.UniqueConstraint("pending_key"))


