"""The outbox sender against a real SMTP server (aiosmtpd): delivery, retries, failures, leases."""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from jobs import outbox as sending
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, OutboxStatus
from tests.conftest import NOW
from tests.jobs.conftest import Capture, free_port

SUBJECT = "【梯度培育提醒】台州精工机械有限公司：专精特新中小企业称号有效期届满（还有 30 天）"
BODY = "王总您好：\n\n贵企业的专精特新中小企业称号将于 2026年9月1日 届满，请及时提交复核材料。\n"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def queue(session, key="reminder:1:enterprise", to="boss@factory.cn"):
    outbox.enqueue(session, dedupe_key=key, to_addr=to, subject=SUBJECT, body=BODY, at=NOW, domain="zj.example.cn")
    session.flush()
    return session.query(OutboxMessage).filter_by(dedupe_key=key).one()


def drain(sessions, settings, clock):
    return sending.drain(sessions, settings, clock=clock, today=clock().date())


def reload(session, row):
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def test_delivers_chinese_subject_and_body_once_with_a_stable_message_id(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    row = queue(session)
    assert not outbox.enqueue(session, dedupe_key="reminder:1:enterprise", to_addr="x@y.cn", subject="s", body="b",
                              at=NOW, domain="zj.example.cn")  # the same key again is a no-op
    clock = Clock()
    report = drain(sessions, mail_settings, clock)
    assert report.sent == 1
    [(mail_from, rcpts, message)] = handler.messages
    assert (mail_from, rcpts) == ("registry@zj.example.cn", ["boss@factory.cn"])
    assert message["Subject"] == SUBJECT  # RFC 2047-encoded on the wire, decoded here
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert message["Message-ID"] == row.message_id
    row = reload(session, row)
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 1, NOW)
    clock.now += timedelta(hours=1)
    assert drain(sessions, mail_settings, clock).sent == 0
    assert len(handler.messages) == 1


def test_451_is_retried_with_backoff_and_delivered_once(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    handler.replies = ["451 4.3.0 try again later"]
    row = queue(session)
    clock = Clock()
    assert drain(sessions, mail_settings, clock).retried == 1
    row = reload(session, row)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1) and "451" in row.last_error
    assert row.next_attempt_at > NOW
    assert drain(sessions, mail_settings, clock).sent == 0  # not due yet
    clock.now += timedelta(minutes=5)
    assert drain(sessions, mail_settings, clock).sent == 1
    assert handler.attempts == 2 and len(handler.messages) == 1
    row = reload(session, row)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def test_550_fails_at_once_and_is_not_retried(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    handler.replies = ["550 5.1.1 no such user"]
    row = queue(session)
    clock = Clock()
    assert drain(sessions, mail_settings, clock).failed == 1
    row = reload(session, row)
    assert row.status == OutboxStatus.FAILED and "550" in row.last_error
    clock.now += timedelta(days=2)
    drain(sessions, mail_settings, clock)
    assert handler.attempts == 1 and handler.messages == []


def test_a_bad_address_fails_without_talking_to_the_server(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    row = queue(session, to="not-an-address")
    drain(sessions, mail_settings, Clock())
    assert reload(session, row).status == OutboxStatus.FAILED and handler.attempts == 0


def test_no_server_keeps_the_message_and_a_later_run_delivers_it(session, sessions, mail_settings):
    port = free_port()
    settings = mail_settings.with_overrides(smtp_port=port)
    rows = [queue(session, key=f"reminder:{n}:enterprise") for n in range(3)]
    clock = Clock()
    report = drain(sessions, settings, clock)
    assert report.unreachable and report.deferred == 3 and (report.sent, report.retried, report.failed) == (0, 0, 0)
    after = [reload(session, r) for r in rows]
    # the relay was down, not the messages: no attempt counted, no backoff, the reason kept
    assert {(r.status, r.attempts, r.next_attempt_at) for r in after} == {(OutboxStatus.PENDING, 0, NOW)}
    assert all("Connection" in r.last_error or "refused" in r.last_error for r in after)
    handler = Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:  # the relay answers again: the very next run, with no time passed, sends everything
        assert drain(sessions, settings, clock).sent == 3
    finally:
        controller.stop()
    assert len(handler.messages) == 3
    assert {(reload(session, r).status, reload(session, r).attempts) for r in rows} == {(OutboxStatus.SENT, 1)}


def test_a_relay_down_for_days_never_uses_up_the_attempts_nor_pushes_the_schedule(session, sessions, mail_settings):
    settings = mail_settings.with_overrides(smtp_port=free_port())
    row = queue(session)
    clock = Clock()
    for _ in range(outbox.MAX_ATTEMPTS + 3):
        assert drain(sessions, settings, clock).unreachable
        row = reload(session, row)
        assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.PENDING, 0, NOW)
        clock.now += timedelta(hours=7)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a local test relay, no TLS
def test_a_relay_that_requires_login_is_a_relay_fault_not_the_messages(session, sessions, mail_settings):
    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_required=True, auth_require_tls=False,
                            authenticator=lambda *_: AuthResult(success=True))
    controller.start()
    try:
        rows = [queue(session, key=f"reminder:{n}:auth") for n in range(2)]
        report = drain(sessions, mail_settings.with_overrides(smtp_port=port), Clock())  # no REGISTRY_SMTP_USER: 530
        assert report.unreachable and report.deferred == 2 and "530" in report.errors[-1]
        assert {(reload(session, r).status, reload(session, r).attempts) for r in rows} == {(OutboxStatus.PENDING, 0)}
        login = mail_settings.with_overrides(smtp_port=port, smtp_user="registry", smtp_password="s3cret")
        assert drain(sessions, login, Clock()).sent == 2  # fixed settings: sent at once, same clock
    finally:
        controller.stop()


