"""Deadline rules: a title's validity, its review window, the annual update and change reports.

Validity is a period, not a period for doing something, so its last day never moves. Annual
updates and change reports are things to do: a last day on a statutory rest day moves to the first
working day after it (民法典 第二百零三条). Working-day periods use the Chinese calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from registry.domain.periods import add_months, add_years, year_end
from registry.domain.policy import Period, Tier
from registry.domain.workdays import Provisional, WorkdayCalendar, add_workdays, next_workday_on_or_after


@dataclass(frozen=True)
class DueDate:
    """A deadline and whether it was counted without the holiday data of some year."""

    on: date
    provisional: bool = False
    missing_years: tuple[int, ...] = ()


def validity_end(tier: Tier, starts_on: date) -> date | None:
    """Return the last valid day of a term starting on `starts_on` (None: until superseded)."""
    if tier.validity == "fixed_term":
        return add_years(starts_on, tier.validity_years or 0)
    if tier.validity == "year_end":
        return year_end(starts_on, tier.validity_years or 0)
    return None


def next_term_end(tier: Tier, previous_until: date) -> date | None:
    """Return the end of the term that starts the day after `previous_until` (a passed review)."""
    if tier.validity == "fixed_term":
        return add_years(previous_until, tier.validity_years or 0)
    if tier.validity == "year_end":
        return year_end(previous_until + timedelta(days=1), tier.validity_years or 0)
    return None


def review_window_opens(tier: Tier, valid_until: date | None) -> date | None:
    """Return the day the review (复核) window opens before the term ends, if it has one."""
    if valid_until is None or tier.review_window_days is None:
        return None
    return valid_until - timedelta(days=tier.review_window_days)


def period_end(cal: WorkdayCalendar | Provisional, start: date, period: Period) -> date:
    """Return the last day of a period for doing something that starts after `start`."""
    if period.unit == "working_days":
        return add_workdays(cal, start, period.amount)
    if period.unit == "days":
        end = start + timedelta(days=period.amount)
    elif period.unit == "months":
        end = add_months(start, period.amount)
    else:
        end = add_years(start, period.amount)
    return next_workday_on_or_after(cal, end)


def strict_deadline(cal: WorkdayCalendar, start: date, period: Period) -> date:
    """Return the deadline or raise CalendarDataMissing when a year's holidays are unknown."""
    return period_end(cal, start, period)


def deadline(cal: WorkdayCalendar, start: date, period: Period) -> DueDate:
    """Return the deadline, provisional (weekends only) where a year's holidays are unknown."""
    guessing = Provisional(cal)
    end = period_end(guessing, start, period)
    return DueDate(end, guessing.is_provisional, tuple(sorted(guessing.missing_years)))


def change_report_deadline(cal: WorkdayCalendar, tier: Tier, occurred_on: date) -> DueDate | None:
    """Return when a major change occurring on `occurred_on` must be reported under `tier`."""
    if tier.change_deadline is None:
        return None
    return deadline(cal, occurred_on, tier.change_deadline)


def annual_update_due(cal: WorkdayCalendar, tier: Tier, year: int) -> DueDate | None:
    """Return the annual information update's last day in `year` (moved off a rest day)."""
    if tier.annual_update_due is None:
        return None
    month, day = tier.annual_update_due
    guessing = Provisional(cal)
    end = next_workday_on_or_after(guessing, date(year, month, day))
    return DueDate(end, guessing.is_provisional, tuple(sorted(guessing.missing_years)))


def annual_update_years(recognized_on: date, today: date) -> range:
    """Years whose annual update a title recognised on `recognized_on` owes by `today`."""
    return range(recognized_on.year + 1, today.year + 1)
