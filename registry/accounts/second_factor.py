"""The second factor: TOTP (RFC 6238, pyotp) with one-time recovery codes (issue 16 §3).

Mandatory for the three administrator roles (sysadmin, secadmin, auditadmin) — they cannot finish
a login without it; the first login goes through enrolment. Optional for business roles unless
REGISTRY_2FA_REQUIRED_FOR_ALL is set. Once a user has enrolled, every login asks for it.

- Enrolment: a random base32 secret is kept on the user (`totp_secret`) and shown as a QR code
  (rendered here as SVG, no network); it is in use only after the user types a good code from
  it (`totp_enabled_at`). Ten recovery codes are made then, shown once, and kept as SHA-256.
- A code is accepted for the current 30-second step or one either side (clock drift), and only
  for a step later than the last accepted one (`totp_last_step`): a code cannot be replayed.
- A recovery code works once (UPDATE … WHERE used_at IS NULL: two uses at once, one wins).
- Wrong codes count per account (`second_factor_failures`) and lock it like wrong passwords
  (login_max_failures, login_lock_minutes); they also count for the address (per-IP throttle).
- Audited: user.2fa_enrolled, user.2fa_failed (reason wrong/replayed), user.2fa_recovery_used
  (codes left), user.locked, user.2fa_reset, user.2fa_recovery_renewed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime, timedelta

import pyotp
import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.auth import AccountLocked, Throttle, _count_failure, _locked_message
from registry.accounts.models import RecoveryCode, User
from registry.audit import trail as audit
from registry.domain.actors import ADMIN_ROLES, Actor
from registry.domain.errors import DomainError, RuleViolation

STEP_SECONDS = 30
DRIFT_STEPS = 1  #: a code of the step before or after the current one is accepted too
RECOVERY_CODES = 10
ISSUER = "梯度培育管理系统"
TOTP = "totp"
RECOVERY = "recovery"
_DIGITS = re.compile(r"\d{6}")
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  #: no 0/O, 1/I


class SecondFactorFailed(DomainError):
    """A wrong, replayed or used-up code (401)."""


class SecondFactorRequired(DomainError):
    """The login needs the second factor before it is complete (401 on the API, with `second_factor`)."""


WRONG_CODE = "动态验证码或恢复码错误 / wrong code"


def required(user: User, required_for_all: bool = False) -> bool:
    """True when `user` must pass the second factor to log in (administrator roles always)."""
    return user.role in ADMIN_ROLES or required_for_all


def enrolled(user: User) -> bool:
    """True when `user` has a confirmed TOTP secret."""
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def needed(user: User, required_for_all: bool = False) -> bool:
    """True when this login must pass the second factor: the user has one, or must have one."""
    return enrolled(user) or required(user, required_for_all)


def _actor(user: User, ip: str | None, request_id: str | None) -> Actor:
    return Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code, user_id=user.id,
                 ip=ip, request_id=request_id)


def start_enrolment(session: Session, *, user: User) -> str:
    """Return the secret to enrol (made on first call, kept until confirmed). :raises RuleViolation:"""
    if enrolled(user):
        raise RuleViolation.on("code", "已绑定双因素认证 / already enrolled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg_data_uri(text: str) -> str:
    """Return `text` as a QR code: an SVG image in a data: URI (drawn here; img-src allows data:)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def step_of(at: datetime) -> int:
    """The TOTP time step (30 s) of an instant."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The 6-digit code of a step (what an authenticator app shows then)."""
    return pyotp.TOTP(secret).generate_otp(step)


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    now = step_of(at)
    matched = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):  # all compared: no early exit by timing
        if hmac.compare_digest(code_at(secret, step), code):
            matched = step
    return matched


