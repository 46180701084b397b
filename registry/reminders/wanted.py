"""The reminder ledger's wanted rows for day D as one SQL relation, so the scan never loads the roster.

`reminders.wanted_rows(collect(...))` says in Python which ledger rows the deadlines imply on D.
Evaluated over the whole roster that meant building a DueItem for every title of a 120-day
window each night, and offering all of them to the ledger again (bench/RESULTS.md). `wanted`
states the same set in SQL — the policies' milestones become a small literal table joined to
the titles — so the ledger is compared with it inside the database and only keys that need work
come back (`work`): "missing" (a wanted row absent, or retired while still ahead) and "stale" (a pending
row no longer wanted). The scan rebuilds the DueItems of just those subjects with the duedates
functions and decides in Python as before.

Each kind's statement is part of its declaration (registry/reminders/kinds.py): a title-date kind's
is generated from the same column as its Python rule (`title_dates`); the change-report and
annual-update statements are written beside their rules and tests/jobs/test_wanted.py checks every
kind declared with a statement against its Python rule. `wanted`, `work` and `provisional` take
the kinds to judge (`kinds.in_sql()`).

A title's rules are those of `PolicySet.tier(code, policy_code=…)`: its own policy when loaded,
else the latest version of its tier (`policy_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.type_api import TypeEngine

from registry.domain.deadlines import RegionClass
from registry.domain.lifecycle import LIVE, Status
from registry.domain.policy import Tier
from registry.enterprises.models import AnnualReport, ChangeReport
from registry.policies.rules import Rules
from registry.reminders import duedates as dd
from registry.reminders.models import Reminder, ReminderStatus
from registry.titles.models import Certification

KEY = ("subject_type", "subject_id", "kind", "milestone", "reference_on")


class Judged(Protocol):
    """A kind the scan judges in SQL (registry/reminders/kinds.py `DeadlineKind` with `wanted`)."""

    code: str
    wanted: Callable[[Any, Rules, date], list[sa.Select]] | None
    provisional: Callable[[Any, Rules, date], list[sa.ColumnElement[bool]]] | None

    def milestones_for(self, tier: Tier) -> tuple[int, ...]:
        """The reminders (days before) a title of `tier` gets."""
        ...


def tiers(rules: Rules) -> list[tuple[str, str, Tier]]:
    """Every (tier code, policy code, Tier) a title can resolve to."""
    found: dict[tuple[str, str], Tier] = {}
    for policy in rules.policies.policies:
        for code in dict.fromkeys(t.code for t in policy.tiers):
            found[(code, policy.code)] = rules.policies.tier(code, policy_code=policy.code)
    return [(code, key, tier) for (code, key), tier in found.items()]


def policy_key(rules: Rules, cert: Any = Certification) -> sa.ColumnElement[str]:
    """The code of the policy whose rules govern the title, as `PolicySet.tier` resolves it.

    Its own policy when that is loaded, else the policy of the latest version of its tier.
    """
    latest = {code: rules.policies.tier(code).policy_code for code in sorted(rules.policies.tier_codes())}
    return sa.case((cert.policy_code.in_(sorted(rules.policies.by_code)), cert.policy_code),
                   else_=sa.case(latest, value=cert.tier))


def tier_is(rules: Rules, pairs: Iterable[tuple[str, str]], cert: Any = Certification) -> sa.ColumnElement[bool]:
    """The title's (tier, policy key) is one of `pairs`."""
    wanted = sorted(set(pairs))
    if not wanted:
        return sa.false()
    return sa.tuple_(cert.tier, policy_key(rules, cert)).in_(wanted)


