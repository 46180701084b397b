"""Use cases. Each takes the session, an explicit actor and clock, flushes and never commits.

The caller (a request, a job, a CLI command) owns the transaction. `Rules` carries the loaded
policies and the working-day calendar so services never read files or globals.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.deadlines import AnnualOverride, AnnualOverrides
from registry.domain.policy import PolicySet
from registry.domain.workdays import WorkdayCalendar, calendar_from_rows
from registry.policies.models import DeadlineOverride, HolidayOverride, HolidayYear


@dataclass(frozen=True)
class Rules:
    """The policy set and calendar a use case decides by."""

    policies: PolicySet
    calendar: WorkdayCalendar
    #: the annual update's date as provinces and cities moved it, by region and year (deadline_overrides)
    overrides: AnnualOverrides = AnnualOverrides()

    def tier_names(self) -> dict[str, str]:
        """Map every tier code to its Chinese name."""
        return {t.code: t.name for p in self.policies.policies for t in p.tiers}


def load_calendar(session: Session) -> WorkdayCalendar:
    """Build the working-day calendar from the library plus the override table."""
    rows = session.execute(sa.select(HolidayOverride.day, HolidayOverride.is_workday)).all()
    years = session.scalars(sa.select(HolidayYear.year)).all()
    return calendar_from_rows(((d, w) for d, w in rows), years)


def month_day(text: str) -> tuple[int, int]:
    """'04-30' → (4, 30)."""
    month, day = text.split("-")
    return int(month), int(day)


def load_overrides(session: Session) -> AnnualOverrides:
    """The recorded annual-update overrides (few: a row per region and year that moved its window)."""
    rows = session.execute(sa.select(DeadlineOverride.region_code, DeadlineOverride.year, DeadlineOverride.due_on,
                                     DeadlineOverride.document_no, DeadlineOverride.policy_date)
                           .order_by(DeadlineOverride.year, DeadlineOverride.region_code)).all()
    return AnnualOverrides(tuple(AnnualOverride(r.region_code, r.year, r.due_on, r.document_no, month_day(r.policy_date))
                                 for r in rows))


def load_rules(session: Session, policies: PolicySet) -> Rules:
    """Return the rules for one unit of work."""
    return Rules(policies=policies, calendar=load_calendar(session), overrides=load_overrides(session))


def current_rules() -> Rules:
    """Return policies and calendar for this request's or command's unit of work (app context)."""
    from registry.platform.extensions import get_session, policies

    return load_rules(get_session(), policies())
