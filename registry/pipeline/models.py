"""Models of the cultivation pipeline: pools, batches, applications, opinions, objections."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.domain.criteria import Verdict
from registry.domain.policy import AUTHORITIES
from registry.platform.db import Base, str_enum, utcnow
from registry.platform.pi_crypto import EncryptedText

if TYPE_CHECKING:
    from registry.enterprises.models import Enterprise


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
    """An objection is open until resolved as upheld or rejected; an anonymous one is recorded as
    not accepted (不予受理) at once (registry/domain/objectors.py)."""

    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"
    NOT_ACCEPTED = "not_accepted"
    WITHDRAWN = "withdrawn"  #: registered by mistake and withdrawn with a reason (issue 18 §3)



class SubmitterIdentity(StrEnum):
    """How an objector identified themselves: a signed real name, an organisation's seal, or
    nobody who can be reached (匿名: no personal name, or no phone or address)."""

    REAL_NAME = "real_name"
    SEAL = "seal"
    ANONYMOUS = "anonymous"



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



class PoolVerdict(Base):
    """One enterprise's verdict in a pool run, member or not, kept compact: whether the run admitted
    it and the criteria that did not pass (rule, values, source) plus any blocking problem.

    A run writes them set-based; a re-run replaces a pool's verdicts in its own transaction. A
    member's full report stays on its PoolMember; `by_run` is false for an enterprise judged only
    when an officer added it by hand.
    """

    __tablename__ = "pool_verdicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("pools.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, "verdict"))
    admitted: Mapped[bool]  #: the run made it a candidate (not failed, nothing blocking)
    by_run: Mapped[bool] = mapped_column(default=True)
    #: {"criteria": [{id, name, verdict, verdict_name, detail, values: [{label, value, display}], source, note}],
    #:  "blocking": [message, …]} — only what did not pass
    reasons: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    evaluated_at: Mapped[datetime]
    __table_args__ = (
        sa.UniqueConstraint("pool_id", "enterprise_id"),
        sa.Index("ix_pool_verdicts_pool_admitted", "pool_id", "admitted", "enterprise_id"),
    )



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
    #: the recommendation channel of the tier's policy (e.g. central_enterprise) and its recommending
    #: unit (the 中央企业's, the 行业协会's name); outside_quota: takes no place of the unit's quota
    channel: Mapped[str | None] = mapped_column(sa.String(32))
    channel_unit: Mapped[str | None] = mapped_column(sa.String(128))
    outside_quota: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
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
        sa.CheckConstraint("(channel IS NULL AND channel_unit IS NULL AND NOT outside_quota)"
                           " OR (channel IS NOT NULL AND channel_unit IS NOT NULL)", name="channel"),
        sa.Index("ix_applications_batch_id_channel", "batch_id", "channel", "channel_unit"),
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
    """A written objection to a publicised application: real-name (or sealed) ones are handled by
    the publishing office; an anonymous one is recorded as such and not accepted."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    submitter_name: Mapped[str] = mapped_column(sa.String(128))
    submitter_identity: Mapped[SubmitterIdentity] = mapped_column(str_enum(SubmitterIdentity, "submitter_identity"))
    #: the objector's 联系方式 (personal information): SM4-GCM ciphertext at rest (registry/platform/pi_crypto.py)
    contact: Mapped[str] = mapped_column(EncryptedText("objections.contact"))
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

