"""Who is asking: server-side sessions for pages, bearer tokens or sessions for the API.

The session cookie (Flask's signed cookie, via Flask-Login) carries only a random session secret;
the `user_sessions` row named by its SHA-256 decides on every request whether the session still
lives (registry/accounts/sessions.py: logout, a newer login, idle timeout, absolute lifetime,
revocation, a changed password/role/region end it). A remember-me cookie would carry the same
secret and is checked the same way, so it cannot outlive the session. A session that has ended
is forgotten and the user is told why (a flashed notice on pages, the 401 message in the API).

Bearer tokens must be unrevoked and unexpired; a read-only token is refused (403) on anything
but GET/HEAD/OPTIONS. The request's actor — with IP and request id for the audit trail — is
built once per request in `load_actor`, and the request's database session is scoped to the
actor's region there (registry/regions/scoping.py).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask import session as cookie
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy.orm import Session

from registry.accounts import second_factor, sessions
from registry.accounts.auth import stamp_due, token_holder, user_for_token
from registry.accounts.models import ApiToken, TokenScope, User
from registry.accounts.users import password_policy
from registry.domain.actors import Action, Actor, can, require
from registry.domain.errors import DomainError, PermissionDenied
from registry.domain.passwords import expired
from registry.platform.db import begin_writes, writing
from registry.platform.extensions import get_session
from registry.regions.scoping import scope_session
from registry.web.clock import now

log = logging.getLogger(__name__)
login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "basic"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_METHODS = SAFE_METHODS  #: requests that never write (their session stays read-only on SQLite)
READ_TOKEN_MAY = frozenset({"api.delete_token"})  #: a read-only token may still revoke a token (itself)

#: A request id from a client (or its proxy) is kept only in this shape; anything else gets a fresh one,
#: so the audit trail never stores newlines, unicode or kilobytes a client chose.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class NotLoggedIn(DomainError):
    """No session and no valid token (401)."""


class LoginUser(UserMixin):
    """The Flask-Login view of a user row and the session it is logged in with."""

    def __init__(self, user: User, secret: str, second_factor: str | None = None) -> None:
        self.user = user
        self.secret = secret
        self.second_factor = second_factor  #: how the session passed the second factor (None: it did not)

    def get_id(self) -> str:
        """Return the session secret (what the cookie carries), not the primary key."""
        return self.secret


def security_settings():  # noqa: ANN201  (config.Settings)
    """The settings with the security administrator's policy in force, read once per request."""
    if "security_settings" not in g:
        from registry.accounts.security_policy import effective

        g.security_settings = effective(get_session(), current_app.config["REGISTRY"])
    return g.security_settings


def limits() -> sessions.Limits:
    """Return the configured idle timeout and absolute lifetime."""
    settings = security_settings()
    return sessions.Limits(idle=timedelta(minutes=settings.session_idle_minutes),
                           lifetime=timedelta(hours=settings.session_max_hours))


@login_manager.user_loader
def _load_user(secret: str) -> LoginUser | None:
    db = get_session()
    checked = sessions.check(db, secret=secret, at=now(), limits=limits(), write=False)
    if checked.changed:
        checked = _record_check(db, secret, decided=checked)
    if checked.row is None:
        g.session_ended = checked.ended_reason or "unknown"
        return None
    settings = security_settings()
    if checked.row.second_factor is None and second_factor.required(checked.row.user,
                                                                    settings.second_factor_required_for_all):
        g.session_ended = "second_factor"  # e.g. opened before the rule applied to this role: log in again
        return None
    return LoginUser(checked.row.user, secret, checked.row.second_factor)


def _record_check(db: Session, secret: str, decided: sessions.Checked) -> sessions.Checked:
    """Write what the session check decided (last seen, or the session's end and its audit event).

    In a short transaction of its own that does not wait for SQLite's write lock: when a long
    import holds it, the write is left to a later request and the decision stands as made — an
    ended session is refused in this request all the same, and the next request ends it again.
    """
    try:
        with writing(db, wait=False):
            checked = sessions.check(db, secret=secret, at=now(), limits=limits(), ip=request.remote_addr,
                                     request_id=g.get("request_id"))
            db.commit()
            return checked
    except sa.exc.OperationalError:
        log.info("session check not recorded: the database is busy writing")
        return decided


def sign_in(user: User, second_factor_passed: str | None = None) -> None:
    """Start a new server-side session for `user` (ending the user's others), commit, set the cookie.

    The cookie's content is cleared first, so nothing from before the login (a planted session
    id, an old secret, a pending second-factor step) survives it: the session id rotates on every login.
    `second_factor_passed`: how the login passed the second factor (totp, recovery), recorded on the session.
    """
    db = get_session()
    secret = sessions.start(db, user=user, at=now(), ip=request.remote_addr,
                            user_agent=request.headers.get("User-Agent"), request_id=g.get("request_id"),
                            second_factor=second_factor_passed)
    db.commit()
    cookie.clear()
    login_user(LoginUser(user, secret, second_factor_passed))


#: the cookie key of a login that passed the password and waits for the second factor
PENDING_KEY = "second_factor_pending"
PENDING_MINUTES = 5  #: how long the second step may take after the password


