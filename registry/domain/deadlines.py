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
from registry.domain.regions import contains, region_prefix
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


@dataclass(frozen=True)
class AnnualOverride:
    """A region's own annual-update date for one year (a province or city moved the window by a notice)."""

    region_code: str
    year: int
    due_on: date
    document_no: str = ""
    #: the policy's month-day this override moves (30 April: the 63号 update); other dates keep theirs
    month_day: tuple[int, int] = (4, 30)


@dataclass(frozen=True)
class RegionClass:
    """Regions that share one history of overrides: under `code` (None: anywhere) and under none of `excluded`."""

    code: str | None
    excluded: tuple[str, ...] = ()

    def holds(self, region_code: str) -> bool:
        """Tell whether `region_code` belongs to this class."""
        return ((self.code is None or contains(self.code, region_code))
                and not any(contains(s, region_code) for s in self.excluded))


@dataclass(frozen=True)
class AnnualOverrides:
    """The recorded overrides of the annual update's date; the most specific region node wins."""

    rows: tuple[AnnualOverride, ...] = ()

    def for_region(self, region_code: str | None, year: int, month_day: tuple[int, int] | None) -> AnnualOverride | None:
        """The override of the policy date `month_day` governing `region_code` in `year` (the deepest node), if any."""
        if not region_code or month_day is None:
            return None
        found = [o for o in self.rows if o.year == year and o.month_day == month_day
                 and contains(o.region_code, region_code)]
        return max(found, key=lambda o: len(region_prefix(o.region_code)), default=None)

    def classes(self, years: range | tuple[int, ...] | list[int]) -> list[RegionClass]:
        """Split the country into classes whose regions have the same override in each of `years`.

        One class per overridden node (minus the deeper overridden nodes inside it), and the rest.
        Without overrides in those years: one class, everywhere.
        """
        codes = sorted({o.region_code for o in self.rows if o.year in years})
        found = [RegionClass(r, tuple(s for s in codes if s != r and contains(r, s))) for r in codes]
        return [*found, RegionClass(None, tuple(codes))]


def annual_due_in_region(cal: WorkdayCalendar, tier: Tier, year: int, overrides: AnnualOverrides,
                         region_code: str | None) -> DueDate | None:
    """The annual update's last day in `year` for a title of `tier` in `region_code`.

    A recorded override of the region (its most specific node) for the tier's policy date (month-day)
    replaces that date as it stands: the notice names a day, so it is neither moved off a rest day nor provisional.
    """
    if tier.annual_update_due is None:
        return None
    override = overrides.for_region(region_code, year, tier.annual_update_due)
    if override is not None:
        return DueDate(override.due_on)
    return annual_update_due(cal, tier, year)


def annual_update_years(recognized_on: date, today: date) -> range:
    """Years whose annual update a title recognised on `recognized_on` owes by `today`."""
    return range(recognized_on.year + 1, today.year + 1)
