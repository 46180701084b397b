"""What is due and when, straight from the database: the deadlines reminders and digests are about.

Six kinds, each a `DueItem` with its reference date (the date the deadline is about):

- `expiry`: an active title's last valid day (subject: the certification);
- `review_window`: the day an active title's review (复核) window opens (subject: the certification);
- `annual_update`: the annual information update (subject: the enterprise, since one filing
  serves every title). The update due on 30 April of year Y (as the tier's policy says, moved
  off a rest day) covers the figures of year Y-1: it is owed by an enterprise holding a live
  title recognised before 1 January of Y, and done once an annual report for Y-1 exists;
- `change_report`: an unreported major change's deadline (subject: the change report);
- `opinion_due`: the batch deadline of the level an application waits at (subject: the
  application). It concerns the office acting at that level, not the enterprise: the item names
  that office (`office_code`) and its officers are reminded. When the application moves up, the
  next level's deadline replaces it; a return, a rejection or the publicity window ends it;
- `publicity_end`: the last day of a batch's publicity (公示) for each publicised application
  (subject: the application): the enterprise and its officer learn when the window closes and
  that the title is granted only once the organising office finalises.

Titles under review get no expiry or review-window items: their review is in hand.

Each kind is declared once in registry/reminders/kinds.py with its date rule from here (and, for
the kinds the scan judges in SQL, the statement from registry/reminders/wanted.py). Every source
takes the kind (its code and milestones) first and `ids` (subject ids) to build the items of just
those subjects: the daily scan finds in SQL which deadlines need work and builds only their items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.deadlines import DueDate, RegionClass, annual_due_in_region
from registry.domain.lifecycle import LIVE, Status
from registry.domain.listings import REPORT_BY_NAMES
from registry.domain.policy import Tier
from registry.enterprises.models import CHANGE_KIND_NAMES, AnnualReport, ChangeReport, Enterprise
from registry.enterprises.queries import in_region
from registry.pipeline.common import LEVEL_NAMES, office_code
from registry.pipeline.models import Application, ApplicationStatus, Batch, BatchStatus
from registry.policies.rules import Rules
from registry.titles import reports
from registry.titles.models import Certification

__all__ = ["CHANGE_KIND_NAMES"]  # re-exported: the reminders' subject names use it
OVERDUE = -1  #: the milestone of the reminder sent the day after an annual update was due
IN_SLICE = 10_000  #: ids per IN (...) list: well under both backends' bound-parameter limits


def cn_date(day: date) -> str:
    """Write a date the Chinese way: 2026年6月15日."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class DueItem:
    """One deadline: what it is about, when, for whom, and what to do about it."""

    subject_type: str
    subject_id: int
    kind: str
    reference_on: date
    enterprise_id: int
    region_code: str
    title: str  #: the title(s) concerned, by name
    what: str  #: what is due, in Chinese
    todo: str  #: what to do, in Chinese
    milestones: tuple[int, ...] = ()
    provisional: bool = False  #: counted without a year's holiday data
    office_code: str | None = None  #: remind this office's officers instead of the enterprise

    @property
    def key(self) -> tuple[str, int, str, date]:
        """The reminder ledger's key without the milestone."""
        return (self.subject_type, self.subject_id, self.kind, self.reference_on)


class Kind(Protocol):
    """What a date rule needs of its kind (registry/reminders/kinds.py `DeadlineKind`)."""

    code: str

    def milestones_for(self, tier: Tier) -> tuple[int, ...]:
        """The reminders (days before) a title of `tier` gets."""
        ...