def test_a_message_stuck_in_sending_returns_after_its_lease(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    row = queue(session)
    with sessions.begin() as s:  # a sender claimed it and died before sending
        [claimed] = outbox.claim_batch(s, NOW, 10)
    assert claimed.id == row.id
    clock = Clock()
    with sessions.begin() as s:
        assert outbox.claim_batch(s, NOW, 10) == []  # claimed rows are not claimed twice
    assert drain(sessions, mail_settings, clock).sent == 0
    clock.now += outbox.LEASE + timedelta(seconds=1)
    report = drain(sessions, mail_settings, clock)
    assert (report.released, report.sent) == (1, 1) and len(handler.messages) == 1


def test_transient_failures_give_up_after_the_last_attempt(session, sessions, smtp_server, mail_settings):
    handler, _ = smtp_server
    handler.replies = ["421 4.7.0 busy"] * outbox.MAX_ATTEMPTS
    row = queue(session)
    clock = Clock()
    for _ in range(outbox.MAX_ATTEMPTS):
        drain(sessions, mail_settings, clock)
        clock.now += outbox.BACKOFF_MAX * 2
    row = reload(session, row)
    assert row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    assert "gave up" in row.last_error and handler.messages == []


def test_login_with_the_configured_credentials_and_a_wrong_password_waits(session, sessions, mail_settings):
    def authenticator(server, smtp_session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"registry", b"s3cret"))

    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        row = queue(session)
        # aiosmtpd stalls smtplib's fallback to the next AUTH mechanism: a short timeout keeps this quick
        wrong = mail_settings.with_overrides(smtp_port=port, smtp_user="registry", smtp_password="nope",
                                             smtp_timeout=1.0)
        assert drain(sessions, wrong, Clock()).unreachable
        assert reload(session, row).status == OutboxStatus.PENDING  # a configuration fault fails nothing
        right = wrong.with_overrides(smtp_password="s3cret")
        clock = Clock()
        clock.now += timedelta(hours=2)
        assert drain(sessions, right, clock).sent == 1
    finally:
        controller.stop()
    assert len(handler.messages) == 1


@pytest.mark.parametrize("attempts, low, high", [(1, 54, 66), (2, 216, 264), (20, 38880, 47520)])
def test_backoff_grows_to_a_ceiling(attempts, low, high):
    assert low <= outbox.backoff(attempts).total_seconds() <= high


class Vanishing(Capture):
    """Accepts the first message, then on the second stops listening and drops the connection (a relay going away
    in the middle of a batch)."""

    controller = None
    seen = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.seen += 1
        if self.seen == 2:
            self.controller.server.close()  # no new connections from now on
            server.transport.close()
            return "421 going away"
        return await super().handle_DATA(server, session, envelope)


def test_a_relay_that_goes_away_mid_batch_charges_no_message(session, sessions, mail_settings):
    handler, port = Vanishing(), free_port()
    handler.controller = Controller(handler, hostname="127.0.0.1", port=port)
    handler.controller.start()
    try:
        rows = [queue(session, key=f"reminder:{n}:vanishing") for n in range(3)]
        settings = mail_settings.with_overrides(smtp_port=port)
        report = drain(sessions, settings, Clock())
        assert (report.sent, report.deferred, report.retried, report.unreachable) == (1, 2, 0, True)
    finally:
        handler.controller.stop()
    after = [reload(session, r) for r in rows]
    assert [(r.status, r.attempts) for r in after] == [
        (OutboxStatus.SENT, 1), (OutboxStatus.PENDING, 0), (OutboxStatus.PENDING, 0)]
    assert all(r.next_attempt_at == NOW for r in after[1:])
    back = Capture()
    controller = Controller(back, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert drain(sessions, settings, Clock()).sent == 2  # at once, no time passed
    finally:
        controller.stop()


def test_a_message_that_breaks_the_session_is_charged_when_the_relay_is_still_there(session, sessions, mail_settings):
    class Dropper(Capture):
        async def handle_DATA(self, server, session_, envelope):  # noqa: ANN001, ANN201, N802
            if envelope.rcpt_tos == ["bad@factory.cn"]:
                server.transport.close()
                return "421 dropped"
            return await Capture.handle_DATA(self, server, session_, envelope)

    handler, port = Dropper(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        bad = queue(session, key="reminder:bad", to="bad@factory.cn")
        good = queue(session, key="reminder:good")
        report = drain(sessions, mail_settings.with_overrides(smtp_port=port), Clock())
    finally:
        controller.stop()
    assert (report.sent, report.retried, report.unreachable) == (1, 1, False)
    bad, good = reload(session, bad), reload(session, good)
    assert (bad.status, bad.attempts) == (OutboxStatus.PENDING, 1) and bad.next_attempt_at > NOW
    assert good.status == OutboxStatus.SENT
