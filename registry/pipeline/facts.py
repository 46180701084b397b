"""Gather what the criteria judge — figures by year, titles held, flags — and build criteria reports.

Flags come from the registry's own records: a major accident in the last N years, a revocation for
dishonesty in the last N years, an active ban, the size class, the audit report's verification
code. The criteria report says so ("据本系统撤销记录"); an officer verifies what the registry cannot know.

"No major accident in the last N years" counts back from the accident's date (`incident_on`, recorded
on the revocation), never from the revocation: an accident on the day N years before the evaluation
date is outside (the N years are the day after it to the evaluation date). A revocation for an
accident whose date was not recorded leaves the flag undecided (None: 待人工核实) when the revocation
falls after that day — the accident may lie inside or before the N years; one revoked on or before
that day is outside whatever the accident's date, since an accident precedes its revocation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.criteria import Facts, Figures, Verdict, evaluate
from registry.domain.eligibility import Ban as BanRule
from registry.domain.eligibility import Holding, check_grant
from registry.domain.errors import RuleViolation
from registry.domain.periods import add_years
from registry.domain.policy import Tier
from registry.enterprises.models import AnnualReport, Enterprise
from registry.policies.rules import Rules
from registry.titles.models import Ban, Certification, CertificationEvent

ACCIDENT_REASONS = frozenset({"major_accident"})
DISHONESTY_REASONS = frozenset({"serious_dishonesty", "fraud", "tax_or_data_fraud"})
CHUNK = 500  #: enterprises per IN (…) list


def _figures(report: AnnualReport) -> Figures:
    ratio = report.debt_ratio / 100 if report.debt_ratio is not None else None  # stored as a percentage
    return Figures(revenue=report.revenue, main_business_revenue=report.main_business_revenue,
                   rd_expense=report.rd_expense, employees=report.employees, rd_staff=report.rd_staff,
                   debt_ratio=ratio, invention_patents=report.invention_patents,
                   audit_report_code=report.audit_report_code, main_product=report.main_product,
                   main_product_revenue=report.main_product_revenue)


Revocation = tuple[date, str, date | None]  #: (effective_on, reason_code, incident_on)


def _clean_for(revocations: Iterable[Revocation], reasons: frozenset[str], on: date, years: int) -> bool:
    """No revocation for one of `reasons` in the `years` before `on` (the record's own date)."""
    since = add_years(on, -years)
    return not any(reason in reasons and since < day <= on for day, reason, _ in revocations)


def accident_free(revocations: Iterable[Revocation], on: date, years: int) -> tuple[bool | None, str]:
    """No major accident in the `years` before `on`, counted from each accident's date; None (with
    why) when an accident's date was not recorded and it may lie inside."""
    since = add_years(on, -years)
    undated = []
    for day, reason, incident in revocations:
        if reason not in ACCIDENT_REASONS:
            continue
        if incident is not None:
            if since < incident <= on:
                return False, ""
        elif day > since:
            undated.append(day)
    if undated:
        days = "、".join(sorted(str(d) for d in undated))
        return None, (f"本系统有因重大事故撤销的记录（撤销日期 {days}），未登记事故发生日期，"
                      f"无法判断事故是否发生在 {add_years(on, -years) + timedelta(days=1)} 至 {on} 之间")
    return True, ""


def _flags(enterprise: Enterprise, report: AnnualReport | None, revocations: list[Revocation],
           bans: list[BanRule], on: date) -> tuple[dict[str, bool | None], dict[str, str]]:
    flags: dict[str, bool | None] = {
        "no_dishonesty_3y": _clean_for(revocations, DISHONESTY_REASONS, on, 3),
        "no_active_ban": not any(b.active_on(on) for b in bans),
    }
    notes: dict[str, str] = {}
    for years in (2, 3):
        flags[f"no_major_accident_{years}y"], why = accident_free(revocations, on, years)
        if why:
            notes[f"no_major_accident_{years}y"] = why
    if enterprise.size_class is not None:  # every size class of 工信部联企业〔2011〕300号 is an SME
        flags["sme"] = True
    if report is not None:
        flags["audit_report_code"] = bool(report.audit_report_code)
    return flags, notes


def load_bans(session: Session, usccs: Sequence[str]) -> dict[str, list[BanRule]]:
    """Return the bans on each USCC (every USCC is a key), as the eligibility rules see them."""
    bans: dict[str, list[BanRule]] = {code: [] for code in usccs}
    codes = list(bans)
    for start in range(0, len(codes), CHUNK):
        for b in session.scalars(sa.select(Ban).where(Ban.uscc.in_(codes[start:start + CHUNK]))):
            bans[b.uscc].append(b.rule())
    return bans


def _chunks(items: Sequence[Enterprise]) -> Iterable[Sequence[Enterprise]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def facts_for(session: Session, enterprises: Sequence[Enterprise], *, year: int, on: date, span: int = 3,
              bans: Mapping[str, list[BanRule]] | None = None) -> dict[int, Facts]:
    """Return each enterprise's facts: the `span` years of figures up to `year`, titles valid on `on`."""
    out: dict[int, Facts] = {}
    for chunk in _chunks(enterprises):
        ids = [e.id for e in chunk]
        reports: dict[int, dict[int, AnnualReport]] = defaultdict(dict)
        for r in session.scalars(sa.select(AnnualReport).where(
                AnnualReport.enterprise_id.in_(ids), AnnualReport.year.between(year - span + 1, year))):
            reports[r.enterprise_id][r.year] = r
        titles: dict[int, set[str]] = defaultdict(set)
        for c in session.scalars(sa.select(Certification).where(Certification.enterprise_id.in_(ids))):
            if Holding(c.tier, c.valid_from, c.valid_until, c.ended_on).valid_on(on):
                titles[c.enterprise_id].add(c.tier)
        revocations: dict[int, list[Revocation]] = defaultdict(list)
        for enterprise_id, day, reason, incident in session.execute(
                sa.select(Certification.enterprise_id, CertificationEvent.effective_on, CertificationEvent.reason_code,
                          CertificationEvent.incident_on)
                .join(CertificationEvent.certification)
                .where(Certification.enterprise_id.in_(ids), CertificationEvent.action == "revoke")):
            revocations[enterprise_id].append((day, reason or "", incident))
        banned = bans if bans is not None else load_bans(session, [e.uscc for e in chunk])
        for e in chunk:
            by_year = reports.get(e.id, {})
            flags, notes = _flags(e, by_year.get(year), revocations[e.id], banned[e.uscc], on)
            out[e.id] = Facts(
                year=year, on=on, region_code=e.region_code, founded_on=e.founded_on,
                figures={y: _figures(r) for y, r in by_year.items()}, titles=frozenset(titles[e.id]),
                flags=flags, flag_notes=notes)
    return out


def revenue_of(facts: Facts) -> Decimal | None:
    """Return the revenue of the facts' figures year (for the revenue-conditioned prerequisites)."""
    report = facts.figures.get(facts.year)
    return report.revenue if report is not None else None


def blocking(rules: Rules, tier: Tier, facts: Facts, bans: list[BanRule]) -> list[str]:
    """Return why the enterprise could not be granted the tier on the facts' date (ban, prerequisite …)."""
    holdings = [Holding(code, facts.on, facts.on) for code in facts.titles]  # valid on that day
    try:
        check_grant(tier, facts.on, holdings, bans, revenue_of(facts), rules.tier_names())
    except RuleViolation as exc:
        return [m for messages in exc.errors.values() for m in messages]
    return []


def report(rules: Rules, tier: Tier, facts: Facts, bans: list[BanRule], stage: str) -> tuple[Verdict, dict[str, Any]]:
    """Evaluate the enterprise; return the verdict and the JSON report (criteria plus blocking problems)."""
    evaluation = evaluate(tier.criteria, facts, stage)
    problems = blocking(rules, tier, facts, bans)
    return evaluation.verdict, {**evaluation.as_dict(), "stage": stage, "policy_code": tier.policy_code,
                                "blocking": problems}


def judge(session: Session, rules: Rules, tier: Tier, enterprise: Enterprise, *, year: int, on: date,
          stage: str) -> tuple[Verdict, dict[str, Any]]:
    """Gather one enterprise's facts and return its verdict and report."""
    bans = load_bans(session, [enterprise.uscc])
    facts = facts_for(session, [enterprise], year=year, on=on, span=tier.criteria.years_needed() + 1, bans=bans)
    return report(rules, tier, facts[enterprise.id], bans[enterprise.uscc], stage)