def literal_table(name: str, columns: dict[str, TypeEngine], rows: Sequence[tuple]) -> sa.Subquery:
    """A few constant rows as a subquery (UNION ALL of SELECTs: both backends accept it)."""
    if not rows:
        return sa.select(*[sa.cast(sa.null(), kind).label(c) for c, kind in columns.items()]).where(
            sa.false()).subquery(name)
    selects = [sa.select(*[sa.literal(value, kind).label(c) for (c, kind), value in zip(columns.items(), row,
                                                                                        strict=True)])
               for row in rows]
    return (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery(name)


def _milestones(rules: Rules, kind: dd.Kind) -> sa.Subquery:
    """(tier, policy code, milestone) of a title-driven kind."""
    rows = [(code, key, m) for code, key, tier in tiers(rules) for m in kind.milestones_for(tier)]
    return literal_table(f"{kind.code}_milestones", {"tier": sa.String(32), "pkey": sa.String(64),
                                                 "milestone": sa.Integer()}, rows)


def annual_dues(rules: Rules, today: date, kind: dd.Kind,
                region_code: str | None = None) -> list[tuple[int, tuple[int, int], dd.DueDate, bool]]:
    """(year, month-day, due date, overdue) of every annual update `collect` looks at on `today` (in `region_code`)."""
    end = today + timedelta(days=dd.max_milestone(rules, kind))
    found = [(year, md, due, False) for year in range(today.year, end.year + 1)
             for md, due in dd.annual_due_dates(rules, year, region_code).items() if today <= due.on <= end]
    found += [(year, md, due, True) for year, dues in dd.last_passed_annual_dues(rules, today, region_code).items()
              for md, due in dues.items()]
    return found


def annual_classes(rules: Rules, today: date, kind: dd.Kind) -> list[RegionClass]:
    """The classes of regions that share their annual-update dates in every year looked at on `today`."""
    end = today + timedelta(days=dd.max_milestone(rules, kind))
    return rules.overrides.classes(range(today.year - 1, end.year + 1))


def _annual(rules: Rules, today: date, kind: dd.Kind) -> list[tuple[int, RegionClass, sa.Subquery]]:
    """By year Y and class of regions: (tier, policy code, milestone, reference date) of the updates of Y looked at."""
    found: list[tuple[int, RegionClass, sa.Subquery]] = []
    for n, cls in enumerate(annual_classes(rules, today, kind)):
        rows: dict[int, list[tuple]] = {}
        for year, md, due, overdue in annual_dues(rules, today, kind, cls.code):
            for code, key, tier in tiers(rules):
                if tier.annual_update_due == md:
                    milestones = (dd.OVERDUE,) if overdue else kind.milestones_for(tier)
                    rows.setdefault(year, []).extend((code, key, m, due.on) for m in milestones)
        found += [(year, cls, literal_table(f"annual_{year}" + (f"_{n}" if n else ""),
                                            {"tier": sa.String(32), "pkey": sa.String(64),
                                             "milestone": sa.Integer(), "reference_on": sa.Date()}, part))
                  for year, part in sorted(rows.items())]
    return found


def _window(rules: Rules, today: date, kind: dd.Kind) -> tuple[date, date]:
    return today, today + timedelta(days=dd.max_milestone(rules, kind))


def title_dates(column: sa.orm.InstrumentedAttribute) -> Callable[[dd.Kind, Rules, date], list[sa.Select]]:
    """The statement of a kind whose date is `column` of an active title (the SQL of `dd.title_dates`)."""
    def parts(kind: dd.Kind, rules: Rules, today: date) -> list[sa.Select]:
        c, m = Certification, _milestones(rules, kind)
        return [sa.select(sa.literal("certification").label("subject_type"), c.id.label("subject_id"),
                          sa.literal(kind.code).label("kind"), m.c.milestone, column.label("reference_on"))
                .join_from(c, m, sa.and_(m.c.tier == c.tier, m.c.pkey == policy_key(rules)))
                .where(c.status == Status.ACTIVE, column.between(*_window(rules, today, kind)))]
    return parts


def change_reports(kind: dd.Kind, rules: Rules, today: date) -> list[sa.Select]:
    """The statement of `dd.change_reports`: unreported changes, with the milestones of every live title held."""
    held, m = aliased(Certification), _milestones(rules, kind)
    return [sa.select(sa.literal("change_report").label("subject_type"), ChangeReport.id.label("subject_id"),
                      sa.literal(kind.code).label("kind"), m.c.milestone, ChangeReport.deadline_on.label("reference_on"))
            .join_from(ChangeReport, held, sa.and_(held.enterprise_id == ChangeReport.enterprise_id,
                                                   held.status.in_(LIVE)))
            .join(m, sa.and_(m.c.tier == held.tier, m.c.pkey == policy_key(rules, held)))
            .where(ChangeReport.reported_on.is_(None),
                   ChangeReport.deadline_on.between(*_window(rules, today, kind)))
            .distinct()]


def change_reports_provisional(kind: dd.Kind, rules: Rules, today: date) -> list[sa.ColumnElement[bool]]:
    """Whether a change report `dd.change_reports` finds on `today` has a provisional deadline."""
    held = aliased(Certification)
    return [sa.exists(sa.select(ChangeReport.id).join_from(ChangeReport, held, sa.and_(
        held.enterprise_id == ChangeReport.enterprise_id, held.status.in_(LIVE))).where(
        ChangeReport.reported_on.is_(None), ChangeReport.deadline_provisional.is_(True),
        ChangeReport.deadline_on.between(*_window(rules, today, kind))))]


def annual_updates(kind: dd.Kind, rules: Rules, today: date) -> list[sa.Select]:
    """The statement of `dd.annual_updates` and `dd.annual_overdue`: one part per year and class of regions."""
    c, parts = Certification, []
    for year, cls, a in _annual(rules, today, kind):
        filed = sa.select(AnnualReport.id).where(AnnualReport.enterprise_id == c.enterprise_id,
                                                 AnnualReport.year == year - 1)
        parts.append(sa.select(sa.literal("enterprise").label("subject_type"), c.enterprise_id.label("subject_id"),
                               sa.literal(kind.code).label("kind"), a.c.milestone, a.c.reference_on)
                     .join_from(c, a, sa.and_(a.c.tier == c.tier, a.c.pkey == policy_key(rules)))
                     .where(c.status.in_(LIVE), c.recognized_on < date(year, 1, 1), ~sa.exists(filed),
                            dd.in_class(c.region_code, cls))
                     .distinct())
    return parts


def annual_updates_provisional(kind: dd.Kind, rules: Rules, today: date) -> list[sa.ColumnElement[bool]]:
    """Whether an annual update looked at on `today` is owed and counted without holiday data."""
    checks: list[sa.ColumnElement[bool]] = []
    for cls in annual_classes(rules, today, kind):
        for year, md, due, _ in annual_dues(rules, today, kind, cls.code):
            if due.provisional:  # the item exists if anybody owes the update
                owing = [(code, key) for code, key, tier in tiers(rules) if tier.annual_update_due == md]
                checks.append(sa.exists(sa.select(Certification.id).where(
                    Certification.status.in_(LIVE), Certification.recognized_on < date(year, 1, 1),
                    dd.in_class(Certification.region_code, cls), tier_is(rules, owing),
                    ~sa.exists(sa.select(AnnualReport.id).where(
                        AnnualReport.enterprise_id == Certification.enterprise_id, AnnualReport.year == year - 1)))))
    return checks


def wanted(rules: Rules, today: date, kinds: Sequence[Judged]) -> sa.Subquery:
    """Every ledger key (subject_type, subject_id, kind, milestone, reference_on) of `kinds` wanted on `today`.

    The same rows as `reminders.wanted_rows(reminders.collect(...), today)` in those kinds, duplicates aside.
    """
    parts = [part for kind in kinds if kind.wanted is not None for part in kind.wanted(kind, rules, today)]
    if not parts:
        return literal_table("wanted", {"subject_type": sa.String(32), "subject_id": sa.Integer(),
                                        "kind": sa.String(32), "milestone": sa.Integer(),
                                        "reference_on": sa.Date()}, [])
    return sa.union_all(*parts).subquery("wanted")


def _same_key(w: Any, r: Any) -> sa.ColumnElement[bool]:
    return sa.and_(*(w.c[k] == getattr(r, k) for k in KEY))


def work(rules: Rules, today: date, kinds: Sequence[Judged]) -> sa.Select:
    """What the ledger needs on `today` in `kinds`, as (need, id, *KEY) rows.

    need "missing": a deadline with a wanted row absent or retired while still ahead (id and milestone
    None); need "stale": a pending row that is not wanted. One statement: the wanted set is built once.
    Both halves stay linear whatever the planner believes: "missing" probes the ledger's unique
    index, "stale" is an EXCEPT (a correlated NOT EXISTS on the wanted set ran as a nested loop over
    it while the ledger's statistics were stale: 13 s at 100,000 enterprises).
    """
    w = wanted(rules, today, kinds).element.cte("wanted")
    settled = sa.select(Reminder.id).where(_same_key(w, Reminder), ~sa.and_(
        Reminder.status == ReminderStatus.RETIRED, Reminder.due_on > today))
    none = sa.cast(sa.null(), sa.Integer)
    missing = (sa.select(sa.literal("missing").label("need"), none.label("id"), w.c.subject_type, w.c.subject_id,
                         w.c.kind, none.label("milestone"), w.c.reference_on)
               .where(~sa.exists(settled)).distinct())
    pending = sa.select(*(getattr(Reminder, k) for k in KEY)).where(Reminder.status == ReminderStatus.PENDING,
                                                                    Reminder.kind.in_([k.code for k in kinds]))
    unwanted = sa.except_(pending, sa.select(*(w.c[k] for k in KEY))).subquery("unwanted")
    stale = (sa.select(sa.literal("stale"), Reminder.id, *(getattr(Reminder, k) for k in KEY))
             .join_from(Reminder, unwanted, _same_key(unwanted, Reminder))
             .where(Reminder.status == ReminderStatus.PENDING))
    return sa.union_all(missing, stale)


def provisional(rules: Rules, today: date, kinds: Sequence[Judged]) -> sa.Select:
    """Whether a deadline `collect` finds on `today` in `kinds` was counted without holiday data."""
    checks = [check for kind in kinds if kind.provisional is not None
              for check in kind.provisional(kind, rules, today)]
    return sa.select(sa.or_(sa.false(), *checks))
