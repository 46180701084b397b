"""The daily scan for day D: automatic transitions, eligibility flags, ban lifting, reminders.

Everything is worked out from the database as it stands on D, so a scan that did not run for
days catches up in one run, and a second run finds nothing left to do:

(a) an active title whose review was never submitted ends the day after its validity ends
    (effective_on = valid_until + 1), expired or revoked as its tier's `review.missed` says —
    through `apply_event`, like an officer's action; `prerequisite_lost` on dependent higher
    titles follows inside it;
(b) review eligibility is lost (with its cause) for a missed annual update — the update due
    30 April of year Y covers the figures of year Y-1, checked for the latest due date before D
    whose title term had begun by then — and for a major change still unreported after its
    deadline, where the tier's policy says `lose_review_eligibility` (a policy saying `flag`
    only gets the overdue reminder);
(c) a ban is lifted the day after it ends (lifted_on = ends_on + 1);
(d) reminders are armed, retired and queued with their e-mails (services/reminders.py).

Each step asks SQL for the rows that need action on D and loads only those; every change still
goes through the services (apply_event, audit.record one by one; the flags of a step together,
mark_many_review_ineligible, with the same rows and events as one by one).

Dates counted without a year's holiday data (provisional) are not acted on: the scan warns
that the year's State Council notice must be loaded. One failing title does not stop the scan:
its change is rolled back to a savepoint and reported. Every change names the job as actor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload, sessionmaker

from registry.audit import trail as audit
from registry.domain.actors import Actor, system_actor
from registry.domain.deadlines import DueDate, RegionClass
from registry.domain.errors import DomainError
from registry.domain.guards import review_window
from registry.domain.lifecycle import LIVE, Event, Status
from registry.domain.policy import MISSED_REVIEW_REASON, PolicySet, Tier
from registry.enterprises.models import AnnualReport, ChangeReport, Enterprise
from registry.policies.rules import Rules, load_rules
from registry.reminders import duedates as dd
from registry.reminders import kinds, wanted
from registry.reminders import services as reminders
from registry.runs import ledger as jobruns
from registry.titles.flags import mark_many_review_ineligible
from registry.titles.models import Ban, Certification
from registry.titles.services import EventInput, apply_event

SCAN_ACTOR = system_actor("job", "scan")


@dataclass
class ScanReport:
    """What one scan did (or, in a dry run, would do)."""

    today: date
    transitions: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    bans_lifted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reminders: reminders.ReminderReport = field(default_factory=reminders.ReminderReport)

    def counts(self) -> dict[str, int]:
        """Numbers for the run ledger and the audit trail."""
        r = self.reminders
        return {"transitions": len(self.transitions), "flags": len(self.flags), "bans_lifted": len(self.bans_lifted),
                "reminders_armed": r.armed, "reminders_retired": r.retired + r.superseded,
                "reminders_queued": r.queued, "messages": r.messages, "warnings": len(self.warnings)}


def _guarded(session: Session, report: ScanReport, what: str, change: Callable[[], object]) -> object:
    """Apply one change under a savepoint; a refusal is reported, not fatal."""
    try:
        with session.begin_nested():
            return change()
    except DomainError as exc:
        report.warnings.append(f"{what}：{exc.message}")
        return None


def end_missed_reviews(session: Session, *, actor: Actor, rules: Rules, today: date, at: datetime,
                       report: ScanReport) -> None:
    """Expire or revoke (as the policy says) active titles whose validity ended before `today`."""
    tiers = dd.TierCache(rules)
    ids = session.scalars(sa.select(Certification.id).where(
        Certification.status == Status.ACTIVE, Certification.valid_until < today)
        .order_by(Certification.valid_until, Certification.id)).all()
    for cert_id in ids:
        cert = session.get(Certification, cert_id)
        if cert is None or cert.status != Status.ACTIVE:  # ended meanwhile by an all-tiers cascade
            continue
        assert cert.valid_until is not None
        tier, effective = tiers(cert.tier, cert.policy_code), cert.valid_until + timedelta(days=1)
        window = review_window(tier, cert.valid_until, rules.calendar)
        if window is not None and today <= window.closes:
            continue  # the review may still be submitted (window's last day moved off a rest day, or post-expiry)
        if window is not None and window.provisional:
            report.warnings.append(f"#{cert.id} 复核窗口截止日 {window.closes} 为暂定（缺少节假日数据），暂不处理")
            continue
        note = f"有效期至 {cert.valid_until}，届满前未提交复核，按政策（{tier.policy_code}）自动处理"
        event = (EventInput(Event.REVOKE, effective, reason_code=MISSED_REVIEW_REASON, note=note)
                 if tier.missed_review == "revoke" else EventInput(Event.EXPIRE, effective, note=note))
        label = f"#{cert.id} {cert.enterprise.name} {tier.name}"
        done = _guarded(session, report, label, lambda cid=cert.id, ev=event: apply_event(
            session, actor=actor, rules=rules, certification_id=cid, event=ev, at=at, today=today))
        if done is not None:
            report.transitions.append(f"{label}：{'撤销' if event.action == Event.REVOKE else '到期'}"
                                      f"（生效 {effective}）")


def _lose_eligibility(session: Session, actor: Actor, flags: list[tuple[Certification, Tier, str, str]], at: datetime,
                      report: ScanReport) -> None:
    """Flag (title, tier, cause, why) in the order given, all at once (one flush, the events appended together)."""
    flagged = {c.id for c in mark_many_review_ineligible(session, actor=actor, flags=[(c, cause) for c, _, cause, _
                                                                                      in flags], at=at)}
    for cert, tier, _, why in flags:
        if cert.id in flagged:
            flagged.discard(cert.id)  # a title named twice is flagged (and reported) once
            report.flags.append(f"#{cert.id} {cert.enterprise.name} {tier.name}：丧失复核资格（{why}）")


def _titles(session: Session, ids: list[int]) -> list[Certification]:
    """The titles of `ids` with their enterprises, in the order of `ids` (one query a slice, not one a title)."""
    found: dict[int, Certification] = {}
    for part in dd.slices(ids):
        found.update((c.id, c) for c in session.scalars(sa.select(Certification).where(Certification.id.in_(part))
                                                        .options(selectinload(Certification.enterprise))))
    return [found[i] for i in ids]


def flag_missed_annual_updates(session: Session, *, actor: Actor, rules: Rules, today: date, at: datetime,
                               report: ScanReport) -> None:
    """Titles whose latest annual update (due before `today`) was not filed lose review eligibility.

    SQL returns only titles that still have it to lose (eligible, under a policy that takes it,
    their term begun by the due date), grouped by enterprise as the reminders group them.
    """
    tiers = dd.TierCache(rules)
    for cls, by_year in dd.passed_classes(rules, today):  # each region by its own date (deadline overrides)
        for year, dues in by_year.items():
            for month_day, due in dues.items():
                if due.provisional:
                    warning = (f"{year} 年度信息更新截止日 {due.on} 为暂定（缺少 "
                               f"{', '.join(map(str, due.missing_years))} 年节假日数据），暂不处理")
                    if warning not in report.warnings:
                        report.warnings.append(warning)
                    continue
                _flag_missed_annual(session, actor, rules, tiers, cls, year, month_day, due, at, report)


def _flag_missed_annual(session: Session, actor: Actor, rules: Rules, tiers: dd.TierCache, cls: RegionClass,
                        year: int, month_day: tuple[int, int], due: DueDate, at: datetime,
                        report: ScanReport) -> None:
    losing = [(code, key, tier.requires_audit_code) for code, key, tier in wanted.tiers(rules)
              if tier.annual_update_due == month_day and tier.missed_annual_update == "lose_review_eligibility"]
    # a report counts only when submitted on or before the due date (as moved off rest days, or as the
    # region's override sets it) and, where the tier requires it (财办会〔2024〕15号), with its audit report's 验证码
    on_time = sa.select(AnnualReport.id).where(AnnualReport.enterprise_id == Certification.enterprise_id,
                                               AnnualReport.year == year - 1, AnnualReport.submitted_on <= due.on)
    with_code = on_time.where(sa.func.length(sa.func.trim(sa.func.coalesce(AnnualReport.audit_report_code, ""))) > 0)
    plain = [(c, k) for c, k, needs in losing if not needs]
    coded = [(c, k) for c, k, needs in losing if needs]
    rows = session.execute(sa.select(Certification.id, Certification.enterprise_id).where(
        Certification.status.in_(LIVE), Certification.recognized_on < date(year, 1, 1),
        Certification.review_eligible.is_(True), Certification.valid_from <= due.on,
        dd.in_class(Certification.region_code, cls),
        sa.or_(sa.and_(wanted.tier_is(rules, plain), ~sa.exists(on_time)),
               sa.and_(wanted.tier_is(rules, coded), ~sa.exists(with_code))))
        .order_by(Certification.id)).all()
    by_enterprise: dict[int, list[int]] = defaultdict(list)
    for cert_id, enterprise_id in rows:
        by_enterprise[enterprise_id].append(cert_id)
    why = f"{year} 年度信息更新 {due.on} 截止前未按要求报送"
    _lose_eligibility(session, actor, [(cert, tiers(cert.tier, cert.policy_code), "annual_update_missed", why)
                                       for cert in _titles(session, [i for ids in by_enterprise.values() for i in ids])],
                      at, report)


def flag_unreported_changes(session: Session, *, actor: Actor, rules: Rules, today: date, at: datetime,
                            report: ScanReport) -> None:
    """Titles of enterprises with a major change unreported past its deadline lose review eligibility.

    SQL returns the changes with a title left to flag, and provisional ones to warn about.
    """
    tiers = dd.TierCache(rules)
    eligible = sa.select(Certification.id).where(
        Certification.enterprise_id == ChangeReport.enterprise_id, Certification.status.in_(LIVE),
        Certification.review_eligible.is_(True))
    losing = [(code, key) for code, key, tier in wanted.tiers(rules)
              if tier.missed_change_report == "lose_review_eligibility"]
    to_flag = eligible.where(Certification.recognized_on <= ChangeReport.deadline_on, wanted.tier_is(rules, losing))
    # (a change reported late has its consequence when the report is recorded: mark_change_reported)
    overdue = session.scalars(sa.select(ChangeReport).where(
        ChangeReport.reported_on.is_(None), ChangeReport.deadline_on < today, sa.or_(
            sa.and_(ChangeReport.deadline_provisional.is_(True), sa.exists(eligible)),
            sa.and_(ChangeReport.deadline_provisional.is_not(True), sa.exists(to_flag))))
        .order_by(ChangeReport.id)  # their enterprises' titles in two more queries, not two a change
        .options(selectinload(ChangeReport.enterprise).selectinload(Enterprise.certifications))).all()
    flags: list[tuple[Certification, Tier, str, str]] = []
    for change in overdue:
        if change.deadline_provisional:
            report.warnings.append(f"重大变化报告 #{change.id} 截止日 {change.deadline_on} 为暂定，暂不处理")
            continue
        for cert in change.enterprise.certifications:
            tier = tiers(cert.tier, cert.policy_code)
            if (cert.status in LIVE and cert.review_eligible and cert.recognized_on <= change.deadline_on
                    and tier.missed_change_report == "lose_review_eligibility"):
                flags.append((cert, tier, "change_not_reported", f"重大变化报告 {change.deadline_on} 截止未报"))
    _lose_eligibility(session, actor, flags, at, report)


def lift_ended_bans(session: Session, *, actor: Actor, today: date, at: datetime, report: ScanReport) -> None:
    """Lift every ban whose last day is before `today` (lifted_on = the day after it ends)."""
    for ban in session.scalars(sa.select(Ban).where(Ban.lifted_on.is_(None), Ban.ends_on < today).order_by(Ban.id)):
        changes = audit.diff(ban, {"lifted_on": ban.ends_on + timedelta(days=1)})
        session.flush()
        enterprise = session.scalar(sa.select(Enterprise).where(Enterprise.uscc == ban.uscc))
        audit.record(session, actor=actor, action="ban.lifted", entity_type="ban", entity_id=ban.id,
                     enterprise_id=enterprise.id if enterprise else None,
                     region_code=enterprise.region_code if enterprise else None, changes=changes, at=at,
                     why=audit.Why(reason_code=ban.reason_code, note=f"限制申报期至 {ban.ends_on} 届满，自动解除"))
        report.bans_lifted.append(f"禁入 #{ban.id} {ban.uscc}（{ban.reason}）：{ban.lifted_on} 解除")


def run_scan(session: Session, *, rules: Rules, today: date, at: datetime, domain: str,
             actor: Actor = SCAN_ACTOR) -> ScanReport:
    """Do everything due on `today` in the caller's transaction; return what was done."""
    report = ScanReport(today)
    end_missed_reviews(session, actor=actor, rules=rules, today=today, at=at, report=report)
    flag_missed_annual_updates(session, actor=actor, rules=rules, today=today, at=at, report=report)
    flag_unreported_changes(session, actor=actor, rules=rules, today=today, at=at, report=report)
    lift_ended_bans(session, actor=actor, today=today, at=at, report=report)
    items = reminders.plan(session, rules, today, at, report.reminders)
    reminders.queue_due(session, items, today, at, domain=domain, report=report.reminders)
    if any(item.provisional for item in items.values()) or session.scalar(wanted.provisional(rules, today, kinds.in_sql())):
        report.warnings.append("部分截止日期为暂定（缺少节假日数据），请管理员录入当年国务院放假通知")
    return report


