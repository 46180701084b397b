"""Reminders as officers see them: where each stands, its e-mails' delivery, and resending a failed e-mail.

A reminder's state joins the ledger's status to the delivery of its own e-mails, worked out in
SQL (`state_column`) so the filter and the list agree:

- `pending` armed, due later; `due` armed and due, waiting for the next scan (a late scan shows here);
- `queued` queued by the scan, an e-mail still waiting for the sender; `failed` an e-mail failed;
- `sent` queued and nothing left to send. A reminder the officer receives in the daily digest, or
  one without any address, has no e-mail of its own and counts as sent once queued;
- `retired` no longer applies (the date moved, the title ended, a nearer milestone was sent).

Resending is keyed by e-mail, not by reminder: one reminder's mail to the enterprise can bounce
(a bad address) while the officer's copy was delivered, and digests belong to no reminder. Only a
failed e-mail is put back; a sent one is never queued again.

Reads go through the caller's session, which the web tier scopes to the actor's region
(registry/regions/scoping.py); `resend_message` checks the region itself as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, in_scope, require
from registry.domain.errors import Conflict, NotFound
from registry.domain.policy import PolicySet
from registry.enterprises.models import ChangeReport, Enterprise
from registry.pipeline.models import Application, Batch
from registry.reminders import kinds
from registry.reminders.duedates import CHANGE_KIND_NAMES
from registry.reminders.models import OutboxMessage, OutboxStatus, Reminder, ReminderStatus
from registry.titles.models import Certification

STATE_NAMES = {"pending": "未到发送日", "due": "已到期待扫描", "queued": "待发送", "sent": "已发送",
               "failed": "发送失败", "retired": "已撤销"}
STATES = tuple(STATE_NAMES)
MESSAGE_STATUS_NAMES = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}
#: the ledger status each state lies in (lets the database use the status index first)
_LEDGER = {"pending": ReminderStatus.PENDING, "due": ReminderStatus.PENDING, "queued": ReminderStatus.QUEUED,
           "sent": ReminderStatus.QUEUED, "failed": ReminderStatus.QUEUED, "retired": ReminderStatus.RETIRED}


@dataclass(frozen=True)
class ReminderFilter:
    """What to look for among reminders; every criterion is optional."""

    status: str | None = None  #: one of STATES
    kind: str | None = None  #: a declared kind (registry/reminders/kinds.py)
    due_before: date | None = None  #: send date on or before this day


@dataclass(frozen=True)
class ReminderView:
    """One reminder with its enterprise, what it is about, its state and its own e-mails."""

    reminder: Reminder
    enterprise_name: str
    subject_name: str
    state: str
    messages: list[OutboxMessage]
    #: the enterprise's 服务专员 switched reminder e-mail off: their copy goes to the inbox and channels only
    officer_email_off: bool = False

    @property
    def kind_name(self) -> str:
        """Return the reminder kind in Chinese."""
        return kinds.label(self.reminder.kind)

    @property
    def state_name(self) -> str:
        """Return the state in Chinese."""
        return STATE_NAMES[self.state]


def state_column(today: date) -> sa.ColumnElement[str]:
    """Return a reminder's state (see the module docstring) as a SQL expression."""
    own = OutboxMessage.reminder_id == Reminder.id
    failed = sa.exists().where(own, OutboxMessage.status == OutboxStatus.FAILED)
    waiting = sa.exists().where(own, OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    return sa.case(
        (Reminder.status == ReminderStatus.RETIRED, "retired"),
        (sa.and_(Reminder.status == ReminderStatus.PENDING, Reminder.due_on > today), "pending"),
        (Reminder.status == ReminderStatus.PENDING, "due"),
        (failed, "failed"), (waiting, "queued"), else_="sent")


def _select(flt: ReminderFilter, today: date) -> tuple[sa.Select, sa.ColumnElement[str]]:
    state = state_column(today).label("state")
    stmt = (sa.select(Reminder, Enterprise.name, state)
            .join(Enterprise, Enterprise.id == Reminder.enterprise_id))
    if flt.status is not None:
        stmt = stmt.where(Reminder.status == _LEDGER[flt.status], state_column(today) == flt.status)
    if flt.kind is not None:
        stmt = stmt.where(Reminder.kind == flt.kind)
    if flt.due_before is not None:
        stmt = stmt.where(Reminder.due_on <= flt.due_before)
    return stmt, state


def urgency_order(today: date) -> list[sa.ColumnElement]:
    """Return the page's order: today's and overdue open reminders first, then the coming ones, then history.

    Group 0: due today (any state) and those due earlier that still wait (未扫描, 待发送, 发送失败),
    newest first; group 1: the coming ones, nearest first; group 2: what was done, newest first.
    """
    state = state_column(today)
    group = sa.case((Reminder.due_on == today, 0),
                    (sa.and_(Reminder.due_on < today, state.in_(["due", "queued", "failed"])), 0),
                    (Reminder.due_on > today, 1), else_=2)
    return [group, sa.case((group == 1, Reminder.due_on), else_=None).asc(), Reminder.due_on.desc(),
            Reminder.id.desc()]


def list_reminders(session: Session, actor: Actor, flt: ReminderFilter, *, page: int, per_page: int,
                   today: date, policies: PolicySet, urgent_first: bool = False) -> tuple[list[ReminderView], int]:
    """Return one page of the reminders matching `flt` and how many match.

    The API lists the latest send date first; the page (``urgent_first``) puts what is due today or
    overdue first, then the coming reminders nearest first (see `urgency_order`).
    """
    require(actor, Action.READ)
    stmt, _ = _select(flt, today)
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    order = urgency_order(today) if urgent_first else [Reminder.due_on.desc(), Reminder.id.desc()]
    rows = session.execute(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    reminders = [row[0] for row in rows]
    messages = messages_of(session, [r.id for r in reminders])
    names = subject_names(session, reminders, policies)
    off = _email_off(session, {r.enterprise_id for r in reminders})
    return [ReminderView(r, name, names.get((r.subject_type, r.subject_id), ""), state, messages.get(r.id, []),
                         r.enterprise_id in off and kinds.get(r.kind).recipients != kinds.OFFICE)
            for r, name, state in rows], total


def _email_off(session: Session, enterprise_ids: set[int]) -> set[int]:
    """The enterprises (of `enterprise_ids`) whose responsible officer switched reminder e-mail off."""
    if not enterprise_ids:
        return set()
    return set(session.scalars(sa.select(Enterprise.id).join(User, User.id == Enterprise.officer_id).where(
        Enterprise.id.in_(enterprise_ids), User.wants_reminder_email.is_(False))))


def messages_of(session: Session, reminder_ids: list[int]) -> dict[int, list[OutboxMessage]]:
    """Return the e-mails of each reminder, oldest first."""
    found: dict[int, list[OutboxMessage]] = {}
    if reminder_ids:
        stmt = sa.select(OutboxMessage).where(OutboxMessage.reminder_id.in_(reminder_ids)).order_by(OutboxMessage.id)
        for message in session.scalars(stmt):
            found.setdefault(message.reminder_id or 0, []).append(message)
    return found


def subject_names(session: Session, reminders: list[Reminder], policies: PolicySet) -> dict[tuple[str, int], str]:
    """Name what each reminder is about: the title, the annual update, the kind of change or the application."""
    def ids(kind: str) -> set[int]:
        return {r.subject_id for r in reminders if r.subject_type == kind}

    names: dict[tuple[str, int], str] = {("enterprise", i): "年度信息更新" for i in ids("enterprise")}
    if cert_ids := ids("certification"):
        for cid, tier, policy_code in session.execute(sa.select(
                Certification.id, Certification.tier, Certification.policy_code).where(Certification.id.in_(cert_ids))):
            try:
                names[("certification", cid)] = policies.tier(tier, policy_code=policy_code).name
            except NotFound:  # a tier dropped from the policy files keeps its code
                names[("certification", cid)] = tier
    if application_ids := ids("application"):
        for aid, batch_name in session.execute(sa.select(Application.id, Batch.name).join(Application.batch)
                                               .where(Application.id.in_(application_ids))):
            names[("application", aid)] = f"申请 #{aid}（{batch_name}）"  # the kind column says what about it
    if change_ids := ids("change_report"):
        for rid, kind in session.execute(sa.select(ChangeReport.id, ChangeReport.kind)
                                         .where(ChangeReport.id.in_(change_ids))):
            names[("change_report", rid)] = f"重大变化：{CHANGE_KIND_NAMES.get(kind, kind)}"
    return names


def _visible(actor: Actor, region_code: str | None) -> bool:
    # An e-mail without a region (none today, but the column allows it) is nationwide business.
    return actor.region_code == "000000" if region_code is None else in_scope(actor, region_code)


def _refusal(message: OutboxMessage) -> Conflict:
    if message.status == OutboxStatus.SENT:
        return Conflict("该邮件已发送，不会重复发送 / this e-mail was sent; it is never sent twice",
                        field="status", status="sent")
    return Conflict("只有发送失败的邮件可以重发，该邮件正在等待发送 / only a failed e-mail can be resent; "
                    "this one is still queued", field="status", status=str(message.status.value))


def resend_message(session: Session, *, actor: Actor, message_id: int, at: datetime) -> OutboxMessage:
    """Put a failed e-mail back in the queue, due now, with a fresh set of attempts.

    :raises NotFound: no such e-mail in the actor's region. :raises Conflict: it is not failed.
    """
    require(actor, Action.WRITE)
    message = session.scalar(sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
                             .execution_options(populate_existing=True))
    if message is None or not _visible(actor, message.region_code):
        raise NotFound("邮件不存在 / e-mail not found")
    if message.status != OutboxStatus.FAILED:
        raise _refusal(message)
    before_attempts, before_due, last_error = message.attempts, message.next_attempt_at, message.last_error
    # Compare-and-set: a concurrent resend (or anything else that moved the row) wins once.
    moved = session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=at, lease_until=None)
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)).scalar_one_or_none()
    if moved is None:
        session.refresh(message)
        raise _refusal(message)
    session.refresh(message)
    enterprise_id = session.scalar(sa.select(Reminder.enterprise_id).where(Reminder.id == message.reminder_id)) \
        if message.reminder_id is not None else None
    audit.record(session, actor=actor, action="outbox.resent", entity_type="outbox_message", entity_id=message.id,
                 enterprise_id=enterprise_id, region_code=message.region_code, at=at,
                 changes={"status": ["failed", "pending"], "attempts": [before_attempts, 0],
                          "next_attempt_at": [audit.plain(before_due), audit.plain(at)]},
                 why=audit.Why(note=f"重新发送提醒邮件至 {message.to_addr}；上次错误：{last_error or '—'}"[:2000]))
    return message
