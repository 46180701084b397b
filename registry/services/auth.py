"""Authentication use cases: password login with per-account throttling, tokens, sessions.

Failed logins are counted on the user row (in the database, so every web worker and host sees
the same count); after `max_failures` the account is locked for `lock_minutes`. A successful
login resets the count. Nothing is kept in process memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from registry import audit
from registry.domain.actors import Action, Actor, can, require_scope
from registry.domain.errors import DomainError, NotFound
from registry.models import ApiToken, User
from registry.services.users import token_digest

#: last_used_at is kept to the minute: writing it (and flushing the WAL) on every API call cost
#: a commit per read request (bench/RESULTS.md, roster API)
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Checked against when the username is unknown, so both paths cost one scrypt verification.
_DUMMY_HASH = "scrypt:32768:8:1$dummydummydummy$" + "0" * 128


class LoginFailed(DomainError):
    """Wrong username or password (deliberately not saying which)."""


class AccountLocked(DomainError):
    """Too many failed logins; locked until `until`."""


def authenticate(session: Session, *, username: str, password: str, at: datetime,
                 max_failures: int, lock_minutes: int, ip: str | None = None) -> User:
    """Return the user for a correct password. :raises LoginFailed, AccountLocked:"""
    user = session.scalar(sa.select(User).where(User.username == username).with_for_update())
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginFailed("用户名或密码错误 / wrong username or password")
    if user.locked_until is not None and user.locked_until > at:
        raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())
    if not check_password_hash(user.password_hash, password):
        user.failed_login_count += 1
        actor = Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code,
                      user_id=user.id, ip=ip)
        changes = {"failed_login_count": [user.failed_login_count - 1, user.failed_login_count]}
        if user.failed_login_count >= max_failures:
            user.locked_until = at + timedelta(minutes=lock_minutes)
            user.failed_login_count = 0
            changes["locked_until"] = [None, user.locked_until.isoformat()]
            audit.record(session, actor=actor, action="user.locked", entity_type="user", entity_id=user.id,
                         region_code=user.region_code, changes=changes, at=at)
            raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())
        session.flush()
        raise LoginFailed("用户名或密码错误 / wrong username or password")
    user.failed_login_count, user.locked_until = 0, None
    return user


def _locked_message(until: datetime) -> str:
    local = until.astimezone(ZoneInfo("Asia/Shanghai"))
    return (f"登录失败次数过多，账户已锁定至 {local:%Y-%m-%d %H:%M}（北京时间） / "
            f"too many failed logins, locked until {until.isoformat()}")


def user_for_token(session: Session, token: str, at: datetime) -> tuple[User, ApiToken] | None:
    """Return the user and token row for a valid, unrevoked bearer token."""
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or at - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = at
    return row.user, row


def revoke_token(session: Session, *, actor: Actor, token_id: int, at: datetime) -> ApiToken:
    """Revoke one of the actor's tokens (admins: any token in their region)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and not can(actor, Action.MANAGE_USERS)):
        raise NotFound("令牌不存在 / token not found")
    require_scope(actor, row.user.region_code, "令牌")
    if row.revoked_at is None:
        row.revoked_at = at
        audit.record(session, actor=actor, action="token.revoked", entity_type="api_token", entity_id=row.id,
                     region_code=row.user.region_code, changes={"revoked_at": [None, at.isoformat()]}, at=at)
    return row
