"""The e-mail outbox: rows written in the transaction of their cause, drained by the sender.

`enqueue` inserts a rendered message under a unique dedupe key (a second enqueue is a no-op)
with a stable Message-ID derived from that key. The steps here never commit; the sender that
drains the outbox is a job and owns its transactions (jobs/outbox.py `drain`): it claims a batch —
`FOR UPDATE SKIP LOCKED` on PostgreSQL, and on both backends a compare-and-set `UPDATE … WHERE status = 'pending' RETURNING` — and commits the
claim *before* talking to SMTP, so no database lock is held during the network call. Then it
sends the batch over one SMTP session and records each delivery the moment the relay accepts it,
in a short transaction of its own. Transient failures go back to
`pending` with exponential backoff (`next_attempt_at`); permanent ones, and messages the relay
answered 4xx too often, are marked `failed` with the reason. When the relay itself is down
(unreachable, TLS/login refused, 530/538 — `RelayDown`) the drain stops and the claimed messages
go back exactly as they were: no attempt counted, no backoff, so the next run after the relay
answers (the scheduler's, every 2 minutes, or `send-reminders` by hand) sends them at once. Rows
left in `sending` past their lease (a crashed sender) return to `pending`.

Delivery is at-least-once, and there is exactly one way to get a duplicate: the relay accepted a
message and the sender never recorded it — the process died between the relay's 250 and the
committed `sent` mark (the lease then expires), or the connection dropped after the last line of
the message and before the 250 arrived (a transient failure). Either way the message is sent
again with the same Message-ID, so mail clients that deduplicate show it once. Every other path
(reruns, two senders, relay down, 4xx) sends once. **The bound**: a sender killed at any point
resends at most the one message in flight — the rest of its claimed batch was either marked sent
already or never reached the relay, and returns with the lease (`tests/jobs/test_outbox_batches.py`).
The mark's commit does not wait for the disk (`registry.platform.db.quick_commits`: on PostgreSQL
one autocommitted UPDATE with `synchronous_commit` off; SQLite's WAL with synchronous=NORMAL never waits):
a killed sender loses no committed mark, but a crash of the PostgreSQL server (its WAL buffers not
yet written) or an OS crash or power loss of the database host can lose the last marks (PostgreSQL:
those of the last ~0.6 s, 3 × `wal_writer_delay`; SQLite: an OS crash, those since the WAL was last
synced, at a checkpoint), whose messages are then sent once more. The mark is one statement on the driver's
connection (`SentMarks`): ~0.07 ms (SQLite) to ~0.12 ms (PostgreSQL) of the sender's CPU a message, plus the WAL
checkpoints SQLite runs in some commits and PostgreSQL's round trip (bench/RESULTS.md, branch smtpfast).
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.regions import code_range
from registry.platform.mail import ConnectionFailed, MailError, RelayDown
from registry.platform.sqlutil import insert_ignore
from registry.reminders.models import OutboxChannel, OutboxMessage, OutboxStatus

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=12)
RELAY_RETRY_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=15)
BATCH = 20  #: channel deliveries claimed at a time (jobs/channels.py)
#: e-mails claimed at a time and sent over one SMTP session (each marked sent as the relay accepts it)
MAIL_BATCH = 50
SENDER = "send-reminders"  #: the sender's name in the run ledger


def message_id(dedupe_key: str, domain: str) -> str:
    """Return the stable Message-ID of the message with `dedupe_key`."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:20]
    slug = re.sub(r"[^A-Za-z0-9]+", ".", dedupe_key).strip(".")[:60]
    return f"<{slug}.{digest}@{domain}>"


def mail_domain(mail_from: str) -> str:
    """Return the domain part of the sender address (Message-IDs use it)."""
    return mail_from.rpartition("@")[2].strip("> ") or "registry.local"


