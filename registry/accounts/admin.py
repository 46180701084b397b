"""Account administration under 三员分立 (issue 16 §1 and §4).

A system administrator proposes account changes — create, disable, enable, unlock, reset the
password (the user must change it at the next login), change the role or the region — and each
takes effect only when a security administrator of the region approves it (registry/services/
proposals.py). Each step is audited: the proposal (who, what, the values asked for), the decision,
and the change itself with its before/after, the proposer and the approver. Nobody administers
their own account, and no person holds two of the three administrator roles (a person is known by
the e-mail address of their accounts). Passwords arrive in a form or a JSON body, never on a
command line, and a proposal keeps only the hash.

The operator's command line (`flask create-user`, `flask reset-password`) stays the bootstrap
path and acts at once (registry/accounts/users.py).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from registry.accounts import sessions
from registry.accounts.models import PasswordHistory, User
from registry.accounts.users import check_separation, hash_password
from registry.audit import trail as audit
from registry.domain.actors import (
    ROLE_NAMES,
    Action,
    Actor,
    Role,
    in_scope,
    require,
    require_scope,
    single_role,
)
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.domain.passwords import PasswordPolicy, problem
from registry.proposals import services as proposals
from registry.proposals.models import Proposal, ProposalStatus
from registry.proposals.services import FourEyes
from registry.regions.models import Region

USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,64}")
KINDS = ("account.create", "account.disable", "account.enable", "account.unlock", "account.reset", "account.update")


def region_label(session: Session, code: str) -> str:
    """A region's name for a summary (全国 for 000000)."""
    if code == "000000":
        return "全国"
    return session.scalar(sa.select(Region.name).where(Region.code == code)) or code


def list_users(session: Session, *, actor: Actor) -> list[User]:
    """The accounts in the actor's region, by username."""
    require(actor, Action.VIEW_ACCOUNTS)
    return [u for u in session.scalars(sa.select(User).order_by(User.username)) if in_scope(actor, u.region_code)]


def get_user(session: Session, actor: Actor, username: str) -> User:
    """An account in the actor's region. :raises NotFound:"""
    require(actor, Action.VIEW_ACCOUNTS)
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None or not in_scope(actor, user.region_code):
        raise NotFound(f"用户 {username} 不存在 / no such user")
    return user


def _check_region(session: Session, actor: Actor, code: str) -> None:
    if code != "000000" and session.get(Region, code) is None:
        raise RuleViolation.on("region_code", f"行政区划代码 {code} 不存在")
    if not in_scope(actor, code):
        raise RuleViolation.on("region_code", f"地区 {code} 不在您的管辖范围内")


def _not_self(actor: Actor, user: User, doing: str) -> None:
    if actor.user_id == user.id:
        raise PermissionDenied(f"不能{doing}本人的账号，请由其他管理员办理 / not on one's own account")


def _password_hash(session: Session, user: User | None, username: str, password: str,
                   policy: PasswordPolicy, field: str = "password") -> str:
    """Check a password the administrator chose against the policy (and the user's history); return its hash."""
    if why := problem(password, policy, username=username):
        raise RuleViolation.on(field, why.replace("新密码", "密码"))
    if user is not None:
        earlier = session.scalars(sa.select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                                  .order_by(PasswordHistory.id.desc()).limit(max(policy.history - 1, 0)))
        if any(check_password_hash(h, password) for h in (user.password_hash, *earlier)):
            raise RuleViolation.on(field, f"密码不得与该用户最近 {policy.history} 次使用过的密码相同")
    return hash_password(password)


# ------------------------------------------------------------------------------------------ proposing

def propose_create(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime,
                   policy: PasswordPolicy) -> Proposal:
    """Propose a new account (username, display_name, email, role, region_code, password)."""
    require(actor, Action.MANAGE_USERS)
    username = str(data.get("username") or "").strip()
    if not USERNAME.fullmatch(username):
        raise RuleViolation.on("username", "用户名应为 2 到 64 位字母、数字或 _ . -")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在", field="username")
    role = single_role(data.get("role") or "")
    email = str(data.get("email") or "").strip()
    if "@" not in email or len(email) > 254:
        raise RuleViolation.on("email", "邮箱地址无效")
    region = str(data.get("region_code") or "").strip()
    _check_region(session, actor, region)
    check_separation(session, email=email, role=role)
    display = str(data.get("display_name") or "").strip()[:64] or username
    digest = _password_hash(session, None, username, str(data.get("password") or ""), policy)
    shown = {"username": username, "display_name": display, "email": email, "role": role.value,
             "region_code": region}
    summary = f"新建账号 {username}（{display}，{ROLE_NAMES[role]}，{region_label(session, region)}）"
    return proposals.propose(session, actor=actor, kind="account.create", region_code=region, target_type="user",
                             target_id=None, summary=summary, payload={**shown, "password_hash": digest},
                             shown=shown, at=at, note=data.get("note"))


