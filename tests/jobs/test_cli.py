"""scan and send-reminders on the demo roster in a real SQLite file, with a real SMTP server."""

import shutil

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from config import Settings
from registry import create_app
from registry.platform.db import make_engine
from tests.conftest import ROOT
from tests.jobs.conftest import Capture, free_port

TABLES = ("reminders", "outbox_messages", "audit_events", "job_runs", "certification_events", "bans")


def fingerprint(url):
    """Row counts plus the state the scan changes (statuses, flags, bans, reminders, mail)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}
        for name, sql in {
            "statuses": "SELECT status, COUNT(*) FROM certifications GROUP BY status ORDER BY status",
            "ineligible": "SELECT COUNT(*) FROM certifications WHERE review_eligible = false",
            "lifted": "SELECT COUNT(*) FROM bans WHERE lifted_on IS NOT NULL",
            "reminder_states": "SELECT status, COUNT(*) FROM reminders GROUP BY status ORDER BY status",
            "mail_states": "SELECT status, COUNT(*) FROM outbox_messages GROUP BY status ORDER BY status",
        }.items():
            counts[name] = [tuple(row) for row in conn.execute(sa.text(sql))]
    engine.dispose()
    return counts


def make_app(url, smtp_port=25):
    return create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies",
                               smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_timeout=5.0,
                               mail_from="registry@zj.example.cn"))


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """The demo roster (80 enterprises, as of 2026-11-22), built once per module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    app = make_app(f"sqlite:///{path}")
    assert run(app, "init-db").exit_code == 0
    seeded = run(app, "seed-demo", "--size", "80", "--today", "2026-11-22")
    assert seeded.exit_code == 0, seeded.output
    app.extensions["registry.engine"].dispose()  # checkpoints the WAL into the file
    return path


def demo(demo_file, tmp_path, smtp_port):
    """A private copy of the demo database and an app on it."""
    shutil.copy(demo_file, tmp_path / "jobs.db")
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    return make_app(url, smtp_port), url


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_dry_run_prints_what_would_happen_and_changes_nothing(demo_file, tmp_path):
    app, url = demo(demo_file, tmp_path, smtp_port=25)
    before = fingerprint(url)
    result = run(app, "scan", "--today", "2026-12-31", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output and "提醒 #" in result.output
    assert "自动处理称号 / transitions: 0" not in result.output  # titles do lapse by new year's eve
    assert fingerprint(url) == before


def test_demo_scan_twice_then_deliver_each_mail_once_even_across_an_smtp_outage(demo_file, tmp_path):
    handler, port = Capture(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app, url = demo(demo_file, tmp_path, smtp_port=port)
    first = run(app, "scan", "--today", "2026-11-22")
    assert first.exit_code == 0 and "已完成" in first.output
    after_first = fingerprint(url)
    assert after_first["reminders"] > 0 and after_first["outbox_messages"] > 0
    second = run(app, "scan", "--today", "2026-11-22")
    assert second.exit_code == 0 and "已经完成" in second.output
    assert fingerprint(url) == after_first

    try:
        sent = run(app, "send-reminders")
        assert sent.exit_code == 0, sent.output
        assert len(handler.messages) == after_first["outbox_messages"]
        ids = [message["Message-ID"] for _, _, message in handler.messages]
        assert len(set(ids)) == len(ids)
        assert run(app, "send-reminders").exit_code == 0 and len(handler.messages) == len(ids)
    finally:
        controller.stop()  # the relay goes down while the next day's reminders are queued
    assert run(app, "scan", "--today", "2026-12-01").exit_code == 0
    queued = fingerprint(url)["outbox_messages"] - len(ids)
    assert queued > 0
    down = run(app, "send-reminders")
    assert down.exit_code == 1 and "无法连接" in down.output
    assert dict(fingerprint(url)["mail_states"]).get("pending") == queued
    again = Capture()
    restarted = Controller(again, hostname="127.0.0.1", port=port)
    restarted.start()
    try:
        # right after the relay returns, by hand: the outage pushed no message's schedule
        assert run(app, "send-reminders").exit_code == 0
    finally:
        restarted.stop()
    assert len(again.messages) == queued
    assert dict(fingerprint(url)["mail_states"]) == {"sent": len(ids) + queued}