def _row(*, dedupe_key: str, to_addr: str, subject: str, body: str, at: datetime, domain: str,
         reminder_id: int | None = None, region_code: str | None = None, channel: str = OutboxChannel.EMAIL.value,
         target_id: int | None = None) -> dict[str, object]:
    return {"dedupe_key": dedupe_key, "message_id": message_id(dedupe_key, domain), "reminder_id": reminder_id,
            "region_code": region_code, "to_addr": to_addr, "subject": subject, "body_text": body,
            "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": at, "created_at": at,
            "channel": str(channel), "target_id": target_id}


def enqueue(session: Session, *, dedupe_key: str, to_addr: str, subject: str, body: str, at: datetime,
            domain: str, reminder_id: int | None = None, region_code: str | None = None) -> bool:
    """Queue a rendered message once per dedupe key; return whether it was new."""
    row = _row(dedupe_key=dedupe_key, to_addr=to_addr, subject=subject, body=body, at=at, domain=domain,
               reminder_id=reminder_id, region_code=region_code)
    return bool(insert_ignore(session, OutboxMessage.__table__, [row], conflict=("dedupe_key",)))


class MessageBatch:
    """Messages enqueued together, as `enqueue` would one by one, in one INSERT … ON CONFLICT DO NOTHING.

    The daily scan queues thousands of reminders; a statement per message was most of its time.
    """

    def __init__(self, session: Session, *, at: datetime, domain: str) -> None:
        self.session, self.at, self.domain = session, at, domain
        self.rows: list[dict[str, object]] = []

    def add(self, *, dedupe_key: str, to_addr: str, subject: str, body: str, reminder_id: int | None = None,
            region_code: str | None = None, channel: str = OutboxChannel.EMAIL.value,
            target_id: int | None = None) -> None:
        """Set a rendered message aside for `flush` (an e-mail, or a delivery to a channel target)."""
        self.rows.append(_row(dedupe_key=dedupe_key, to_addr=to_addr, subject=subject, body=body, at=self.at,
                              domain=self.domain, reminder_id=reminder_id, region_code=region_code,
                              channel=channel, target_id=target_id))

    def flush(self) -> int:
        """Queue the messages set aside, in order, each once per dedupe key; return how many were new."""
        rows, self.rows = self.rows, []
        return len(insert_ignore(self.session, OutboxMessage.__table__, rows, conflict=("dedupe_key",)))


