"""The run ledger: each (job, run date) is claimed once; health reads each job's last success.

A daily job claims (job, date) in the same transaction as its work, so a crash rolls the claim
back with the work, and a second process that tries the same claim waits on the unique key until
the first commits, then finds it taken (PostgreSQL) or waits for the write lock (SQLite). A failed
run is recorded afterwards in a transaction of its own; a failed claim may be taken again.
Frequent jobs (the outbox sender, the watchdog) `touch` one row per day instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registry.platform.sqlutil import insert_ignore
from registry.runs.models import JobRun

SCAN = "scan"
SCAN_LATE_AFTER = timedelta(hours=26)


def claim(session: Session, *, job_name: str, run_on: date, at: datetime) -> int | None:
    """Claim (job, date) for this transaction; return the ledger id, or None when taken."""
    row = {"job_name": job_name, "run_on": run_on, "status": "running", "started_at": at}
    ids = insert_ignore(session, JobRun.__table__, [row], conflict=("job_name", "run_on"))
    if ids:
        return ids[0]
    retry = (sa.update(JobRun).where(JobRun.job_name == job_name, JobRun.run_on == run_on,
                                     JobRun.status == "failed")
             .values(status="running", started_at=at, finished_at=None, detail=None)
             .returning(JobRun.id).execution_options(synchronize_session=False))
    return session.execute(retry).scalar_one_or_none()


def finish(session: Session, run_id: int, *, at: datetime, detail: dict[str, Any] | None = None) -> None:
    """Mark a claimed run succeeded."""
    session.execute(sa.update(JobRun).where(JobRun.id == run_id)
                    .values(status="succeeded", finished_at=at, detail=detail)
                    .execution_options(synchronize_session=False))


def _upsert(session: Session, *, job_name: str, run_on: date, status: str, at: datetime,
            detail: dict[str, Any] | None, keep_success: bool) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(JobRun.__table__).values(job_name=job_name, run_on=run_on, status=status,
                                                   started_at=at, finished_at=at, detail=detail)
    # a late failure report never overwrites a success
    where = JobRun.__table__.c.status != "succeeded" if keep_success else None
    session.execute(stmt.on_conflict_do_update(
        index_elements=["job_name", "run_on"], where=where,
        set_={"status": status, "finished_at": at, "detail": detail}))


def record_failure(session: Session, *, job_name: str, run_on: date, at: datetime, error: str) -> None:
    """Record that (job, date) failed (in a transaction of its own, after the work rolled back)."""
    _upsert(session, job_name=job_name, run_on=run_on, status="failed", at=at,
            detail={"error": error[:2000]}, keep_success=True)


def touch(session: Session, *, job_name: str, run_on: date, at: datetime,
          detail: dict[str, Any] | None = None) -> None:
    """Record a success of a job that runs many times a day (one row per day, latest wins)."""
    _upsert(session, job_name=job_name, run_on=run_on, status="succeeded", at=at, detail=detail,
            keep_success=False)


def is_done(session: Session, *, job_name: str, run_on: date) -> bool:
    """Tell whether (job, date) has already succeeded."""
    return session.scalar(sa.select(JobRun.id).where(
        JobRun.job_name == job_name, JobRun.run_on == run_on, JobRun.status == "succeeded")) is not None


def last_successes(session: Session) -> dict[str, datetime]:
    """Return each job's last successful finish (UTC)."""
    rows = session.execute(sa.select(JobRun.job_name, sa.func.max(JobRun.finished_at))
                           .where(JobRun.status == "succeeded").group_by(JobRun.job_name)).all()
    return {name: at for name, at in rows if at is not None}


def scan_is_late(session: Session, now: datetime) -> bool:
    """Tell whether the daily scan has not succeeded within the last 26 hours (or ever)."""
    last = last_successes(session).get(SCAN)
    return last is None or now - last > SCAN_LATE_AFTER
