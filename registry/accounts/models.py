"""Models of accounts: users, password history, API tokens, browser sessions, failed logins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.domain.actors import Role
from registry.platform.db import Base, str_enum, utcnow
from registry.platform.pi_crypto import EncryptedText


class User(Base):
    """A person who logs in, with one role of SPEC §6, scoped to a region node."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64), default="")
    email: Mapped[str] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: rotated on password, role or region change: invalidates every existing session
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    #: officers may take one digest a day instead of single reminder mails
    wants_daily_digest: Mapped[bool] = mapped_column(default=False)
    #: reminders also go to the user's e-mail address (issue 18 §8); off: only the inbox and their channels
    wants_reminder_email: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the current password was set (expiry counts from here); None: before migration 0011
    password_changed_at: Mapped[datetime | None]
    #: set by an administrator's reset: the next login leads to the change-password page first
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: TOTP second factor (RFC 6238, base32 secret): set when enrolment starts, in use once `totp_enabled_at` is
    #: the TOTP secret, SM4-GCM ciphertext at rest (migration 0017), plain base32 in Python
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[datetime | None]
    #: the last 30-second step whose code was accepted: a code is good once (no replay within its step)
    totp_last_step: Mapped[int | None]
    #: wrong second-factor codes since the last good one (locks the account like wrong passwords)
    second_factor_failures: Mapped[int] = mapped_column(default=0, server_default="0")



class PasswordHistory(Base):
    """A previous password of a user (its hash only): a new password may not repeat the last few."""

    __tablename__ = "password_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime]



class RecoveryCode(Base):
    """A one-time recovery code for the second factor: only its SHA-256 is kept; used once."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]



class TokenScope(StrEnum):
    """What a bearer token may do: read only (GET) or read and write."""

    READ = "read"
    WRITE = "write"



class ApiToken(Base):
    """A bearer token for JSON clients; only its SHA-256 is stored. It expires and has a scope."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope, "token_scope"), default=TokenScope.WRITE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user: Mapped[User] = relationship()



class UserSession(Base):
    """One browser login: the cookie holds a random secret, the table its SHA-256 (the id).

    A session ends on logout, on a newer login of the same account (one session per account),
    when idle or too old, when revoked by its owner or an admin, or when the user's credentials
    change (`user_stamp` is the user's `session_token` at login; a rotated token ends it).
    """

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    user_stamp: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    #: logout, replaced, idle, expired, revoked, credentials
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(256))
    #: how the login passed the second factor (totp, recovery); None: password only
    second_factor: Mapped[str | None] = mapped_column(sa.String(16))
    user: Mapped[User] = relationship()



class LoginFailure(Base):
    """One failed login from an address: counted per IP over a window to throttle password spraying."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime]
    __table_args__ = (sa.Index("ix_login_failures_ip_failed_at", "ip", "failed_at"),)



class SecurityPolicy(Base):
    """The security administrator's policy values (one row; registry/domain/security_policy.py RULES).
    A value absent here is the environment's (REGISTRY_*)."""

    __tablename__ = "security_policy"
    id: Mapped[int] = mapped_column(primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(sa.String(128))