@dataclass(frozen=True)
class ScanOutcome:
    """The result of `scan_once`: the report, or why nothing ran."""

    report: ScanReport | None
    skipped: bool = False  #: (scan, D) had already been claimed: nothing was done
    already_done: bool = False  #: a dry run for a day whose scan has already succeeded


def scan_once(sessions: sessionmaker[Session], *, policies: PolicySet, today: date,
              clock: Callable[[], datetime], domain: str, dry_run: bool = False) -> ScanOutcome:
    """Claim (scan, today) and scan in one transaction; a dry run rolls everything back."""
    with sessions() as session:
        try:
            outcome = _scan_in(session, policies=policies, today=today, clock=clock, domain=domain, dry_run=dry_run)
        except Exception as exc:
            session.rollback()
            if not dry_run:
                with sessions.begin() as failed:
                    jobruns.record_failure(failed, job_name=jobruns.SCAN, run_on=today, at=clock(),
                                           error=f"{exc.__class__.__name__}: {exc}")
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()
        return outcome


def _scan_in(session: Session, *, policies: PolicySet, today: date, clock: Callable[[], datetime], domain: str,
             dry_run: bool) -> ScanOutcome:
    at = clock()
    if session.get_bind().dialect.name == "postgresql":
        # No JIT compilation in the scan's transaction: the annual-update flags' statement (two correlated NOT
        # EXISTS under an OR of tiers) is costed at ~1.4M, over jit_above_cost, and compiling its 22 expression
        # functions took 0.85 s of its 1.1 s at 100,000 enterprises; the scan's statements are short (RESULTS.md).
        session.execute(sa.text("SET LOCAL jit = off"))
    if dry_run:
        done = jobruns.is_done(session, job_name=jobruns.SCAN, run_on=today)
        return ScanOutcome(run_scan(session, rules=load_rules(session, policies), today=today, at=at, domain=domain),
                           already_done=done)
    run_id = jobruns.claim(session, job_name=jobruns.SCAN, run_on=today, at=at)
    if run_id is None:
        return ScanOutcome(None, skipped=True)
    report = run_scan(session, rules=load_rules(session, policies), today=today, at=at, domain=domain)
    counts = report.counts()
    audit.record(session, actor=SCAN_ACTOR, action="job.scan_completed", entity_type="job_run", entity_id=run_id,
                 changes={k: [None, v] for k, v in counts.items() if v}, at=at,
                 why=audit.Why(note=f"每日扫描 {today}"))
    jobruns.finish(session, run_id, at=clock(), detail={"today": today.isoformat(), **counts,
                                                         "warnings_text": report.warnings[:20]})
    return ScanOutcome(report)
