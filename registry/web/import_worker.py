"""Processing a page upload after the request has returned: a thread with its own session.

The upload page stores the file on a queued ImportRun, commits, and calls `start`, which is the
only place a thread is started (never at import time or app creation). The thread opens its own
session from the app's sessionmaker, marks the run running (committed, so the polling page sees
it), runs `process_import` in one transaction and commits at the end. Any exception rolls that
transaction back — no registry change of the file survives — and marks the run failed with the
message. App config IMPORTS_INLINE=True runs the same code in the request instead (tests).

Progress: on PostgreSQL every progress report is committed through a second, short session, so
GET /api/v1/imports/{id} shows processed_rows moving while the import's own transaction is open.
On SQLite there is no such thing: every transaction is BEGIN IMMEDIATE (registry/db.py), so the
import's transaction holds the database's write lock until it commits, and a second transaction
for progress would wait on the import it reports on (and time out). There progress is not
committed and the page shows an indeterminate "处理中" until the run is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from registry.db import utcnow
from registry.domain.actors import Actor
from registry.imports import process_import
from registry.imports.check import Progress
from registry.models import ImportRun
from registry.scoping import scope_session
from registry.services import load_rules

log = logging.getLogger(__name__)
FAILED = "导入未完成，未导入任何数据：{error} / import failed, nothing imported"


def start(app: Flask, run_id: int, actor: Actor, today: date) -> None:
    """Process a committed queued run: in a new thread, or here when IMPORTS_INLINE is set."""
    if app.config.get("IMPORTS_INLINE"):
        process(app, run_id, actor, today, threaded=False)
        return
    # Not a daemon: a graceful shutdown lets a running import finish and commit rather than
    # leave it "running" (an abrupt kill rolls its transaction back all the same).
    threading.Thread(target=process, args=(app, run_id, actor, today), kwargs={"threaded": True},
                     name=f"import-{run_id}").start()


def process(app: Flask, run_id: int, actor: Actor, today: date, *, threaded: bool = True) -> None:
    """Run a queued import in a session of its own; commit it, or roll back and mark the run failed."""
    sessions: sessionmaker[Session] = app.extensions["registry.sessionmaker"]
    session = sessions()
    scope_session(session, actor.region_code)
    try:
        run = _claim(session, run_id)
        if run is None:
            return
        progress = committed_progress(sessions, run_id) if threaded and _is_postgresql(session) else None
        process_import(session, run, actor=actor, rules=load_rules(session, app.extensions["registry.policies"]),
                       content=run.content or b"", at=utcnow(), today=today, progress=progress,
                       limits=app.config["REGISTRY"].import_limits)
        run.finished_at = utcnow()
        session.commit()
    except Exception as exc:  # noqa: BLE001  whatever went wrong, the run must not stay "running"
        log.exception("import %s failed", run_id)
        session.rollback()
        _mark_failed(session, run_id, exc)
    finally:
        if not session.info.get("shared"):  # tests hand every caller their one SAVEPOINT session
            session.close()


def _claim(session: Session, run_id: int) -> ImportRun | None:
    """Move the run from queued to running and commit; None if another worker got there first."""
    claimed = session.execute(sa.update(ImportRun).where(ImportRun.id == run_id, ImportRun.status == "queued")
                              .values(status="running").execution_options(synchronize_session=False))
    session.commit()
    if claimed.rowcount != 1:
        log.warning("import %s is not queued; not processed twice", run_id)
        return None
    run = session.get(ImportRun, run_id, populate_existing=True)
    return run


def committed_progress(sessions: Callable[[], Session], run_id: int) -> Progress:
    """Return a progress callback that commits processed_rows and total_rows in a short session of its own."""
    def report(done: int, total: int) -> None:
        """Write the counts and commit at once, so a poll sees them while the import works on."""
        with sessions() as side, side.begin():
            side.execute(sa.update(ImportRun).where(ImportRun.id == run_id)
                         .values(processed_rows=done, total_rows=total)
                         .execution_options(synchronize_session=False))
    return report


def _mark_failed(session: Session, run_id: int, exc: Exception) -> None:
    message = FAILED.format(error=f"{type(exc).__name__}: {exc}"[:500])
    try:
        session.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(
            status="failed", finished_at=utcnow(), errors=[{"row": None, "column": None, "field": None,
                                                              "message": message}],
            counts={"errors": 1, "error_rows": 0}).execution_options(synchronize_session=False))
        session.commit()
    except Exception:  # noqa: BLE001  the database itself is gone: the log is all we have
        log.exception("could not mark import %s failed", run_id)
        session.rollback()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
