"""One title's life from its grant to today: terms, events, bans — as the services and the scan leave it.

The roster is aged as if the daily scan had run every day: no active title is past its last valid
day (it was renewed, expired, revoked or withdrawn, or its review is in hand), review windows are
set on live titles only, and a revocation for cause leaves its ban (lifted once it has run).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from registry.domain.deadlines import next_term_end, review_window_opens, validity_end
from registry.domain.eligibility import ban_ends
from registry.domain.lifecycle import LIVE, Status
from registry.domain.policy import MISSED_REVIEW_REASON, PolicySet, Tier

SCAN_LABEL = "job:scan"


def at(day: date, hour: int = 2) -> datetime:
    """Return an instant on `day` (UTC; 10:00 in Shanghai by default)."""
    return datetime.combine(day, time(hour), UTC)


@dataclass
class Title:
    """A title being built: the certification row's fields plus its terms and events."""

    id: int
    tier: Tier
    recognized_on: date
    document_no: str
    officer: str
    status: Status = Status.ACTIVE
    ended_on: date | None = None
    terms: list[tuple[date, date | None, date, str | None]] = field(default_factory=list)  # from, until, decided, doc
    events: list[tuple] = field(default_factory=list)
    ban: tuple | None = None  # (reason_code, reason name, starts_on, ends_on)
    review_eligible: bool = True
    ineligible_cause: str | None = None
    prerequisite_lost: bool = False

    @property
    def live(self) -> bool:
        """True while the title is active or under review."""
        return self.status in LIVE

    @property
    def until(self) -> date | None:
        """The current term's last valid day."""
        return self.terms[-1][1]

    def event(self, action: str, on: date, to: Status, actor: str, reason: str | None = None,
              document_no: str | None = None, note: str | None = None) -> None:
        """Record a lifecycle event and move to status `to`."""
        self.events.append((action, on, self.status.value if self.events else None, to.value, reason,
                            document_no, note, actor, at(on)))
        self.status = to

    def end(self, action: str, on: date, to: Status, actor: str, reason: str | None = None, note: str | None = None) -> None:
        """End the title on `on` (the first day it is no longer valid)."""
        self.event(action, on, to, actor, reason, note=note)
        self.ended_on = on


class Lives:
    """Decides each title's fate with one seeded random stream."""

    def __init__(self, policies: PolicySet, today: date, rng: random.Random) -> None:
        self.policies, self.today, self.rng = policies, today, rng

    def tier(self, code: str, on: date) -> Tier:
        """Return the rules of `code` in force on `on`."""
        return self.policies.tier(code, on)

    def grant(self, title_id: int, code: str, on: date, document_no: str, officer: str) -> Title:
        """Grant `code` on `on` and age it to today."""
        tier = self.tier(code, on)
        title = Title(title_id, tier, on, document_no, officer)
        title.terms.append((on, validity_end(tier, on), on, document_no))
        title.event("grant", on, Status.ACTIVE, officer, document_no=document_no)
        self._age(title)
        return title

    def _age(self, title: Title) -> None:
        rng, today = self.rng, self.today
        fate = rng.random()
        latest = min(today, title.until or today)
        if fate < 0.015 and latest > title.recognized_on + timedelta(days=30):
            self._revoke(title, title.recognized_on + timedelta(days=rng.randint(30, (latest - title.recognized_on).days)))
            return
        if fate < 0.025 and latest > title.recognized_on + timedelta(days=30):
            day = title.recognized_on + timedelta(days=rng.randint(30, (latest - title.recognized_on).days))
            title.end("withdraw", day, Status.WITHDRAWN, title.officer, note="企业主动放弃")
            return
        while title.live and title.until is not None and title.until < today:
            self._term_ends(title)
        until, window = title.until, title.tier.review_window_days
        if title.status == Status.ACTIVE and until and window and until - timedelta(days=window) <= today \
                and rng.random() < 0.4:
            opens = until - timedelta(days=window)
            title.event("submit_review", today - timedelta(days=rng.randint(0, min(20, (today - opens).days))),
                        Status.UNDER_REVIEW, title.officer)

    def _term_ends(self, title: Title) -> None:
        """Decide what happened at the end of the current term (which lies before today)."""
        rng, tier, until = self.rng, title.tier, title.until
        assert until is not None
        window = tier.review_window_days or 30
        fate = rng.random()
        if fate < 0.70:
            submitted = until - timedelta(days=rng.randint(25, max(26, window - 5)))
            title.event("submit_review", submitted, Status.UNDER_REVIEW, title.officer)
            decided = until - timedelta(days=rng.randint(1, 20))
            title.event("pass_review", decided, Status.ACTIVE, title.officer, document_no=f"复核通过〔{decided.year}〕")
            title.terms.append((until + timedelta(days=1), next_term_end(tier, until), decided, f"复核通过〔{decided.year}〕"))
        elif fate < 0.73 and until >= self.today - timedelta(days=45):
            title.event("submit_review", until - timedelta(days=rng.randint(10, 40)), Status.UNDER_REVIEW, title.officer)
        elif fate < 0.92:
            effective = until + timedelta(days=1)
            if tier.missed_review == "revoke":
                title.end("revoke", effective, Status.REVOKED, SCAN_LABEL, MISSED_REVIEW_REASON, "届满前未提交复核，自动撤销")
            else:
                title.end("expire", effective, Status.EXPIRED, SCAN_LABEL, note="届满前未提交复核，自动到期")
        else:
            title.end("withdraw", until - timedelta(days=30), Status.WITHDRAWN, title.officer, note="企业主动放弃")

    def _revoke(self, title: Title, day: date) -> None:
        reasons = [r for r in title.tier.revocation_reasons if r.scope == "this_tier"]
        reason = self.rng.choice(reasons)
        title.end("revoke", day, Status.REVOKED, title.officer, reason.code, note=reason.name)
        if reason.ban_years > 0:
            title.ban = (reason.code, reason.name, day, ban_ends(day, reason.ban_years))

    def downgrade(self, title: Title, day: date) -> None:
        """A single champion kept only as a champion product (the caller grants the new title)."""
        title.end("downgrade", day, Status.SUPERSEDED, title.officer, note="主导产品占比低于70%，按单项冠军产品复核")


def window_opens(title: Title) -> date | None:
    """The review window's first day, for a live title."""
    return review_window_opens(title.tier, title.until) if title.live else None
