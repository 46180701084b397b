"""insert_ignore: many rows in one cached statement; colliding rows skipped; only new ids returned."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from registry.platform.sqlutil import CHUNK, insert_ignore
from registry.runs.models import JobRun
from tests.conftest import NOW


def _runs(days: range, job: str = "bench-test") -> list[dict]:
    return [{"job_name": job, "run_on": date(2026, 1, 1) + timedelta(days=d), "status": "succeeded",
             "started_at": NOW} for d in days]


def test_new_rows_inserted_and_collisions_skipped_across_pages(session):
    table = JobRun.__table__
    first = insert_ignore(session, table, _runs(range(CHUNK + 10)), conflict=("job_name", "run_on"))
    assert len(first) == CHUNK + 10 == len(set(first))

    again = insert_ignore(session, table, _runs(range(CHUNK + 5, CHUNK + 15)), conflict=("job_name", "run_on"))
    assert len(again) == 5  # the other five collided
    stored = session.scalars(sa.select(JobRun.id).where(JobRun.job_name == "bench-test")).all()
    assert sorted(stored) == sorted(first + again)


def test_nothing_to_insert(session):
    assert insert_ignore(session, JobRun.__table__, [], conflict=("job_name", "run_on")) == []
