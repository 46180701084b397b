"""Who is asking: Flask-Login sessions for pages, bearer tokens or sessions for the API.

The session cookie carries the user's `session_token` (rotated on password/role/region change),
not the primary key, so changing it logs the user out everywhere. The request's actor — with IP
and request id for the audit trail — is built once per request in `load_actor`, and the
request's database session is scoped to the actor's region there (registry/scoping.py).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, request
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.orm import Session

from registry.db import begin_writes, utcnow, writing
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import DomainError
from registry.extensions import get_session
from registry.models import ApiToken, User
from registry.scoping import scope_session
from registry.services.auth import user_for_token

log = logging.getLogger(__name__)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  #: requests that never write (their session stays read-only)
login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "basic"

#: A request id from a client (or its proxy) is kept only in this shape; anything else gets a fresh one,
#: so the audit trail never stores newlines, unicode or kilobytes a client chose.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class NotLoggedIn(DomainError):
    """No session and no valid token (401)."""


class LoginUser(UserMixin):
    """The Flask-Login view of a user row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """Return the rotating session token, not the primary key."""
        return self.user.session_token


@login_manager.user_loader
def _load_user(session_token: str) -> LoginUser | None:
    user = get_session().scalar(sa.select(User).where(User.session_token == session_token, User.is_active))
    return LoginUser(user) if user else None


def init_app(app: Flask) -> None:
    """Install the login manager and the per-request actor."""
    login_manager.init_app(app)
    app.before_request(load_actor)


def load_actor() -> None:
    """Build the request's actor from a bearer token or the session and scope the DB session."""
    g.request_id = request_id_from(request.headers.get("X-Request-Id", ""))
    g.actor = None
    session = get_session()  # read-only so far (registry/extensions.py): SQLite reads without the write lock
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        plain, at = header.removeprefix("Bearer ").strip(), utcnow()
        found = user_for_token(session, plain, at)
        if found is not None and session.dirty:  # its last_used_at is due
            found = _stamped(session, plain, at)
        if found is not None:
            user, token = found
            g.actor = _actor(user, kind="token", token_id=token.id)
    elif current_user.is_authenticated:
        g.actor = _actor(current_user.user, kind="user")
    if request.method not in READ_METHODS:
        # End the authentication reads; the view's unit of work begins (IMMEDIATE on SQLite) at its first
        # statement, so the write lock is held from there to its commit, not during authentication.
        begin_writes(session)
    scope_session(session, g.actor.region_code if g.actor else None)


def _stamped(session: Session, plain: str, at: datetime) -> tuple[User, ApiToken] | None:
    """Write a token's last-used stamp in a short transaction of its own, if the write lock is free now.

    The stamp is bookkeeping: a request must not wait for it behind a long import (SQLite's one
    writer). When the lock is taken the stamp is left to a later request and the token is read as is.
    """
    try:
        with writing(session, wait=False):
            found = user_for_token(session, plain, at)
            session.commit()
            return found
    except sa.exc.OperationalError:
        log.info("token last-used stamp skipped: the database is busy writing")
    found = user_for_token(session, plain, at)
    if found is not None:
        session.expire(found[1], ["last_used_at"])  # drop the pending stamp: this session only reads
    return found


def request_id_from(header: str) -> str:
    """Return the client's request id when it is in the safe format, else a fresh one."""
    return header if SAFE_REQUEST_ID.fullmatch(header) else uuid.uuid4().hex[:16]


def _actor(user: User, *, kind: str, token_id: int | None = None) -> Actor:
    return Actor(kind=kind, name=user.username, role=user.role, region_code=user.region_code, user_id=user.id,
                 token_id=token_id, ip=request.remote_addr, request_id=g.request_id)


def current_actor() -> Actor:
    """Return the request's actor. :raises NotLoggedIn:"""
    if g.get("actor") is None:
        raise NotLoggedIn("请先登录 / login required")
    return g.actor


def requires(action: Action) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a logged-in actor whose role allows `action` (401 / 403 otherwise)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require(current_actor(), action)
            return view(*args, **kwargs)
        return wrapper
    return decorate
