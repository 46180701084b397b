"""Reminder sending: the outbox sender to a local aiosmtpd server (messages/s), against a bare smtplib loop.

The messages are the ones the scan queued (or, without a scan, reminders enqueued here); the
sender claims them in batches, sends over one SMTP session and marks each delivery sent as the
relay accepts it, as `flask send-reminders` does. The floor sends the same number of the same
messages over one smtplib session to the same server, with no database at all.
"""

from __future__ import annotations

import smtplib
import socket
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask

from bench.timing import Figure, not_measured, once
from registry.reminders.models import OutboxMessage, OutboxStatus

MESSAGES = 2_000
FROM = "registry@example.gov.cn"


class _Counter:
    """An aiosmtpd handler that accepts and counts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> str | None:
    """Why sending cannot be measured, or None."""
    try:
        from aiosmtpd.controller import Controller  # noqa: F401

        from jobs.outbox import send_pending  # noqa: F401
        from registry.platform.mail import Mailer, build_message  # noqa: F401
        from registry.reminders.outbox import enqueue  # noqa: F401
    except ImportError as exc:
        return f"outbox sender not yet available ({exc})"
    return None


def _ensure_pending(app: Flask, n: int) -> int:
    """Make sure at least `n` messages are due; return how many are."""
    from registry.reminders.outbox import enqueue

    now = datetime.now(UTC)
    with app.extensions["registry.sessionmaker"]() as session:
        due = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)) or 0
        for i in range(max(0, n - due)):
            enqueue(session, dedupe_key=f"bench:{now.isoformat()}:{i}", to_addr=f"contact{i}@example-enterprise.cn",
                    subject="【梯度培育】称号有效期届满提醒", body="基准测试提醒正文。\n" * 20, at=now,
                    domain="example.gov.cn")
        session.commit()
    return max(due, n)


def _sample(app: Flask, n: int) -> list:
    """The first `n` due messages, as the floor will send them."""
    from registry.platform.mail import build_message

    with app.extensions["registry.sessionmaker"]() as session:
        rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(n)).all()
        return [build_message(from_addr=FROM, to_addr=m.to_addr, subject=m.subject, body=m.body_text,
                              message_id=m.message_id) for m in rows]


def measure(app: Flask, n: int = MESSAGES) -> Figure:
    """Messages per second through the outbox sender vs a bare smtplib loop."""
    why = available()
    if why:
        return not_measured("reminder sending", why)
    from aiosmtpd.controller import Controller

    from jobs.outbox import send_pending
    from registry.platform.mail import Mailer

    _ensure_pending(app, n)
    sample = _sample(app, n)
    handler, port = _Counter(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        def bare() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=15) as smtp:
                for message in sample:
                    smtp.send_message(message)

        floor_s, _ = once(bare)
        settings = app.config["REGISTRY"].with_overrides(smtp_host="127.0.0.1", smtp_port=port, mail_from=FROM)
        with Mailer(settings) as mailer:
            seconds, sent = once(lambda: send_pending(app.extensions["registry.sessionmaker"], mailer,
                                                      from_addr=FROM, clock=lambda: datetime.now(UTC), limit=n))
    finally:
        controller.stop()
    if sent.sent != len(sample):
        raise RuntimeError(f"the sender sent {sent.sent} of {len(sample)}: {sent}")
    return Figure(f"reminder sending, {sent.sent:,} messages to aiosmtpd", sent.sent / seconds,
                  len(sample) / floor_s, "bare smtplib loop, same messages, same server", unit="msg/s",
                  target_ratio=1.5,  # issue 19
                  note=f"the server received {handler.count:,} messages in all; sender {seconds:.2f} s, "
                       f"bare loop {floor_s:.2f} s")
