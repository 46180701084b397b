"""The scan's reminders to the channels and the inbox: set aside beside the e-mails, written in the same transaction.

For each reminder the scan queues (registry/reminders/services.py `queue_due`):

- every **user** it reaches — the enterprise's responsible officer, or the officers of the office whose step
  is due — gets it in their **inbox** (站内消息) and on each of their own active channel
  targets (the channel text, `reminders/templates/emails/channel_reminder.txt`; an officer taking the daily
  digest gets one channel digest instead);
- every active **office** target whose region is the reminder's (or, with `include_subregions`, above it), or
  the office whose step is due, gets the channel text.

The channel text names the enterprise, the title, the deadline and what to do, never the contact person's
name, phone or e-mail: a robot's group and a chat platform are not the place for personal information, and the
inbox, a page, shows contacts no more than other pages do (masked until asked for, audited).
Each delivery is an outbox row under its own dedupe key (`<the e-mail's key>:<channel>:<target id>`), so the
ledger sends it once whatever reruns, and the inbox row is unique per (user, reminder).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.channels.models import CHANNEL_NAMES, ChannelTarget, InboxMessage
from registry.domain.regions import contains
from registry.platform.sqlutil import insert_ignore
from registry.reminders.outbox import MessageBatch


@dataclass(frozen=True)
class Route:
    """An active channel target, without its secrets (the sender decrypts them when it sends)."""

    id: int
    kind: str
    label: str
    user_id: int | None
    region_code: str | None
    include_subregions: bool

    @property
    def to_addr(self) -> str:
        """What the outbox and the reminders page show as the recipient."""
        return f"{CHANNEL_NAMES.get(self.kind, self.kind)}：{self.label}"[:254]


class Fanout:
    """The channel deliveries and inbox entries of one scan, added to the scan's `MessageBatch`."""

    def __init__(self, session: Session, mail: MessageBatch, at: datetime) -> None:
        self.session, self.mail, self.at = session, mail, at
        self.by_user: dict[int, list[Route]] = defaultdict(list)
        self.offices: list[Route] = []
        for row in session.execute(sa.select(
                ChannelTarget.id, ChannelTarget.kind, ChannelTarget.label, ChannelTarget.user_id,
                ChannelTarget.region_code, ChannelTarget.include_subregions)
                .where(ChannelTarget.is_active.is_(True)).order_by(ChannelTarget.id)):
            route = Route(row.id, str(getattr(row.kind, "value", row.kind)), row.label, row.user_id, row.region_code,
                          row.include_subregions)
            if route.user_id is not None:
                self.by_user[route.user_id].append(route)
            else:
                self.offices.append(route)
        self.inbox_rows: list[dict[str, object]] = []

    def _add(self, route: Route, key: str, subject: str, body: str, reminder_id: int | None,
             region_code: str | None) -> None:
        self.mail.add(dedupe_key=f"{key}:{route.kind}:{route.id}", to_addr=route.to_addr, subject=subject, body=body,
                      reminder_id=reminder_id, region_code=region_code, channel=route.kind, target_id=route.id)

    def to_user(self, user_id: int, *, key: str, subject: str, body: str, reminder_id: int | None,
                region_code: str | None) -> None:
        """Deliver to each of the user's own channels."""
        for route in self.by_user.get(user_id, ()):
            self._add(route, key, subject, body, reminder_id, region_code)

    def to_offices(self, *, reminder_id: int, region_code: str, office_code: str | None, subject: str,
                   body: str) -> None:
        """Deliver to the channels of the offices the reminder concerns."""
        for route in self.offices:
            code = route.region_code or ""
            if code in (region_code, office_code) or (route.include_subregions and contains(code, region_code)):
                self._add(route, f"reminder:{reminder_id}:office", subject, body, reminder_id, region_code)

    def inbox(self, user_id: int, *, reminder_id: int, subject: str, body: str, region_code: str | None) -> None:
        """Put the reminder in the user's 站内消息."""
        self.inbox_rows.append({"user_id": user_id, "dedupe_key": f"reminder:{reminder_id}",
                                "reminder_id": reminder_id, "region_code": region_code, "subject": subject[:300],
                                "body_text": body, "created_at": self.at, "read_at": None})

    def flush(self) -> int:
        """Write the inbox entries (each once per user and reminder); return how many were new."""
        rows, self.inbox_rows = self.inbox_rows, []
        return len(insert_ignore(self.session, InboxMessage.__table__, rows, conflict=("user_id", "dedupe_key")))
