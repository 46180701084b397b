"""The sender claims and sends in batches but marks each delivery at once: a crash resends the message in
flight, and nothing more.

A real SMTP server (aiosmtpd) counts what arrives; the "crash" is a sender whose process dies right
after the relay accepted a message: from then on it reaches neither the relay nor the database.
"""

import smtplib
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from jobs import outbox as sending
from registry.platform.db import make_engine, quick_commits
from registry.platform.mail import Mailer, build_message
from registry.platform.migrate import upgrade
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, OutboxStatus
from tests.conftest import NOW, fresh_database
from tests.racing import race

FROM = "registry@zj.example.cn"


class Crash(BaseException):
    """The process dies (BaseException: no `except Exception` of the app stops it)."""


class Dying:
    """A sessionmaker whose process dies once `dead` is set: no session or transaction begins after that."""

    def __init__(self, sessions):
        self.sessions, self.dead = sessions, False

    def _alive(self):
        if self.dead:
            raise Crash("the process is gone")

    def __call__(self):
        self._alive()
        return self.sessions()

    def begin(self):
        self._alive()
        return self.sessions.begin()


class DiesAfter(Mailer):
    """Sends through the real session; dies right after the relay accepted its `n`-th message."""

    def __init__(self, settings, n, dying):
        super().__init__(settings)
        self.n, self.dying, self.accepted = n, dying, 0

    def send(self, msg):
        super().send(msg)
        self.accepted += 1
        if self.accepted == self.n:
            self.dying.dead = True
            raise Crash("killed after the relay's 250")


def _queue(session, count):
    for n in range(count):
        outbox.enqueue(session, dedupe_key=f"reminder:{n}:enterprise", to_addr=f"boss{n}@factory.cn",
                       subject=f"提醒 {n}", body="请及时提交复核材料。\n", at=NOW, domain="zj.example.cn")
    session.flush()


def _statuses(session):
    session.expire_all()
    return Counter(str(s) for s in session.scalars(sa.select(OutboxMessage.status)))


