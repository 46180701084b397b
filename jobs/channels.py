"""The channel sender: delivers the outbox's DingTalk, WeCom and 浙政钉 rows, owning its transactions.

The steps are commit-free services in registry/channels/ledger.py (claim within the rate limits, record an
outcome); this runner gives each its own short transaction — the claim is committed before any network
call, each outcome in a transaction of its own — like the e-mail sender (jobs/outbox.py). See the ledger's
docstring for the guarantees.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from config.channels import ChannelSettings
from registry.channels.ledger import (
    SENDER,
    ClaimedDelivery,
    DeliveryReport,
    claim_deliveries,
    mark_delivered,
    mark_failed_attempt,
)
from registry.channels.models import ChannelKind
from registry.platform import channels as wire
from registry.reminders.models import OutboxStatus
from registry.reminders.outbox import BATCH, release_expired
from registry.runs import ledger as jobruns


class Sender:
    """Sends one claimed delivery by its channel (one 浙政钉 token per run)."""

    def __init__(self, settings: ChannelSettings, clock: Callable[[], datetime]) -> None:
        self.settings, self.clock = settings, clock
        self.zzd = wire.ZzdClient(settings, clock)

    def send(self, delivery: ClaimedDelivery) -> wire.Delivery:
        """Deliver; :raises wire.ChannelError:"""
        message = wire.Message(delivery.subject, delivery.body_text, delivery.message_id)
        if delivery.kind == ChannelKind.DINGTALK:
            return wire.send_dingtalk(self.settings, token=delivery.address, secret=delivery.secret,
                                      message=message, now=self.clock())
        if delivery.kind == ChannelKind.WECOM:
            return wire.send_wecom(self.settings, key=delivery.address, message=message)
        return self.zzd.work_notice(receiver=delivery.address, organization=delivery.organization, message=message)


def deliver(sessions: sessionmaker[Session], settings: ChannelSettings, *, clock: Callable[[], datetime],
            sender: Sender | None = None, limit: int | None = None) -> DeliveryReport:
    """Send the due channel deliveries (at most `limit`), claimed a batch at a time; owns its transactions."""
    report, sender = DeliveryReport(), sender or Sender(settings, clock)
    with sessions.begin() as session:
        report.released = release_expired(session, clock())
    handled = 0
    while limit is None or handled < limit:
        size = BATCH if limit is None else min(BATCH, limit - handled)
        with sessions.begin() as session:
            batch = claim_deliveries(session, clock(), settings, size, report)
        if not batch:
            break
        handled += len(batch)
        for delivery in batch:
            _send_one(sessions, sender, delivery, clock, report)
    return report


def _send_one(sessions: sessionmaker[Session], sender: Sender, delivery: ClaimedDelivery,
              clock: Callable[[], datetime], report: DeliveryReport) -> None:
    try:
        arrived = sender.send(delivery)
    except wire.ChannelError as error:
        with sessions.begin() as session:
            status = mark_failed_attempt(session, delivery, error, clock())
        report.errors.append(str(error))
        if status == OutboxStatus.FAILED.value:
            report.failed += 1
        else:
            report.retried += 1
        return
    # The at-least-once window: a crash here resends once (浙政钉 answers "重复" and nothing repeats).
    with sessions.begin() as session:
        mark_delivered(session, delivery, clock(), duplicate=arrived.duplicate)
    report.sent += 1
    report.duplicates += int(arrived.duplicate)


def drain(sessions: sessionmaker[Session], settings: ChannelSettings, *, clock: Callable[[], datetime], today: date,
          limit: int | None = None) -> DeliveryReport:
    """Send what is due and record the run for health."""
    report = deliver(sessions, settings, clock=clock, limit=limit)
    with sessions.begin() as session:
        jobruns.touch(session, job_name=SENDER, run_on=today, at=clock(),
                      detail={"sent": report.sent, "retried": report.retried, "failed": report.failed,
                              "deferred": report.deferred})
    return report
