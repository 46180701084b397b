"""Browser sessions as server-side records: started on login, checked on every request, ended for good.

The cookie carries a random secret; the table keeps only its SHA-256 (the row's id), so a copy
of the table cannot be replayed as a cookie. A session is valid while it has not ended, the
user is active, the user's `session_token` is still the one stamped at login (it rotates on a
password, role or region change), it was seen within the idle timeout and started within the
absolute lifetime. A new login of the same account ends every other open session ("replaced"):
one session per account. Every start and end is in the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User, UserSession
from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, can, require_scope
from registry.domain.errors import NotFound

#: last_seen_at is written at most once a minute per session (not a commit per request)
SEEN_RESOLUTION = timedelta(minutes=1)

#: why a session ended, as the user is told on their next request
END_MESSAGES = {
    "logout": "您已退出登录，请重新登录",
    "replaced": "您的账号已在其他地方登录，本会话已结束，请重新登录",
    "idle": "长时间未操作，会话已超时，请重新登录",
    "expired": "会话已超过最长有效期，请重新登录",
    "revoked": "会话已被注销，请重新登录",
    "credentials": "账号的密码或权限已变更，请重新登录",
    "second_factor": "本账号须使用双因素认证（动态验证码），请重新登录",
}


@dataclass(frozen=True)
class Limits:
    """The idle timeout and the absolute lifetime of a session."""

    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a cookie: the live session, or why it ended (None: unknown secret)."""

    row: UserSession | None
    ended_reason: str | None = None
    changed: bool = False  #: the row was written (last seen, or ended): the caller commits


def digest(secret: str) -> str:
    """Return the stored id of a session secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_of(user: User, ip: str | None = None, request_id: str | None = None) -> Actor:
    """Return the actor a user's own session events are recorded under."""
    return Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code,
                 user_id=user.id, ip=ip, request_id=request_id)


def start(session: Session, *, user: User, at: datetime, ip: str | None, user_agent: str | None,
          request_id: str | None = None, second_factor: str | None = None) -> str:
    """Start a session for `user`, ending the user's other open sessions; return the cookie secret.

    `second_factor`: how the login passed it (totp, recovery), None for a password-only login.
    """
    actor = actor_of(user, ip, request_id)
    for other in session.scalars(sa.select(UserSession).where(
            UserSession.user_id == user.id, UserSession.ended_at.is_(None)).with_for_update()):
        end(session, other, reason="replaced", at=at, actor=actor)
    secret = secrets.token_urlsafe(32)
    row = UserSession(id=digest(secret), user_id=user.id, user_stamp=user.session_token, created_at=at,
                      last_seen_at=at, ip=ip, user_agent=(user_agent or "")[:256] or None,
                      second_factor=second_factor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="user.login", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at,
                 changes={"ip": [None, ip], "second_factor": [None, second_factor]})
    return secret


def check(session: Session, *, secret: str, at: datetime, limits: Limits, ip: str | None = None,
          request_id: str | None = None, write: bool = True) -> Checked:
    """Return the live session of a cookie secret, ending it (audited, with the request's IP) if it has
    just timed out.

    With `write=False` it only decides: `changed` then says a write is due (an end, a last-seen
    stamp), which the caller makes in a writing transaction by checking again.
    """
    row = session.get(UserSession, digest(secret))
    if row is None:
        return Checked(None)
    if row.ended_at is not None:
        return Checked(None, row.end_reason)
    reason = None
    if not row.user.is_active or row.user.session_token != row.user_stamp:
        reason = "credentials"
    elif at - row.created_at >= limits.lifetime:
        reason = "expired"
    elif at - row.last_seen_at >= limits.idle:
        reason = "idle"
    if reason:
        if write:
            end(session, row, reason=reason, at=at, actor=actor_of(row.user, ip, request_id))
        return Checked(None, reason, changed=True)
    if at - row.last_seen_at >= SEEN_RESOLUTION:
        if write:
            row.last_seen_at = at
        return Checked(row, changed=True)
    return Checked(row)


def end(session: Session, row: UserSession, *, reason: str, at: datetime, actor: Actor) -> None:
    """End one session for `reason` (see END_MESSAGES) and record it; ending twice changes nothing."""
    if row.ended_at is not None:
        return
    row.ended_at, row.end_reason = at, reason
    session.flush()
    action = "user.logout" if reason == "logout" else "session.ended"
    audit.record(session, actor=actor, action=action, entity_type="user", entity_id=row.user_id,
                 region_code=row.user.region_code, at=at,
                 changes={"reason": [None, reason], "session_started_at": [None, row.created_at.isoformat()]})


def end_all(session: Session, *, user_id: int, reason: str, at: datetime, actor: Actor,
            keep: str | None = None) -> int:
    """End every open session of a user (password change, disabling, revocation) but `keep` (a session
    id: the one changing its own password); return how many."""
    query = sa.select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    rows = session.scalars(query.with_for_update()).all()
    for row in rows:
        end(session, row, reason=reason, at=at, actor=actor)
    return len(rows)


def listing(session: Session, *, actor: Actor, username: str | None, at: datetime,
            limits: Limits) -> list[UserSession]:
    """Return open, unexpired sessions: the actor's own, or (admins) a user's of their region."""
    query = sa.select(UserSession).join(User).where(UserSession.ended_at.is_(None),
                                                    UserSession.last_seen_at > at - limits.idle,
                                                    UserSession.created_at > at - limits.lifetime)
    if username is None or username == actor.name:
        query = query.where(UserSession.user_id == actor.user_id)
    else:
        user = _managed_user(session, actor, username)
        query = query.where(UserSession.user_id == user.id)
    return list(session.scalars(query.order_by(UserSession.created_at.desc())))


def revoke_user_sessions(session: Session, *, actor: Actor, username: str, at: datetime) -> int:
    """End every open session of `username` (own sessions, or admins: a user of their region)."""
    user = (session.scalar(sa.select(User).where(User.username == username))
            if username == actor.name else _managed_user(session, actor, username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在 / no such user")
    return end_all(session, user_id=user.id, reason="revoked", at=at, actor=actor)


def _managed_user(session: Session, actor: Actor, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None or not can(actor, Action.MANAGE_SESSIONS):
        raise NotFound(f"用户 {username} 不存在 / no such user")
    require_scope(actor, user.region_code, "用户")
    return user