@dataclass(frozen=True)
class Backlog:
    """The unsent mail (pending or being sent) and how long the oldest has waited."""

    count: int
    oldest_age: timedelta | None  #: None when nothing waits
    alarm_after: timedelta

    @property
    def oldest_minutes(self) -> int | None:
        """Whole minutes the oldest unsent message has waited."""
        return None if self.oldest_age is None else int(self.oldest_age.total_seconds() // 60)

    @property
    def alarm(self) -> bool:
        """Tell whether a message has waited longer than the configured age."""
        return self.oldest_age is not None and self.oldest_age > self.alarm_after

    def as_json(self) -> dict[str, object]:
        """The /health form: {"backlog": n, "oldest_minutes": m, "alarm_minutes": a, "status": "ok"|"alarm"}."""
        return {"backlog": self.count, "oldest_minutes": self.oldest_minutes,
                "alarm_minutes": int(self.alarm_after.total_seconds() // 60),
                "status": "alarm" if self.alarm else "ok"}


def backlog(session: Session, *, now: datetime, alarm_minutes: int, region_code: str | None = None) -> Backlog:
    """Count the unsent mail (of `region_code`'s subtree, or all) and age its oldest message.

    E-mail only: the alarm points at the SMTP relay; a chat channel's deliveries wait by design (its rate
    limit) and those that fail are listed in 待办.
    """
    query = sa.select(sa.func.count(), sa.func.min(OutboxMessage.created_at)).where(
        OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        OutboxMessage.channel == OutboxChannel.EMAIL)
    if region_code and region_code != "000000":
        low, high = code_range(region_code)
        query = query.where(OutboxMessage.region_code.between(low, high))
    count, oldest = session.execute(query).one()
    age = max(now - oldest, timedelta(0)) if oldest is not None else None
    return Backlog(count=count, oldest_age=age, alarm_after=timedelta(minutes=alarm_minutes))


def backoff(attempts: int) -> timedelta:
    """Return the wait before attempt `attempts + 1`: 1, 4, 16, 64 minutes … at most 12 hours, ±10 %."""
    wait = min(BACKOFF_BASE * 4 ** max(attempts - 1, 0), BACKOFF_MAX)
    return wait * random.uniform(0.9, 1.1)  # noqa: S311  jitter, not cryptography


@dataclass
class SendReport:
    """What one drain of the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    deferred: int = 0  #: claimed, then put back untouched because the relay was down
    unreachable: bool = False  #: the relay could not be reached: the run is not a success
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"已发送 {self.sent} 封，待重试 {self.retried} 封，失败 {self.failed} 封 / "
                f"sent {self.sent}, to retry {self.retried}, failed {self.failed}")
        if self.unreachable:
            text += "；邮件服务器不可用，其余邮件原样保留、恢复后立即发送 / relay down: the rest waits, unchanged"
        return text


@dataclass(frozen=True)
class Claimed:
    """A message claimed for sending (plain values: the claiming session is closed)."""

    id: int
    to_addr: str
    subject: str
    body_text: str
    message_id: str
    attempts: int


def release_expired(session: Session, now: datetime) -> int:
    """Return messages stuck in `sending` past their lease to `pending`; return how many."""
    rows = session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now)
        .values(status=OutboxStatus.PENDING, lease_until=None, next_attempt_at=now)
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
    return len(rows)


_T = OutboxMessage.__table__
_DUE = (sa.select(_T.c.id).where(
    _T.c.status == OutboxStatus.PENDING, _T.c.next_attempt_at <= sa.bindparam("due_at", type_=_T.c.next_attempt_at.type),
    _T.c.channel == OutboxChannel.EMAIL)
    .order_by(_T.c.next_attempt_at, _T.c.id).limit(sa.bindparam("due_limit", type_=sa.Integer))
    .with_for_update(skip_locked=True))  # renders nothing on SQLite: the CAS below decides
_CLAIM = (sa.update(_T).where(_T.c.id.in_(sa.bindparam("claim_ids", expanding=True)), _T.c.status == OutboxStatus.PENDING)
          .values(status=OutboxStatus.SENDING, lease_until=sa.bindparam("claim_lease", type_=_T.c.lease_until.type),
                  attempts=_T.c.attempts + 1)
          .returning(_T.c.id, _T.c.to_addr, _T.c.subject, _T.c.body_text, _T.c.message_id, _T.c.attempts))


def claim_batch(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to `limit` due e-mails: status sending, a lease, one more attempt.

    Only e-mail: the other channels are claimed by `registry.channels.ledger.claim_deliveries`, target by
    target within each target's rate limit. The statements are built once (`_DUE`, `_CLAIM`): the sender
    claims a batch every 50 messages, and building them (and the ORM's bulk-UPDATE path) cost more than
    running them.
    """
    ids = list(session.scalars(_DUE, {"due_at": now, "due_limit": limit}))
    if not ids:
        return []
    rows = session.execute(_CLAIM, {"claim_ids": ids, "claim_lease": now + LEASE}).all()
    order = {id_: position for position, id_ in enumerate(ids)}
    return sorted((Claimed(*row) for row in rows), key=lambda c: order[c.id])


def _mark(session: Session, message_id_: int, **values: object) -> None:
    session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.id == message_id_, OutboxMessage.status == OutboxStatus.SENDING)
        .values(lease_until=None, **values).execution_options(synchronize_session=False))


#: built once: the sender runs it for every message, and building it each time was a measurable part of its cost
_MARK_SENT = (sa.update(_T).where(_T.c.id == sa.bindparam("mark_id"), _T.c.status == OutboxStatus.SENDING)
              .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("mark_at", type_=_T.c.sent_at.type),
                      lease_until=None, last_error=None))


def mark_sent(session: Session | sa.Connection, message: Claimed, now: datetime) -> None:
    """Record a delivery (the sender records each through `SentMarks`, on its connection's driver)."""
    session.execute(_MARK_SENT, {"mark_id": message.id, "mark_at": now})


