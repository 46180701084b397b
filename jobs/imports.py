"""The one background executor of imports, in the jobs process (`flask --app app jobs run`).

A page upload, and an API upload too large to answer in the request, is stored as a queued
ImportRun that keeps the file and who sent it (`submitted_by`); the web request returns at once.
The jobs process runs an `Executor` thread that claims queued runs one at a time — `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so two claimers never wait on or take the same row, and on both
backends a compare-and-set `UPDATE … WHERE status = 'queued' RETURNING id`, which alone decides
on SQLite — commits the claim (running, `started_at`, `worker`), and processes the run in one
transaction of its own as the uploader (their current role and region; a deactivated or moved
uploader fails the run). Any exception rolls that transaction back and marks the run failed.

While a run is processed a heartbeat thread writes `heartbeat_at` in short transactions of its
own. `fail_stale_imports` (registry/roster/imports/queue.py; the jobs process's reaper, every minute,
and the hourly watchdog) fails a running run whose heartbeat is older than REGISTRY_IMPORT_HEARTBEAT_MINUTES (default 5): its
worker died, its transaction was rolled back, nothing of it was written. On SQLite the import's
transaction holds the database's write lock, so neither the heartbeat nor the reaper can write
while a live import works; the reaper's UPDATE waits and then finds the run finished. A queued run
nobody claimed for ABANDONED_AFTER (the jobs process is not running) is failed as before.

The executor owns every transaction of an import: the claim, the import itself, the heartbeats
and the failure mark are each committed here, never by the services (registry/roster/imports/).
Tests set the app's IMPORTS_INLINE: the request claims and processes its own run with this very
code (`process_inline`, handed to the web tier by `create_app`; registry/roster/worker.py).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from config.import_limits import ImportLimits
from registry.domain.actors import Actor
from registry.domain.policy import PolicySet
from registry.platform.db import utcnow
from registry.policies.rules import load_rules
from registry.regions.scoping import scope_session
from registry.roster.imports.check import Progress
from registry.roster.imports.queue import submitter
from registry.roster.imports.run import process_import
from registry.roster.models import ImportRun

log = logging.getLogger("jobs.imports")

FAILED = "导入未完成，未导入任何数据：{error} / import failed, nothing imported"
POLL_SECONDS = 1.0  #: how often an idle executor looks for a queued run


def worker_name() -> str:
    """Name this process for the run it claims: host:pid."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


# ------------------------------------------------------------------------------------------- claims

def claim_next(session: Session, *, worker: str, now: datetime) -> int | None:
    """Claim the oldest queued run and commit; return its id, or None when there is none (or another won).

    PostgreSQL: the candidate row is locked `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
    different runs without waiting. SQLite renders no lock; the compare-and-set UPDATE decides.
    """
    candidate = (sa.select(ImportRun.id).where(ImportRun.status == "queued").order_by(ImportRun.id).limit(1)
                 .with_for_update(skip_locked=True))
    try:
        run_id = session.scalar(candidate)
        claimed = _set_running(session, run_id, worker=worker, now=now) if run_id is not None else None
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claimed


def claim(session: Session, run_id: int, *, worker: str, now: datetime) -> bool:
    """Claim one given queued run and commit (IMPORTS_INLINE); False when it is not queued any more."""
    try:
        claimed = _set_running(session, run_id, worker=worker, now=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claimed is not None


def _set_running(session: Session, run_id: int, *, worker: str, now: datetime) -> int | None:
    return session.scalar(
        sa.update(ImportRun).where(ImportRun.id == run_id, ImportRun.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, worker=worker)
        .returning(ImportRun.id).execution_options(synchronize_session=False))


# ------------------------------------------------------------------------------------------ running

def execute(sessions: Callable[[], Session], policies: PolicySet, run_id: int, *, clock: Callable[[], datetime],
            today: date, actor: Actor | None = None, heartbeat_seconds: float | None = None,
            commit_progress: bool = False, limits: ImportLimits | None = None) -> None:
    """Process a claimed (running) run in a session of its own; commit it, or roll back and mark it failed.

    `actor` None: act as the stored uploader. `heartbeat_seconds`: beat that often while working.
    `commit_progress`: commit processed_rows from a second session (PostgreSQL only, see import.html).
    `limits`: the configured bounds of an uploaded file (config's import_limits; defaults when None).
    """
    session = sessions()
    beat = Heartbeat(sessions, run_id, clock, heartbeat_seconds)
    try:
        beat.start()
        run = session.get(ImportRun, run_id, populate_existing=True)
        if run is None or run.status != "running":
            log.warning("import %s is not running; not processed", run_id)
            return
        who = actor or submitter(session, run)
        scope_session(session, who.region_code)
        progress = committed_progress(sessions, run_id) if commit_progress else None
        process_import(session, run, actor=who, rules=load_rules(session, policies), content=run.content or b"",
                       at=clock(), today=today, progress=progress, limits=limits)
        run.finished_at = clock()
        session.commit()
    except Exception as exc:  # noqa: BLE001  whatever went wrong, the run must not stay "running"
        log.exception("import %s failed", run_id)
        session.rollback()
        mark_failed(session, run_id, FAILED.format(error=f"{type(exc).__name__}: {exc}"[:500]), clock())
    finally:
        beat.stop()
        if not session.info.get("shared"):  # tests hand every caller their one SAVEPOINT session
            session.close()


def committed_progress(sessions: Callable[[], Session], run_id: int) -> Progress:
    """Return a progress callback that commits processed_rows and total_rows in a short session of its own."""
    def report(done: int, total: int) -> None:
        """Write the counts and commit at once, so a poll sees them while the import works on."""
        with sessions() as side, side.begin():
            side.execute(sa.update(ImportRun).where(ImportRun.id == run_id)
                         .values(processed_rows=done, total_rows=total)
                         .execution_options(synchronize_session=False))
    return report


def mark_failed(session: Session, run_id: int, message: str, at: datetime) -> None:
    """Mark a run failed with a one-line Chinese reason (its registry changes were rolled back)."""
    try:
        session.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(
            status="failed", finished_at=at, errors=[{"row": None, "column": None, "field": None, "message": message}],
            counts={"errors": 1, "error_rows": 0}).execution_options(synchronize_session=False))
        session.commit()
    except Exception:  # noqa: BLE001  the database itself is gone: the log is all we have (the reaper will fail it)
        log.exception("could not mark import %s failed", run_id)
        session.rollback()


