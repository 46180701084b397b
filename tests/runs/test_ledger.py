"""The run ledger on SQLite and PostgreSQL: one claim per (job, date), failures re-claimable, health."""

from datetime import timedelta

import sqlalchemy as sa

from registry.runs import ledger as jobruns
from registry.runs.models import JobRun
from tests.conftest import NOW, d


def test_a_job_date_is_claimed_once(session):
    first = jobruns.claim(session, job_name="scan", run_on=d("2026-06-01"), at=NOW)
    assert first is not None
    assert jobruns.claim(session, job_name="scan", run_on=d("2026-06-01"), at=NOW) is None
    assert jobruns.claim(session, job_name="scan", run_on=d("2026-06-02"), at=NOW) not in (None, first)
    assert not jobruns.is_done(session, job_name="scan", run_on=d("2026-06-01"))
    jobruns.finish(session, first, at=NOW + timedelta(minutes=1), detail={"messages": 3})
    assert jobruns.is_done(session, job_name="scan", run_on=d("2026-06-01"))


def test_a_failed_run_may_be_claimed_again_but_never_overwrites_a_success(session):
    jobruns.record_failure(session, job_name="scan", run_on=d("2026-06-01"), at=NOW, error="boom")
    again = jobruns.claim(session, job_name="scan", run_on=d("2026-06-01"), at=NOW + timedelta(hours=1))
    assert again is not None
    jobruns.finish(session, again, at=NOW + timedelta(hours=1))
    jobruns.record_failure(session, job_name="scan", run_on=d("2026-06-01"), at=NOW, error="late news")
    session.expire_all()
    row = session.scalars(sa.select(JobRun).where(JobRun.job_name == "scan")).one()
    assert row.status == "succeeded" and row.detail is None


def test_last_successes_and_a_late_scan(session):
    assert jobruns.scan_is_late(session, NOW)  # never ran
    run = jobruns.claim(session, job_name="scan", run_on=d("2026-06-01"), at=NOW)
    jobruns.finish(session, run, at=NOW)
    for minutes in (2, 4):
        jobruns.touch(session, job_name="send-reminders", run_on=d("2026-06-01"), at=NOW + timedelta(minutes=minutes))
    last = jobruns.last_successes(session)
    assert last == {"scan": NOW, "send-reminders": NOW + timedelta(minutes=4)}
    assert last["scan"].tzinfo is not None
    assert not jobruns.scan_is_late(session, NOW + timedelta(hours=26))
    assert jobruns.scan_is_late(session, NOW + timedelta(hours=26, seconds=1))
