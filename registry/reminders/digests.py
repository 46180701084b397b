"""Mail that is not a reminder: the Monday officer digest and the watchdog's alerts.

An officer who switched reminder e-mail off gets no Monday digest; the watchdog's alerts to admins are
operational alarms (the scan is late, mail piles up), not reminders, and go regardless.

All go through the outbox like every other e-mail; nothing here commits — the jobs process's
runners (jobs/digests.py) own the transactions. The weekly digest claims ("officer-digest",
Monday) in the run ledger; the alerts ("the scan is late", "mail is piling up in the outbox") are
sent at most once a day per admin by their dedupe keys.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.domain.actors import Role
from registry.enterprises.models import Enterprise
from registry.policies.rules import Rules
from registry.regions.reference import region_names
from registry.reminders import emails
from registry.reminders.kinds import due_between
from registry.reminders.outbox import backlog, enqueue
from registry.runs import ledger as jobruns

DIGEST = "officer-digest"
WATCHDOG = "watchdog"
DIGEST_DAYS = 30


def _users(session: Session, role: Role) -> list[User]:
    return list(session.scalars(sa.select(User).where(User.role == role, User.is_active.is_(True),
                                                       User.email != "").order_by(User.id)))


def weekly_officer_digests(session: Session, *, rules: Rules, today: date, at: datetime, domain: str) -> int:
    """Queue, for each active officer, what falls due in their region in the next 30 days.

    Not for an officer who switched reminder e-mail off (docs/channels.md): the digest exists only as e-mail, and
    what it lists is on their 待办 and 提醒 pages and reaches their inbox as each reminder falls due.
    """
    until, names, queued = today + timedelta(days=DIGEST_DAYS), region_names(session), 0
    for officer in _users(session, Role.OFFICER):
        if not officer.wants_reminder_email:
            continue
        items = due_between(session, rules, today, until, officer.region_code)
        if not items:
            continue
        ids = sorted({i.enterprise_id for i in items})
        enterprise_names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name)
                                                .where(Enterprise.id.in_(ids))).all())
        text = emails.weekly_digest(officer, names.get(officer.region_code, officer.region_code), items,
                                    enterprise_names, today, until)
        queued += enqueue(session, dedupe_key=f"weekly:{officer.id}:{today}", to_addr=officer.email,
                          subject=text.subject, body=text.body, at=at, domain=domain,
                          region_code=officer.region_code)
    return queued


def alert_if_scan_late(session: Session, *, now: datetime, today: date, timezone: str, domain: str) -> int:
    """When the daily scan is late, queue one alert per admin per day; return how many were new."""
    if not jobruns.scan_is_late(session, now):
        return 0
    last, queued = jobruns.last_successes(session).get(jobruns.SCAN), 0
    for admin in _users(session, Role.ADMIN):
        text = emails.scan_late_alert(admin, last, now, timezone)
        queued += enqueue(session, dedupe_key=f"watchdog:scan-late:{today}:{admin.id}", to_addr=admin.email,
                          subject=text.subject, body=text.body, at=now, domain=domain,
                          region_code=admin.region_code)
    return queued


def alert_if_outbox_backlog(session: Session, *, now: datetime, today: date, alarm_minutes: int, timezone: str,
                            domain: str) -> int:
    """Tell each admin, once a day, when unsent mail of their region has waited over `alarm_minutes`."""
    queued = 0
    for admin in _users(session, Role.ADMIN):
        found = backlog(session, now=now, alarm_minutes=alarm_minutes, region_code=admin.region_code)
        if not found.alarm:
            continue
        text = emails.outbox_backlog_alert(admin, found, now, timezone)
        queued += enqueue(session, dedupe_key=f"watchdog:outbox-backlog:{today}:{admin.id}", to_addr=admin.email,
                          subject=text.subject, body=text.body, at=now, domain=domain,
                          region_code=admin.region_code)
    return queued
