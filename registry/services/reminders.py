"""The reminder ledger: one row per (subject, kind, milestone, reference date), sent at most once.

Each scan for day D:

1. collects every deadline whose reminders could fall due within the policies' largest
   milestone (duedates), plus the latest overdue annual update;
2. arms the rows it implies (`due_on = reference_on - milestone`), skipping milestones whose
   reference date has passed (except the overdue reminder, milestone -1) so a long outage does
   not flood anyone; a row retired earlier comes back when its key is wanted again;
3. retires pending rows that no longer apply: the title was renewed, ended or its date
   corrected, the report was filed. The row with the new reference date is armed instead;
4. queues every pending row due on or before D, in the same transaction as its e-mails.
   Of several due milestones of one deadline (a catch-up) only the nearest is sent, and a
   milestone farther out than one already sent is retired: a deadline never gets two mails
   saying the same thing.

Recipients: the enterprise's contact and its responsible officer; an officer who chose a daily
digest gets one e-mail listing the day's reminders instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from registry import emails
from registry.models import Enterprise, Reminder, ReminderStatus, User
from registry.services import Rules
from registry.services import duedates as dd
from registry.services.outbox import enqueue
from registry.sqlutil import insert_ignore

IN_SLICE = 10_000  #: ids per IN (...) list
Key = tuple[str, int, str, date]  #: (subject_type, subject_id, kind, reference_on)
RowKey = tuple[str, int, str, int, date]  #: the ledger's unique key


@dataclass
class ReminderReport:
    """What the ledger did in one scan."""

    armed: int = 0
    retired: int = 0
    queued: int = 0
    superseded: int = 0
    messages: int = 0
    lines: list[str] = field(default_factory=list)


def collect(session: Session, rules: Rules, today: date) -> dict[Key, dd.DueItem]:
    """Every deadline that may need a reminder from `today` on, by ledger key."""
    tiers = dd.TierCache(rules)
    sources = {"expiry": dd.expiries, "review_window": dd.review_windows,
               "annual_update": dd.annual_updates, "change_report": dd.change_reports}
    items: list[dd.DueItem] = []
    for kind, source in sources.items():
        items.extend(source(session, tiers, today, today + timedelta(days=dd.max_milestone(rules, kind))))
    items.extend(dd.annual_overdue(session, tiers, today))
    return {item.key: item for item in items}


def wanted_rows(items: dict[Key, dd.DueItem], today: date, at: datetime) -> dict[RowKey, dict]:
    """The ledger rows the deadlines imply on `today` (passed milestones left out)."""
    rows: dict[RowKey, dict] = {}
    for item in items.values():
        if item.reference_on < today and item.milestones != (dd.OVERDUE,):
            continue
        for milestone in item.milestones:
            rows[(item.subject_type, item.subject_id, item.kind, milestone, item.reference_on)] = {
                "subject_type": item.subject_type, "subject_id": item.subject_id, "kind": item.kind,
                "milestone": milestone, "reference_on": item.reference_on,
                "due_on": item.reference_on - timedelta(days=milestone), "enterprise_id": item.enterprise_id,
                "region_code": item.region_code, "status": ReminderStatus.PENDING.value, "created_at": at}
    return rows


def _row_key(r: Reminder) -> RowKey:
    return (r.subject_type, r.subject_id, r.kind, r.milestone, r.reference_on)


def _set_status(session: Session, ids: list[int], **values: object) -> None:
    for start in range(0, len(ids), 500):
        session.execute(sa.update(Reminder).where(Reminder.id.in_(ids[start:start + 500])).values(**values))


def plan(session: Session, items: dict[Key, dd.DueItem], today: date, at: datetime, report: ReminderReport) -> None:
    """Arm the wanted rows, revive retired ones wanted again, retire pending ones no longer wanted."""
    wanted = wanted_rows(items, today, at)
    pending = session.execute(sa.select(Reminder.id, Reminder.subject_type, Reminder.subject_id, Reminder.kind,
                                        Reminder.milestone, Reminder.reference_on)
                              .where(Reminder.status == ReminderStatus.PENDING)).all()
    stale = [row.id for row in pending if tuple(row[1:]) not in wanted]
    _set_status(session, stale, status=ReminderStatus.RETIRED, retired_at=at)
    report.retired += len(stale)
    report.armed += len(insert_ignore(session, Reminder.__table__, list(wanted.values()),
                                      conflict=("subject_type", "subject_id", "kind", "milestone", "reference_on")))
    if wanted:
        earliest = min(key[4] for key in wanted)
        # Only rows still ahead come back: one retired on or after its due day was superseded or overtaken.
        retired = session.execute(sa.select(Reminder.id, Reminder.subject_type, Reminder.subject_id, Reminder.kind,
                                            Reminder.milestone, Reminder.reference_on).where(
            Reminder.status == ReminderStatus.RETIRED, Reminder.reference_on >= earliest,
            Reminder.due_on > today)).all()
        revive = [row.id for row in retired if tuple(row[1:]) in wanted]
        _set_status(session, revive, status=ReminderStatus.PENDING, retired_at=None)
        report.armed += len(revive)


def _choose(session: Session, due: list[Reminder]) -> tuple[list[Reminder], list[Reminder]]:
    """Split due rows into those to send and those superseded by a nearer milestone."""
    nearest: dict[Key, Reminder] = {}
    for row in due:
        key = (row.subject_type, row.subject_id, row.kind, row.reference_on)
        if key not in nearest or row.milestone < nearest[key].milestone:
            nearest[key] = row
    sent = _sent_milestones(session, set(nearest))
    send = [r for k, r in nearest.items() if k not in sent or r.milestone < sent[k]]
    chosen = {r.id for r in send}
    return sorted(send, key=lambda r: r.id), [r for r in due if r.id not in chosen]


def _sent_milestones(session: Session, keys: set[Key]) -> dict[Key, int]:
    """The nearest milestone already queued for each deadline in `keys`."""
    ids = sorted({k[1] for k in keys})
    found: dict[Key, int] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(sa.select(Reminder.subject_type, Reminder.subject_id, Reminder.kind,
                                         Reminder.reference_on, sa.func.min(Reminder.milestone)).where(
            Reminder.status == ReminderStatus.QUEUED, Reminder.subject_id.in_(ids[start:start + 500]))
            .group_by(Reminder.subject_type, Reminder.subject_id, Reminder.kind, Reminder.reference_on)).all()
        found.update({tuple(r[:4]): r[4] for r in rows if tuple(r[:4]) in keys})
    return found


def queue_due(session: Session, items: dict[Key, dd.DueItem], today: date, at: datetime, *,
              domain: str, report: ReminderReport) -> None:
    """Queue every pending reminder due by `today` with its e-mails; retire superseded ones."""
    due = list(session.scalars(sa.select(Reminder).where(
        Reminder.status == ReminderStatus.PENDING, Reminder.due_on <= today).order_by(Reminder.id)))
    send, superseded = _choose(session, due)
    _set_status(session, [r.id for r in superseded], status=ReminderStatus.RETIRED, retired_at=at)
    report.superseded += len(superseded)
    enterprises = _enterprises(session, {r.enterprise_id for r in send})
    digests: dict[int, list[tuple[Reminder, emails.DueEntry]]] = defaultdict(list)
    for reminder in send:
        item = items[(reminder.subject_type, reminder.subject_id, reminder.kind, reminder.reference_on)]
        entry = emails.DueEntry(item, enterprises[reminder.enterprise_id], (item.reference_on - today).days)
        reminder.status, reminder.queued_at = ReminderStatus.QUEUED, at
        report.queued += 1
        report.lines.append(f"提醒 #{reminder.id} {entry.enterprise.name}：{item.what}（{item.reference_on}，"
                            f"{emails.days_phrase(entry.days)}）")
        report.messages += _mail_one(session, reminder, entry, digests, at=at, domain=domain)
    for batch in digests.values():
        report.messages += _mail_digest(session, batch, today, at=at, domain=domain)
    session.flush()


def _enterprises(session: Session, ids: set[int]) -> dict[int, Enterprise]:
    # In slices: a catch-up scan of a national roster names >100,000 enterprises, past
    # PostgreSQL's 65,535 bind parameters per statement (bench/RESULTS.md, 1,000,000 run).
    ordered, found = sorted(ids), {}
    for start in range(0, len(ordered), IN_SLICE):
        found.update((e.id, e) for e in session.scalars(
            sa.select(Enterprise).where(Enterprise.id.in_(ordered[start:start + IN_SLICE]))
            .options(selectinload(Enterprise.officer))))
    return found


def _officer(enterprise: Enterprise) -> User | None:
    officer = enterprise.officer
    return officer if officer is not None and officer.is_active and officer.email else None


def _mail_one(session: Session, reminder: Reminder, entry: emails.DueEntry,
              digests: dict[int, list[tuple[Reminder, emails.DueEntry]]], *, at: datetime, domain: str) -> int:
    """Queue the enterprise's mail and the officer's (or set it aside for the digest)."""
    enterprise, officer, sent = entry.enterprise, _officer(entry.enterprise), 0
    if enterprise.contact_email:
        text = emails.reminder(entry, officer, to_officer=False)
        sent += enqueue(session, dedupe_key=f"reminder:{reminder.id}:enterprise", to_addr=enterprise.contact_email,
                        subject=text.subject, body=text.body, at=at, domain=domain, reminder_id=reminder.id,
                        region_code=reminder.region_code)
    if officer is None or officer.email == enterprise.contact_email:
        return sent
    if officer.wants_daily_digest:
        digests[officer.id].append((reminder, entry))
        return sent
    text = emails.reminder(entry, officer, to_officer=True)
    return sent + enqueue(session, dedupe_key=f"reminder:{reminder.id}:officer", to_addr=officer.email,
                          subject=text.subject, body=text.body, at=at, domain=domain, reminder_id=reminder.id,
                          region_code=reminder.region_code)


def _mail_digest(session: Session, batch: list[tuple[Reminder, emails.DueEntry]], today: date, *,
                 at: datetime, domain: str) -> int:
    officer = _officer(batch[0][1].enterprise)
    assert officer is not None
    text = emails.daily_digest(officer, [entry for _, entry in batch], today)
    first = min(reminder.id for reminder, _ in batch)  # each reminder is queued once: a unique key
    return int(enqueue(session, dedupe_key=f"digest:{officer.id}:{today}:{first}", to_addr=officer.email,
                       subject=text.subject, body=text.body, at=at, domain=domain,
                       region_code=officer.region_code))
