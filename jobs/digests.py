"""The weekly officer digest and the watchdog as units of work: each runner owns its one transaction.

What they queue is decided by registry/reminders/digests.py, which never commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from registry.domain.policy import PolicySet
from registry.policies.rules import load_rules
from registry.reminders.digests import (
    DIGEST,
    WATCHDOG,
    alert_if_outbox_backlog,
    alert_if_scan_late,
    weekly_officer_digests,
)
from registry.runs import ledger as jobruns


def weekly_digest_once(sessions: sessionmaker[Session], *, policies: PolicySet, today: date,
                       clock: Callable[[], datetime], domain: str) -> int | None:
    """Claim (officer-digest, today) and queue the digests; None when already done."""
    with sessions.begin() as session:
        at = clock()
        run_id = jobruns.claim(session, job_name=DIGEST, run_on=today, at=at)
        if run_id is None:
            return None
        queued = weekly_officer_digests(session, rules=load_rules(session, policies), today=today, at=at,
                                        domain=domain)
        jobruns.finish(session, run_id, at=clock(), detail={"messages": queued})
    return queued


def watchdog_once(sessions: sessionmaker[Session], *, today: date, clock: Callable[[], datetime],
                  timezone: str, domain: str, outbox_alarm_minutes: int = 30) -> int:
    """Check the scan's and the outbox's health, alert the admins, and record the watchdog's own run."""
    with sessions.begin() as session:
        now = clock()
        queued = alert_if_scan_late(session, now=now, today=today, timezone=timezone, domain=domain)
        queued += alert_if_outbox_backlog(session, now=now, today=today, alarm_minutes=outbox_alarm_minutes,
                                          timezone=timezone, domain=domain)
        jobruns.touch(session, job_name=WATCHDOG, run_on=today, at=now, detail={"alerts": queued})
    return queued
