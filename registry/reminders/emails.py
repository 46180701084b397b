"""Chinese e-mail texts rendered from registry/reminders/templates/emails/*.txt (Jinja2, plain text).

Each template's first line is the subject; the body follows a blank line. Mail is rendered
once, when it is queued, and stored in the outbox: a retry never re-renders from data that may
have changed since.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import jinja2

from registry.accounts.models import User
from registry.enterprises.models import Enterprise
from registry.reminders import kinds
from registry.reminders.duedates import DueItem, cn_date
from registry.reminders.outbox import Backlog

WEEKLY_SHOWN = 200  #: items listed in a weekly digest; the rest are counted

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "emails"),
    autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    auto_reload=False)  # the templates ship with the code: a catch-up scan stat()ed them 11,000 times


def days_phrase(days: int) -> str:
    """Say how far a date is: 还有 N 天 / 就是今天 / 已逾期 N 天."""
    if days > 0:
        return f"还有 {days} 天"
    if days == 0:
        return "就是今天"
    return f"已逾期 {-days} 天"


_env.filters.update(days_phrase=days_phrase, cn_date=cn_date)


@dataclass(frozen=True)
class Rendered:
    """A subject and a body, ready for the outbox."""

    subject: str
    body: str


def render(name: str, **context: object) -> Rendered:
    """Render template `name`; its first line is the subject.

    The context is the template's only namespace (`shared`): the templates use no global of Jinja's,
    and copying the globals into a fresh context was half the cost of a render (a catch-up scan
    renders three texts a reminder).
    """
    template = _env.get_template(name)
    try:
        text = _env.concat(template.root_render_func(template.new_context(context, shared=True)))  # type: ignore[attr-defined]
    except Exception:  # as Template.render: the error points into the template
        _env.handle_exception()
    subject, _, body = text.lstrip("\n").partition("\n")
    return Rendered(subject.strip(), body.strip("\n") + "\n")


class EnterpriseText(Protocol):
    """What the texts read of an enterprise: an `Enterprise`, or a row of these columns (the scan's)."""

    name: str
    uscc: str
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None


@dataclass(frozen=True)
class DueEntry:
    """A due item with the enterprise it concerns and the days left on the day it is sent."""

    item: DueItem
    enterprise: EnterpriseText | Enterprise
    days: int


def reminder(entry: DueEntry, officer: User | None, *, to_officer: bool) -> Rendered:
    """One reminder, to the enterprise's contact or to its responsible officer."""
    return render("reminder.txt", item=entry.item, enterprise=entry.enterprise, days=entry.days,
                  officer=officer, to_officer=to_officer)


def channel_reminder(entry: DueEntry) -> Rendered:
    """One reminder for a chat channel (a robot's group, a 浙政钉 work notice): no contact person's details."""
    return render("channel_reminder.txt", item=entry.item, enterprise=entry.enterprise, days=entry.days)


def channel_digest(entries: Sequence[DueEntry], today: date) -> Rendered:
    """An officer's reminders of the day as one chat message: no contact person's details."""
    return render("channel_digest.txt", entries=entries, today=today)


def office_reminder(entry: DueEntry, officer: User) -> Rendered:
    """A reminder of an office's own step (a level's opinion in a batch) to one of its officers."""
    return render("office_reminder.txt", item=entry.item, enterprise=entry.enterprise, days=entry.days,
                  officer=officer)


def daily_digest(officer: User, entries: Sequence[DueEntry], today: date) -> Rendered:
    """One e-mail listing an officer's reminders of the day."""
    return render("daily_digest.txt", officer=officer, entries=entries, today=today)


def weekly_digest(officer: User, region_name: str, items: Sequence[DueItem], names: dict[int, str],
                  today: date, until: date) -> Rendered:
    """The Monday summary of what falls due in an officer's region in the next 30 days."""
    counts = Counter(kinds.label(i.kind) for i in items)
    return render("weekly_digest.txt", officer=officer, region_name=region_name, items=items,
                  shown=items[:WEEKLY_SHOWN], hidden=max(0, len(items) - WEEKLY_SHOWN), names=names,
                  counts=sorted(counts.items()), today=today, until=until)


def outbox_backlog_alert(admin: User, found: Backlog, now: datetime, timezone: str) -> Rendered:
    """Tell an admin that e-mail of their region has been waiting longer than the alarm age."""
    local = now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    return render("outbox_backlog.txt", admin=admin, backlog=found, now=local)


def scan_late_alert(admin: User, last: datetime | None, now: datetime, timezone: str) -> Rendered:
    """Tell an admin that the daily scan has not succeeded for more than 26 hours."""
    local = last.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if last else None
    hours = int((now - last).total_seconds() // 3600) if last else None
    return render("scan_late.txt", admin=admin, last=local, hours=hours)