class TierCache:
    """Look up each (tier, policy) once per scan."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._seen: dict[tuple[str, str], Tier] = {}

    def __call__(self, code: str, policy_code: str) -> Tier:
        key = (code, policy_code)
        if key not in self._seen:
            self._seen[key] = self.rules.policies.tier(code, policy_code=policy_code)
        return self._seen[key]


def max_milestone(rules: Rules, kind: Kind) -> int:
    """Return the earliest reminder (days before) any tier asks for `kind`."""
    return max((m for p in rules.policies.policies for t in p.tiers for m in kind.milestones_for(t)), default=0)


def slices(ids: Collection[int] | None) -> Iterator[list[int] | None]:
    """`ids` in sorted slices of IN_SLICE (None: one pass over everything)."""
    if ids is None:
        yield None
        return
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_SLICE):
        yield ordered[start:start + IN_SLICE]


def only(column: sa.orm.InstrumentedAttribute, ids: list[int] | None,
         session: Session | None = None) -> sa.ColumnElement[bool]:
    """Limit `column` to one slice of ids (None: no limit).

    With `session` on PostgreSQL the slice is one array parameter (`= ANY(…)`), not a placeholder an id: psycopg
    parses a statement's placeholders in Python and caches none of a statement over 4 KB — 10,000 placeholders
    cost ~23 ms of CPU a statement, an array ~6 ms — and every slice is then the same statement.
    """
    if ids is None:
        return sa.true()
    if session is not None and session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, ids, type_=sa.ARRAY(sa.Integer)))
    return column.in_(ids)


#: what a title's deadline is written from: plain rows, not ORM objects (a catch-up builds tens of thousands)
_TITLE_COLUMNS = (Certification.id, Certification.tier, Certification.policy_code, Certification.enterprise_id,
                  Certification.region_code, Certification.valid_until, Certification.review_window_opens_on)


def _certs(session: Session, column: sa.orm.InstrumentedAttribute, start: date, end: date,
           region: str | None, ids: Collection[int] | None) -> list[sa.Row]:
    found: list[sa.Row] = []
    for part in slices(ids):
        found.extend(session.execute(sa.select(*_TITLE_COLUMNS).where(
            Certification.status == Status.ACTIVE, column >= start, column <= end,
            in_region(Certification.region_code, region), only(Certification.id, part, session)).order_by(Certification.id)))
    return found


def _ending(tier: Tier) -> str:
    return "被撤销" if tier.missed_review == "revoke" else "到期失效"


#: (what, todo) of a title's deadline, from a row of `_TITLE_COLUMNS` (or a Certification)
TitleText = Callable[[Any, Tier], tuple[str, str]]


def title_dates(column: sa.orm.InstrumentedAttribute, text: TitleText) -> Callable[..., Iterator[DueItem]]:
    """The date rule of a kind whose date is `column` of an active title (subject: the certification)."""
    def items(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
              region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
        for cert in _certs(session, column, start, end, region, ids):
            tier = tiers(cert.tier, cert.policy_code)
            on = getattr(cert, column.key)
            assert on is not None  # the query asked for it
            what, todo = text(cert, tier)
            yield DueItem("certification", cert.id, kind.code, on, cert.enterprise_id, cert.region_code,
                          tier.name, what, todo, kind.milestones_for(tier))
    items.__doc__ = f"Active titles whose {column.key} falls in [start, end]."
    return items


def expiry_text(cert: Certification, tier: Tier) -> tuple[str, str]:
    """What and to-do of an active title's last valid day."""
    todo = (f"请在有效期届满前提交复核申请材料（复核窗口自 {cn_date(cert.review_window_opens_on)} 起开放）；"
            f"未参加复核的，称号将于届满次日{_ending(tier)}。") if cert.review_window_opens_on else (
            f"请在有效期届满前提交复核申请材料；未参加复核的，称号将于届满次日{_ending(tier)}。")
    return f"{tier.name}称号有效期届满", todo


def review_window_text(cert: Certification, tier: Tier) -> tuple[str, str]:
    """What and to-do of the day an active title's review window opens."""
    assert cert.valid_until is not None
    todo = (f"称号有效期至 {cn_date(cert.valid_until)}，复核申报窗口开启后请尽快准备并提交复核材料"
            f"{'（含带验证码的审计报告）' if tier.requires_audit_code else ''}。")
    return f"{tier.name}复核申报窗口开启", todo