def await_second_factor(user: User, next_url: str | None = None) -> None:
    """Remember (in the signed cookie, for PENDING_MINUTES) that `user` passed the password; no session yet."""
    cookie.clear()
    cookie[PENDING_KEY] = {"uid": user.id, "stamp": user.session_token, "at": now().isoformat(),
                           "next": next_url or ""}


def pending_login() -> tuple[User, str] | None:
    """Return the user waiting for the second factor (and where to go next), if the step is still open."""
    data = cookie.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        started = datetime.fromisoformat(data["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if not timedelta(0) <= now() - started <= timedelta(minutes=PENDING_MINUTES):
        return None
    user = get_session().get(User, data.get("uid"))
    if user is None or not user.is_active or user.session_token != data.get("stamp"):
        return None
    return user, str(data.get("next") or "")


def drop_pending_login() -> None:
    """Forget a pending second-factor step (locked account, or given up)."""
    cookie.pop(PENDING_KEY, None)


def sign_out() -> None:
    """End the request's session (audited), commit, and clear the cookie."""
    if current_user.is_authenticated:
        db = get_session()
        row = db.get(sessions.UserSession, sessions.digest(current_user.secret))
        if row is not None:
            sessions.end(db, row, reason="logout", at=now(), actor=g.actor)
            db.commit()
    logout_user()


#: where a user who must change their password may still go (everything else leads to the change page)
CHANGE_ALLOWED = frozenset({"pages.change_password", "pages.logout", "pages.login", "static"})


def change_reason(user: User) -> str | None:
    """Why `user` must change their password before anything else (None: they need not)."""
    if user.must_change_password:
        return "管理员已重置您的密码，请先修改密码"
    policy = password_policy(security_settings())
    if user.password_changed_at is not None and expired(user.password_changed_at, now(), policy):
        return f"您的密码已超过 {policy.max_age_days} 天有效期，请先修改密码"
    return None


def init_app(app: Flask) -> None:
    """Install the login manager and the per-request actor."""
    login_manager.init_app(app)
    app.before_request(load_actor)


def load_actor() -> Any:  # noqa: ANN401  None, or the redirect to the change-password page
    """Build the request's actor from a bearer token or the session and scope the DB session."""
    g.request_id = request_id_from(request.headers.get("X-Request-Id", ""))
    g.actor = None
    session = get_session()  # read-only so far (registry/platform/extensions.py): SQLite reads without the write lock
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        plain, at = header.removeprefix("Bearer ").strip(), now()
        holder = token_holder(session, plain, at)  # columns, no ORM objects: most requests only read them
        if holder is not None and stamp_due(holder.last_used_at, at) and _stamped(session, plain, at) is None:
            holder = None  # revoked (or its user disabled) since it was read
        if holder is not None:
            g.actor = Actor(kind="token", name=holder.username, role=holder.role, region_code=holder.region_code,
                            user_id=holder.id, token_id=holder.token_id, ip=request.remote_addr,
                            request_id=g.request_id)
            if (holder.scope != TokenScope.WRITE and request.method not in SAFE_METHODS
                    and request.endpoint not in READ_TOKEN_MAY):
                raise PermissionDenied("只读令牌不能执行写操作 / read-only token: writes are refused")
    elif current_user.is_authenticated:
        g.actor = _actor(current_user.user, kind="user", second_factor=current_user.second_factor is not None)
        if request.endpoint not in CHANGE_ALLOWED and (reason := change_reason(current_user.user)):
            if request.blueprint == "api":
                raise PermissionDenied(f"{reason} / the password must be changed first")
            flash(reason)
            return redirect(url_for("pages.change_password"))
    if g.get("session_ended"):
        _forget_ended_session(g.session_ended)
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


def _forget_ended_session(reason: str) -> None:
    """Drop an ended session from the cookie; on pages tell the user why (once)."""
    logout_user()
    if reason in sessions.END_MESSAGES and reason != "logout" and not request.path.startswith("/api/"):
        flash(sessions.END_MESSAGES[reason], "warning")


def _actor(user: User, *, kind: str, token_id: int | None = None, second_factor: bool = False) -> Actor:
    return Actor(kind=kind, name=user.username, role=user.role, region_code=user.region_code, user_id=user.id,
                 token_id=token_id, ip=request.remote_addr, request_id=g.request_id, second_factor=second_factor)


def current_actor() -> Actor:
    """Return the request's actor. :raises NotLoggedIn:"""
    if g.get("actor") is None:
        reason = g.get("session_ended")
        if reason in sessions.END_MESSAGES:
            raise NotLoggedIn(f"{sessions.END_MESSAGES[reason]} / session ended: {reason}", reason=reason)
        raise NotLoggedIn("请先登录 / login required")
    return g.actor


def requires(action: Action, *alternatives: Action) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a logged-in actor whose role allows `action` (or one of `alternatives`) (401 / 403 otherwise)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if not any(can(actor, a) for a in alternatives):
                require(actor, action)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def logged_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require a logged-in actor of any role (their own session, tokens and password) (401 otherwise)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_actor()
        return view(*args, **kwargs)
    return wrapper
