"""ORM models: typed columns, named constraints, string enums with CHECK, no side effects.

Legal dates are DATE (`*_on`); instants are UTC (`*_at`). Amounts are yuan, NUMERIC(18,2).
Every term of every title is kept (certification_terms) so as-of questions are exact.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, utcnow
from registry.domain.actors import Role
from registry.domain.criteria import Verdict
from registry.domain.eligibility import Ban as BanRule
from registry.domain.lifecycle import LIVE, Event, Status
from registry.domain.policy import AUTHORITIES

MONEY = sa.Numeric(18, 2)


def str_enum(enum: type[StrEnum], name: str) -> sa.Enum:
    """Store an enum's values as VARCHAR with a named CHECK constraint (portable, migratable)."""
    return sa.Enum(enum, native_enum=False, create_constraint=True, length=32, name=name,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


class SizeClass(StrEnum):
    """Enterprise size under 工信部联企业〔2011〕300号."""

    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


class ChangeKind(StrEnum):
    """Kinds of major change an enterprise must report."""

    RENAME = "rename"
    MERGER = "merger"
    RESTRUCTURING = "restructuring"
    CROSS_PROVINCE_MOVE = "cross_province_move"
    OVERSEAS_BRANCH = "overseas_branch"
    OTHER = "other"


class Region(Base):
    """A GB/T 2260 division: province ⊃ city ⊃ district."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    level: Mapped[str] = mapped_column(sa.String(16))
    __table_args__ = (sa.CheckConstraint("level IN ('province', 'city', 'district')", name="level"),)


class RegionCodeChange(Base):
    """A GB/T 2260 code change (撤并, 更名, 改码): enterprises under `old_code` belong to `new_code`.

    No foreign keys: an old code may never have been loaded, and a new one may arrive with a
    later data version.
    """

    __tablename__ = "region_code_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    old_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    new_code: Mapped[str] = mapped_column(sa.String(6))
    kind: Mapped[str] = mapped_column(sa.String(16))  #: merge (撤并), rename (更名/撤县设市), recode (改码)
    effective_year: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(500))
    note: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (sa.UniqueConstraint("old_code", "new_code"),
                      sa.CheckConstraint("kind IN ('merge', 'rename', 'recode')", name="kind"),
                      sa.CheckConstraint("old_code <> new_code", name="distinct_codes"))


class ReferenceData(Base):
    """Which version of a shipped reference data set (e.g. the region tree) the database holds."""

    __tablename__ = "reference_data"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str] = mapped_column(sa.String(500))
    loaded_at: Mapped[datetime]


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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the current password was set (expiry counts from here); None: before migration 0011
    password_changed_at: Mapped[datetime | None]
    #: set by an administrator's reset: the next login leads to the change-password page first
    must_change_password: Mapped[bool] = mapped_column(default=False)


class PasswordHistory(Base):
    """A previous password of a user (its hash only): a new password may not repeat the last few."""

    __tablename__ = "password_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime]


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
    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed login from an address: counted per IP over a window to throttle password spraying."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime]
    __table_args__ = (sa.Index("ix_login_failures_ip_failed_at", "ip", "failed_at"),)


class ProposalStatus(StrEnum):
    """Where a proposed change stands: waiting for the second person, done, or refused."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Proposal(Base):
    """A change that takes effect only when a second person confirms it (issue 16 §4).

    Account changes proposed by a system administrator wait for a security administrator
    (kinds `account.*`); the gravest business actions proposed by an officer wait for another
    officer or admin of the region (`certification.revoke`, `ban.lift`, `enterprise.uscc`).
    `payload` holds what the change needs (never a plain password: a reset carries its hash);
    `decided_*` is set once, by a compare-and-set on `status`, so a second confirmation changes nothing.
    """

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus, "status"), default=ProposalStatus.PENDING)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(sa.String(400))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_by: Mapped[str] = mapped_column(sa.String(128))  #: the actor's label (kind:name)
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by: Mapped[str | None] = mapped_column(sa.String(128))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (sa.Index("ix_proposals_status_region_code", "status", "region_code"),)