@pytest.mark.parametrize("dies_after", [1, outbox.MAIL_BATCH + 7, 2 * outbox.MAIL_BATCH])
def test_a_crash_resends_at_most_the_message_in_flight_and_loses_nothing(session, sessions, smtp_server,
                                                                        mail_settings, dies_after):
    handler, _ = smtp_server
    total = 2 * outbox.MAIL_BATCH + 13
    _queue(session, total)
    dying = Dying(sessions)
    with DiesAfter(mail_settings, dies_after, dying) as mailer, pytest.raises(Crash):
        sending.send_pending(dying, mailer, from_addr=FROM, clock=lambda: NOW)
    assert len(handler.messages) == dies_after
    claimed = ((dies_after - 1) // outbox.MAIL_BATCH + 1) * outbox.MAIL_BATCH  # the batches claimed so far
    unmarked = claimed - (dies_after - 1)  # the message in flight and the rest of its batch, never sent
    assert _statuses(session) == Counter({"sent": dies_after - 1, "sending": unmarked, "pending": total - claimed})
    # A sender started before the lease ends leaves the crashed batch alone …
    later = NOW + outbox.LEASE - timedelta(seconds=1)
    with Mailer(mail_settings) as mailer:
        first = sending.send_pending(sessions, mailer, from_addr=FROM, clock=lambda: later)
    assert (first.released, first.sent) == (0, total - claimed)
    # … and one after it sends the crashed batch's unmarked messages: the one in flight again.
    after = NOW + outbox.LEASE + timedelta(seconds=1)
    with Mailer(mail_settings) as mailer:
        second = sending.send_pending(sessions, mailer, from_addr=FROM, clock=lambda: after)
    assert (second.released, second.sent) == (unmarked, unmarked)
    assert _statuses(session) == Counter({"sent": total})
    arrived = Counter(str(m["Message-ID"]) for _, _, m in handler.messages)
    assert len(arrived) == total  # nothing lost
    in_flight = str(handler.messages[dies_after - 1][2]["Message-ID"])
    assert {mid: n for mid, n in arrived.items() if n > 1} == {in_flight: 2}  # only the message in flight, once


@pytest.fixture
def own_sessions(engine, tmp_path):
    """A sender's own migrated database and engine of the test's backend: the production path, each mark on a
    pooled connection of its own (`SentMarks`), not a SAVEPOINT of the test's connection."""
    url, pg = fresh_database(engine.dialect.name, tmp_path)
    upgrade(url)
    own = make_engine(url)
    yield sessionmaker(bind=own, expire_on_commit=False)
    own.dispose()
    if pg is not None:
        pg.drop()


@pytest.mark.parametrize("dies_after", [1, outbox.MAIL_BATCH + 7])
def test_on_its_own_engine_each_mark_is_committed_as_the_relay_accepts_it(own_sessions, smtp_server, mail_settings,
                                                                         dies_after):
    handler, _ = smtp_server
    total = outbox.MAIL_BATCH + 13
    with own_sessions.begin() as session:
        _queue(session, total)
    ticks = [NOW + timedelta(seconds=s, microseconds=7 * s) for s in range(400)]
    given = iter(ticks)
    dying = Dying(own_sessions)
    with DiesAfter(mail_settings, dies_after, dying) as mailer, pytest.raises(Crash):
        sending.send_pending(dying, mailer, from_addr=FROM, clock=lambda: next(given))
    with own_sessions() as session:
        rows = session.execute(sa.select(OutboxMessage.status, OutboxMessage.sent_at, OutboxMessage.lease_until,
                                         OutboxMessage.last_error).order_by(OutboxMessage.id)).all()
        sent = [row for row in rows if row.status == OutboxStatus.SENT]
        assert len(sent) == dies_after - 1  # each accepted message committed before the next was sent
        assert all(row.lease_until is None and row.last_error is None for row in sent)
        times = [row.sent_at for row in sent]
        assert times == sorted(times) and len(set(times)) == len(times) and set(times) <= set(ticks)
        for at in times:  # stored as SQLAlchemy stores it: the column compares equal to the bound value
            assert session.scalar(sa.select(sa.func.count()).where(OutboxMessage.sent_at == at)) == 1
    after = ticks[-1] + outbox.LEASE  # the crashed batch's lease is over
    with Mailer(mail_settings) as mailer:
        report = sending.send_pending(own_sessions, mailer, from_addr=FROM, clock=lambda: after)
    assert report.sent == total - (dies_after - 1)
    with own_sessions() as session:
        assert set(session.scalars(sa.select(OutboxMessage.status))) == {OutboxStatus.SENT}
    arrived = Counter(str(m["Message-ID"]) for _, _, m in handler.messages)
    assert len(arrived) == total and sum(arrived.values()) == total + 1  # only the message in flight, twice
    assert arrived[str(handler.messages[dies_after - 1][2]["Message-ID"])] == 2


def test_an_error_that_does_not_kill_the_process_still_records_what_was_accepted(session, sessions, smtp_server,
                                                                                mail_settings):
    handler, _ = smtp_server
    _queue(session, 5)

    class Breaks(Mailer):
        sent = 0

        def send(self, msg):
            if self.sent == 3:
                raise RuntimeError("a bug in the middle of a batch")
            super().send(msg)
            self.sent += 1

    with Breaks(mail_settings) as mailer, pytest.raises(RuntimeError):
        sending.send_pending(sessions, mailer, from_addr=FROM, clock=lambda: NOW)
    assert len(handler.messages) == 3
    assert _statuses(session) == Counter({"sent": 3, "sending": 2})
    with Mailer(mail_settings) as mailer:
        report = sending.send_pending(sessions, mailer, from_addr=FROM,
                                      clock=lambda: NOW + outbox.LEASE + timedelta(seconds=1))
    assert (report.released, report.sent) == (2, 2)
    assert len(handler.messages) == 5 and len({str(m["Message-ID"]) for _, _, m in handler.messages}) == 5


def test_each_message_keeps_the_time_the_relay_accepted_it(session, sessions, smtp_server, mail_settings):
    _queue(session, 3)
    ticks = iter(NOW + timedelta(seconds=s) for s in range(100))
    with Mailer(mail_settings) as mailer:
        report = sending.send_pending(sessions, mailer, from_addr=FROM, clock=lambda: next(ticks))
    assert report.sent == 3
    session.expire_all()
    sent_at = [m.sent_at for m in session.query(OutboxMessage).order_by(OutboxMessage.id)]
    assert len(set(sent_at)) == 3 and sent_at == sorted(sent_at)
    assert all(m.status == OutboxStatus.SENT for m in session.query(OutboxMessage))


def test_the_marks_connection_commits_without_waiting_for_the_disk_and_goes_back_to_the_pool_as_it_was(engine):
    with quick_commits(engine) as quick:
        assert not quick.in_transaction()  # the caller's `begin()` is the mark's own (not a SAVEPOINT)
        if engine.dialect.name == "postgresql":
            assert quick.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
            assert quick.connection.dbapi_connection.autocommit  # each UPDATE its own transaction
        else:  # WAL with synchronous=NORMAL: no commit waits for an fsync
            assert quick.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert quick.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        quick.rollback()
        with quick.begin():  # what the sender does for each mark
            assert quick.exec_driver_sql("SELECT 1").scalar() == 1
        raw = quick.connection.dbapi_connection
    with engine.connect() as again:
        assert again.connection.dbapi_connection is raw  # the same pooled connection …
        if engine.dialect.name == "postgresql":  # … with the server's durable commits again
            assert again.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert not again.connection.dbapi_connection.autocommit


def test_the_mailer_gives_the_relay_the_envelope_and_bytes_smtplib_reads_from_the_message(smtp_server, mail_settings):
    handler, controller = smtp_server
    messages = [build_message(from_addr=FROM, to_addr="boss@factory.cn", subject="提醒", body="正文\n", message_id="<a@b.cn>"),
                build_message(from_addr="浙江省梯度培育平台 <registry@zj.example.cn>", to_addr="boss@factory.cn",
                              subject="提醒", body="正文\n", message_id="<b@b.cn>"),
                build_message(from_addr=FROM, to_addr='"boss"@factory.cn', subject="s", body="b", message_id="<c@b.cn>")]
    with_cc = build_message(from_addr=FROM, to_addr="boss@factory.cn", subject="s", body="b", message_id="<d@b.cn>")
    with_cc["Cc"] = "deputy@factory.cn"
    sender = build_message(from_addr=FROM, to_addr="boss@factory.cn", subject="s", body="b", message_id="<e@b.cn>")
    sender["Sender"] = "office@zj.example.cn"
    messages += [with_cc, sender]
    with Mailer(mail_settings) as mailer:
        for message in messages:
            mailer.send(message)
    with smtplib.SMTP("127.0.0.1", controller.port, timeout=5) as bare:
        for message in messages:
            bare.send_message(message)
    arrived = [(frm, tos, m.as_bytes()) for frm, tos, m in handler.messages]
    assert arrived[:len(messages)] == arrived[len(messages):]
    assert [tos for _, tos, _ in arrived[:len(messages)]] == [["boss@factory.cn"]] * 3 + [
        ["boss@factory.cn", "deputy@factory.cn"], ["boss@factory.cn"]]
    assert {frm for frm, _, _ in arrived} == {"registry@zj.example.cn", "office@zj.example.cn"}


def test_two_senders_at_once_on_their_own_engine_send_each_message_once(own_sessions, smtp_server, mail_settings):
    """Two sender processes (threads with their own connections) draining one outbox at the same time: each message
    reaches the relay once and is marked sent once (the claim's compare-and-set, the marks on their own
    connections)."""
    handler, _ = smtp_server
    total = 3 * outbox.MAIL_BATCH + 5
    with own_sessions.begin() as session:
        _queue(session, total)

    def run(_):
        with Mailer(mail_settings) as mailer:
            return sending.send_pending(own_sessions, mailer, from_addr=FROM, clock=lambda: NOW)

    reports = race(run, range(2))  # a sender that raised leaves its repr (a str) in place of its report
    assert not any(isinstance(r, str) for r in reports), reports
    assert sum(r.sent for r in reports) == total
    arrived = Counter(str(m["Message-ID"]) for _, _, m in handler.messages)
    assert len(arrived) == total and set(arrived.values()) == {1}
    with own_sessions() as session:
        assert _statuses(session) == Counter({"sent": total})


@pytest.mark.parametrize("reply", ["550 5.1.1 no such user", "451 4.3.0 try later", "421 4.3.2 closing"])
def test_a_relay_refusing_one_message_on_its_own_engine_marks_only_what_it_accepted(own_sessions, smtp_server,
                                                                                   mail_settings, reply):
    """The relay refuses the third message of a batch (permanently, for now, or closing the session): it is not
    marked sent, the others are, and a message not accepted is sent again later unless refused for good."""
    handler, _ = smtp_server
    with own_sessions.begin() as session:
        _queue(session, 6)
    handler.replies = ["250 OK", "250 OK", reply]
    with Mailer(mail_settings) as mailer:
        sending.send_pending(own_sessions, mailer, from_addr=FROM, clock=lambda: NOW)
    accepted = {str(m["Message-ID"]) for _, _, m in handler.messages}
    with own_sessions() as session:
        rows = session.execute(sa.select(OutboxMessage.message_id, OutboxMessage.status)).all()
    assert {m for m, s in rows if s == OutboxStatus.SENT} == {m for m in (r.message_id for r in rows)
                                                            if m in accepted}
    assert len([s for _, s in rows if s != OutboxStatus.SENT]) >= 1
    later = NOW + timedelta(days=2)
    with Mailer(mail_settings) as mailer:
        sending.send_pending(own_sessions, mailer, from_addr=FROM, clock=lambda: later)
    arrived = Counter(str(m["Message-ID"]) for _, _, m in handler.messages)
    assert set(arrived.values()) == {1}
    assert len(arrived) == (5 if reply.startswith("5") else 6)