def propose_change(session: Session, *, actor: Actor, username: str, kind: str, at: datetime,
                   data: dict[str, Any] | None = None, policy: PasswordPolicy | None = None) -> Proposal:
    """Propose disabling, enabling, unlocking, resetting the password of, or changing the role/region of an account."""
    require(actor, Action.MANAGE_USERS)
    data = data or {}
    user = get_user(session, actor, username)
    if kind not in KINDS or kind == "account.create":
        raise RuleViolation.on("kind", "未知的账号变更")
    _not_self(actor, user, "变更")
    payload: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    if kind == "account.disable":
        if not user.is_active:
            raise Conflict("该账号已停用", field="is_active")
        summary = f"停用账号 {user.username}"
    elif kind == "account.enable":
        if user.is_active:
            raise Conflict("该账号未停用", field="is_active")
        check_separation(session, email=user.email, role=user.role, exclude_id=user.id)
        summary = f"启用账号 {user.username}"
    elif kind == "account.unlock":
        if (user.locked_until is None or user.locked_until <= at) and not user.failed_login_count:
            raise Conflict("该账号未被锁定", field="locked_until")
        summary = f"解除账号 {user.username} 的登录锁定"
    elif kind == "account.reset":
        if policy is None:
            raise RuleViolation.on("password", "缺少密码策略")
        payload["password_hash"] = _password_hash(session, user, user.username, str(data.get("password") or ""), policy)
        shown["password"] = "（已设置临时密码，用户下次登录须修改）"
        summary = f"重置账号 {user.username} 的密码（用户下次登录须修改）"
    else:
        role = single_role(data["role"]) if data.get("role") else user.role
        region = str(data.get("region_code") or user.region_code).strip()
        if role == user.role and region == user.region_code:
            raise RuleViolation.on("role", "角色和地区均未改变")
        if region != user.region_code:
            _check_region(session, actor, region)
        check_separation(session, email=user.email, role=role, exclude_id=user.id)
        payload = {"role": role.value, "region_code": region}
        shown = {"role": [user.role.value, role.value], "region_code": [user.region_code, region]}
        summary = (f"账号 {user.username}：角色 {ROLE_NAMES[user.role]} → {ROLE_NAMES[role]}，"
                   f"地区 {region_label(session, user.region_code)} → {region_label(session, region)}")
    return proposals.propose(session, actor=actor, kind=kind, region_code=user.region_code, target_type="user",
                             target_id=user.id, summary=summary, payload=payload, at=at, note=data.get("note"),
                             shown={"username": user.username, **{k: v for k, v in shown.items()}})


# ------------------------------------------------------------------------------------------ deciding