class Heartbeat:
    """A thread writing the run's heartbeat_at every `every` seconds, each in a short transaction of its own."""

    def __init__(self, sessions: Callable[[], Session], run_id: int, clock: Callable[[], datetime],
                 every: float | None) -> None:
        self.sessions, self.run_id, self.clock, self.every = sessions, run_id, clock, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin beating (nothing when `every` is None: inline imports in a request)."""
        if self.every:
            self._thread = threading.Thread(target=self._run, name=f"import-heartbeat-{self.run_id}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.sessions() as side, side.begin():
                    side.execute(sa.update(ImportRun).where(ImportRun.id == self.run_id, ImportRun.status == "running")
                                 .values(heartbeat_at=self.clock()).execution_options(synchronize_session=False))
            except sa.exc.SQLAlchemyError as exc:  # SQLite: the import holds the write lock; try again next beat
                log.debug("heartbeat of import %s not written: %s", self.run_id, exc)

    def stop(self) -> None:
        """Stop beating; a beat waiting for a lock ends on its own (it only touches a running run)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)


# ---------------------------------------------------------------------------------------- executor

class Executor:
    """The jobs process's import worker: claim a queued run, process it, repeat; idle-poll when none."""

    def __init__(self, sessions: sessionmaker[Session], policies: PolicySet, *, clock: Callable[[], datetime],
                 today: Callable[[], date], heartbeat_minutes: int, poll: float = POLL_SECONDS,
                 limits: ImportLimits | None = None) -> None:
        self.sessions, self.policies, self.clock, self.today = sessions, policies, clock, today
        self.limits = limits
        self.heartbeat_seconds = max(1.0, min(60.0, heartbeat_minutes * 60 / 5))  # five beats per stale window
        self.poll = poll
        self.worker = worker_name()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Claim and process one queued run; return its id (None when nothing was queued)."""
        with self.sessions() as session:
            postgresql = session.get_bind().dialect.name == "postgresql"
            run_id = claim_next(session, worker=self.worker, now=self.clock())
        if run_id is None:
            return None
        log.info("import %s claimed by %s", run_id, self.worker)
        execute(self.sessions, self.policies, run_id, clock=self.clock, today=self.today(),
                heartbeat_seconds=self.heartbeat_seconds, commit_progress=postgresql, limits=self.limits)
        return run_id

    def serve(self) -> None:
        """Work until `stopping` is set; a run being processed is finished first."""
        while not self.stopping.is_set():
            try:
                worked = self.run_once()
            except sa.exc.OperationalError as exc:  # the database is away or (SQLite) busy with a long writer
                log.warning("import executor: cannot claim now: %s", str(exc).splitlines()[0])
                worked = None
                self.stopping.wait(self.poll * 5)
            except Exception:  # noqa: BLE001  keep the thread alive whatever happens
                log.exception("import executor: claim failed")
                worked = None
                self.stopping.wait(self.poll * 5)
            if worked is None:
                self.stopping.wait(self.poll)

    def start(self) -> None:
        """Serve in a thread of its own (not a daemon: a running import finishes before the process exits)."""
        self._thread = threading.Thread(target=self.serve, name="import-executor")
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming and wait for the run in hand to finish."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


def process_inline(app: Flask, run_id: int, actor: Actor, today: date) -> None:
    """Claim the queued run and process it in the request as `actor` (IMPORTS_INLINE, tests only).

    A run not queued any more is left alone.
    """
    sessions = app.extensions["registry.sessionmaker"]
    session = sessions()
    try:
        claimed = claim(session, run_id, worker=f"web:{worker_name()}", now=utcnow())
    finally:
        if not session.info.get("shared"):
            session.close()
    if claimed:
        execute(sessions, app.extensions["registry.policies"], run_id, clock=utcnow, today=today, actor=actor,
                limits=app.config["REGISTRY"].import_limits)
