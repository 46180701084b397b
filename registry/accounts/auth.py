"""Authentication use cases: password login with per-account and per-address throttling, tokens.

Failed logins are counted on the user row (in the database, so every web worker and host sees
the same count); after `max_failures` the account is locked for `lock_minutes`. A successful
login resets the count. Failures are also counted per IP address (a `login_failures` row each):
`ip_max_failures` within `ip_window_minutes` refuse further attempts from that address, which
stops password spraying across many accounts. Nothing is kept in process memory.

An unknown user, a disabled one and a wrong password get the same answer (words and status)
after the same work: a password hash is always verified, against a dummy hash of the same
scheme and cost when there is no user.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from registry.accounts import users
from registry.accounts.models import ApiToken, LoginFailure, User
from registry.accounts.users import token_digest
from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, Role, can, in_scope, require_scope
from registry.domain.errors import DomainError, NotFound
from registry.platform.db import run_compiled

#: last_used_at is kept to the minute: writing it (and flushing the WAL) on every API call cost
#: a commit per read request (bench/RESULTS.md, roster API)
LAST_USED_RESOLUTION = timedelta(minutes=1)


class LoginFailed(DomainError):
    """Wrong username or password (deliberately not saying which)."""


class AccountLocked(DomainError):
    """Too many failed logins; locked until `until`."""


class AddressThrottled(DomainError):
    """Too many failed logins from one IP address within the window (429)."""


#: the same words, status and work for an unknown user, a disabled one and a wrong password
WRONG = "用户名或密码错误 / wrong username or password"
PRUNE_ALL_EVERY = 100  #: about one failure in this many also prunes other addresses' old rows
_dummy_hashes: dict[object, str] = {}


def _dummy_hash() -> str:
    """Return a hash made like real ones (same scheme and cost), checked when the username is unknown,
    so both paths cost one verification; remade if the hashing function is swapped (tests)."""
    maker = users.generate_password_hash
    if maker not in _dummy_hashes:
        _dummy_hashes.clear()
        _dummy_hashes[maker] = users.hash_password(secrets.token_hex(16))
    return _dummy_hashes[maker]


@dataclass(frozen=True)
class Throttle:
    """Per-account lock and per-address throttle settings."""

    max_failures: int = 5
    lock_minutes: int = 15
    ip_max_failures: int = 20
    ip_window_minutes: int = 15

    @classmethod
    def of(cls, settings: Any) -> Throttle:
        """Read the four values from the app settings."""
        return cls(settings.login_max_failures, settings.login_lock_minutes, settings.login_ip_max_failures,
                   settings.login_ip_window_minutes)


def authenticate(session: Session, *, username: str, password: str, at: datetime,
                 max_failures: int = 5, lock_minutes: int = 15, ip: str | None = None,
                 throttle: Throttle | None = None, request_id: str | None = None) -> User:
    """Return the user for a correct password. :raises LoginFailed, AccountLocked, AddressThrottled:

    Failures are recorded (a LoginFailure row for the address, an audit event) in the caller's
    transaction, which the caller commits even though it answers with an error.
    """
    throttle = throttle or Throttle(max_failures, lock_minutes)
    username = username[:64]
    if ip and _address_failures(session, ip, at, throttle) >= throttle.ip_max_failures:
        _audit_failure(session, username, None, ip, request_id, at, "ip_throttled")
        raise AddressThrottled(f"该地址登录失败次数过多，请 {throttle.ip_window_minutes} 分钟后再试 / "
                               "too many failed logins from this address")
    user = session.scalar(sa.select(User).where(User.username == username).with_for_update())
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        _count_failure(session, ip, at)
        _audit_failure(session, username, user, ip, request_id, at, "unknown" if user is None else "inactive")
        raise LoginFailed(WRONG)
    if user.locked_until is not None and user.locked_until > at:
        _audit_failure(session, username, user, ip, request_id, at, "locked")
        raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())
    if not check_password_hash(user.password_hash, password):
        user.failed_login_count += 1
        _count_failure(session, ip, at)
        actor = Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code,
                      user_id=user.id, ip=ip, request_id=request_id)
        changes = {"failed_login_count": [user.failed_login_count - 1, user.failed_login_count]}
        if user.failed_login_count >= throttle.max_failures:
            user.locked_until = at + timedelta(minutes=throttle.lock_minutes)
            user.failed_login_count = 0
            changes["locked_until"] = [None, user.locked_until.isoformat()]
            audit.record(session, actor=actor, action="user.locked", entity_type="user", entity_id=user.id,
                         region_code=user.region_code, changes=changes, at=at)
            raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())
        session.flush()
        _audit_failure(session, username, user, ip, request_id, at, "password")
        raise LoginFailed(WRONG)
    user.failed_login_count, user.locked_until = 0, None
    return user


def _address_failures(session: Session, ip: str, at: datetime, throttle: Throttle) -> int:
    since = at - timedelta(minutes=throttle.ip_window_minutes)
    return session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.ip == ip, LoginFailure.failed_at > since)) or 0


def _count_failure(session: Session, ip: str | None, at: datetime) -> None:
    """Add one failure for the address and prune its rows older than a day (now and then, everyone's)."""
    if not ip:
        return
    stale = LoginFailure.failed_at < at - timedelta(days=1)
    session.execute(sa.delete(LoginFailure).where(stale if secrets.randbelow(PRUNE_ALL_EVERY) == 0
                                                  else sa.and_(LoginFailure.ip == ip, stale)))
    session.add(LoginFailure(ip=ip[:64], failed_at=at))
    session.flush()


def _audit_failure(session: Session, username: str, user: User | None, ip: str | None, request_id: str | None,
                   at: datetime, why: str) -> None:
    """Record a refused login: by the account if it exists, else by the name that was typed."""
    if user is not None:
        actor = Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code,
                      user_id=user.id, ip=ip, request_id=request_id)
    else:
        actor = Actor(kind="anonymous", name=username or "-", role=Role.AUDITOR, region_code="000000",
                      ip=ip, request_id=request_id)
    audit.record(session, actor=actor, action="user.login_failed", entity_type="user",
                 entity_id=user.id if user else None, region_code=user.region_code if user else None,
                 changes={"reason": [None, why]}, at=at)


