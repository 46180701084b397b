"""Read-side figures for the dashboard (工作台): counts, expiries, overdue updates, flags, e-mails.

Every select goes through the caller's session, which the web tier scopes to the actor's region
(registry/regions/scoping.py), so none of these functions filter by region themselves. The jobs' health
is the run ledger's (registry/runs/ledger.py: `last_successes`, `scan_is_late`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from registry.domain.deadlines import DueDate, RegionClass, annual_due_in_region
from registry.domain.lifecycle import LIVE
from registry.domain.periods import add_months
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.queries import paginate
from registry.policies.rules import Rules
from registry.reminders.duedates import in_class
from registry.reminders.models import OutboxMessage
from registry.titles.models import Certification

LIVE_VALUES = [s.value for s in LIVE]


def city_of(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """Return the prefecture (first four digits) of a region-code column."""
    return sa.func.substr(column, 1, 4)


def of_programme(programme: str | None) -> sa.ColumnElement[bool]:
    """The titles of `programme` (every title when None): the dashboard's programme filter."""
    return Certification.programme == programme if programme else sa.true()


#: the dashboard's holder filter (docs/holders.md): titles held by enterprises, products or zones
HOLDERS = {"enterprise": "企业", "product": "产品", "zone": "园区（区域）"}


def _held_by(holder: str | None) -> list[sa.ColumnElement[bool]]:
    return [Certification.holder == holder] if holder in HOLDERS else []


def titles_by_city(session: Session, programme: str | None = None,
                   holder: str | None = None) -> list[tuple[str, str, str, int]]:
    """Count titles by city code, tier and status (of one programme and holder kind, when given)."""
    city = city_of(Certification.region_code)
    rows = session.execute(sa.select(city, Certification.tier, Certification.status, sa.func.count())
                           .where(of_programme(programme), *_held_by(holder))
                           .group_by(city, Certification.tier, Certification.status)).all()
    return [(f"{c}00", tier, status.value if hasattr(status, "value") else status, n) for c, tier, status, n in rows]


def expiries_by_month(session: Session, today: date, months: int = 12,
                      programme: str | None = None, holder: str | None = None) -> list[tuple[date, int]]:
    """Count live titles whose validity ends in each of the next `months` calendar months."""
    first = today.replace(day=1)
    end = add_months(first, months) - timedelta(days=1)
    year, month = sa.extract("year", Certification.valid_until), sa.extract("month", Certification.valid_until)
    rows = session.execute(sa.select(year, month, sa.func.count())
                           .where(Certification.status.in_(LIVE_VALUES),
                                  Certification.valid_until.between(today, end), of_programme(programme),
                                  *_held_by(holder))
                           .group_by(year, month)).all()
    counts = {(int(y), int(m)): n for y, m, n in rows}
    buckets = [add_months(first, i) for i in range(months)]
    return [(b, counts.get((b.year, b.month), 0)) for b in buckets]


def _with_enterprise(*conditions: sa.ColumnElement[bool]) -> sa.Select:
    return (sa.select(Certification).join(Certification.enterprise)
            .options(contains_eager(Certification.enterprise))
            .where(Certification.status.in_(LIVE_VALUES), *conditions)
            .order_by(Enterprise.name, Certification.id))


def flagged_titles(session: Session, limit: int = 100, page: int = 1,
                   programme: str | None = None) -> tuple[list[Certification], int]:
    """Live titles that lost a prerequisite or their review eligibility (one page of `limit`, and the total;
    of one programme, when given)."""
    stmt = _with_enterprise(sa.or_(Certification.prerequisite_lost, sa.not_(Certification.review_eligible)),
                            of_programme(programme))
    return paginate(session, stmt, page, limit)


@dataclass(frozen=True)
class Overdue:
    """A live title whose annual information update is overdue, and why it is listed."""

    certification: Certification
    reason: str


def _update_deadlines(session: Session, rules: Rules, today: date,
                      cls: RegionClass) -> dict[tuple[str, str], tuple[int, DueDate]]:
    """The latest passed annual-update deadline (year, due) of every (tier, policy) among live titles of `cls`.

    This year's once it has passed, else last year's: between 1 January and the due day the update
    missed last year is still the one overdue (as `duedates.annual_overdue` decides for reminders).
    The regions of `cls` share their dates: the policy's, or a province's or city's override.
    """
    pairs = session.execute(sa.select(Certification.tier, Certification.policy_code).distinct()
                            .where(Certification.status.in_(LIVE_VALUES))).all()
    passed = {}
    for tier_code, policy_code in pairs:
        tier = rules.policies.tier(tier_code, policy_code=policy_code)
        for year in (today.year, today.year - 1):
            due = annual_due_in_region(rules.calendar, tier, year, rules.overrides, cls.code)
            if due is not None and today > due.on:
                passed[(tier_code, policy_code)] = (year, due)
                break
    return passed


def overdue_annual_updates(session: Session, rules: Rules, today: date,
                           limit: int = 100, programme: str | None = None) -> tuple[list[Overdue], int]:
    """Titles flagged annual_update_missed, and live titles lacking the report of the latest passed due date.

    Each title is judged by its region's date (a province's or city's override, else the policy's).
    """
    classes = [(cls, _update_deadlines(session, rules, today, cls))
               for cls in rules.overrides.classes((today.year - 1, today.year))]
    flagged = sa.and_(sa.not_(Certification.review_eligible),
                      Certification.review_ineligible_cause == "annual_update_missed")

    def missing(tier: str, policy: str, year: int) -> sa.ColumnElement[bool]:
        reported = sa.exists().where(AnnualReport.enterprise_id == Certification.enterprise_id,
                                     AnnualReport.year == year - 1)
        return sa.and_(Certification.tier == tier, Certification.policy_code == policy,
                       Certification.recognized_on < date(year, 1, 1), sa.not_(reported))

    owing = sa.or_(sa.false(), *[sa.and_(in_class(Certification.region_code, cls),
                                         sa.or_(*[missing(t, p, year) for (t, p), (year, _) in passed.items()]))
                                 for cls, passed in classes if passed])
    rows, total = paginate(session, _with_enterprise(sa.or_(flagged, owing), of_programme(programme)), 1, limit)
    out = []
    for cert in rows:
        passed = next((p for cls, p in classes if cls.holds(cert.region_code)), {})
        year_due = passed.get((cert.tier, cert.policy_code))
        if cert.review_ineligible_cause == "annual_update_missed":
            reason = "已丧失复核资格：未按期更新年度信息"
        elif year_due:
            reason = f"缺少 {year_due[0] - 1} 年度信息（截止 {year_due[1].on}）"
        else:
            reason = "缺少上一年度信息"
        out.append(Overdue(cert, reason))
    return out, total


def outbox_counts(session: Session) -> dict[str, int]:
    """Count reminder e-mails by status (pending, sending, sent, failed)."""
    rows = session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    return {(s.value if hasattr(s, "value") else s): n for s, n in rows}
