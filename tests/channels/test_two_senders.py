"""Two channel senders at once on one PostgreSQL database: the robot's 20 a minute hold, each message goes once."""

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from jobs import channels as sending
from registry.channels import ledger
from registry.channels.models import ChannelKind, ChannelTarget
from registry.platform.db import make_engine
from registry.platform.migrate import upgrade
from registry.reminders import outbox
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN
from tests.conftest import NOW, PG_PROBLEM, fresh_database

pytestmark = [pytest.mark.pg_only,
              pytest.mark.skipif(bool(PG_PROBLEM), reason=f"PostgreSQL tests skipped: {PG_PROBLEM}")]


class SlowSender(sending.Sender):
    """Sends as the real one does, slowly, so the two senders' claims overlap."""

    def send(self, delivery):  # noqa: ANN001, ANN201
        time.sleep(0.05)
        return super().send(delivery)


def test_two_senders_together_send_twenty_distinct_messages_in_the_minute(tmp_path, fake, channel_settings,
                                                                          monkeypatch):
    url, pg = fresh_database("postgresql", tmp_path)
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with sessions.begin() as session:
            target = ChannelTarget(kind=ChannelKind.DINGTALK, region_code="331000", label="群", address=ROBOT_TOKEN,
                                   secret=ROBOT_SECRET, created_at=NOW, updated_at=NOW)
            session.add(target)
            session.flush()
            for i in range(30):
                outbox.enqueue(session, dedupe_key=f"m:{i}", to_addr="群", subject=f"提醒 {i}", body="正文", at=NOW,
                               domain="x.cn")
            session.execute(sa.text("UPDATE outbox_messages SET channel = 'dingtalk', target_id = :t"),
                            {"t": target.id})
        reports = []
        # Make the race happen: both senders count the window before either has claimed, then the second picks
        # its rows after the first committed. The target's row lock must keep the second out until then (the
        # first waits here in vain and goes on alone); without it the two would send 15 + 15 in the minute.
        barrier, counted = threading.Barrier(2), ledger.recent_attempts

        def racing(session, target_id, now):  # noqa: ANN001, ANN202
            found = counted(session, target_id, now)
            try:
                if barrier.wait(timeout=1) == 1:
                    time.sleep(0.5)
            except threading.BrokenBarrierError:
                pass
            return found

        monkeypatch.setattr(ledger, "recent_attempts", racing)

        def run():
            reports.append(sending.deliver(sessions, channel_settings, clock=lambda: NOW, limit=15,
                                           sender=SlowSender(channel_settings, lambda: NOW)))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(r.sent for r in reports) == 20 and len(fake.dingtalk) == 20 and fake.refused == []
        assert len({m["markdown"]["title"] for m in fake.dingtalk}) == 20  # each message once
        with engine.connect() as conn:
            states = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM outbox_messages GROUP BY status")).all())
        assert states == {"sent": 20, "pending": 10}
        engine.dispose()
    finally:
        if pg is not None:
            pg.drop()
