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

The deadlines are those of the declared kinds (registry/reminders/kinds.py). Steps 1–3 are
judged in SQL first for the kinds declared with a statement (registry/reminders/wanted.py): the
database compares the rows the deadlines imply with the ledger and names the deadlines that need
work; only those, the rows due on D and the other kinds are built as items and decided on here. E-mails go to the outbox in one
statement per scan (outbox.MessageBatch).

Recipients, as the kind declares: the enterprise's contact and its responsible officer — or, for a
reminder about an office's own step (a level's recommendation deadline in a batch), that office's officers; an
officer who chose a daily digest gets one e-mail listing the day's reminders instead. Every user reached
also gets the reminder in their 站内消息 and on their own channels, and the offices' channels get it too
(registry/channels/fanout.py; the channel ledger is registry/channels/ledger.py). A user who switched reminder
e-mail off (`User.wants_reminder_email`, `mails_user`) gets no e-mail, only the inbox and their channels; the
enterprise contact's e-mail is the enterprise's and goes regardless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.channels.fanout import Fanout
from registry.domain.actors import Role
from registry.enterprises.models import Enterprise
from registry.platform.sqlutil import insert_ignore
from registry.policies.rules import Rules
from registry.reminders import duedates as dd
from registry.reminders import emails, kinds, wanted
from registry.reminders.models import Reminder, ReminderStatus
from registry.reminders.outbox import MessageBatch

Key = tuple[str, int, str, date]  #: (subject_type, subject_id, kind, reference_on)
#: the day's reminders per officer taking a digest, each with whether the digest e-mail lists it
Digests = dict[User, list[tuple[Reminder, emails.DueEntry, bool]]]
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


def collect(session: Session, rules: Rules, today: date,
            only: Mapping[str, Collection[int]] | None = None) -> dict[Key, dd.DueItem]:
    """Every deadline that may need a reminder from `today` on, by ledger key.

    `only` ({kind: subject ids}) limits the kinds it names to those subjects (the scan: the
    deadlines SQL found work for); kinds it does not name are collected whole.
    """
    tiers = dd.TierCache(rules)
    items: list[dd.DueItem] = []
    declared = kinds.all_kinds()
    for kind in declared:
        ids = None if only is None else only.get(kind.code)
        if ids is None or ids:
            items.extend(kind.due(session, tiers, today, today + timedelta(days=kind.horizon(rules)), ids=ids))
    for kind in declared:
        ids = None if only is None else only.get(kind.code)
        if kind.overdue is not None and (ids is None or ids):
            items.extend(kind.overdue(kind, session, tiers, today, ids=ids))
    return {item.key: item for item in items}


def wanted_rows(items: dict[Key, dd.DueItem], today: date, at: datetime) -> dict[RowKey, dict]:
    """The ledger rows the deadlines imply on `today` (passed milestones left out)."""
    return {key: _ledger_row(item, key[3], at) for key, item in _wanted(items, today).items()}


def _wanted(items: dict[Key, dd.DueItem], today: date) -> dict[RowKey, dd.DueItem]:
    """`wanted_rows`' keys, each with its deadline: the rows themselves are built a chunk at a time (`_arm`)."""
    keys: dict[RowKey, dd.DueItem] = {}
    for item in items.values():
        if item.reference_on < today and item.milestones != (dd.OVERDUE,):
            continue
        for milestone in item.milestones:
            keys[(item.subject_type, item.subject_id, item.kind, milestone, item.reference_on)] = item
    return keys


def _ledger_row(item: dd.DueItem, milestone: int, at: datetime) -> dict:
    return {"subject_type": item.subject_type, "subject_id": item.subject_id, "kind": item.kind,
            "milestone": milestone, "reference_on": item.reference_on,
            "due_on": item.reference_on - timedelta(days=milestone), "enterprise_id": item.enterprise_id,
            "region_code": item.region_code, "status": ReminderStatus.PENDING.value, "created_at": at}


def _row_key(r: Reminder) -> RowKey:
    return (r.subject_type, r.subject_id, r.kind, r.milestone, r.reference_on)


def _set_status(session: Session, ids: list[int], **values: object) -> None:
    # "fetch" (RETURNING) refreshes just the rows changed; "evaluate" tested every Reminder in the
    # session against the id list: a catch-up scan of 100,000 enterprises spent 10 s there.
    for start in range(0, len(ids), 500):
        session.execute(sa.update(Reminder).where(Reminder.id.in_(ids[start:start + 500])).values(**values),
                        execution_options={"synchronize_session": "fetch"})