def _approver(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    require(actor, Action.APPROVE_ACCOUNTS)
    row = proposals.load(session, actor, proposal_id, accounts=True)
    if proposals.proposed_by(row, actor):
        raise PermissionDenied("不能审批本人提出的申请 / not one's own proposal")
    return row


def approve(session: Session, *, actor: Actor, proposal_id: int, at: datetime, note: str | None = None) -> Proposal:
    """Approve an account change (security administrators): it takes effect now, audited with both people."""
    row = _approver(session, actor, proposal_id)
    if row.target_id is not None and row.target_id == actor.user_id:
        raise PermissionDenied("不能审批涉及本人账号的变更 / not a change of one's own account")
    proposals.decide(session, row, actor=actor, status=ProposalStatus.CONFIRMED, at=at, note=note)
    both = FourEyes(row.id, row.proposed_by, actor.label)
    if row.kind == "account.create":
        _create(session, actor, row, both, at)
    else:
        user = session.get(User, row.target_id)
        if user is None:
            raise NotFound("用户不存在 / no such user")
        _APPLY[row.kind](session, actor, user, row.payload, both, at)
    return row


def reject(session: Session, *, actor: Actor, proposal_id: int, at: datetime, note: str | None = None) -> Proposal:
    """Reject an account change (security administrators); nothing changes but the proposal, audited."""
    row = _approver(session, actor, proposal_id)
    proposals.decide(session, row, actor=actor, status=ProposalStatus.REJECTED, at=at, note=note)
    return row


def _create(session: Session, actor: Actor, row: Proposal, both: FourEyes, at: datetime) -> None:
    data = row.payload
    if session.scalar(sa.select(User.id).where(User.username == data["username"])) is not None:
        raise Conflict(f"用户名 {data['username']} 已存在", field="username")
    role = Role(data["role"])
    check_separation(session, email=data["email"], role=role)
    user = User(username=data["username"], display_name=data["display_name"], email=data["email"],
                password_hash=data["password_hash"], role=role, region_code=data["region_code"],
                session_token=secrets.token_hex(32), created_at=at, password_changed_at=at,
                must_change_password=True)
    session.add(user)
    session.flush()
    row.target_id = user.id
    audit.record(session, actor=actor, action="user.created", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at,
                 changes={**audit.snapshot(user, ("username", "display_name", "email", "role", "region_code")),
                          "must_change_password": [None, True], **both.changes()})


def _ended(session: Session, actor: Actor, user: User, at: datetime) -> int:
    """Rotate the user's stamp and end their sessions: a changed account logs in again."""
    user.session_token = secrets.token_hex(32)
    return sessions.end_all(session, user_id=user.id, reason="credentials", at=at, actor=actor)


def _record(session: Session, actor: Actor, user: User, action: str, changes: dict[str, Any], both: FourEyes,
            at: datetime) -> None:
    audit.record(session, actor=actor, action=action, entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at, changes={"username": [None, user.username], **changes,
                                                              **both.changes()})


def _disable(session: Session, actor: Actor, user: User, payload: dict[str, Any], both: FourEyes, at: datetime) -> None:
    if not user.is_active:
        raise Conflict("该账号已停用", field="is_active")
    user.is_active = False
    ended = _ended(session, actor, user, at)
    _record(session, actor, user, "user.disabled", {"is_active": [True, False], "sessions_ended": [None, ended]}, both, at)


def _enable(session: Session, actor: Actor, user: User, payload: dict[str, Any], both: FourEyes, at: datetime) -> None:
    if user.is_active:
        raise Conflict("该账号未停用", field="is_active")
    check_separation(session, email=user.email, role=user.role, exclude_id=user.id)
    user.is_active, user.failed_login_count, user.locked_until = True, 0, None
    _record(session, actor, user, "user.enabled", {"is_active": [False, True]}, both, at)


def _unlock(session: Session, actor: Actor, user: User, payload: dict[str, Any], both: FourEyes, at: datetime) -> None:
    before = [audit.plain(user.locked_until), user.failed_login_count]
    user.locked_until, user.failed_login_count = None, 0
    _record(session, actor, user, "user.unlocked",
            {"locked_until": [before[0], None], "failed_login_count": [before[1], 0]}, both, at)


def _reset(session: Session, actor: Actor, user: User, payload: dict[str, Any], both: FourEyes, at: datetime) -> None:
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=at))
    user.password_hash, user.password_changed_at = payload["password_hash"], at
    forced, user.must_change_password = user.must_change_password, True
    ended = _ended(session, actor, user, at)
    _record(session, actor, user, "user.password_reset",
            {"password": [None, "已更换"], "must_change_password": [forced, True], "sessions_ended": [None, ended]},
            both, at)


def _update(session: Session, actor: Actor, user: User, payload: dict[str, Any], both: FourEyes, at: datetime) -> None:
    role, region = Role(payload["role"]), payload["region_code"]
    check_separation(session, email=user.email, role=role, exclude_id=user.id)
    changes = audit.diff(user, {"role": role, "region_code": region})
    if not changes:
        raise Conflict("角色和地区均未改变（可能已由其他申请变更）", field="role")
    user.role, user.region_code = role, region
    changes["sessions_ended"] = [None, _ended(session, actor, user, at)]
    _record(session, actor, user, "user.updated", changes, both, at)


_APPLY = {"account.disable": _disable, "account.enable": _enable, "account.unlock": _unlock,
          "account.reset": _reset, "account.update": _update}


def require_scope_of(actor: Actor, user: User) -> None:
    """Refuse an account outside the actor's region as if it did not exist."""
    require_scope(actor, user.region_code, "用户")
