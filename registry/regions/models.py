"""Models of the region tree: GB/T 2260 divisions, their code changes, the loaded data's version."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base


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

