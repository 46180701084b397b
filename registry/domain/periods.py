"""Periods under the Civil Code (民法典 第二百零一条至第二百零四条).

The start day is not counted; a period in months or years ends on the corresponding day of the
last month, or on that month's last day when it has none. A period *for doing something* whose
last day is a statutory rest day ends on the first day after the rest (see calendar.next_workday).
"""

from __future__ import annotations

import calendar as _cal  # stdlib
from datetime import date


def add_months(start: date, months: int) -> date:
    """Return the corresponding day `months` later, clamped to the month's last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last = _cal.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def add_years(start: date, years: int) -> date:
    """Return the corresponding day `years` later (29 Feb → 28 Feb in a common year)."""
    return add_months(start, 12 * years)


def year_end(start: date, years: int) -> date:
    """Return 31 December of the last year of a term whose first year is `start`'s year."""
    return date(start.year + years - 1, 12, 31)
