"""Models of the working-day calendar's overrides (holidays officers load per year)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, utcnow


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



class DeadlineOverride(Base):
    """A province's or city's own date for a deadline of one year, with the notice (文号) that set it.

    Only the annual information update is overridden today (`kind` 'annual_update'): some cities
    moved its window from 30 April to as late as 26 June. The deepest region node holding an
    enterprise wins (registry.domain.deadlines.AnnualOverrides); the service is
    registry/policies/overrides.py.
    """

    __tablename__ = "deadline_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default="annual_update")
    region_code: Mapped[str] = mapped_column(sa.String(6))
    year: Mapped[int]
    #: the policy's date (MM-DD) this override moves: the tiers whose annual update falls then
    policy_date: Mapped[str] = mapped_column(sa.String(5), default="04-30")
    due_on: Mapped[date]
    document_no: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.UniqueConstraint("kind", "region_code", "year", "policy_date"),)
