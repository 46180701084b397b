"""The deadline kinds: each declared once — its date rule, the SQL the scan judges it by, its label,
its recipients and its milestones — and everything else reads the declaration.

A `DeadlineKind` names:

- `code` (the ledger's `kind` column) and `label` (the reminders page, the API's `kind_name`, the
  weekly digest's counts);
- `subject_type`: what a reminder of the kind is about (certification, enterprise, change_report,
  application) — the reminders page names the subject by it;
- `items`: the date rule in Python (registry/reminders/duedates.py), which also writes the texts
  of each deadline (`what`, `todo`: the e-mails' subject and 办理要求);
- `wanted` (optional): the same rule as SQL, so the nightly scan compares the ledger with it in the
  database (registry/reminders/wanted.py). A title-date kind gets both from one column
  (`title_date`); the others are checked against their Python rule by tests/jobs/test_wanted.py,
  which runs every kind declared with a statement. A kind without one is few and built whole in
  every scan;
- `overdue` and `provisional` (optional): the items reminded after the date has passed (the annual
  update's milestone -1), and the SQL telling whether a deadline was counted without holiday data;
- `recipients`: `ENTERPRISE` (the enterprise's contact and its responsible officer) or `OFFICE`
  (the officers of the office the item names: a level's own step);
- `milestones`: the days before the date a reminder goes out; None reads them from the policy
  files' [reminders] table under the kind's code (`registry.domain.policy.REMINDER_KINDS`).

Adding a kind is one `register(DeadlineKind(...))` with its texts: the scan arms, retires and queues
it, the ledger keeps it, the e-mails carry its texts, the reminders page and API list and filter it
(tests/jobs/test_deadline_kinds.py declares one in the test and follows it through).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.policy import REMINDER_KINDS, Tier
from registry.policies.rules import Rules
from registry.reminders import duedates as dd
from registry.reminders import wanted as sql
from registry.titles.models import Certification

ENTERPRISE = "enterprise"  #: the enterprise's contact and its responsible officer (or the officer's digest)
OFFICE = "office"  #: the active officers of the office the item names (`DueItem.office_code`)
RECIPIENTS = (ENTERPRISE, OFFICE)
CODE_MAX = 32  #: the ledger's kind column

#: (kind, session, tiers, start, end, region, ids) → the deadlines dated in [start, end]
ItemSource = Callable[..., Iterator[dd.DueItem]]
#: (kind, session, tiers, today, region, ids) → the deadlines reminded after their date
OverdueSource = Callable[..., Iterator[dd.DueItem]]
#: (kind, rules, today) → SELECTs of (subject_type, subject_id, kind, milestone, reference_on)
SqlSource = Callable[[Any, Rules, date], list[sa.Select]]
#: (kind, rules, today) → boolean SQL: a deadline found today was counted without holiday data
ProvisionalSource = Callable[[Any, Rules, date], list[sa.ColumnElement[bool]]]


@dataclass(frozen=True)
class DeadlineKind:
    """One kind of deadline, declared once (see the module docstring)."""

    code: str
    label: str
    subject_type: str
    items: ItemSource
    wanted: SqlSource | None = None
    overdue: OverdueSource | None = None
    provisional: ProvisionalSource | None = None
    recipients: str = ENTERPRISE
    milestones: tuple[int, ...] | None = None

    def milestones_for(self, tier: Tier) -> tuple[int, ...]:
        """The reminders (days before the date) a title of `tier` gets."""
        return self.milestones if self.milestones is not None else tier.reminders.get(self.code, ())

    def horizon(self, rules: Rules) -> int:
        """The earliest reminder (days before) any tier gets: how far ahead the scan looks."""
        return dd.max_milestone(rules, self)

    def due(self, session: Session, tiers: dd.TierCache, start: date, end: date, *, region: str | None = None,
            ids: Collection[int] | None = None) -> Iterator[dd.DueItem]:
        """The deadlines of this kind dated in [start, end] (of `ids` only, when given)."""
        if ids is None:
            return self.items(self, session, tiers, start, end, region)
        return self.items(self, session, tiers, start, end, region, ids)


def title_date(column: sa.orm.InstrumentedAttribute, text: dd.TitleText) -> dict[str, Any]:
    """The date rule and the scan's SQL of a kind whose date is `column` of an active title, from one column.

    `text(cert, tier)` writes the deadline's (what, todo).
    """
    return {"subject_type": "certification", "items": dd.title_dates(column, text), "wanted": sql.title_dates(column)}


_KINDS: dict[str, DeadlineKind] = {}


def register(kind: DeadlineKind) -> DeadlineKind:
    """Declare `kind`; refuse a second kind of the same code or a declaration that cannot work."""
    if kind.code in _KINDS:
        raise ValueError(f"deadline kind {kind.code!r} is already declared")
    if not 0 < len(kind.code) <= CODE_MAX or not kind.label:
        raise ValueError(f"deadline kind {kind.code!r}: a code of 1 to {CODE_MAX} characters and a label")
    if kind.recipients not in RECIPIENTS:
        raise ValueError(f"deadline kind {kind.code!r}: recipients must be one of {RECIPIENTS}")
    if kind.milestones is None and kind.code not in REMINDER_KINDS:
        raise ValueError(f"deadline kind {kind.code!r}: the policy files cannot state its milestones "
                         "(registry.domain.policy.REMINDER_KINDS): declare them")
    if kind.provisional is not None and kind.wanted is None:
        raise ValueError(f"deadline kind {kind.code!r}: a provisional check belongs to a kind judged in SQL")
    _KINDS[kind.code] = kind
    return kind


def unregister(code: str) -> None:
    """Withdraw a declared kind (tests that declare their own)."""
    del _KINDS[code]


def all_kinds() -> tuple[DeadlineKind, ...]:
    """Every declared kind, in the order declared."""
    return tuple(_KINDS.values())


def get(code: str) -> DeadlineKind:
    """The kind of `code`. :raises KeyError: no such kind is declared."""
    return _KINDS[code]


def in_sql() -> tuple[DeadlineKind, ...]:
    """The kinds the scan judges in SQL (declared with `wanted`)."""
    return tuple(k for k in _KINDS.values() if k.wanted is not None)


def names() -> dict[str, str]:
    """Each kind's label by code, in the order declared."""
    return {k.code: k.label for k in _KINDS.values()}


