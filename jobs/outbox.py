"""The outbox sender: drains the e-mail outbox, owning its transactions (the jobs process, `send-reminders`).

The steps are commit-free services in registry/reminders/outbox.py (claim a batch, mark it sent,
put it back, record a failure); this runner gives each its own short transaction: the claim is
committed *before* talking to SMTP, so no database lock is held during the network call, and the
deliveries of a batch are recorded together in one transaction — after its last message, or
with the first failure the batch must record, or before an unexpected error is raised. See
registry/reminders/outbox.py for the delivery guarantees and the bound on what a crash resends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from registry.platform.mail import ConnectionFailed, Mailer, MailError, RelayDown, build_message
from registry.reminders.models import OutboxStatus
from registry.reminders.outbox import (
    MAIL_BATCH,
    SENDER,
    Claimed,
    SendReport,
    claim_batch,
    mark_all_sent,
    mark_failure,
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

    The relay's acceptances are recorded together: with the batch's end, or in the transaction of
    the first failure to record, or — an unexpected error — before it is raised. Only a process that
    dies meanwhile leaves them unrecorded: at most this batch is sent again (registry/reminders/outbox.py).
    """
    accepted: list[tuple[Claimed, datetime]] = []
    try:
        for position, message in enumerate(batch):
            try:
                mailer.send(build_message(from_addr=from_addr, to_addr=message.to_addr, subject=message.subject,
                                          body=message.body_text, message_id=message.message_id))
            except RelayDown as error:  # nothing is wrong with the messages: stop, charge none of them
                _defer(sessions, batch[position:], error, report, accepted)
                return False
            except MailError as error:  # this message's failure (4xx, 5xx, the session broke sending it) …
                if isinstance(error, ConnectionFailed) and (down := _relay_down(mailer)) is not None:
                    _defer(sessions, batch[position:], down, report, accepted)  # … unless the relay went away
                    return False
                _record_failures(sessions, [message], error, clock(), report, accepted)
                continue
            accepted.append((message, clock()))  # the at-least-once window opens: recorded below
    finally:
        if accepted:  # the batch's end, or an unexpected error on its way out
            _record_sent(sessions, accepted, report)
    return True


def _record_sent(sessions: sessionmaker[Session], accepted: list[tuple[Claimed, datetime]], report: SendReport,
                 session: Session | None = None) -> None:
    """Mark the accepted messages sent (in `session`, else a transaction of their own) and empty the list."""
    if session is None:
        with sessions.begin() as own:
            mark_all_sent(own, accepted)
    else:
        mark_all_sent(session, accepted)
    report.sent += len(accepted)
    accepted.clear()


def _defer(sessions: sessionmaker[Session], messages: list[Claimed], error: RelayDown, report: SendReport,
           accepted: list[tuple[Claimed, datetime]]) -> None:
    """Put messages back uncharged because the relay is down (recording what it accepted), and say so."""
    with sessions.begin() as session:
        _record_sent(sessions, accepted, report, session)
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
                     now: datetime, report: SendReport, accepted: list[tuple[Claimed, datetime]]) -> None:
    with sessions.begin() as session:
        _record_sent(sessions, accepted, report, session)
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
