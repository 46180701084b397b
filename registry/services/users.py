"""User and API-token use cases."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from registry import audit
from registry.domain.actors import Action, Actor, Role, require, require_scope
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.models import ApiToken, Region, TokenScope, User

MIN_PASSWORD = 8
TOKEN_DAYS = 90  #: default token lifetime (the web app passes settings.token_days)


def hash_password(password: str) -> str:
    """Hash with scrypt (werkzeug's default), scheme prefix kept for later migration."""
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, *, actor: Actor, username: str, role: str, region_code: str,
                email: str, password: str, at: datetime, display_name: str = "") -> User:
    """Create a user scoped to a region node."""
    require(actor, Action.MANAGE_USERS)
    if role not in {r.value for r in Role}:
        raise RuleViolation.on("role", f"角色应为 admin、officer 或 auditor / unknown role {role!r}")
    if region_code != "000000" and session.get(Region, region_code) is None:
        raise RuleViolation.on("region", f"行政区划代码 {region_code} 不存在 / unknown region")
    require_scope(actor, region_code, "地区")
    if len(password) < MIN_PASSWORD:
        raise RuleViolation.on("password", f"密码至少 {MIN_PASSWORD} 位 / at least {MIN_PASSWORD} characters")
    if "@" not in email:
        raise RuleViolation.on("email", "邮箱地址无效 / not an e-mail address")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在 / username taken", field="username")
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=hash_password(password), role=Role(role), region_code=region_code,
                session_token=secrets.token_hex(32), created_at=at)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.created", entity_type="user", entity_id=user.id,
                 region_code=region_code, at=at,
                 changes=audit.snapshot(user, ("username", "email", "role", "region_code")))
    return user


def token_digest(token: str) -> str:
    """Return the stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, actor: Actor, username: str, name: str, at: datetime,
                 scope: str = "write", days: int = TOKEN_DAYS) -> tuple[ApiToken, str]:
    """Create an API token for a user; return the row and the plain token (shown once).

    Never with a token: a stolen token must not be able to mint a longer-lived or wider one.
    :raises PermissionDenied: when the actor is a token.
    """
    if actor.kind == "token":
        raise PermissionDenied("令牌不能用于创建令牌，请在浏览器登录后创建 / a token cannot create a token")
    if scope not in {s.value for s in TokenScope}:
        raise RuleViolation.on("scope", "权限范围应为 read（只读）或 write（读写） / scope must be read or write")
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotFound(f"用户 {username} 不存在 / no such user")
    if actor.user_id not in (None, user.id):
        require(actor, Action.MANAGE_USERS)
    plain = "reg_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_digest(plain), scope=TokenScope(scope),
                     created_at=at, expires_at=at + timedelta(days=days))
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="token.created", entity_type="api_token", entity_id=token.id,
                 region_code=user.region_code, at=at,
                 changes={"user": [None, username], "name": [None, name], "scope": [None, scope],
                          "expires_at": [None, token.expires_at.isoformat()]})
    return token, plain
