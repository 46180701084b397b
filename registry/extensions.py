"""Per-app resources: the engine, the session factory, the loaded policies; request sessions."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from config import Settings
from registry.db import make_engine, make_sessionmaker
from registry.domain.policy import PolicySet, load_policies
from registry.services import Rules, load_rules


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the engine, session factory and policies to the app (lazily connected)."""
    engine = make_engine(settings.database_url)
    app.extensions["registry.engine"] = engine
    app.extensions["registry.sessionmaker"] = make_sessionmaker(engine)
    app.extensions["registry.policies"] = load_policies(settings.policy_dir)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """Return this request's (or CLI command's) session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["registry.sessionmaker"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Roll back anything uncommitted and close the session at the end of the request."""
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        if not session.info.get("shared"):  # tests share one SAVEPOINT session across requests
            session.close()
        else:
            session.info.pop("registry.region_prefix", None)  # the next user's scope is set afresh


def policies() -> PolicySet:
    """Return the app's loaded policy set."""
    return current_app.extensions["registry.policies"]


def rules() -> Rules:
    """Return policies and calendar for this unit of work."""
    return load_rules(get_session(), policies())