class Enterprise(Base):
    """An enterprise on the roster, keyed by its USCC."""

    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    industry_code: Mapped[str | None] = mapped_column(sa.String(8))  #: GB/T 4754
    size_class: Mapped[SizeClass | None] = mapped_column(str_enum(SizeClass, "size_class"))
    founded_on: Mapped[date | None]
    contact_name: Mapped[str | None] = mapped_column(sa.String(64))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(32))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    officer: Mapped[User | None] = relationship()
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="enterprise", order_by="Certification.id")
    annual_reports: Mapped[list[AnnualReport]] = relationship(
        back_populates="enterprise", order_by="AnnualReport.year")
    change_reports: Mapped[list[ChangeReport]] = relationship(
        back_populates="enterprise", order_by="ChangeReport.occurred_on")
    __mapper_args__ = {"version_id_col": version}


class AnnualReport(Base):
    """One year's figures, as filed in the annual information update."""

    __tablename__ = "annual_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    year: Mapped[int]
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    main_business_revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    rd_expense: Mapped[Decimal | None] = mapped_column(MONEY)
    employees: Mapped[int | None]
    rd_staff: Mapped[int | None]
    debt_ratio: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))  #: percent
    invention_patents: Mapped[int | None]
    audit_report_code: Mapped[str | None] = mapped_column(sa.String(64))  #: 验证码 (财办会〔2024〕15号)
    audit_firm: Mapped[str | None] = mapped_column(sa.String(200))
    submitted_on: Mapped[date]
    enterprise: Mapped[Enterprise] = relationship(back_populates="annual_reports")
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "year"),)


class ChangeReport(Base):
    """A major change (rename, merger, move …) and when it was or must be reported."""

    __tablename__ = "change_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, "change_kind"))
    occurred_on: Mapped[date]
    reported_on: Mapped[date | None]
    deadline_on: Mapped[date]
    #: counted without a year's holiday data: recomputed when the data arrives
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    details: Mapped[str] = mapped_column(sa.Text, default="")
    enterprise: Mapped[Enterprise] = relationship(back_populates="change_reports")


#: lifecycle.LIVE in SQL: "status IN ('active', 'under_review')" (migration 0005 spells it out)
LIVE_SQL = "status IN (" + ", ".join(f"'{value}'" for value in sorted(s.value for s in LIVE)) + ")"


class Certification(Base):
    """A title held by an enterprise; its current term is denormalised for fast queries."""

    __tablename__ = "certifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    #: copied from the enterprise so region-scoped lists need no join
    region_code: Mapped[str] = mapped_column(sa.String(6))
    tier: Mapped[str] = mapped_column(sa.String(32))
    programme: Mapped[str] = mapped_column(sa.String(32))
    policy_code: Mapped[str] = mapped_column(sa.String(64))  #: policy granted under
    status: Mapped[Status] = mapped_column(str_enum(Status, "status"))
    recognized_on: Mapped[date]
    batch: Mapped[str | None] = mapped_column(sa.String(64))
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    authority: Mapped[str | None] = mapped_column(sa.String(128))
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    review_window_opens_on: Mapped[date | None]
    #: first day the title is no longer valid, once it has ended
    ended_on: Mapped[date | None]
    review_eligible: Mapped[bool] = mapped_column(default=True)
    review_ineligible_cause: Mapped[str | None] = mapped_column(sa.String(64))
    prerequisite_lost: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="certifications")
    terms: Mapped[list[CertificationTerm]] = relationship(
        back_populates="certification", order_by="CertificationTerm.seq")
    events: Mapped[list[CertificationEvent]] = relationship(
        back_populates="certification", order_by="CertificationEvent.id")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_certifications_region_tier_status_until", "region_code", "tier", "status", "valid_until"),
        sa.Index("ix_certifications_status_until", "status", "valid_until"),
        # covering: the roster's tier/status/expiry/region filter never visits the table (migration 0003)
        sa.Index("ix_certifications_tier_status_until", "tier", "status", "valid_until", "region_code", "enterprise_id"),
        sa.Index("ix_certifications_status_window", "status", "review_window_opens_on"),  # the scan's review windows
        # a double submit cannot make two live titles of one tier and date (migration 0005, docs/concurrency.md)
        sa.Index("uq_certifications_live_title", "enterprise_id", "tier", "recognized_on", unique=True,
                 sqlite_where=sa.text(LIVE_SQL), postgresql_where=sa.text(LIVE_SQL)),
    )


