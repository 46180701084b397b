"""Fixtures for the jobs tests: a real SMTP server (aiosmtpd) and a sessionmaker on the test connection."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from jobs.scan import ScanReport, run_scan
from tests.conftest import NOW


class Capture:
    """An SMTP handler that keeps accepted messages and answers with scripted replies."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.replies: list[str] = []  #: consumed one per DATA; "250 OK" once empty
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802  (aiosmtpd's hook name)
        self.attempts += 1
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply.startswith("250"):
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return reply


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Capture, Controller]]:
    """A real SMTP server on 127.0.0.1 and a free port (PITFALLS §3.2)."""
    handler = Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(smtp_server: tuple[Capture, Controller]) -> Settings:
    """Settings pointing at the test SMTP server."""
    _, controller = smtp_server
    return Settings(env="testing", secret_key="t", smtp_host="127.0.0.1", smtp_port=controller.port,
                    smtp_timeout=5.0, mail_from="registry@zj.example.cn")


@pytest.fixture
def sessions(session: Session) -> sessionmaker[Session]:
    """A session factory on the test's connection: each unit of work is a SAVEPOINT, rolled back at the end."""
    return sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)


def scan(session: Session, rules, today: date) -> ScanReport:  # noqa: ANN001
    """Run the scan for `today` in the test's transaction."""
    at = NOW + timedelta(days=(today - NOW.date()).days)
    report = run_scan(session, rules=rules, today=today, at=at, domain="zj.example.cn")
    session.flush()
    return report
