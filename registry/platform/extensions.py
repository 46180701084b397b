"""Per-app resources: the engine, the session factory, the loaded policies; request sessions."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from registry.domain.policy import PolicySet, load_policies
from registry.platform import pi_crypto
from registry.platform.db import READ_ONLY, end_reads, make_engine, make_sessionmaker, set_read_only


def init_app(app: Flask, settings: Settings,
             session_factory: Callable[[Engine], sessionmaker[Session]] = make_sessionmaker) -> None:
    """Attach the engine, session factory and policies to the app (lazily connected).

    The application factory passes the audit trail's guarded factory (registry.audit.guard).
    """
    pi_crypto.install(pi_crypto.keyring_for(production=settings.is_production, current=settings.pi_key,
                                            old=settings.pi_keys, index=settings.pi_index_key))
    engine = make_engine(settings.database_url)
    app.extensions["registry.engine"] = engine
    app.extensions["registry.sessionmaker"] = session_factory(engine)
    app.extensions["registry.policies"] = load_policies(settings.policy_dir)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """Return this request's (or CLI command's) session, opening it on first use.

    A request's session starts read-only (SQLite: BEGIN DEFERRED, no write lock) for the
    authentication reads; `auth.load_actor` lifts the mark for a POST/PUT/PATCH/DELETE before the
    view runs, so the view's unit of work takes the write lock (IMMEDIATE) at its first statement.
    A GET/HEAD/OPTIONS request stays read-only to its end (a flush in it is refused).
    """
    if "db_session" not in g:
        session = current_app.extensions["registry.sessionmaker"]()
        if has_request_context():
            set_read_only(session, True)
        g.db_session = session
    return g.db_session


def new_session() -> Session:
    """Return a new session of the app's factory (not the request's): the caller owns and closes it."""
    return current_app.extensions["registry.sessionmaker"]()


def close_session(exc: BaseException | None = None) -> None:
    """Roll back anything uncommitted and close the session at the end of the request (a read-only request
    that ended without an error: end its reads, `release(..., clean=True)`)."""
    session = g.pop("db_session", None)
    if session is not None:
        release(session, clean=exc is None)


def release(session: Session, *, clean: bool = False) -> None:
    """Roll back anything uncommitted and close `session` (its connection goes back to the pool).

    `clean`: the caller's work ended without an error; a read-only session's reads then end with COMMIT
    (`end_reads`: the same for a transaction that wrote nothing, and PostgreSQL keeps what psycopg prepared).
    """
    try:
        if not (clean and end_reads(session)):
            session.rollback()
    finally:
        if not session.info.get("shared"):  # tests share one SAVEPOINT session across requests
            session.close()
        else:
            session.info.pop("registry.region_prefix", None)  # the next user's scope is set afresh
            session.info.pop(READ_ONLY, None)  # and the test's own writes between requests are allowed


def policies() -> PolicySet:
    """Return the app's loaded policy set."""
    return current_app.extensions["registry.policies"]