def label(code: str) -> str:
    """The label of `code` (the code itself for a kind no longer declared)."""
    kind = _KINDS.get(code)
    return kind.label if kind is not None else code


class _Codes(Sequence[str]):
    """The declared codes, read when asked (a validator built at import sees kinds declared later)."""

    def __getitem__(self, index):  # noqa: ANN001, ANN204  (Sequence's overloads)
        return tuple(_KINDS)[index]

    def __len__(self) -> int:
        return len(_KINDS)

    def __contains__(self, value: object) -> bool:
        return value in _KINDS


CODES: Sequence[str] = _Codes()


def due_between(session: Session, rules: Rules, start: date, end: date, region: str | None = None) -> list[dd.DueItem]:
    """Every deadline of every kind with its date in [start, end] (the weekly digest's list)."""
    tiers = dd.TierCache(rules)
    found = [item for kind in _KINDS.values() for item in kind.due(session, tiers, start, end, region=region)]
    return sorted(found, key=lambda i: (i.reference_on, i.kind, i.subject_id))


# The kinds of the registry. Their texts are written by their date rules (registry/reminders/duedates.py).
EXPIRY = register(DeadlineKind("expiry", "称号有效期届满", **title_date(Certification.valid_until, dd.expiry_text)))
REVIEW_WINDOW = register(DeadlineKind("review_window", "复核申报窗口开启",
                                      **title_date(Certification.review_window_opens_on, dd.review_window_text)))
ANNUAL_UPDATE = register(DeadlineKind(
    "annual_update", "年度信息更新", "enterprise", dd.annual_updates, wanted=sql.annual_updates,
    overdue=dd.annual_overdue, provisional=sql.annual_updates_provisional))
CHANGE_REPORT = register(DeadlineKind(
    "change_report", "重大变化报告", "change_report", dd.change_reports, wanted=sql.change_reports,
    provisional=sql.change_reports_provisional))
OPINION_DUE = register(DeadlineKind("opinion_due", "推荐意见截止", "application", dd.opinion_deadlines,
                                    recipients=OFFICE))
PUBLICITY_END = register(DeadlineKind("publicity_end", "公示期截止", "application", dd.publicity_ends))
#: the periodic reports a tier declares ([[tiers.reports]]: 一企一策, 季度梳理, 年度评估); the policy files state
#: no reminder days for them: 15 and 3 days before, assumed (docs/programmes.md)
PERIODIC_REPORT = register(DeadlineKind("periodic_report", "定期报告报送", "certification", dd.periodic_reports,
                                        recipients=OFFICE, milestones=(15, 3)))
