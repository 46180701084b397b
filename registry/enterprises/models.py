"""Models of enterprises and what they file: annual reports and change reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from registry.domain.holders import SIZE_CLASS_NAMES
from registry.domain.personal import CONTACT_FIELDS, INDEXED, mask_field
from registry.platform.db import MONEY, Base, str_enum, utcnow
from registry.platform.pi_crypto import EncryptedText, blind_index

if TYPE_CHECKING:
    from registry.accounts.models import User
    from registry.titles.models import Certification


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


#: what a person reads for each kind and size (pages, forms, reminders, audit): stated once, here
CHANGE_KIND_NAMES = {ChangeKind.RENAME: "更名", ChangeKind.MERGER: "合并", ChangeKind.RESTRUCTURING: "重组",
                     ChangeKind.CROSS_PROVINCE_MOVE: "跨省迁移", ChangeKind.OVERSEAS_BRANCH: "设立境外分支机构",
                     ChangeKind.OTHER: "其他重大变化"}
SIZE_NAMES = {SizeClass(code): name for code, name in SIZE_CLASS_NAMES.items()}  #: the domain's names, by member
HOLDER_KIND_NAMES = {"enterprise": "企业", "zone": "园区（区域）"}  #: = domain.holders.RECORD_KIND_NAMES
ZONE_TYPE_NAMES = {"park": "园区", "area": "行政区域"}  #: = domain.holders.ZONE_TYPE_NAMES


class HolderKind(StrEnum):
    """What a roster record is (registry/domain/holders.py, docs/holders.md)."""

    ENTERPRISE = "enterprise"
    ZONE = "zone"  #: a park or an administrative area (合作区, 示范区)


class ZoneType(StrEnum):
    """A zone's type: a park (产业园区、产业集聚区) or an administrative area."""

    PARK = "park"
    AREA = "area"


#: a zone has its type and managing body and no size or industry; an enterprise has neither of the zone's
HOLDER_SHAPE = ("(holder_kind = 'zone' AND zone_type IS NOT NULL AND managing_body IS NOT NULL"
                " AND size_class IS NULL AND industry_code IS NULL)"
                " OR (holder_kind = 'enterprise' AND zone_type IS NULL AND managing_body IS NULL)")


class Enterprise(Base):
    """A holder on the roster — an enterprise, or a zone (`holder_kind`) — keyed by its USCC.

    A zone's USCC is its managing body's (管理机构: a 管委会, a government office or an operating
    company each has one under GB 32100), so bans, the register and imports keep one key.
    """

    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    holder_kind: Mapped[HolderKind] = mapped_column(str_enum(HolderKind, "holder_kind", 16),
                                                    default=HolderKind.ENTERPRISE, server_default="enterprise")
    zone_type: Mapped[ZoneType | None] = mapped_column(str_enum(ZoneType, "zone_type", 16))
    managing_body: Mapped[str | None] = mapped_column(sa.String(200))  #: a zone's 管理机构 (运营管理机构)
    industry_code: Mapped[str | None] = mapped_column(sa.String(8))  #: GB/T 4754
    size_class: Mapped[SizeClass | None] = mapped_column(str_enum(SizeClass, "size_class"))
    founded_on: Mapped[date | None]
    #: the contact person (personal information): SM4-GCM ciphertext in the database (registry/platform/pi_crypto.py),
    #: plain text here; shown masked unless unmasked (docs/security.md). Lengths are checked on input (64/254/32).
    contact_name: Mapped[str | None] = mapped_column(EncryptedText("enterprises.contact_name"))
    contact_email: Mapped[str | None] = mapped_column(EncryptedText("enterprises.contact_email"))
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText("enterprises.contact_phone"))
    #: HMAC-SM3 blind indexes of the normalised phone and e-mail: exact search without decrypting
    contact_phone_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    contact_email_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: the contacts as shown by default (138****1234, z***@example.org, 张*; registry/domain/personal.py), stored
    #: beside the ciphertext so that lists and exports show them without decrypting anything (issue 19)
    contact_name_masked: Mapped[str | None] = mapped_column(sa.Text)
    contact_email_masked: Mapped[str | None] = mapped_column(sa.Text)
    contact_phone_masked: Mapped[str | None] = mapped_column(sa.Text)
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
    #: PostgreSQL: trigram indexes serving the roster search's "name or USCC contains" (migration 0019)
    __table_args__ = (*(
        sa.Index(f"ix_enterprises_{column}_trgm", column, postgresql_using="gin",
                 postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
        for column in ("name", "uscc")),
        sa.CheckConstraint(HOLDER_SHAPE, name="holder_shape"),
        sa.Index("ix_enterprises_holder_kind", "holder_kind"))

    @validates(*CONTACT_FIELDS)
    def _keep_derived(self, key: str, value: str | None) -> str | None:
        """Keep the masked form (and, for the phone and e-mail, the blind index) in step with the contact set."""
        for column, derived in contact_columns({key: value}).items():
            setattr(self, column, derived)
        return value


#: PostgreSQL: the name's distinct character pairs (lower-cased), GIN-indexed, serving a two-character search word,
#: which has no trigram (migration 0035 creates `registry_bigrams(text)`; registry/enterprises/queries.py)
sa.Index("ix_enterprises_name_bigrams", sa.func.registry_bigrams(Enterprise.name),
         postgresql_using="gin").ddl_if(dialect="postgresql")


#: the stored masked forms: what a list or a default (masked) export reads instead of the encrypted columns
MASKED_COLUMNS = tuple(f"{f}_masked" for f in CONTACT_FIELDS)


def contact_columns(row: Mapping[str, object]) -> dict[str, object]:
    """The columns kept in step with the contact fields `row` carries, for a row written without the ORM (the
    import's bulk writes, the bench generator): each one's masked form, the phone's and e-mail's blind indexes.

    Only the contact fields present in `row` are derived (a partial update leaves the others' columns alone).
    """
    out: dict[str, object] = {}
    for field in CONTACT_FIELDS.keys() & row.keys():
        value = row[field]
        out[f"{field}_masked"] = mask_field(field, value)
        if field in INDEXED:
            out[f"{field}_index"] = blind_index(CONTACT_FIELDS[field], value)  # type: ignore[arg-type]
    return out


#: the former name (blind indexes only), kept for bulk writers written against it: they get the masked forms too
index_columns = contact_columns



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
    #: the main product (主导产品, 单项冠军's 相应产品, 浙江隐形冠军's 主要产品) and its sales that year
    main_product: Mapped[str | None] = mapped_column(sa.String(200))
    main_product_revenue: Mapped[Decimal | None] = mapped_column(MONEY)
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

