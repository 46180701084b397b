"""Chinese working days: chinesecalendar's data behind an adapter, plus an override table.

A date is a working day when the State Council's notice makes it one (调休 make-up Saturdays
included) and a rest day on weekends and statutory holidays. The library's data ends with its
last release; for a later year the calendar refuses to answer (CalendarDataMissing naming the
year) unless the override table declares that year loaded. `Provisional` wraps a calendar for
callers that must still show a date: it counts weekends only for missing years and remembers
which years it guessed, so the caller can label the result provisional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from registry.domain.errors import CalendarDataMissing

LIBRARY_YEARS = range(2004, 2027)  # chinesecalendar 1.11 covers 2004–2026 (its README)


@dataclass(frozen=True)
class WorkdayCalendar:
    """Answers "is this a working day" from the library, overridden by officers' entries.

    `overrides` maps a date to True (working day) or False (rest day); `loaded_years` are years
    whose whole notice has been entered into the override table.
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()

    def covers(self, year: int) -> bool:
        """Tell whether the calendar has authoritative data for `year`."""
        return year in LIBRARY_YEARS or year in self.loaded_years

    def is_workday(self, day: date) -> bool:
        """Return True for a working day. :raises CalendarDataMissing: year not covered."""
        if day in self.overrides:
            return self.overrides[day]
        if not self.covers(day.year):
            raise CalendarDataMissing(day.year)
        if day in chinese_calendar.workdays:
            return True
        return day.weekday() < 5 and day not in chinese_calendar.holidays


class Provisional:
    """A calendar that guesses missing years from weekends alone and records the guess."""

    def __init__(self, base: WorkdayCalendar) -> None:
        self.base = base
        self.missing_years: set[int] = set()

    def is_workday(self, day: date) -> bool:
        """Answer from the base calendar, or from the weekday for a year it lacks."""
        try:
            return self.base.is_workday(day)
        except CalendarDataMissing:
            self.missing_years.add(day.year)
            return day.weekday() < 5

    @property
    def is_provisional(self) -> bool:
        """True once any answer was a guess."""
        return bool(self.missing_years)


def next_workday_on_or_after(cal: WorkdayCalendar | Provisional, day: date) -> date:
    """Move a last day that falls on a rest day to the first working day after the rest."""
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return day


def add_workdays(cal: WorkdayCalendar | Provisional, start: date, count: int) -> date:
    """Return the `count`-th working day after `start` (the start day is not counted)."""
    day, remaining = start, count
    while remaining > 0:
        day += timedelta(days=1)
        if cal.is_workday(day):
            remaining -= 1
    return day


def calendar_from_rows(rows: Iterable[tuple[date, bool]], loaded_years: Iterable[int] = ()) -> WorkdayCalendar:
    """Build a calendar from override-table rows."""
    return WorkdayCalendar(overrides=dict(rows), loaded_years=frozenset(loaded_years))
