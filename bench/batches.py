"""When titles are recognised: provincial lists each quarter, ministry lists once a year.

Offices publish recognition lists in batches, so recognition (and hence expiry) dates cluster;
a uniform spread of days would make every "expiring within 90 days" window look alike.
"""

from __future__ import annotations

import bisect
import random
from datetime import date, timedelta

START = date(2022, 8, 1)  # national-2022 takes effect
#: ministry lists (小巨人 in summer, 单项冠军 in winter; single-champion-2023 from 2023-08-01)
MINISTRY_DAYS = {"little_giant": (7, 14), "single_champion": (11, 20), "champion_product": (11, 20)}


def _quarters(today: date) -> list[date]:
    starts, year, month = [], START.year, 7
    while date(year, month, 1) <= today:
        starts.append(date(year, month, 1))
        month += 3
        if month > 12:
            year, month = year + 1, 1
    return starts


class Batches:
    """Recognition dates per province (quarterly) and per ministry tier (yearly), up to `today`."""

    def __init__(self, provinces: list[str], today: date, seed: int = 2022) -> None:
        rng = random.Random(seed)
        self.today = today
        self.provincial: dict[str, list[date]] = {}
        for province in provinces:
            days = [q + timedelta(days=rng.randint(15, 80)) for q in _quarters(today)]
            self.provincial[province] = [d for d in days if START <= d <= today]
        self.ministry = {tier: [d for y in range(2023, today.year + 1) if (d := date(y, month, day)) <= today]
                         for tier, (month, day) in MINISTRY_DAYS.items()}

    def dates(self, tier: str, province: str) -> list[date]:
        """Return the recognition dates of `tier` in `province`, ascending."""
        return self.ministry.get(tier) or self.provincial[province]

    def first_on_or_after(self, tier: str, province: str, day: date) -> date | None:
        """Return the first list of `tier` published on or after `day` (None: not yet)."""
        dates = self.dates(tier, province)
        i = bisect.bisect_left(dates, day)
        return dates[i] if i < len(dates) else None
