"""The outbox sender: drains the e-mail outbox, owning its transactions (the jobs process, `send-reminders`).

The steps are commit-free services in registry/reminders/outbox.py (claim a batch, mark it sent,
put it back, record a failure); this runner gives each its own short transaction: the claim is
committed *before* talking to SMTP, so no database lock is held during the network call; a batch
goes over one SMTP session, and each delivery is recorded the moment the relay accepts it, in a
transaction of its own whose commit does not wait for the disk. See registry/reminders/outbox.py
for the delivery guarantees and the bound on what a crash resends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from registry.platform.db import quick_commits
from registry.platform.mail import ConnectionFailed, Mailer, MailError, RelayDown, build_message
from registry.reminders.models import OutboxStatus
from registry.reminders.outbox import (
    MAIL_BATCH,
    SENDER,
    Claimed,
    SendReport,
    SentMarks,
    claim_batch,
    mark_failure,
    mark_sent,
    put_back,
    release_expired,
)
from registry.runs import ledger as jobruns


def send_pending(sessions: sessionmaker[Session], mailer: Mailer, *, from_addr: str,
                 clock: Callable[[], datetime], limit: int | None = None) -> SendReport:
    """Drain the due messages (at most `limit`), a claimed batch at a time; owns its transactions."""
    report = SendReport()
    with sessions.begin() as session:
        report.released = release_expired(session, clock())
    handled = 0
    while limit is None or handled < limit:
        size = MAIL_BATCH if limit is None else min(MAIL_BATCH, limit - handled)
        with sessions.begin() as session:
            batch = claim_batch(session, clock(), size)
        if not batch:
            break
        handled += len(batch)
        if not _send_batch(sessions, mailer, batch, from_addr, clock, report):
            break  # the relay is unreachable: the rest waits for the next run
    return report


def _send_batch(sessions: sessionmaker[Session], mailer: Mailer, batch: list[Claimed], from_addr: str,
                clock: Callable[[], datetime], report: SendReport) -> bool:
    """Send a claimed batch over the mailer's session; return False when the relay could not be reached.

    Each message the relay accepts is marked sent at once, in a short transaction of its own whose
    commit does not wait for the disk (`quick_commits`): a process killed meanwhile resends only the
    message in flight (registry/reminders/outbox.py).
    """
    with _marks(sessions) as mark:
        return _send_each(sessions, mark, mailer, batch, from_addr, clock, report)


def _send_each(sessions: sessionmaker[Session], mark: Callable[[Claimed, datetime], None], mailer: Mailer,
               batch: list[Claimed], from_addr: str, clock: Callable[[], datetime], report: SendReport) -> bool:
    for position, message in enumerate(batch):
        try:
            mailer.send(build_message(from_addr=from_addr, to_addr=message.to_addr, subject=message.subject,
                                      body=message.body_text, message_id=message.message_id))
        except RelayDown as error:  # nothing is wrong with the messages: stop, charge none of them
            _defer(sessions, batch[position:], error, report)
            return False
        except MailError as error:  # this message's failure (4xx, 5xx, the session broke sending it) …
            if isinstance(error, ConnectionFailed) and (down := _relay_down(mailer)) is not None:
                _defer(sessions, batch[position:], down, report)  # … unless the relay went away meanwhile
                return False
            _record_failures(sessions, [message], error, clock(), report)
            continue
        # The at-least-once window: a crash between the relay's 250 and this commit resends this message.
        mark(message, clock())
        report.sent += 1
    return True


@contextmanager
def _marks(sessions: sessionmaker[Session]) -> Iterator[Callable[[Claimed, datetime], None]]:
    """Mark a message sent, committed, on a connection held for a batch's marks (`SentMarks`: one statement
    on the driver's connection, committing without waiting for the disk: `quick_commits`; no transaction
    is held between marks). A factory bound to a connection already inside a transaction (the tests')
    lends that one: each mark is then a SAVEPOINT."""
    with sessions() as probe:
        bind = probe.get_bind()
    if isinstance(bind, Connection):
        def savepoint(message: Claimed, now: datetime) -> None:
            with bind.begin_nested() if bind.in_transaction() else bind.begin():
                mark_sent(bind, message, now)

        yield savepoint
        return
    with quick_commits(bind) as connection:
        marks = SentMarks(connection)
        try:
            yield marks
        finally:
            marks.close()


def _defer(sessions: sessionmaker[Session], messages: list[Claimed], error: RelayDown, report: SendReport) -> None:
    """Put messages back uncharged because the relay is down, and say so in the report."""
    with sessions.begin() as session:
        put_back(session, messages, error)
    report.deferred += len(messages)
    report.errors.append(str(error))
    report.unreachable = True


def _relay_down(mailer: Mailer) -> RelayDown | None:
    """After a session broke mid-message, tell whether the relay can still be reached (a fresh session)."""
    try:
        mailer.connect()
    except RelayDown as down:
        return down
    return None


def _record_failures(sessions: sessionmaker[Session], messages: list[Claimed], error: MailError,
                     now: datetime, report: SendReport) -> None:
    with sessions.begin() as session:
        for message in messages:
            status = mark_failure(session, message, error, now)
            if status == OutboxStatus.FAILED.value:
                report.failed += 1
            else:
                report.retried += 1
    report.errors.append(str(error))


def drain(sessions: sessionmaker[Session], settings: Settings, *, clock: Callable[[], datetime], today: date,
          limit: int | None = None) -> SendReport:
    """Send what is due over one SMTP session; record a success for health unless the relay was down."""
    with Mailer(settings) as mailer:
        report = send_pending(sessions, mailer, from_addr=settings.mail_from, clock=clock, limit=limit)
    if not report.unreachable:
        with sessions.begin() as session:
            jobruns.touch(session, job_name=SENDER, run_on=today, at=clock(),
                          detail={"sent": report.sent, "retried": report.retried, "failed": report.failed})
    return report
