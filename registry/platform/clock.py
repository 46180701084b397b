"""The one clock: the current instant (UTC) and "today" in the configured zone.

Every read of the wall clock outside tests goes through `utcnow()`. A deployment that is not
production may set the clock to another instant (`REGISTRY_CLOCK`, e.g. a training environment
rehearsing next year's reviews, or the end-to-end tests); the clock then runs on from there. The
offset is per process and set once at start-up by `create_app`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def utcnow() -> datetime:
    """Return the current instant in UTC (moved by the configured clock, if any)."""
    return datetime.now(UTC) + _offset


def today_in(tz: str) -> date:
    """Return today's date in the zone `tz` (Asia/Shanghai by configuration), never the server's."""
    return utcnow().astimezone(ZoneInfo(tz)).date()


def set_clock(at: datetime | None) -> None:
    """Let the clock read `at` now and run on from there; None restores the real clock."""
    global _offset  # noqa: PLW0603  one clock per process, set at start-up
    _offset = timedelta(0) if at is None else at.astimezone(UTC) - datetime.now(UTC)


def parse_clock(text: str, tz: str) -> datetime:
    """Parse REGISTRY_CLOCK: an ISO date (10:00 that day in `tz`) or an ISO datetime (naive = in `tz`).

    :raises ValueError: when `text` is neither.
    """
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), ZoneInfo(tz)).replace(hour=10)
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(tz))
