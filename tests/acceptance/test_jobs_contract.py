"""Issue 4 (Scheduled jobs and reminder e-mails): the points no narrower test proved on its own.

- a title whose review was never submitted ends the day after its validity ends — expired or
  revoked as its policy says — through `scan --today` on a committed database, with the event and
  an audit entry naming the job;
- STARTTLS and implicit TLS against a real local SMTP server that demands them;
- two senders draining one outbox at the same moment deliver every message exactly once
  (SKIP LOCKED on PostgreSQL, compare-and-set on SQLite);
- the web application starts no scheduler (and no thread) of its own.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from config import Settings
from jobs import outbox as sending
from registry import create_app
from registry.audit.guard import guarded_sessionmaker
from registry.audit.models import AuditEvent
from registry.domain.actors import system_actor
from registry.platform.db import make_engine
from registry.policies.rules import load_rules
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, OutboxStatus
from registry.titles.models import Certification, CertificationEvent
from tests.conftest import NOW, PG_PROBLEM, ROOT, backends, d, fresh_database
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import Capture, free_port


def app_on(kind: str, tmp_path):  # noqa: ANN001, ANN201
    """An app on a fresh, migrated database of `kind` (real commits, its own engine); and its drop handle."""
    url, pg = fresh_database(kind, tmp_path)
    app = create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies",
                              smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=5.0,
                              mail_from="registry@zj.example.cn"))
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    return app, pg


@pytest.fixture(params=backends())
def committed_app(request, tmp_path):
    """An app on a committed database of each backend."""
    app, pg = app_on(request.param, tmp_path)
    yield app
    app.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


@pytest.fixture
def committed_pg_app(tmp_path):
    """The same on PostgreSQL only."""
    if PG_PROBLEM:
        pytest.skip(f"PostgreSQL tests skipped: {PG_PROBLEM}")
    app, pg = app_on("postgresql", tmp_path)
    yield app
    app.extensions["registry.engine"].dispose()
    pg.drop()


def test_an_unreviewed_title_ends_the_day_after_validity_as_its_policy_says_naming_the_job(committed_app, policies):
    sessions = committed_app.extensions["registry.sessionmaker"]
    actor = system_actor("cli", "acceptance")
    with sessions.begin() as session:
        rules = load_rules(session, policies)
        small = make_enterprise(session, actor)
        innovative = grant(session, actor, rules, small, "innovative_sme", d("2023-09-01"))  # policy: missed → expire
        big = make_enterprise(session, actor)
        report(session, actor, big, 2022, revenue=500_000_000)
        champion = grant(session, actor, rules, big, "single_champion", d("2023-09-01"))  # policy: missed → revoke
        ids = (innovative.id, champion.id)
        assert {innovative.valid_until, champion.valid_until} == {d("2026-09-01")}
    runner = committed_app.test_cli_runner()

    def state():
        with sessions() as session:
            return {c.id: (c.status.value, c.ended_on) for c in session.scalars(
                sa.select(Certification).where(Certification.id.in_(ids)))}

    assert runner.invoke(args=["scan", "--today", "2026-09-01"]).exit_code == 0  # the last valid day
    assert state() == {ids[0]: ("active", None), ids[1]: ("active", None)}
    result = runner.invoke(args=["scan", "--today", "2026-09-02"])
    assert result.exit_code == 0, result.output
    assert state() == {ids[0]: ("expired", d("2026-09-02")), ids[1]: ("revoked", d("2026-09-02"))}
    with sessions() as session:
        for cid, action in zip(ids, ("expire", "revoke"), strict=True):
            event = session.scalars(sa.select(CertificationEvent).where(
                CertificationEvent.certification_id == cid, CertificationEvent.action == action)).one()
            assert (event.effective_on, event.actor) == (d("2026-09-02"), "job:scan")
            entry = session.scalars(sa.select(AuditEvent).where(
                AuditEvent.entity_type == "certification", AuditEvent.entity_id == cid,
                AuditEvent.action == f"certification.{action}")).one()
            assert (entry.actor_kind, entry.actor_name) == ("job", "scan")
            assert entry.changes["status"][1] == ("expired" if action == "expire" else "revoked")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def trusted(certificate, monkeypatch):
    """Trust the test certificate (the mailer verifies certificates with the default context)."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server


