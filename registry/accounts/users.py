"""User and API-token use cases."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from registry.accounts.models import ApiToken, PasswordHistory, TokenScope, User
from registry.audit import trail as audit
from registry.domain.actors import (
    ADMIN_ROLES,
    PERSON_KINDS,
    ROLE_NAMES,
    Action,
    Actor,
    Role,
    require,
    require_scope,
    single_role,
)
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.domain.passwords import PasswordPolicy, problem
from registry.regions.models import Region

MIN_PASSWORD = 8
TOKEN_DAYS = 90  #: default token lifetime (the web app passes settings.token_days)


def check_separation(session: Session, *, email: str, role: Role, exclude_id: int | None = None) -> None:
    """Refuse an administrator role for a person (e-mail) who holds another of the three. :raises RuleViolation:"""
    if role not in ADMIN_ROLES:
        return
    others = session.scalars(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower(),
                                                   User.role.in_(ADMIN_ROLES - {role}), User.is_active))
    for other in others:
        if other.id != exclude_id:
            raise RuleViolation.on("role", f"该邮箱的使用人已是{ROLE_NAMES[other.role]}（账号 {other.username}），"
                                           "系统管理员、安全管理员、审计管理员三者不得由同一人兼任（三员分立）")


def hash_password(password: str) -> str:
    """Hash with scrypt (werkzeug's default), scheme prefix kept for later migration."""
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, *, actor: Actor, username: str, role: str, region_code: str,
                email: str, password: str, at: datetime, display_name: str = "",
                policy: PasswordPolicy | None = None, must_change: bool = False) -> User:
    """Create a user scoped to a region node at once: the operator's path (CLI, fixtures, seed-demo).

    A person (web, API) proposes accounts instead (registry/accounts/admin.py): they take effect
    when a security administrator approves them. With `policy`, the password must satisfy it.
    """
    from registry.proposals.services import SecondPersonRequired

    require(actor, Action.MANAGE_USERS)
    if actor.kind in PERSON_KINDS:
        raise SecondPersonRequired("账号变更须由系统管理员提出、安全管理员审批后生效 / account changes need approval")
    chosen = single_role(role)
    if region_code != "000000" and session.get(Region, region_code) is None:
        raise RuleViolation.on("region", f"行政区划代码 {region_code} 不存在 / unknown region")
    require_scope(actor, region_code, "地区")
    if policy is not None and (why := problem(password, policy, username=username)):
        raise RuleViolation.on("password", why.replace("新密码", "密码"))
    if len(password) < MIN_PASSWORD:
        raise RuleViolation.on("password", f"密码至少 {MIN_PASSWORD} 位 / at least {MIN_PASSWORD} characters")
    if "@" not in email:
        raise RuleViolation.on("email", "邮箱地址无效 / not an e-mail address")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在 / username taken", field="username")
    check_separation(session, email=email, role=chosen)
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=hash_password(password), role=chosen, region_code=region_code,
                session_token=secrets.token_hex(32), created_at=at, password_changed_at=at,
                must_change_password=must_change)
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

    Never with a token: a stolen token must not be able to mint a longer-lived or wider one; a person
    only from a browser session that passed the second factor (issue 16 §3); the CLI (the operator) may.
    :raises PermissionDenied: when the actor is a token, or a session without the second factor.
    """
    if actor.kind == "token":
        raise PermissionDenied("令牌不能用于创建令牌，请在浏览器登录后创建 / a token cannot create a token")
    if actor.kind == "user" and not actor.second_factor:
        raise PermissionDenied("创建 API 令牌须先通过双因素认证：请在“双因素认证”页面绑定后重新登录 / "
                               "a token is created only from a session that passed the second factor")
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


def _reused(session: Session, user: User, password: str, history: int) -> bool:
    """True when `password` is the current one or one of the user's last `history` - 1 earlier ones."""
    earlier = session.scalars(sa.select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                              .order_by(PasswordHistory.id.desc()).limit(max(history - 1, 0)))
    return any(check_password_hash(h, password) for h in (user.password_hash, *earlier))


def _set_password(session: Session, user: User, password: str, at: datetime, policy: PasswordPolicy) -> None:
    """Check `password` against the policy and the history, then make it the user's. :raises RuleViolation:"""
    if why := problem(password, policy, username=user.username):
        raise RuleViolation.on("new_password", why)
    if _reused(session, user, password, policy.history):
        raise RuleViolation.on("new_password", f"新密码不得与最近 {policy.history} 次使用过的密码相同")
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=at))
    user.password_hash, user.password_changed_at = hash_password(password), at


def change_password(session: Session, *, actor: Actor, old: str, new: str, confirm: str, at: datetime,
                    policy: PasswordPolicy, keep_session: str | None = None) -> User:
    """Change the actor's own password (old, new, confirmation); end the user's other sessions; audited.

    :raises RuleViolation: naming the field (wrong old password, mismatch, policy, reuse).
    """
    from registry.accounts import sessions  # sessions imports this module's neighbours

    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or actor.kind != "user":
        raise PermissionDenied("只有登录的用户本人可以修改自己的密码")
    if not check_password_hash(user.password_hash, old):
        raise RuleViolation.on("old_password", "原密码不正确")
    if new != confirm:
        raise RuleViolation.on("confirm_password", "两次输入的新密码不一致")
    _set_password(session, user, new, at, policy)
    forced = user.must_change_password
    user.must_change_password = False
    ended = sessions.end_all(session, user_id=user.id, reason="credentials", at=at, actor=actor, keep=keep_session)
    audit.record(session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at,
                 changes={"password": [None, "已更换"], "must_change_password": [forced, False],
                          "sessions_ended": [None, ended]})
    return user


def reset_password(session: Session, *, actor: Actor, username: str, new: str, at: datetime,
                   policy: PasswordPolicy) -> User:
    """The operator sets a user's password: every session of the user ends, the next login must change it.

    A person proposes a reset instead (registry/accounts/admin.py), approved by a security administrator.
    """
    from registry.accounts import sessions
    from registry.proposals.services import SecondPersonRequired

    require(actor, Action.MANAGE_USERS)
    if actor.kind in PERSON_KINDS:
        raise SecondPersonRequired("账号变更须由系统管理员提出、安全管理员审批后生效 / account changes need approval")
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    require_scope(actor, user.region_code, "地区")
    _set_password(session, user, new, at, policy)
    user.must_change_password = True
    user.session_token = secrets.token_hex(32)
    ended = sessions.end_all(session, user_id=user.id, reason="credentials", at=at, actor=actor)
    audit.record(session, actor=actor, action="user.password_reset", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at,
                 changes={"password": [None, "已更换"], "must_change_password": [None, True],
                          "sessions_ended": [None, ended]})
    return user


def password_policy(settings: object) -> PasswordPolicy:
    """Return the policy the settings configure (REGISTRY_PASSWORD_*)."""
    return PasswordPolicy(min_length=settings.password_min_length,
                          min_classes=settings.password_min_classes,
                          history=settings.password_history,
                          max_age_days=settings.password_max_age_days)
