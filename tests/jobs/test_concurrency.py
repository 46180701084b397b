"""Two `scan --today D` processes at the same moment on one PostgreSQL database do the work once."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import system_actor
from registry.platform.db import make_engine
from registry.platform.migrate import upgrade
from registry.policies.rules import load_rules
from registry.regions.reference import sync_regions
from tests.conftest import PG_PROBLEM, ROOT, d, fresh_database
from tests.factories import grant, make_enterprise

pytestmark = [pytest.mark.pg_only,
              pytest.mark.skipif(bool(PG_PROBLEM), reason=f"PostgreSQL tests skipped: {PG_PROBLEM}")]


@pytest.fixture
def committed_database(tmp_path, policies):
    """A fresh migrated PostgreSQL database with a few title holders, committed."""
    url, pg = fresh_database("postgresql", tmp_path)
    upgrade(url)
    engine = make_engine(url)
    actor = system_actor("cli", "tests")
    with Session(engine) as session:
        sync_regions(session)
        rules = load_rules(session, policies)
        for n in range(6):
            ent = make_enterprise(session, actor)
            grant(session, actor, rules, ent, "innovative_sme", d("2023-06-10") + timedelta(days=11 * n))
        session.commit()
    yield url, engine
    engine.dispose()
    pg.drop()


def waiting_on_locks(engine, database):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :db"
                                    " AND wait_event_type = 'Lock'"), {"db": database}).scalar_one()


def test_two_concurrent_scans_do_the_work_once(committed_database):
    url, engine = committed_database
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    command = [sys.executable, "-m", "flask", "--app", "app", "scan", "--today", "2026-06-20"]
    gate = engine.connect()
    # Hold the audit chain: the first scan blocks mid-work holding its claim, so the second
    # provably arrives while the first is still running.
    gate.execute(sa.text("SELECT last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE"))
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for _ in range(2)]
    deadline = time.monotonic() + 60
    while waiting_on_locks(engine, engine.url.database) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    both_waited = waiting_on_locks(engine, engine.url.database) == 2
    gate.rollback()
    gate.close()
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert both_waited, outputs
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sum("已完成 / done" in out for out in outputs) == 1, outputs
    assert sum("已经完成" in out for out in outputs) == 1, outputs
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT status FROM job_runs WHERE job_name = 'scan'")).scalars().all()
        duplicates = conn.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT subject_type, subject_id, kind, reference_on FROM reminders"
            " WHERE status = 'queued' GROUP BY subject_type, subject_id, kind, reference_on"
            " HAVING COUNT(*) > 1) AS twice")).scalar_one()
        expired = conn.execute(sa.text(
            "SELECT COUNT(*) FROM certification_events WHERE action = 'expire'")).scalar_one()
        summaries = conn.execute(sa.text(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'job.scan_completed'")).scalar_one()
        mails = conn.execute(sa.text("SELECT COUNT(*) FROM outbox_messages")).scalar_one()
        queued = conn.execute(sa.text("SELECT COUNT(*) FROM reminders WHERE status = 'queued'")).scalar_one()
    assert runs == ["succeeded"] and summaries == 1
    assert duplicates == 0 and queued > 0 and mails == queued  # one contact per enterprise, no officer
    assert expired == 1  # the title valid until 2026-06-10 expired once