_KEY = (Reminder.id, Reminder.subject_type, Reminder.subject_id, Reminder.kind, Reminder.milestone,
        Reminder.reference_on)
_LEDGER_KEY = ("subject_type", "subject_id", "kind", "milestone", "reference_on")


def plan(session: Session, rules: Rules, today: date, at: datetime,
         report: ReminderReport) -> dict[Key, dd.DueItem]:
    """Arm the wanted rows, revive retired ones wanted again, retire pending ones no longer wanted.

    SQL names the deadlines with work to do (registry/reminders/wanted.py); their items, and those
    of the rows due today, are built and judged here as the whole roster's once were. Returns those
    items: the e-mails of the rows due today are written from them.
    """
    judged = kinds.in_sql()
    in_sql = [k.code for k in judged]
    work = session.execute(wanted.work(rules, today, judged)).all()
    pending = session.execute(sa.select(*_KEY).where(Reminder.status == ReminderStatus.PENDING, sa.or_(
        Reminder.due_on <= today, Reminder.kind.not_in(in_sql)))).all()  # due, or not judged in SQL
    subjects: dict[str, set[int]] = {kind: set() for kind in in_sql}
    for row in (*work, *pending):
        subjects.get(row.kind, set()).add(row.subject_id)
    items = collect(session, rules, today, only=subjects)
    want = _wanted(items, today)
    candidates = {row.id: row for row in (*pending, *(r for r in work if r.need == "stale"))}
    stale = sorted(i for i, row in candidates.items() if tuple(row[-5:]) not in want)
    _set_status(session, stale, status=ReminderStatus.RETIRED, retired_at=at)
    report.retired += len(stale)
    missing = {(r.subject_type, r.subject_id, r.kind, r.reference_on) for r in work if r.need == "missing"}
    report.armed += _arm(session, {k: item for k, item in want.items()
                                   if k[2] not in in_sql or (*k[:3], k[4]) in missing}, today, at)
    return items


#: ledger rows built and inserted at a time: a national catch-up arms ~390,000 (bench/RESULTS.md)
ARM_CHUNK = 20_000


def _arm(session: Session, rows: dict[RowKey, dd.DueItem], today: date, at: datetime) -> int:
    """Insert `rows` not in the ledger yet, revive those retired while still ahead; return how many."""
    keys = list(rows)
    armed = 0
    for start in range(0, len(keys), ARM_CHUNK):  # in order: the ids are those of one insert
        part = [_ledger_row(rows[k], k[3], at) for k in keys[start:start + ARM_CHUNK]]
        armed += len(insert_ignore(session, Reminder.__table__, part, conflict=_LEDGER_KEY))
    del keys
    # Only rows still ahead come back: one retired on or after its due day was superseded or overtaken.
    revive = [row.id for part in dd.slices({k[1] for k in rows}) for row in session.execute(
        sa.select(*_KEY).where(Reminder.status == ReminderStatus.RETIRED, Reminder.due_on > today,
                               dd.only(Reminder.subject_id, part, session))) if tuple(row[1:]) in rows]
    _set_status(session, revive, status=ReminderStatus.PENDING, retired_at=None)
    return armed + len(revive)


_DUE = (*_KEY, Reminder.enterprise_id, Reminder.region_code)  #: what queue_due reads of a due reminder


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


#: reminders rendered and written at a time: a catch-up of a national roster queues ~140,000, and holding every
#: e-mail, inbox row and enterprise until one final write took 1.4 GB (bench/RESULTS.md); the rows and their order
#: are those of one write (the digests, which list a whole day, still go last)
QUEUE_CHUNK = 5_000


