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

