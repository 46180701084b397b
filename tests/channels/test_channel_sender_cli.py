"""`flask send-channels` on the demo roster: the scan's reminders reach a fake DingTalk robot, signed, once."""

import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.channels.models import ChannelKind, ChannelTarget
from registry.platform.db import make_engine
from tests.channels.conftest import ROBOT_SECRET, ROBOT_TOKEN
from tests.conftest import NOW, ROOT


def make_app(url, channel_settings):
    return create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies",
                               smtp_host="127.0.0.1", smtp_port=25, smtp_timeout=5.0, mail_from="registry@zj.example.cn",
                               channels=channel_settings))


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_demo_scans_reminders_reach_an_office_robot_signed_and_once(tmp_path, fake, channel_settings):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    app = make_app(url, channel_settings)
    assert run(app, "init-db").exit_code == 0
    seeded = run(app, "seed-demo", "--size", "40", "--today", "2026-11-22")
    assert seeded.exit_code == 0, seeded.output
    engine = make_engine(url)
    with engine.begin() as conn:  # the province office's robot, for the whole province
        conn.execute(sa.insert(ChannelTarget).values(kind=ChannelKind.DINGTALK, region_code="330000", label="省厅群",
                                                     address=ROBOT_TOKEN, secret=ROBOT_SECRET, include_subregions=True,
                                                     is_active=True, created_at=NOW, updated_at=NOW))
    assert run(app, "scan", "--today", "2026-12-31").exit_code == 0
    with engine.connect() as conn:
        queued = conn.execute(sa.text("SELECT COUNT(*) FROM outbox_messages WHERE channel = 'dingtalk'")).scalar_one()
    assert queued > 0
    first = run(app, "send-channels")
    assert first.exit_code == 0, first.output
    sent = min(queued, 20)  # a robot takes 20 a minute; the rest waits, it is not dropped
    assert f"已送达 {sent} 条" in first.output and fake.refused == [] and len(fake.dingtalk) == sent
    again = run(app, "send-channels")
    assert "已送达 0 条" in again.output and len(fake.dingtalk) == sent  # nothing twice
    with engine.connect() as conn:
        states = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM outbox_messages WHERE channel = 'dingtalk' "
                                           "GROUP BY status")).all())
    assert states == ({"sent": sent, "pending": queued - sent} if queued > sent else {"sent": sent})
    assert run(app, "scan", "--today", "2026-12-31").exit_code == 0  # a rerun queues nothing new
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM outbox_messages WHERE channel = 'dingtalk'")).scalar_one() \
            == queued
    engine.dispose()