def queue_due(session: Session, items: dict[Key, dd.DueItem], today: date, at: datetime, *,
              domain: str, report: ReminderReport) -> None:
    """Queue every pending reminder due by `today` with its e-mails; retire superseded ones."""
    # plain rows, not ORM objects: only read here, and a catch-up scan queues thousands
    due = list(session.execute(sa.select(*_DUE).where(
        Reminder.status == ReminderStatus.PENDING, Reminder.due_on <= today).order_by(Reminder.id)))
    send, superseded = _choose(session, due)
    del due
    _set_status(session, [r.id for r in superseded], status=ReminderStatus.RETIRED, retired_at=at)
    report.superseded += len(superseded)
    del superseded
    officer_of = _Officers(session)
    digests: Digests = defaultdict(list)
    offices, mail = _Offices(session), MessageBatch(session, at=at, domain=domain)
    fan = Fanout(session, mail, at)
    for start in range(0, len(send), QUEUE_CHUNK):
        part = send[start:start + QUEUE_CHUNK]
        enterprises = _enterprises(session, {r.enterprise_id for r in part})
        officer_of.load(enterprises.values())
        for reminder in part:
            _queue_one(reminder, items, enterprises, today, mail, fan, offices, officer_of, digests, report)
        _set_status(session, [r.id for r in part], status=ReminderStatus.QUEUED, queued_at=at)  # before their mail
        report.messages += mail.flush()
        fan.flush()
    for officer, batch in digests.items():
        _mail_digest(mail, officer, batch, today, fan)
    report.messages += mail.flush()
    fan.flush()
    session.flush()


def _queue_one(reminder: sa.Row, items: dict[Key, dd.DueItem], enterprises: dict[int, sa.Row], today: date,
               mail: MessageBatch, fan: Fanout, offices: _Offices, officer_of: _Officers, digests: Digests,
               report: ReminderReport) -> None:
    """Set aside one due reminder's e-mails, inbox entries and channel deliveries (or its place in a digest)."""
    item = items[(reminder.subject_type, reminder.subject_id, reminder.kind, reminder.reference_on)]
    entry = emails.DueEntry(item, enterprises[reminder.enterprise_id], (item.reference_on - today).days)
    report.queued += 1
    report.lines.append(f"提醒 #{reminder.id} {entry.enterprise.name}：{item.what}（{item.reference_on}，"
                        f"{emails.days_phrase(entry.days)}）")
    office = kinds.get(item.kind).recipients == kinds.OFFICE
    chat = emails.channel_reminder(entry)  # rendered once: the offices', the inbox's and the officer's channels
    fan.to_offices(reminder_id=reminder.id, region_code=reminder.region_code,
                   office_code=item.office_code if office else None, subject=chat.subject, body=chat.body)
    if office:
        _mail_office(mail, reminder, entry, offices(item.office_code) if item.office_code else [], digests, fan, chat)
    else:
        _mail_one(mail, reminder, entry, officer_of(entry.enterprise), digests, fan, chat)


#: what the texts and the recipients need of an enterprise (registry/reminders/emails.py `EnterpriseText`)
_TEXT_COLUMNS = (Enterprise.id, Enterprise.name, Enterprise.uscc, Enterprise.contact_name, Enterprise.contact_email,
                 Enterprise.contact_phone, Enterprise.officer_id)


def _enterprises(session: Session, ids: set[int]) -> dict[int, sa.Row]:
    """The enterprises of `ids` as plain rows of `_TEXT_COLUMNS` (their contacts decrypted), by id.

    Rows, not ORM objects: a catch-up reads tens of thousands only to write their texts.
    """
    # In slices: a catch-up scan of a national roster names >100,000 enterprises, past
    # PostgreSQL's 65,535 bind parameters per statement (bench/RESULTS.md, 1,000,000 run).
    return {row.id: row for part in dd.slices(ids) for row in session.execute(
        sa.select(*_TEXT_COLUMNS).where(dd.only(Enterprise.id, part, session)))}


class _Officers:
    """The enterprises' responsible officers, each user loaded once (a province's officer serves thousands)."""

    def __init__(self, session: Session) -> None:
        self.session, self.users = session, {}
        self.seen: set[int] = set()

    def load(self, enterprises: Iterable[sa.Row]) -> None:
        """Load the officers of `enterprises` not loaded yet."""
        ids = sorted({e.officer_id for e in enterprises if e.officer_id is not None} - self.seen)
        self.seen.update(ids)
        self.users.update((u.id, u) for part in dd.slices(ids) for u in self.session.scalars(
            sa.select(User).where(User.id.in_(part))))

    def __call__(self, enterprise: sa.Row) -> User | None:
        """The enterprise's responsible officer when active (an e-mail address or not)."""
        officer = self.users.get(enterprise.officer_id)
        return officer if officer is not None and officer.is_active else None


