"""Periodic reports of a title (issue 17 point 3): what its tier declares, when each is next due, filings.

A tier's `[[tiers.reports]]` (registry.domain.listings.PeriodicReport) — Chongqing 领军企业's 一企一策
plan, quarterly summary and yearly evaluation — is owed by every live title of the tier. Periods start
with the one the title's recognition (入选) falls in; `next_due_report` gives the earliest period not
yet filed. An officer records a filing (report, period, filed day): never on an ended title, never
twice for one period, never for a period that has not begun. The reminder kind `periodic_report`
(registry/reminders/kinds.py) and 待办 read `due_reports`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, RuleViolation
from registry.domain.lifecycle import LIVE, STATUS_NAMES, Status
from registry.domain.listings import PeriodicReport, next_due_report, parse_period, period_begun, report_period
from registry.domain.policy import Tier
from registry.enterprises.locks import lock_enterprise_of
from registry.enterprises.queries import in_region
from registry.policies.rules import Rules
from registry.titles.fields import REPORT_FILING
from registry.titles.models import Certification, ReportFiling
from registry.titles.services import get_certification

FILING_FIELDS = ("report_code", "period", "filed_on", "note")


@dataclass(frozen=True)
class DueReport:
    """The next period of one declared report of a title, and its last day."""

    certification: Certification
    tier: Tier
    report: PeriodicReport
    period: str
    due_on: date

    @property
    def period_name(self) -> str:
        """The period in Chinese: 2027年, 2027年第1季度, 入选后."""
        return period_name(self.period)


def period_name(period: str) -> str:
    """Write a period key in Chinese."""
    if period == "once":
        return "入选后"
    if len(period) == 6:
        return f"{period[:4]}年第{period[5]}季度"
    return f"{period}年"


def tier_of(rules: Rules, cert: Certification) -> Tier:
    """The tier of `cert` under the policy it was granted under."""
    return rules.policies.tier(cert.tier, policy_code=cert.policy_code)


def filed_periods(session: Session, certification_ids: Collection[int]) -> dict[tuple[int, str], set[str]]:
    """The filed periods by (certification id, report code)."""
    found: dict[tuple[int, str], set[str]] = {}
    if not certification_ids:
        return found
    rows = session.execute(sa.select(ReportFiling.certification_id, ReportFiling.report_code, ReportFiling.period)
                           .where(ReportFiling.certification_id.in_(sorted(certification_ids))))
    for cert_id, code, period in rows:
        found.setdefault((cert_id, code), set()).add(period)
    return found


def reporting_titles(session: Session, rules: Rules, region: str | None = None) -> list[tuple[Certification, Tier]]:
    """Live titles whose tier declares reports (few tiers do: the query is narrowed to them)."""
    tiers = {(t.code, p.code) for p in rules.policies.policies for t in p.tiers if t.reports}
    if not tiers:
        return []
    codes = sorted({code for code, _ in tiers})
    certs = session.scalars(sa.select(Certification).where(
        Certification.status.in_(sorted(LIVE)), Certification.tier.in_(codes),
        in_region(Certification.region_code, region)).order_by(Certification.id))
    return [(c, tier_of(rules, c)) for c in certs if (c.tier, c.policy_code) in tiers]


def due_reports(session: Session, rules: Rules, region: str | None = None,
                titles: list[tuple[Certification, Tier]] | None = None) -> Iterator[DueReport]:
    """The next due period of every declared report of every live reporting title (of `titles` when given)."""
    titles = reporting_titles(session, rules, region) if titles is None else titles
    filed = filed_periods(session, [c.id for c, _ in titles])
    for cert, tier in titles:
        for report in tier.reports:
            found = next_due_report(report, cert.recognized_on, filed.get((cert.id, report.code), set()), date.max)
            if found is not None:
                yield DueReport(cert, tier, report, found[0], found[1])


def filings_of(session: Session, certification_ids: Collection[int]) -> list[ReportFiling]:
    """Every filing of the titles, latest period first."""
    if not certification_ids:
        return []
    return list(session.scalars(sa.select(ReportFiling).where(
        ReportFiling.certification_id.in_(sorted(certification_ids)))
        .order_by(ReportFiling.certification_id, ReportFiling.report_code, ReportFiling.period.desc())))


def record_filing(session: Session, *, actor: Actor, rules: Rules, certification_id: int, report_code: str,
                  period: str | None, filed_on: date, at: datetime, today: date,
                  note: str | None = None) -> ReportFiling:
    """Record that a declared report of a live title was filed for a period, audited.

    :raises RuleViolation: an undeclared report, a period not fitting its rhythm or not begun, a filed
        day in the future or before the title's recognition (each naming its field).
    :raises Conflict: the title has ended, or the period is already filed.
    """
    require(actor, Action.WRITE)
    guards.check_not_future("filed_on", REPORT_FILING["filed_on"].label, filed_on, today)
    lock_enterprise_of(session, Certification, certification_id)
    cert = get_certification(session, actor, certification_id)
    tier = tier_of(rules, cert)
    if cert.status not in LIVE:
        raise Conflict(f"称号当前状态为「{STATUS_NAMES[Status(cert.status)]}」，已终止的称号不能再登记定期报告"
                       " / the title has ended", field="certification")
    report = next((r for r in tier.reports if r.code == report_code), None)
    if report is None:
        declared = "、".join(r.name for r in tier.reports) or "无"
        raise RuleViolation.on("report_code", f"{tier.name}没有报告“{report_code}”；本层级要求的报告：{declared}")
    year, quarter = parse_period(report, period or "")
    key = report_period(report, year, quarter)
    if not period_begun(report, year, quarter, today):
        raise RuleViolation.on("period", f"报告期（{period_name(key)}）尚未开始，不能登记将来的报告期")
    guards.check_not_before("filed_on", REPORT_FILING["filed_on"].label, filed_on, cert.recognized_on, "认定日期")
    if key != "once" and year < cert.recognized_on.year:
        raise RuleViolation.on("period", f"报告期（{period_name(key)}）早于认定年份（{cert.recognized_on.year}年）")
    same = session.scalar(sa.select(ReportFiling.id).where(
        ReportFiling.certification_id == cert.id, ReportFiling.report_code == report.code,
        ReportFiling.period == key).limit(1))
    if same is not None:
        raise Conflict(f"“{report.name}”{period_name(key)}已登记报送（可能是重复提交），请刷新后查看"
                       " / already filed for this period", field="period")
    filing = ReportFiling(certification_id=cert.id, report_code=report.code, period=key, filed_on=filed_on,
                          note=(note or "").strip() or None)
    session.add(filing)
    session.flush()
    audit.record(session, actor=actor, action="report_filing.recorded", entity_type="report_filing",
                 entity_id=filing.id, enterprise_id=cert.enterprise_id, region_code=cert.region_code,
                 changes={"certification_id": [None, cert.id], **audit.snapshot(filing, FILING_FIELDS)}, at=at)
    return filing


@dataclass(frozen=True)
class ReportRow:
    """One declared report of one title on the enterprise page: its next due period and its filings."""

    certification: Certification
    tier: Tier
    report: PeriodicReport
    due: DueReport | None  #: None: the title has ended, or a once-only report is filed
    filings: list[ReportFiling]


def report_rows(session: Session, rules: Rules, certifications: list[Certification]) -> list[ReportRow]:
    """Each declared report of each title of an enterprise (titles whose tier declares none are left out)."""
    titles = [(c, tier_of(rules, c)) for c in certifications]
    titles = [(c, t) for c, t in titles if t.reports]
    due = {(d.certification.id, d.report.code): d
           for d in due_reports(session, rules, titles=[(c, t) for c, t in titles if c.status in LIVE])}
    filed: dict[tuple[int, str], list[ReportFiling]] = {}
    for filing in filings_of(session, [c.id for c, _ in titles]):
        filed.setdefault((filing.certification_id, filing.report_code), []).append(filing)
    return [ReportRow(c, t, r, due.get((c.id, r.code)), filed.get((c.id, r.code), []))
            for c, t in titles for r in t.reports]