def change_reports(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
                   region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """Unreported major changes of title holders whose deadline falls in [start, end]."""
    reports = [r for part in slices(ids) for r in session.scalars(
        sa.select(ChangeReport).join(ChangeReport.enterprise).where(
            ChangeReport.reported_on.is_(None), ChangeReport.deadline_on >= start, ChangeReport.deadline_on <= end,
            in_region(Enterprise.region_code, region), only(ChangeReport.id, part, session)).order_by(ChangeReport.id))]
    for report in reports:
        live = [c for c in report.enterprise.certifications if c.status in LIVE]
        if not live:
            continue
        rules = [tiers(c.tier, c.policy_code) for c in live]
        milestones = tuple(sorted({m for t in rules for m in kind.milestones_for(t)}, reverse=True))
        losing = any(t.missed_change_report == "lose_review_eligibility" for t in rules)
        change = CHANGE_KIND_NAMES.get(report.kind, str(report.kind))
        todo = (f"企业于 {cn_date(report.occurred_on)} 发生重大变化（{change}），请于 {cn_date(report.deadline_on)} 前向主管部门报告"
                + ("；逾期未报告的，相关称号将丧失复核资格。" if losing else "。"))
        yield DueItem("change_report", report.id, kind.code, report.deadline_on, report.enterprise_id,
                      report.enterprise.region_code, "、".join(t.name for t in rules), f"重大变化（{change}）报告截止",
                      todo, milestones, report.deadline_provisional)


def opinion_deadlines(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
                      region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """Applications in open batches whose current level's deadline falls in [start, end].

    Few per year: always built whole (`ids` is not used; the scan does not judge this kind in SQL).
    """
    waiting = session.scalars(sa.select(Application).join(Application.batch).where(
        Batch.status == BatchStatus.OPEN, Application.status == ApplicationStatus.IN_REVIEW,
        in_region(Application.region_code, region)).order_by(Application.id))
    for application in waiting:  # few per year: the deadlines live in the batch's JSON, read here
        batch, level = application.batch, application.current_level or ""
        text = batch.deadlines.get(level)
        if text is None or not start <= date.fromisoformat(text) <= end:
            continue
        tier, due = tiers(batch.tier, batch.policy_code), date.fromisoformat(text)
        todo = (f"该申请正等待{LEVEL_NAMES[level]}出具意见，请于 {cn_date(due)} 前在系统中出具推荐、退回补正"
                "或不予推荐意见；逾期不能再推荐。")
        what = f"{batch.year}年{tier.name}{batch.name}：申请 #{application.id} {LEVEL_NAMES[level]}推荐意见截止"
        yield DueItem("application", application.id, kind.code, due, application.enterprise_id,
                      application.region_code, tier.name, what, todo, kind.milestones_for(tier),
                      office_code=office_code(application.region_code, level))


def publicity_ends(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
                   region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """Publicised applications whose batch's publicity (公示) ends in [start, end].

    A batch's publicised list is tens, not thousands: always built whole (`ids` is not used).
    """
    publicised = session.scalars(sa.select(Application).join(Application.batch).where(
        Batch.status == BatchStatus.PUBLICITY, Application.status == ApplicationStatus.RECOMMENDED,
        Batch.publicity_ends_on.between(start, end), in_region(Application.region_code, region))
        .order_by(Application.id))
    for application in publicised:  # a batch's publicised list: tens, not thousands
        batch = application.batch
        tier, due = tiers(batch.tier, batch.policy_code), batch.publicity_ends_on
        assert due is not None  # the query asked for it
        what = f"{batch.year}年{tier.name}{batch.name}：申请 #{application.id} 公示期截止"
        todo = (f"公示期至 {cn_date(due)} 结束（公示于{batch.published_where or '主管部门网站'}）。期内如有实名异议，"
                "由主管部门核实处理；公示结束且异议处理完毕后，由组织部门确认结果并认定称号，此前请勿对外宣称已获认定。")
        yield DueItem("application", application.id, kind.code, due, application.enterprise_id,
                      application.region_code, tier.name, what, todo, kind.milestones_for(tier))


def periodic_reports(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
                     region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """The next due period of each report a live title's tier declares (`[[tiers.reports]]`), dated in [start, end].

    Subject: the certification; reports of one title due the same day make one item. The report is the
    office's (by = "office"): the officers of the office at the tier's authority level are reminded. Once
    the period is filed its item is gone (the scan retires the reminder) and the next period's appears.
    Few titles declare reports: always built from the declaring tiers' live titles.
    """
    titles = reports.reporting_titles(session, tiers.rules, region)
    if ids is not None:
        wanted = set(ids)
        titles = [(c, t) for c, t in titles if c.id in wanted]
    grouped: dict[tuple[int, date], list[reports.DueReport]] = defaultdict(list)
    for due in reports.due_reports(session, tiers.rules, titles=titles):
        if start <= due.due_on <= end:
            grouped[(due.certification.id, due.due_on)].append(due)
    for (_, on), dues in sorted(grouped.items(), key=lambda kv: kv[0]):
        cert, tier = dues[0].certification, dues[0].tier
        names = "、".join(f"{d.report.name}（{d.period_name}）" for d in dues)
        by = "、".join(sorted({REPORT_BY_NAMES.get(d.report.by, d.report.by) for d in dues}))
        todo = (f"{tier.name}的定期报告：{names}，由{by}于 {cn_date(on)} 前报送；报送后请在企业页面登记报送日期，"
                "逾期未登记的将列入待办。")
        yield DueItem("certification", cert.id, kind.code, on, cert.enterprise_id, cert.region_code, tier.name,
                      f"{tier.name}定期报告截止：{names}", todo, kind.milestones_for(tier),
                      office_code=office_code(cert.region_code, tier.authority))


def annual_due_dates(rules: Rules, year: int, region_code: str | None = None) -> dict[tuple[int, int], DueDate]:
    """Map each policy month-day of the annual update to its last day in `year`.

    In `region_code`, a recorded override of its deepest overridden node (rules.overrides) replaces
    the date of the month-day it names, that year (registry/policies/overrides.py, docs/deadline-overrides.md).
    """
    dues: dict[tuple[int, int], DueDate] = {}
    for tier in (t for p in rules.policies.policies for t in p.tiers):
        if tier.annual_update_due is not None and tier.annual_update_due not in dues:
            found = annual_due_in_region(rules.calendar, tier, year, rules.overrides, region_code)
            assert found is not None
            dues[tier.annual_update_due] = found
    return dues


def in_class(column: sa.orm.InstrumentedAttribute | sa.ColumnElement, cls: RegionClass) -> sa.ColumnElement[bool]:
    """The region-code `column` lies in `cls` (under its node, under none of its excluded nodes)."""
    conds = [] if cls.code is None else [in_region(column, cls.code)]
    return sa.and_(sa.true(), *conds, *[sa.not_(in_region(column, code)) for code in cls.excluded])


Dues = dict[tuple[int, int], DueDate]


def _by_region(by_class: list[tuple[RegionClass, Dues]]) -> Callable[[str], Dues]:
    """The dues of the class a region code belongs to (looked up once per code)."""
    seen: dict[str, Dues] = {}

    def dues_of(region_code: str) -> Dues:
        if region_code not in seen:
            seen[region_code] = next((d for cls, d in by_class if cls.holds(region_code)), {})
        return seen[region_code]
    return dues_of


def annual_owing(session: Session, tiers: TierCache, year: int, region: str | None = None,
                 ids: Collection[int] | None = None) -> dict[tuple[int, int], dict[int, list[tuple[sa.Row, Tier]]]]:
    """Live titles whose update of `year` (figures of year-1) is missing, by month-day and enterprise.

    `ids` limits it to those enterprises.
    """
    filed = sa.select(AnnualReport.id).where(AnnualReport.enterprise_id == Certification.enterprise_id,
                                             AnnualReport.year == year - 1)
    found = [row for part in slices(ids) for row in session.execute(sa.select(
        Certification.id, Certification.enterprise_id, Certification.region_code, Certification.tier,
        Certification.policy_code, Certification.valid_from, Certification.review_eligible).where(
        Certification.status.in_(LIVE), Certification.recognized_on < date(year, 1, 1), ~sa.exists(filed),
        in_region(Certification.region_code, region), only(Certification.enterprise_id, part, session))
        .order_by(Certification.id))]
    rows = sorted(found, key=lambda row: row.id) if ids is not None else found
    owing: dict[tuple[int, int], dict[int, list[tuple[sa.Row, Tier]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        tier = tiers(row.tier, row.policy_code)
        if tier.annual_update_due is not None:
            owing[tier.annual_update_due][row.enterprise_id].append((row, tier))
    return owing


def _annual_item(kind: Kind, enterprise_id: int, pairs: list[tuple[sa.Row, Tier]], year: int, due: DueDate,
                 *, overdue: bool) -> DueItem:
    tiers = [t for _, t in pairs]
    losing = any(t.missed_annual_update == "lose_review_eligibility" for t in tiers)
    if overdue:
        milestones: tuple[int, ...] = (OVERDUE,)
        todo = f"{year} 年度信息更新已于 {cn_date(due.on)} 截止，请尽快补报 {year - 1} 年度数据" + (
            "；未按期更新的，相关称号不得参加下一次复核。" if losing else "。")
    else:
        milestones = tuple(sorted({m for t in tiers for m in kind.milestones_for(t)}, reverse=True))
        todo = f"请于 {cn_date(due.on)} 前在培育平台完成 {year} 年度信息更新（填报 {year - 1} 年度数据）" + (
            "；逾期未更新的，相关称号将不得参加下一次复核。" if losing else "。")
    if all(t.holder == "zone" for t in tiers):  # a zone's yearly filing is its development report (168号 第八条)
        todo = (f"{year - 1} 年度发展报告已于 {cn_date(due.on)} 截止，请尽快报送" if overdue
                else f"请于 {cn_date(due.on)} 前报送 {year - 1} 年度发展报告") + "。"
    return DueItem("enterprise", enterprise_id, kind.code, due.on, enterprise_id, pairs[0][0].region_code,
                   "、".join(dict.fromkeys(t.name for t in tiers)), f"{year} 年度信息更新", todo, milestones,
                   due.provisional)


def _annual_items(kind: Kind, session: Session, tiers: TierCache, year: int,
                  by_class: list[tuple[RegionClass, Dues]], region: str | None, *, overdue: bool,
                  ids: Collection[int] | None = None) -> Iterator[DueItem]:
    if not any(dues for _, dues in by_class):
        return
    dues_of = _by_region(by_class)
    owing = annual_owing(session, tiers, year, region, ids)
    for month_day, by_enterprise in owing.items():
        for enterprise_id, pairs in by_enterprise.items():
            due = dues_of(pairs[0][0].region_code).get(month_day)
            if due is not None:
                yield _annual_item(kind, enterprise_id, pairs, year, due, overdue=overdue)


def annual_updates(kind: Kind, session: Session, tiers: TierCache, start: date, end: date,
                   region: str | None = None, ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """Annual updates due in [start, end] that are not yet filed (each region by its own date)."""
    for year in range(start.year, end.year + 1):
        by_class = [(cls, {md: due for md, due in annual_due_dates(tiers.rules, year, cls.code).items()
                           if start <= due.on <= end}) for cls in tiers.rules.overrides.classes((year,))]
        yield from _annual_items(kind, session, tiers, year, by_class, region, overdue=False, ids=ids)


def last_passed_annual_dues(rules: Rules, today: date,
                            region_code: str | None = None) -> dict[int, dict[tuple[int, int], DueDate]]:
    """For each month-day, the latest annual update whose last day is before `today`, by year (in `region_code`)."""
    by_year: dict[int, dict[tuple[int, int], DueDate]] = defaultdict(dict)
    this_year = annual_due_dates(rules, today.year, region_code)
    last_year = annual_due_dates(rules, today.year - 1, region_code)
    for month_day, due in this_year.items():
        if due.on < today:
            by_year[today.year][month_day] = due
        else:
            by_year[today.year - 1][month_day] = last_year[month_day]
    return by_year


def passed_classes(rules: Rules, today: date) -> list[tuple[RegionClass, dict[int, Dues]]]:
    """Each class of regions with its latest passed annual updates by year (`last_passed_annual_dues`)."""
    return [(cls, last_passed_annual_dues(rules, today, cls.code))
            for cls in rules.overrides.classes((today.year - 1, today.year))]


def annual_overdue(kind: Kind, session: Session, tiers: TierCache, today: date, region: str | None = None,
                   ids: Collection[int] | None = None) -> Iterator[DueItem]:
    """The latest annual update whose last day has passed and that is still not filed."""
    classes = passed_classes(tiers.rules, today)
    for year in (today.year, today.year - 1):
        by_class = [(cls, by_year.get(year, {})) for cls, by_year in classes]
        yield from _annual_items(kind, session, tiers, year, by_class, region, overdue=True, ids=ids)
