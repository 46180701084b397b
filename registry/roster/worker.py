"""Queued imports from the web: handed to the jobs process, or (IMPORTS_INLINE, tests) processed here.

The web never runs an import in a thread of its own any more: a page upload (or a large API
upload) is stored as a queued ImportRun and committed, and the jobs process's executor claims and
processes it (registry/roster/imports/executor.py) while the page polls. With the app's IMPORTS_INLINE
set, `start` claims the run and processes it in the request with the very same code.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from registry.domain.actors import Actor
from registry.platform.db import utcnow
from registry.roster.imports.executor import claim, committed_progress, execute, worker_name

__all__ = ["committed_progress", "process", "start"]


def start(app: Flask, run_id: int, actor: Actor, today: date) -> None:
    """Hand a committed queued run on: the jobs process picks it up, or it is processed here (IMPORTS_INLINE)."""
    if app.config.get("IMPORTS_INLINE"):
        process(app, run_id, actor, today, threaded=False)


def process(app: Flask, run_id: int, actor: Actor, today: date, *, threaded: bool = False) -> None:
    """Claim the queued run and process it here as `actor`; a run not queued any more is left alone."""
    del threaded  # the web has no import threads; kept for callers of the old signature
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