def mails_user(user: User) -> bool:
    """Whether the scan e-mails this user: they have an address and have not switched reminder e-mail off."""
    return bool(user.email) and user.wants_reminder_email


def _mail_one(mail: MessageBatch, reminder: Reminder, entry: emails.DueEntry, officer: User | None, digests: Digests,
              fan: Fanout, chat: emails.Rendered) -> None:
    """Queue the enterprise's mail and the officer's (or set it aside for the digest), and the officer's channels.

    `officer`: the enterprise's responsible officer when active."""
    enterprise = entry.enterprise
    mailed = officer if officer is not None and officer.email else None  # the one the mail names
    if enterprise.contact_email:
        text = emails.reminder(entry, mailed, to_officer=False)
        mail.add(dedupe_key=f"reminder:{reminder.id}:enterprise", to_addr=enterprise.contact_email,
                 subject=text.subject, body=text.body, reminder_id=reminder.id, region_code=reminder.region_code)
    if officer is None:
        return
    # The inbox shows the text without the contact's details: pages show them masked until asked for (audited).
    fan.inbox(officer.id, reminder_id=reminder.id, subject=chat.subject, body=chat.body,
              region_code=reminder.region_code)
    by_mail = mails_user(officer) and officer.email != enterprise.contact_email
    if officer.wants_daily_digest:
        digests[officer].append((reminder, entry, by_mail))
        return
    text = emails.reminder(entry, officer, to_officer=True)
    fan.to_user(officer.id, key=f"reminder:{reminder.id}:officer", subject=chat.subject, body=chat.body,
                reminder_id=reminder.id, region_code=reminder.region_code)
    if by_mail:
        mail.add(dedupe_key=f"reminder:{reminder.id}:officer", to_addr=officer.email, subject=text.subject,
                 body=text.body, reminder_id=reminder.id, region_code=reminder.region_code)


class _Offices:
    """The active officers and admins of each office (region node), looked up once per scan."""

    def __init__(self, session: Session) -> None:
        self.session, self.seen = session, {}

    def __call__(self, code: str) -> list[User]:
        if code not in self.seen:
            self.seen[code] = list(self.session.scalars(sa.select(User).where(
                User.region_code == code, User.is_active.is_(True), User.role.in_([Role.OFFICER, Role.ADMIN]))
                .order_by(User.id)))
        return self.seen[code]


def _mail_office(mail: MessageBatch, reminder: Reminder, entry: emails.DueEntry, officers: list[User],
                 digests: Digests, fan: Fanout, chat: emails.Rendered) -> None:
    """Queue a reminder about an office's own step (a level's opinion) to that office's officers."""
    for officer in officers:
        text = emails.office_reminder(entry, officer)
        fan.inbox(officer.id, reminder_id=reminder.id, subject=text.subject, body=text.body,
                  region_code=reminder.region_code)
        if officer.wants_daily_digest:
            digests[officer].append((reminder, entry, mails_user(officer)))
            continue
        fan.to_user(officer.id, key=f"reminder:{reminder.id}:user:{officer.id}", subject=chat.subject,
                    body=chat.body, reminder_id=reminder.id, region_code=reminder.region_code)
        if mails_user(officer):
            mail.add(dedupe_key=f"reminder:{reminder.id}:user:{officer.id}", to_addr=officer.email,
                     subject=text.subject, body=text.body, reminder_id=reminder.id, region_code=reminder.region_code)


def _mail_digest(mail: MessageBatch, officer: User, batch: list[tuple[Reminder, emails.DueEntry, bool]], today: date,
                 fan: Fanout) -> None:
    mailed = [(reminder, entry) for reminder, entry, by_mail in batch if by_mail]
    if mailed:
        text = emails.daily_digest(officer, [entry for _, entry in mailed], today)
        first = min(reminder.id for reminder, _ in mailed)  # each reminder is queued once: a unique key
        mail.add(dedupe_key=f"digest:{officer.id}:{today}:{first}", to_addr=officer.email, subject=text.subject,
                 body=text.body, region_code=officer.region_code)
    chat = emails.channel_digest([entry for _, entry, _ in batch], today)
    first = min(reminder.id for reminder, _, _ in batch)
    fan.to_user(officer.id, key=f"digest:{officer.id}:{today}:{first}", subject=chat.subject, body=chat.body,
                reminder_id=None, region_code=officer.region_code)
