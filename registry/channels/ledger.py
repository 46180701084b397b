"""The delivery ledger of the chat channels: the outbox's rows of channel ≠ e-mail, one per message × target.

The same ledger as e-mail (registry/reminders/outbox.py): a row is written once per dedupe key in the
transaction of its cause; the sender (jobs/channels.py) claims rows — a compare-and-set from `pending` to
`sending` with a lease, committed before the network call — and records each outcome in a transaction of
its own. A crashed sender's rows return to `pending` when their lease ends.

What is particular to the channels is the **rate limit**: a robot takes 20 messages a minute
(`ChannelSettings.robot_per_minute`), a 浙政钉 recipient `zzd_per_minute`. The claim takes the target's
row lock (`FOR UPDATE`; SQLite's single writer serialises already), counts the attempts claimed for that
target within the last minute (`attempted_at`) and claims no more than the room left; the rest stays
`pending`, due again when the oldest attempt of the window is a minute old. Nothing is dropped, and two
senders together never exceed the limit.

Repeats: DingTalk and WeCom robots cannot deduplicate, so a crash between the robot's answer and the
committed `sent` mark sends that message once more (at-least-once, as e-mail). 浙政钉 deduplicates by
`bizMsgId` (the row's stable Message-ID): the second call is answered "重复" and recorded as delivered, so
a 浙政钉 recipient never sees a message twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config.channels import ChannelSettings
from registry.channels.models import ChannelKind, ChannelTarget
from registry.platform.channels import ChannelError
from registry.reminders.models import OutboxChannel, OutboxMessage, OutboxStatus
from registry.reminders.outbox import LEASE, MAX_ATTEMPTS, backoff

WINDOW = timedelta(minutes=1)
SENDER = "send-channels"  #: the sender's name in the run ledger


def per_minute(settings: ChannelSettings, kind: str) -> int:
    """How many messages one target of `kind` takes a minute."""
    return settings.zzd_per_minute if kind == ChannelKind.ZZD else settings.robot_per_minute


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery claimed for sending, with its target's decrypted address (plain values: the session is closed)."""

    id: int
    kind: str
    target_id: int
    subject: str
    body_text: str
    message_id: str
    attempts: int
    address: str = field(repr=False)
    secret: str | None = field(repr=False)
    organization: bool  #: a 浙政钉 office target names an organisation, not an account


@dataclass
class DeliveryReport:
    """What one run of the channel sender did."""

    sent: int = 0
    duplicates: int = 0  #: answered "already delivered" (浙政钉 bizMsgId): recorded as sent
    retried: int = 0
    failed: int = 0
    released: int = 0
    deferred: int = 0  #: due but over their target's rate limit: left pending for the next minute
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"已送达 {self.sent} 条（其中平台判重 {self.duplicates} 条），待重试 {self.retried} 条，失败 {self.failed} 条，"
                f"限速顺延 {self.deferred} 条 / sent {self.sent}, retry {self.retried}, failed {self.failed}, "
                f"deferred {self.deferred}")


_CHANNELS = (OutboxMessage.channel != OutboxChannel.EMAIL)


def claim_deliveries(session: Session, now: datetime, settings: ChannelSettings, limit: int,
                     report: DeliveryReport) -> list[ClaimedDelivery]:
    """Claim up to `limit` due channel deliveries, each target within its rate limit (see the module docstring)."""
    due = session.execute(sa.select(OutboxMessage.target_id, sa.func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now, _CHANNELS)
        .group_by(OutboxMessage.target_id).order_by(sa.func.min(OutboxMessage.next_attempt_at))).all()
    claimed: list[ClaimedDelivery] = []
    for target_id, _ in due:
        if len(claimed) >= limit:
            break
        target = session.scalar(sa.select(ChannelTarget).where(ChannelTarget.id == target_id).with_for_update()
                                .execution_options(populate_existing=True)) if target_id is not None else None
        if target is None or not target.is_active:
            _fail_orphans(session, target_id, now)
            continue
        claimed.extend(_claim_for(session, target, now, per_minute(settings, target.kind), limit - len(claimed),
                                  report))
    return claimed