class CertificationTerm(Base):
    """One validity term of a title: the grant, then one per passed review."""

    __tablename__ = "certification_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(sa.ForeignKey("certifications.id"))
    seq: Mapped[int]
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    policy_code: Mapped[str] = mapped_column(sa.String(64))  #: policy granted or reviewed under
    decided_on: Mapped[date]
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    certification: Mapped[Certification] = relationship(back_populates="terms")
    __table_args__ = (
        sa.UniqueConstraint("certification_id", "seq"),
        sa.Index("ix_certification_terms_from_until", "valid_from", "valid_until"),
    )


class CertificationEvent(Base):
    """Something that happened to a title, by whom and on what basis."""

    __tablename__ = "certification_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(sa.ForeignKey("certifications.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32))  #: an Event value, or "grant"
    effective_on: Mapped[date]
    from_status: Mapped[Status | None] = mapped_column(str_enum(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(str_enum(Status, "to_status"))
    reason_code: Mapped[str | None] = mapped_column(sa.String(64))
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    note: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    certification: Mapped[Certification] = relationship(back_populates="events")
    __table_args__ = (sa.CheckConstraint(
        "action IN ('grant', " + ", ".join(f"'{e.value}'" for e in Event) + ")", name="action"),)


class Ban(Base):
    """A bar on applying, keyed by USCC (it survives renames and re-registration)."""

    __tablename__ = "bans"
    __table_args__ = (sa.CheckConstraint("blocks IN ('tier', 'programme', 'ladder', 'all')", name="blocks"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    certification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certifications.id"))
    reason_code: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    lifted_on: Mapped[date | None]  #: set by the scan the day after ends_on
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: what the ban bars, from its revocation reason's ban_blocks (policy data, fixed when the ban
    #: is created): the revoked tier, its programme, its ladder, or all (rows from before 0008)
    blocks: Mapped[str] = mapped_column(sa.String(16), default="all", server_default="all")
    tier: Mapped[str | None] = mapped_column(sa.String(64))
    programme: Mapped[str | None] = mapped_column(sa.String(64))
    ladder: Mapped[str | None] = mapped_column(sa.String(64))

    def rule(self) -> BanRule:
        """Return the ban as the eligibility rules see it."""
        return BanRule(self.starts_on, self.ends_on, self.reason, self.document_no or "", self.lifted_on,
                       self.blocks, self.tier, self.programme, self.ladder)


class HolidayOverride(Base):
    """An officer's entry from a State Council holiday notice: a working day or a rest day."""

    __tablename__ = "holiday_overrides"
    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class HolidayYear(Base):
    """A year whose whole holiday notice is in the override table."""

    __tablename__ = "holiday_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source_doc: Mapped[str] = mapped_column(sa.String(200))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail (triggers refuse UPDATE/DELETE)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  #: user, token, cli, job
    actor_name: Mapped[str] = mapped_column(sa.String(128))
    actor_user_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(64))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[int | None]
    enterprise_id: Mapped[int | None] = mapped_column(index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  #: {field: [before, after]}
    reason_code: Mapped[str | None] = mapped_column(sa.String(64))
    document_no: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    __table_args__ = (
        sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_events_occurred_at", "occurred_at"),
    )


class AuditChainHead(Base):
    """The single row that serialises appends to the audit chain (locked FOR UPDATE)."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class ReminderStatus(StrEnum):
    """Life of a reminder row."""

    PENDING = "pending"
    QUEUED = "queued"
    RETIRED = "retired"


class Reminder(Base):
    """One reminder per (subject, kind, milestone, reference date): the ledger that never repeats."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(32))  #: certification, change_report, …
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(32))
    milestone: Mapped[int]  #: days before the reference date (negative: overdue by)
    reference_on: Mapped[date]  #: the date the reminder is about (expiry, due date …)
    due_on: Mapped[date]  #: when it is to be sent
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    status: Mapped[ReminderStatus] = mapped_column(str_enum(ReminderStatus, "reminder_status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("subject_type", "subject_id", "kind", "milestone", "reference_on"),
        sa.Index("ix_reminders_status_due_on", "status", "due_on"),
    )


class OutboxStatus(StrEnum):
    """Life of an outgoing e-mail."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """A rendered e-mail waiting to be sent; written in the same transaction as its cause."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    message_id: Mapped[str] = mapped_column(sa.String(200))  #: stable Message-ID header
    reminder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminders.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    __table_args__ = (sa.Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)


class JobRun(Base):
    """The run ledger: each (job, run date) is claimed once."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(64))
    run_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16))  #: running, succeeded, failed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    __table_args__ = (
        sa.UniqueConstraint("job_name", "run_on"),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    )


IMPORT_STATUSES = ("queued", "running", "failed", "validated", "applied")


class ImportRun(Base):
    """An uploaded roster file and what became of it (dry run or apply).

    A page upload keeps the file (`content`) so a background worker can process it and a
    validated dry run can be applied as the very same file; the two binary columns are deferred,
    so lists and polls do not load them.
    """

    __tablename__ = "imports"
    __table_args__ = (sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in IMPORT_STATUSES) + ")", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    mode: Mapped[str] = mapped_column(sa.String(16))  #: dry_run, apply
    status: Mapped[str] = mapped_column(sa.String(16))  #: queued, running, failed, validated, applied
    programme: Mapped[str | None] = mapped_column(sa.String(64))  #: tier names read within this programme
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    diff: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    error_workbook: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  #: the uploaded file (pages)
    #: the validated dry run this apply run confirms; unique, so a double "确认导入" applies once
    source_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: who queued it, for the worker's actor and the audit trail: {kind, token_id, ip, request_id}
    submitted_by: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    started_at: Mapped[datetime | None]  #: claimed by a worker (queued → running)
    heartbeat_at: Mapped[datetime | None]  #: the worker's last sign of life; stale → failed by the reaper
    worker: Mapped[str | None] = mapped_column(sa.String(120))  #: host:pid of the claiming worker


# =================================================================================================
# Cultivation pipeline (issue 9): candidate pools (培育库), batches (第N批) with quotas and
# per-level deadlines, applications climbing the tier's review chain with an opinion per level,
# publicity (公示) and real-name objections. Enterprise-bound rows copy the enterprise's region so
# region-scoped lists need no join.
# =================================================================================================

_LEVEL_CHECK = "IN (" + ", ".join(f"'{level}'" for level in AUTHORITIES) + ")"


class BatchStatus(StrEnum):
    """open (applications and opinions) → publicity (objections) → finalised (titles granted)."""

    OPEN = "open"
    PUBLICITY = "publicity"
    FINALISED = "finalised"


class ApplicationStatus(StrEnum):
    """Where an application stands; in_review climbs the chain level by level."""

    IN_REVIEW = "in_review"
    RETURNED = "returned"
    REJECTED = "rejected"
    RECOMMENDED = "recommended"
    GRANTED = "granted"
    NOT_GRANTED = "not_granted"


class Decision(StrEnum):
    """A level's opinion on an application."""

    RECOMMEND = "recommend"
    RETURN = "return"
    REJECT = "reject"


class ObjectionStatus(StrEnum):
    """An objection is open until resolved as upheld or rejected."""

    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"


class SubmitterIdentity(StrEnum):
    """How an objector identified themselves: a signed real name or an organisation's seal."""

    REAL_NAME = "real_name"
    SEAL = "seal"


class Pool(Base):
    """A candidate pool: one pre-check run of a tier's criteria over a region's roster."""

    __tablename__ = "pools"
    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(sa.String(32))
    policy_code: Mapped[str] = mapped_column(sa.String(64))
    year: Mapped[int]  #: the selection year
    figures_year: Mapped[int]  #: the annual reports judged (上年度)
    reference_on: Mapped[date]  #: titles held and age counted on this day
    region_code: Mapped[str] = mapped_column(sa.String(6))  #: the roster's region (the office's)
    evaluated: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_by_user_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    members: Mapped[list[PoolMember]] = relationship(back_populates="pool", order_by="PoolMember.id")
    __table_args__ = (sa.Index("ix_pools_tier_year", "tier", "year"),)


class PoolMember(Base):
    """An enterprise in a pool, with the criteria report it was judged on."""

    __tablename__ = "pool_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("pools.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, "verdict"))
    evaluation: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  #: the report as evaluated
    included: Mapped[bool] = mapped_column(default=True)
    added_manually: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)  #: why an officer added or removed it
    changed_by: Mapped[str | None] = mapped_column(sa.String(128))
    changed_at: Mapped[datetime | None]
    pool: Mapped[Pool] = relationship(back_populates="members")
    enterprise: Mapped[Enterprise] = relationship()
    __table_args__ = (sa.UniqueConstraint("pool_id", "enterprise_id"),)


class Batch(Base):
    """A call for applications (第N批) with quotas per region and a deadline per level."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(sa.String(32))
    policy_code: Mapped[str] = mapped_column(sa.String(64))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(64))
    region_code: Mapped[str] = mapped_column(sa.String(6))  #: the organising office's region
    quotas: Mapped[dict[str, int]] = mapped_column(sa.JSON)  #: {region_code: recommendations}
    deadlines: Mapped[dict[str, str]] = mapped_column(sa.JSON)  #: {level: "YYYY-MM-DD"}
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus, "batch_status"))
    publicity_starts_on: Mapped[date | None]
    publicity_ends_on: Mapped[date | None]
    published_where: Mapped[str | None] = mapped_column(sa.String(200))
    published_on: Mapped[date | None]  #: the final list's publication = the recognition date
    document_no: Mapped[str | None] = mapped_column(sa.String(128))
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalised_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    applications: Mapped[list[Application]] = relationship(back_populates="batch", order_by="Application.id")
    objections: Mapped[list[Objection]] = relationship(back_populates="batch", order_by="Objection.id")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("tier", "year", "name"),
        sa.CheckConstraint("publicity_ends_on IS NULL OR publicity_starts_on IS NULL"
                           " OR publicity_ends_on >= publicity_starts_on", name="publicity_dates"),
    )


class Application(Base):
    """An enterprise's application in a batch, climbing the tier's review chain."""

    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(str_enum(ApplicationStatus, "application_status"))
    current_level: Mapped[str | None] = mapped_column(sa.String(16))  #: the level to act next
    round: Mapped[int] = mapped_column(default=1)  #: +1 on each resubmission after a return
    applied_on: Mapped[date]
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  #: criteria report at applying
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    certification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certifications.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    batch: Mapped[Batch] = relationship(back_populates="applications")
    enterprise: Mapped[Enterprise] = relationship()
    opinions: Mapped[list[Opinion]] = relationship(back_populates="application", order_by="Opinion.id")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "enterprise_id"),
        sa.CheckConstraint(f"current_level IS NULL OR current_level {_LEVEL_CHECK}", name="current_level"),
    )


class Opinion(Base):
    """One level's opinion on an application in one round: recommend, return or reject."""

    __tablename__ = "opinions"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    round: Mapped[int]
    level: Mapped[str] = mapped_column(sa.String(16))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision, "decision"))
    officer: Mapped[str] = mapped_column(sa.String(128))
    officer_user_id: Mapped[int | None]
    region_code: Mapped[str] = mapped_column(sa.String(6))  #: the acting office's region
    decided_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    application: Mapped[Application] = relationship(back_populates="opinions")
    __table_args__ = (
        sa.UniqueConstraint("application_id", "round", "level"),
        sa.CheckConstraint(f"level {_LEVEL_CHECK}", name="level"),
    )


class Objection(Base):
    """A written, real-name objection to a publicised application (anonymous ones are refused)."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    submitter_name: Mapped[str] = mapped_column(sa.String(128))
    submitter_identity: Mapped[SubmitterIdentity] = mapped_column(str_enum(SubmitterIdentity, "submitter_identity"))
    contact: Mapped[str] = mapped_column(sa.String(200))
    grounds: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    #: the submitter's identity is not disclosed to the enterprise or the public
    confidential: Mapped[bool] = mapped_column(default=True)
    received_on: Mapped[date]
    status: Mapped[ObjectionStatus] = mapped_column(str_enum(ObjectionStatus, "objection_status"))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_on: Mapped[date | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates="objections")
    application: Mapped[Application] = relationship()
    __table_args__ = (
        sa.CheckConstraint("status = 'open' OR (resolution_note IS NOT NULL AND resolved_on IS NOT NULL)",
                           name="resolution"),
    )
