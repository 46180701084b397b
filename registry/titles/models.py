"""Models of titles: a certification, every term of it, its events, and bans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.domain.eligibility import Ban as BanRule
from registry.domain.lifecycle import LIVE, Event, Status
from registry.platform.db import MONEY, Base, str_enum, utcnow

if TYPE_CHECKING:
    from registry.enterprises.models import Enterprise


#: lifecycle.LIVE in SQL: "status IN ('active', 'under_review')" (migration 0005 spells it out)
LIVE_SQL = "status IN (" + ", ".join(f"'{value}'" for value in sorted(s.value for s in LIVE)) + ")"
#: one live product title per enterprise and programme (只能申请一个产品; migration 0022, docs/holders.md)
ONE_PRODUCT_SQL = f"holder = 'product' AND {LIVE_SQL}"



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
    #: who holds it (the tier's `holder`, copied at the grant): enterprise | product | zone
    holder: Mapped[str] = mapped_column(sa.String(16), default="enterprise", server_default="enterprise")
    #: a product title's product (单项冠军产品): its name, its sales (元) and its share of 主营业务收入 (%)
    product_name: Mapped[str | None] = mapped_column(sa.String(200))
    product_sales: Mapped[Decimal | None] = mapped_column(MONEY)
    product_share: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
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
        sa.Index("uq_certifications_one_live_product", "enterprise_id", "programme", unique=True,
                 sqlite_where=sa.text(ONE_PRODUCT_SQL), postgresql_where=sa.text(ONE_PRODUCT_SQL)),
        sa.CheckConstraint("holder IN ('enterprise', 'product', 'zone')", name="holder"),
        sa.CheckConstraint("holder = 'product' OR (product_name IS NULL AND product_sales IS NULL"
                           " AND product_share IS NULL)", name="product_only_on_product"),
        sa.CheckConstraint("product_sales IS NULL OR product_sales >= 0", name="product_sales"),
        sa.CheckConstraint("product_share IS NULL OR (product_share >= 0 AND product_share <= 100)",
                           name="product_share"),
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
    #: a revocation's cause: the day the accident (or violation) happened — look-backs count from it
    incident_on: Mapped[date | None]
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



class ReportFiling(Base):
    """One filing of a periodic report a title's tier declares (`[[tiers.reports]]`, registry.domain.listings).

    `period` is "2027" (yearly), "2027Q1" (quarterly) or "once" (the 一企一策 plan); one filing per title,
    report and period.
    """

    __tablename__ = "report_filings"
    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(sa.ForeignKey("certifications.id"), index=True)
    report_code: Mapped[str] = mapped_column(sa.String(64))
    period: Mapped[str] = mapped_column(sa.String(8))
    filed_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    certification: Mapped[Certification] = relationship()
    __table_args__ = (
        sa.UniqueConstraint("certification_id", "report_code", "period"),  # one filing per period
        sa.CheckConstraint("period = 'once' OR length(period) IN (4, 6)", name="period_shape"),
    )