def recent_attempts(session: Session, target_id: int, now: datetime) -> list[datetime]:
    """When the target's attempts of the last minute were claimed, oldest first (its rate limit's window)."""
    return list(session.scalars(sa.select(OutboxMessage.attempted_at).where(
        OutboxMessage.target_id == target_id, OutboxMessage.attempted_at > now - WINDOW)
        .order_by(OutboxMessage.attempted_at)))


def _claim_for(session: Session, target: ChannelTarget, now: datetime, rate: int, limit: int,
               report: DeliveryReport) -> list[ClaimedDelivery]:
    recent = recent_attempts(session, target.id, now)
    room = max(rate - len(recent), 0)
    mine = (OutboxMessage.target_id == target.id, OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now)
    ids = list(session.scalars(sa.select(OutboxMessage.id).where(*mine)
                               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(min(room, limit))))
    rows = []
    if ids:
        rows = session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, lease_until=now + LEASE, attempts=OutboxMessage.attempts + 1,
                    attempted_at=now)
            .returning(OutboxMessage.id, OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.message_id,
                       OutboxMessage.attempts).execution_options(synchronize_session=False)).all()
    if room <= len(ids):  # over the limit: what is left waits until the window has room again
        window = [*recent, *([now] * len(ids))]
        free_at = window[len(window) - rate] + WINDOW if len(window) >= rate else now
        left = session.execute(sa.update(OutboxMessage).where(*mine).values(next_attempt_at=free_at)
                               .returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
        report.deferred += len(left)
    organization = target.kind == ChannelKind.ZZD and target.region_code is not None
    found = [ClaimedDelivery(id=r.id, kind=str(target.kind), target_id=target.id, subject=r.subject,
                             body_text=r.body_text, message_id=r.message_id, attempts=r.attempts,
                             address=target.address, secret=target.secret, organization=organization) for r in rows]
    return sorted(found, key=lambda d: ids.index(d.id))


def _fail_orphans(session: Session, target_id: int | None, now: datetime) -> None:
    """Deliveries whose target was removed after they were queued fail visibly (待办) instead of waiting forever."""
    session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.target_id.is_(None) if target_id is None else OutboxMessage.target_id == target_id,
        OutboxMessage.status == OutboxStatus.PENDING, _CHANNELS)
        .values(status=OutboxStatus.FAILED, last_error="该渠道已停用，消息未发送 / the channel was removed",
                attempted_at=now).execution_options(synchronize_session=False))


def _mark(session: Session, delivery_id: int, **values: object) -> None:
    session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.id == delivery_id, OutboxMessage.status == OutboxStatus.SENDING)
        .values(lease_until=None, **values).execution_options(synchronize_session=False))


def mark_delivered(session: Session, delivery: ClaimedDelivery, now: datetime, *, duplicate: bool = False) -> None:
    """Record a delivery (a platform's "already have it" included)."""
    _mark(session, delivery.id, status=OutboxStatus.SENT, sent_at=now,
          last_error="平台判重：此前已送达 / the platform had it already" if duplicate else None)


def mark_failed_attempt(session: Session, delivery: ClaimedDelivery, error: ChannelError, now: datetime) -> str:
    """Schedule a retry for a transient failure or give up; return the new status."""
    if error.transient and delivery.attempts < MAX_ATTEMPTS:
        _mark(session, delivery.id, status=OutboxStatus.PENDING, last_error=str(error)[:2000],
              next_attempt_at=now + backoff(delivery.attempts))
        return OutboxStatus.PENDING.value
    reason = str(error) if not error.transient else f"重试 {delivery.attempts} 次后放弃 / gave up: {error}"
    _mark(session, delivery.id, status=OutboxStatus.FAILED, last_error=reason[:2000])
    return OutboxStatus.FAILED.value