def _normal(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _recovery_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normal(code)}".encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User, at: datetime) -> list[str]:
    """Replace the user's recovery codes with ten new ones; return them (shown once, stored hashed)."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))  # 50 bits each
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(user.id, raw), created_at=at))
    session.flush()
    return codes


def confirm_enrolment(session: Session, *, user: User, code: str, at: datetime, ip: str | None = None,
                      request_id: str | None = None) -> list[str]:
    """Enable TOTP when `code` comes from the pending secret; return the new recovery codes.

    :raises RuleViolation: on `code` when it does not fit (nothing changes).
    """
    if enrolled(user) or not user.totp_secret:
        raise RuleViolation.on("code", "请先开始绑定 / start the enrolment first")
    code = _normal(code)
    step = _matching_step(user.totp_secret, code, at) if _DIGITS.fullmatch(code) else None
    if step is None:
        raise RuleViolation.on("code", "验证码不正确：请输入验证器应用当前显示的 6 位数字 / wrong code")
    user.totp_enabled_at, user.totp_last_step, user.second_factor_failures = at, step, 0
    codes = _new_recovery_codes(session, user, at)
    audit.record(session, actor=_actor(user, ip, request_id), action="user.2fa_enrolled", entity_type="user",
                 entity_id=user.id, region_code=user.region_code, at=at,
                 changes={"totp_enabled_at": [None, at.isoformat()], "recovery_codes": [None, len(codes)]})
    return codes


def renew_recovery_codes(session: Session, *, user: User, code: str, at: datetime, throttle: Throttle,
                         ip: str | None = None, request_id: str | None = None) -> list[str]:
    """Replace the recovery codes after a good TOTP code (the old ones stop working)."""
    if verify(session, user=user, code=code, at=at, throttle=throttle, ip=ip, request_id=request_id,
              allow_recovery=False) != TOTP:
        raise SecondFactorFailed(WRONG_CODE)
    codes = _new_recovery_codes(session, user, at)
    audit.record(session, actor=_actor(user, ip, request_id), action="user.2fa_recovery_renewed",
                 entity_type="user", entity_id=user.id, region_code=user.region_code, at=at,
                 changes={"recovery_codes": [None, len(codes)]})
    return codes


def verify(session: Session, *, user: User, code: str, at: datetime, throttle: Throttle, ip: str | None = None,
           request_id: str | None = None, allow_recovery: bool = True) -> str:
    """Return how the second factor was passed (totp, recovery).

    :raises AccountLocked: locked, or this wrong code reached the limit.
    :raises SecondFactorFailed: wrong, replayed or used code; the failure is recorded in the caller's
        transaction, which the caller commits even though it refuses the login.
    """
    if user.locked_until is not None and user.locked_until > at:
        raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())
    if not enrolled(user):
        raise SecondFactorFailed("尚未绑定双因素认证 / not enrolled")
    normal = _normal(code)
    reason = "wrong"
    if _DIGITS.fullmatch(normal):
        step = _matching_step(user.totp_secret or "", normal, at)
        if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
            user.totp_last_step, user.second_factor_failures = step, 0
            session.flush()
            return TOTP
        if step is not None:
            reason = "replayed"
    elif allow_recovery and len(normal) == 10:
        used = session.execute(sa.update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_digest(user.id, normal),
            RecoveryCode.used_at.is_(None)).values(used_at=at))
        if used.rowcount == 1:
            user.second_factor_failures = 0
            left = session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
            audit.record(session, actor=_actor(user, ip, request_id), action="user.2fa_recovery_used",
                         entity_type="user", entity_id=user.id, region_code=user.region_code, at=at,
                         changes={"recovery_codes_left": [None, left]})
            return RECOVERY
        reason = "recovery"
    _failed(session, user, reason, at, throttle, ip, request_id)
    raise SecondFactorFailed(WRONG_CODE, reason=reason)


def _failed(session: Session, user: User, reason: str, at: datetime, throttle: Throttle, ip: str | None,
            request_id: str | None) -> None:
    actor = _actor(user, ip, request_id)
    user.second_factor_failures += 1
    _count_failure(session, ip, at)
    audit.record(session, actor=actor, action="user.2fa_failed", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at,
                 changes={"reason": [None, reason], "second_factor_failures": [None, user.second_factor_failures]})
    if user.second_factor_failures >= throttle.max_failures:
        user.locked_until = at + timedelta(minutes=throttle.lock_minutes)
        user.second_factor_failures = 0
        audit.record(session, actor=actor, action="user.locked", entity_type="user", entity_id=user.id,
                     region_code=user.region_code, at=at,
                     changes={"locked_until": [None, user.locked_until.isoformat()], "reason": [None, "2fa"]})
        raise AccountLocked(_locked_message(user.locked_until), until=user.locked_until.isoformat())


def reset(session: Session, *, user: User, actor: Actor, at: datetime) -> None:
    """Remove a user's second factor (lost phone and codes; the operator's command): the next login
    enrols again, and the user's sessions end (the user's session_token rotates)."""
    had = enrolled(user)
    user.totp_secret, user.totp_enabled_at, user.totp_last_step, user.second_factor_failures = None, None, None, 0
    user.session_token = secrets.token_hex(32)
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, actor=actor, action="user.2fa_reset", entity_type="user", entity_id=user.id,
                 region_code=user.region_code, at=at, changes={"enrolled": [had, False]})
