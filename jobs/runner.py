"""The scheduler process: one scheduler (Asia/Shanghai) beside the main thread, held to a single instance.

Jobs live in memory (declared in jobs/schedule.py) and every body works out what is due from
the database, so nothing is lost while the process is down: on start, and hourly in the
watchdog, today's scan runs unless it is done (so a failed 01:00 scan is retried). A second
`jobs run` — two replicas during a deploy, an operator's slip — idles until the first stops:
on PostgreSQL it waits for a
session-level advisory lock held on a dedicated connection, on SQLite for an flock on a file
beside the database. The run ledger remains the real guard against double work; the lock only
keeps a spare process quiet. Beside the scheduler the process runs the import executor, one
thread that claims and processes queued imports (jobs/imports.py). SIGINT and
SIGTERM stop the process cleanly: a running job, and a running import, finishes its transaction first.

The whole process runs at a lower CPU priority than the web (REGISTRY_JOBS_NICE, default 10;
`background_priority`): an import applying, a scan, the mail sender are CPU-bound for seconds to
minutes, and on a busy machine they would otherwise take turns on the cores with the requests of
officers who are waiting for a page. At nice 10 a busy core gives a web thread about nine tenths of
its time against one of these threads; an idle core is theirs at full speed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import IO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from jobs import tasks
from jobs.schedule import JOBS

log = logging.getLogger("jobs")

#: a late run still runs (misfire_grace_time), missed runs collapse into one (coalesce)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}
ADVISORY_KEY = 2_026_112_204  #: pg_advisory_lock key of the scheduler process
IDLE_POLL_SECONDS = 30.0


def build_scheduler(ctx: tasks.JobContext) -> BackgroundScheduler:
    """Return the configured scheduler with every job of JOBS (not started)."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(ctx.settings.timezone), job_defaults=JOB_DEFAULTS,
                                  executors={"default": ThreadPoolExecutor(max_workers=2)})
    for spec in JOBS:
        scheduler.add_job(spec.func, spec.trigger, args=[ctx], id=spec.id, name=spec.name,
                          replace_existing=True, **JOB_DEFAULTS, **spec.trigger_args)
    return scheduler


class InstanceLock:
    """Held while this process is the scheduler: a PostgreSQL advisory lock or a file lock."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._engine: sa.Engine | None = None
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    def lock_file(self) -> Path:
        """The file locked on SQLite: beside the database (instance/scheduler.lock by default)."""
        database = make_url(self.url).database
        if not database or database == ":memory:":
            return Path(__file__).resolve().parents[2] / "instance" / "scheduler.lock"
        return Path(database).resolve().with_name("scheduler.lock")

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never block."""
        if make_url(self.url).get_backend_name() == "postgresql":
            return self._try_advisory()
        return self._try_flock()

    def _try_advisory(self) -> bool:
        if self._conn is None:  # a dedicated connection, never returned to a pool while locked
            self._engine = sa.create_engine(self.url, poolclass=NullPool)
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return bool(self._conn.execute(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_KEY))).scalar())

    def _try_flock(self) -> bool:
        if self._file is None:
            path = self.lock_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, stop: threading.Event, poll: float = IDLE_POLL_SECONDS) -> bool:
        """Wait (idle) for the lock until it is free or `stop` is set; return whether it is held."""
        announced = False
        while not stop.is_set():
            if self.try_acquire():
                return True
            if not announced:
                log.warning("another scheduler process holds the lock; idling until it stops")
                announced = True
            stop.wait(poll)
        return False

    def release(self) -> None:
        """Give the lock up."""
        if self._conn is not None:
            try:  # explicitly: a closed connection's lock lingers until the server reaps the backend
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock_all()))
            finally:
                self._conn.close()
                self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._file is not None:
            self._file.close()
            self._file = None


def background_priority(nice: int) -> int | None:
    """Lower the CPU priority of the calling thread, and of every thread it starts from now on, to `nice`.

    Never raises it: a process started at a higher nice value (systemd's `Nice=`, `nice -n 15`) keeps
    that. Linux keeps the value per thread (new threads inherit their creator's), so the runner calls
    this first, before it starts the executor and the scheduler. Return the nice value now in force,
    or None where the platform has none (nothing is changed then).
    """
    try:
        now = os.getpriority(os.PRIO_PROCESS, 0)
        if now < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
            now = os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError) as exc:
        log.warning("jobs process priority unchanged: %s", exc)
        return None
    return now


def run(ctx: tasks.JobContext) -> int:
    """Be the scheduler until SIGINT/SIGTERM; return the exit status."""
    nice = background_priority(ctx.settings.jobs_nice)  # first: the threads started below inherit it
    if nice is not None:
        log.info("jobs process at nice %d (REGISTRY_JOBS_NICE)", nice)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()  # the main thread shuts the scheduler down

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lock = InstanceLock(ctx.settings.database_url)
    if not lock.acquire(stop):
        return 0
    executor = tasks.import_executor(ctx)
    try:
        executor.start()  # before the catch-up scan: uploads must not wait for it
        log.info("import executor started (%s)", executor.worker)
        tasks.catch_up_scan(ctx)
        if stop.is_set():
            return 0
        scheduler = build_scheduler(ctx)
        log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
        scheduler.start()
        # the main thread waits for the signal: a SIGTERM that came while the scheduler was being built is not
        # lost (it was when start() blocked this thread and the handler found no scheduler running to stop)
        stop.wait()
        scheduler.shutdown(wait=False)
    finally:
        executor.stop()  # stop claiming; an import in hand finishes and commits
        lock.release()
    return 0