class SentMarks:
    """`mark_sent` as the sender runs it for every message: `_MARK_SENT` compiled once per dialect and each
    mark run on the driver's connection as one statement, with no transaction around it —
    the connection must commit each statement on its own (PostgreSQL: `quick_commits`' autocommit; SQLite:
    the driver's, which registry.platform.db configures): the mark is committed when the call returns.

    Going through SQLAlchemy's execution (~0.1 ms) and, on SQLite, BEGIN IMMEDIATE and COMMIT as statements
    of their own cost more than the UPDATE. The values stored are those `mark_sent` stores: every parameter
    goes through its type's bind processor, as SQLAlchemy applies it; a driver error is raised as
    SQLAlchemy's (`sqlalchemy.exc.DBAPIError` and its subclasses), as `mark_sent` would.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._dialect = connection.dialect
        self._sql, self._params = _compiled_mark(connection.dialect)
        self._cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def __call__(self, message: Claimed, now: datetime) -> None:
        """Mark `message` sent at `now`, committed."""
        params = self._params(message.id, now)
        try:
            self._cursor.execute(self._sql, params)
        except self._dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(self._sql, params, exc, self._dialect.loaded_dbapi.Error,
                                             dialect=self._dialect) from exc

    def close(self) -> None:
        """Close the driver's cursor (the connection goes back to its pool as usual)."""
        self._cursor.close()


@functools.cache
def _compiled_mark(dialect: sa.Dialect) -> tuple[str, Callable[[int, datetime], tuple[object, ...] | dict[str, object]]]:
    """`_MARK_SENT` for `dialect`: its SQL, and its driver parameters from a message's id and time."""
    compiled = _MARK_SENT.compile(dialect=dialect)
    params = compiled.construct_params({"mark_id": 0, "mark_at": None})
    process = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in params}
    fixed = {name: value if process[name] is None else process[name](value) for name, value in params.items()}
    of_id, of_at = process["mark_id"] or _same, process["mark_at"] or _same
    order = compiled.positiontup
    if order is None:  # named parameters (psycopg): a dict
        return compiled.string, lambda id_, at: {**fixed, "mark_id": of_id(id_), "mark_at": of_at(at)}
    template = [fixed[name] for name in order]  # positional (sqlite3's qmark): a tuple in the statement's order
    where_id, where_at = order.index("mark_id"), order.index("mark_at")

    def positional(id_: int, at: datetime) -> tuple[object, ...]:
        values = template.copy()
        values[where_id], values[where_at] = of_id(id_), of_at(at)
        return tuple(values)

    return compiled.string, positional


def _same(value: object) -> object:
    return value


def put_back(session: Session, messages: list[Claimed], error: RelayDown) -> None:
    """Return messages claimed while the relay was down to `pending` as they were: the claim's attempt is
    undone and `next_attempt_at` is left alone, so they are due the moment the relay answers."""
    for message in messages:
        _mark(session, message.id, status=OutboxStatus.PENDING, attempts=message.attempts - 1,
              last_error=str(error)[:2000])


def mark_failure(session: Session, message: Claimed, error: MailError, now: datetime) -> str:
    """Schedule a retry for a transient failure or give up; return the new status.

    A session that broke while this message was being sent never uses up its attempts and is
    retried within the hour (`RelayDown` never gets here: see `put_back`).
    """
    if isinstance(error, ConnectionFailed):
        _mark(session, message.id, status=OutboxStatus.PENDING, last_error=str(error)[:2000],
              next_attempt_at=now + min(backoff(message.attempts), RELAY_RETRY_MAX))
        return OutboxStatus.PENDING.value
    if error.transient and message.attempts < MAX_ATTEMPTS:
        _mark(session, message.id, status=OutboxStatus.PENDING, last_error=str(error)[:2000],
              next_attempt_at=now + backoff(message.attempts))
        return OutboxStatus.PENDING.value
    reason = str(error) if not error.transient else f"重试 {message.attempts} 次后放弃 / gave up: {error}"
    _mark(session, message.id, status=OutboxStatus.FAILED, last_error=reason[:2000])
    return OutboxStatus.FAILED.value
