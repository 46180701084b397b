"""Several e-mail senders draining one PostgreSQL outbox at once (threads, an engine and connections each): every
message goes out exactly once, none is left behind, and each sender sends in the claim's order — the order of
ix_outbox_messages_due (migration 0036): `next_attempt_at`, then `id`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from jobs import outbox as sending
from registry.platform.db import make_engine
from registry.platform.migrate import upgrade
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, OutboxStatus
from tests.conftest import NOW, PG_PROBLEM, fresh_database
from tests.racing import race

pytestmark = [pytest.mark.pg_only,
              pytest.mark.skipif(bool(PG_PROBLEM), reason=f"PostgreSQL tests skipped: {PG_PROBLEM}")]

SENDERS, MESSAGES = 5, 600


class Recorder:
    """A relay that accepts everything and remembers which sender sent which Message-ID, in order."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    def connect(self) -> None:
        pass

    def send(self, msg) -> None:  # noqa: ANN001
        self.log.append((threading.current_thread().name, msg["Message-ID"]))
        time.sleep(0.0005)  # let the others claim meanwhile


@pytest.fixture
def pg_url(tmp_path):
    url, pg = fresh_database("postgresql", tmp_path)
    upgrade(url)
    yield url
    pg.drop()


def test_senders_at_once_send_each_message_once_in_the_claims_order(pg_url):
    engine = make_engine(pg_url)
    with sessionmaker(bind=engine).begin() as session:
        for n in range(MESSAGES):
            outbox.enqueue(session, dedupe_key=f"race:{n}", to_addr=f"m{n}@factory.cn", subject="提醒", body="正文",
                           at=NOW, domain="zj.example.cn")
        # due at seven different minutes, not in id order; and a few not due yet
        session.execute(sa.update(OutboxMessage).values(
            next_attempt_at=sa.func.make_interval(0, 0, 0, 0, 0, OutboxMessage.id % 7) * -1 + NOW))
        session.execute(sa.update(OutboxMessage).where(OutboxMessage.id % 50 == 0)
                        .values(next_attempt_at=NOW + timedelta(hours=1)))
        due = {row.message_id: (row.next_attempt_at, row.id) for row in session.execute(
            sa.select(OutboxMessage.message_id, OutboxMessage.next_attempt_at, OutboxMessage.id)
            .where(OutboxMessage.next_attempt_at <= NOW))}
    engine.dispose()
    log: list[tuple[str, str]] = []

    def sender(_: int) -> int:
        own = make_engine(pg_url)
        try:
            return sending.send_pending(sessionmaker(bind=own, expire_on_commit=False), Recorder(log),
                                        from_addr="registry@zj.example.cn", clock=lambda: NOW).sent
        finally:
            own.dispose()

    sent = race(sender, range(SENDERS))
    sent_ids = [message_id for _, message_id in log]
    assert sum(sent) == len(due) == len(sent_ids), sent
    assert Counter(sent_ids).most_common(1)[0][1] == 1  # none twice
    assert set(sent_ids) == set(due)  # none lost, none early
    assert len({thread for thread, _ in log}) > 1  # the senders did share the work
    for thread in {thread for thread, _ in log}:
        keys = [due[message_id] for name, message_id in log if name == thread]
        assert keys == sorted(keys), thread  # each sender's claims come in the index's order
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        statuses = Counter(conn.scalars(sa.select(OutboxMessage.status)))
    engine.dispose()
    assert statuses == {OutboxStatus.SENT: len(due), OutboxStatus.PENDING: MESSAGES - len(due)}