def _locked_message(until: datetime) -> str:
    local = until.astimezone(ZoneInfo("Asia/Shanghai"))
    return (f"登录失败次数过多，账户已锁定至 {local:%Y-%m-%d %H:%M}（北京时间） / "
            f"too many failed logins, locked until {until.isoformat()}")


def stamp_due(last_used_at: datetime | None, at: datetime) -> bool:
    """Tell whether a token used at `at` needs its last-used stamp written (kept to LAST_USED_RESOLUTION)."""
    return last_used_at is None or at - last_used_at >= LAST_USED_RESOLUTION


def token_holder(session: Session, token: str, at: datetime) -> sa.Row | None:
    """Who a valid bearer token acts for, read as columns (no ORM objects to build: issue 19, the roster API's
    per-request cost) — the user's `id`, `username`, `role`, `region_code` and the token's `token_id`, `scope`,
    `last_used_at` — under the very conditions of `user_for_token`: not revoked, not expired, user active.

    The token's SHA-256 is its lookup key: a token is 256 random bits, so a fast digest is safe where a
    password needs a slow hash. Writes nothing: the caller stamps the last use through `user_for_token`
    when `stamp_due` says so. Run on the session's connection (its transaction), not through the ORM: the
    statement is built and compiled once and only its two values change, so each request skips building it,
    its cache key and the session's ORM execution (bench/RESULTS.md, pagefast and pagefloor).
    """
    return run_compiled(session.connection(), _HOLDER, _values(token, at)).first()


#: what makes a bearer token valid at `at`: its digest known, not revoked, not expired, its user active
#: (the values are bound per use by `_values`)
_VALID = (ApiToken.token_hash == sa.bindparam("token_digest"), ApiToken.revoked_at.is_(None),
          ApiToken.expires_at > sa.bindparam("at"), User.is_active.is_(True))
_HOLDER = sa.select(
    User.id, User.username, User.role, User.region_code,
    ApiToken.id.label("token_id"), ApiToken.scope, ApiToken.last_used_at,
).join(User, User.id == ApiToken.user_id).where(*_VALID)
_WITH_USER = sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(*_VALID)


def _values(token: str, at: datetime) -> dict[str, object]:
    return {"token_digest": token_digest(token), "at": at}


def user_for_token(session: Session, token: str, at: datetime) -> tuple[User, ApiToken] | None:
    """Return the user and token row for a valid bearer token: not revoked, not expired, user active."""
    # one statement for the token and its user (then in the identity map: `row.user` needs no second query)
    found = session.execute(_WITH_USER, _values(token, at)).first()
    if found is None:
        return None
    row, user = found
    if stamp_due(row.last_used_at, at):
        row.last_used_at = at
    return user, row


def revoke_token(session: Session, *, actor: Actor, token_id: int, at: datetime) -> ApiToken:
    """Revoke one of the actor's tokens (admins: any token in their region)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and not can(actor, Action.MANAGE_SESSIONS)):
        raise NotFound("令牌不存在 / token not found")
    require_scope(actor, row.user.region_code, "令牌")
    if row.revoked_at is None:
        row.revoked_at = at
        audit.record(session, actor=actor, action="token.revoked", entity_type="api_token", entity_id=row.id,
                     region_code=row.user.region_code, changes={"revoked_at": [None, at.isoformat()]}, at=at)
    return row


def list_tokens(session: Session, *, actor: Actor, username: str | None = None,
                include_ended: bool = False, at: datetime) -> list[ApiToken]:
    """Return the actor's own tokens; admins: a user's tokens, or (username "*") all in their region."""
    query = sa.select(ApiToken).join(User).order_by(ApiToken.id)
    if not include_ended:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > at)
    if username is None or username == actor.name:
        return list(session.scalars(query.where(ApiToken.user_id == actor.user_id)))
    if not can(actor, Action.MANAGE_SESSIONS):
        raise NotFound(f"用户 {username} 不存在 / no such user")
    rows = session.scalars(query if username == "*" else query.where(User.username == username))
    return [row for row in rows if in_scope(actor, row.user.region_code)]