def queue_one(session: Session, key: str) -> OutboxMessage:
    outbox.enqueue(session, dedupe_key=key, to_addr="boss@factory.cn", subject="【梯度培育提醒】测试",
                   body="王总您好：测试。\n", at=NOW, domain="zj.example.cn")
    session.flush()
    return session.scalars(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def test_starttls_to_a_relay_that_requires_it(session, sessions, trusted):
    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=trusted, require_starttls=True)
    controller.start()
    try:
        row = queue_one(session, "tls:starttls")
        plain = Settings(env="testing", secret_key="t", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=5.0,
                         mail_from="registry@zj.example.cn", smtp_security="none")
        refused = sending.drain(sessions, plain, clock=lambda: NOW, today=NOW.date())
        # the relay insists on TLS: a configuration fault, so the message waits instead of failing
        assert (refused.sent, refused.failed, refused.unreachable) == (0, 0, True) and handler.messages == []
        session.expire_all()
        assert session.get(OutboxMessage, row.id).status == OutboxStatus.PENDING
        tls = plain.with_overrides(smtp_security="starttls")
        later = NOW + timedelta(days=1)
        assert sending.drain(sessions, tls, clock=lambda: later, today=later.date()).sent == 1
    finally:
        controller.stop()
    [(_, rcpts, message)] = handler.messages
    assert rcpts == ["boss@factory.cn"] and message["Message-ID"] == row.message_id


def test_implicit_tls_to_an_ssl_relay(session, sessions, trusted):
    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=trusted)
    controller.start()
    try:
        row = queue_one(session, "tls:ssl")
        settings = Settings(env="testing", secret_key="t", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=5.0,
                            mail_from="registry@zj.example.cn", smtp_security="ssl")
        assert sending.drain(sessions, settings, clock=lambda: NOW, today=NOW.date()).sent == 1
    finally:
        controller.stop()
    [(_, _, message)] = handler.messages
    assert message["Message-ID"] == row.message_id and message["Subject"] == "【梯度培育提醒】测试"


def test_two_senders_at_once_deliver_every_message_exactly_once(committed_app):
    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings = committed_app.config["REGISTRY"].with_overrides(smtp_port=port)
    url = settings.database_url
    with committed_app.extensions["registry.sessionmaker"].begin() as session:
        for n in range(40):
            outbox.enqueue(session, dedupe_key=f"race:{n}", to_addr=f"boss{n}@factory.cn", subject=f"提醒 {n}",
                           body="测试\n", at=NOW, domain="zj.example.cn")
    engines = [make_engine(url) for _ in range(2)]
    start, errors = threading.Barrier(2), []

    def sender(engine):  # noqa: ANN001, ANN202
        try:
            start.wait()
            sending.drain(guarded_sessionmaker(engine), settings, clock=lambda: NOW, today=NOW.date(), limit=None)
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        with committed_app.extensions["registry.sessionmaker"].begin() as session:  # anything left: a third pass
            left = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status != OutboxStatus.SENT))
        if left:
            sending.drain(committed_app.extensions["registry.sessionmaker"], settings, clock=lambda: NOW + timedelta(hours=1),
                         today=NOW.date())
    finally:
        controller.stop()
        for engine in engines:
            engine.dispose()
    ids = Counter(message["Message-ID"] for _, _, message in handler.messages)
    assert len(ids) == 40 and max(ids.values()) == 1
    with committed_app.extensions["registry.sessionmaker"]() as session:
        states = Counter(session.scalars(sa.select(OutboxMessage.status)))
    assert states == {OutboxStatus.SENT: 40}


def test_the_web_application_starts_no_scheduler(settings):
    before = {t.name for t in threading.enumerate()}
    app = create_app(settings)
    assert app.test_client().get("/api/v1/health").status_code == 200
    after = {t.name for t in threading.enumerate()}
    assert after == before
    assert not any("scheduler" in name.lower() or "apscheduler" in name.lower() for name in after)


@pytest.mark.pg_only
def test_a_second_sender_skips_rows_another_sender_holds_on_postgresql(committed_pg_app):
    """Deterministic SKIP LOCKED: while sender A's claim is uncommitted, B neither waits nor takes A's rows.

    (SQLite has one writer; its compare-and-set is shown by tests/jobs/test_outbox.py::
    test_a_message_stuck_in_sending_returns_after_its_lease and the two-sender test above.)
    """
    sessions = committed_pg_app.extensions["registry.sessionmaker"]
    with sessions.begin() as session:
        for n in range(6):
            outbox.enqueue(session, dedupe_key=f"lock:{n}", to_addr=f"b{n}@factory.cn", subject="s", body="b",
                           at=NOW, domain="zj.example.cn")
    first, second = sessions(), sessions()
    try:
        held = outbox.claim_batch(first, NOW, 2)  # not committed: its rows stay locked
        second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting on A would fail this test
        taken = outbox.claim_batch(second, NOW, 100)
        assert len(held) == 2 and len(taken) == 4
        assert not {c.id for c in held} & {c.id for c in taken}
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    with sessions() as session:
        assert Counter(session.scalars(sa.select(OutboxMessage.status))) == {OutboxStatus.SENDING: 6}
