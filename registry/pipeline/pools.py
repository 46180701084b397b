"""Candidate pools (培育库): run a tier's pre-check over a region's roster; add or remove by hand.

The roster for tier T is every enterprise in the actor's region that holds T's unconditional
prerequisites on the reference date (e.g. a valid 专精特新 for 小巨人) and does not already hold
T or an excluding title. Each is judged on the selection year's previous-year figures; those
that do not fail (符合, or 待人工核实 where the figures cannot decide) and have no blocking
problem (ban, missing prerequisite) become members, each with its criteria report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require, require_scope
from registry.domain.criteria import Verdict
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.policy import Tier
from registry.domain.regions import contains
from registry.enterprises.locks import lock_enterprise
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import in_region, valid_on
from registry.enterprises.services import get_enterprise
from registry.pipeline.common import get_pool, required_text, tier_rule
from registry.pipeline.facts import facts_for, judge, load_bans, report
from registry.pipeline.models import Pool, PoolMember
from registry.policies.rules import Rules
from registry.titles.models import Certification, CertificationTerm

POOL_FIELDS = ("tier", "policy_code", "year", "figures_year", "reference_on", "region_code", "evaluated")


def _holders(codes: Sequence[str], on: date) -> sa.Select:
    return (sa.select(Certification.enterprise_id)
            .join(CertificationTerm, CertificationTerm.certification_id == Certification.id)
            .where(Certification.tier.in_(codes), valid_on(on)))


def roster_for(tier: Tier, region_code: str, on: date) -> sa.Select:
    """Select the enterprises a pool for `tier` considers (see the module docstring)."""
    stmt = sa.select(Enterprise).where(in_region(Enterprise.region_code, region_code))
    for pre in tier.prerequisites:
        if pre.when_revenue_at_most is None:
            stmt = stmt.where(Enterprise.id.in_(_holders(pre.any_of, on)))
    stmt = stmt.where(Enterprise.id.not_in(_holders((tier.code, *tier.excluded_if_holding), on)))
    return stmt.order_by(Enterprise.id)


def run_pool(session: Session, *, actor: Actor, rules: Rules, tier: str, year: int, on: date,
             at: datetime) -> Pool:
    """Pre-check the actor's roster for `tier` on `year - 1`'s figures and keep the candidates."""
    require(actor, Action.WRITE)
    rule = tier_rule(rules, tier, on)
    if not 2000 <= year <= on.year + 1:
        raise RuleViolation.on("year", f"年度 {year} 不合理 / year out of range")
    pool = Pool(tier=rule.code, policy_code=rule.policy_code, year=year, figures_year=year - 1,
                reference_on=on, region_code=actor.region_code, evaluated=0, created_by=actor.label,
                created_by_user_id=actor.user_id, created_at=at)
    session.add(pool)
    session.flush()
    roster = session.scalars(roster_for(rule, actor.region_code, on)).all()
    bans = load_bans(session, [e.uscc for e in roster])
    facts = facts_for(session, roster, year=year - 1, on=on, span=rule.criteria.years_needed() + 1, bans=bans)
    for enterprise in roster:
        verdict, snapshot = report(rules, rule, facts[enterprise.id], bans[enterprise.uscc], "pool")
        if verdict != Verdict.FAIL and not snapshot["blocking"]:
            session.add(PoolMember(pool_id=pool.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                                   verdict=verdict, evaluation=snapshot, included=True))
    pool.evaluated = len(roster)
    session.flush()
    candidates = session.scalar(sa.select(sa.func.count()).where(PoolMember.pool_id == pool.id))
    audit.record(session, actor=actor, action="pool.run", entity_type="pool", entity_id=pool.id,
                 region_code=pool.region_code, at=at,
                 changes={**audit.snapshot(pool, POOL_FIELDS), "candidates": [None, candidates]})
    return pool


def pool_members(session: Session, *, actor: Actor, pool_id: int, included: bool | None = None) -> list[PoolMember]:
    """List a pool's members inside the actor's region (candidates first, then by enterprise)."""
    require(actor, Action.READ)
    pool = get_pool(session, actor, pool_id)
    stmt = sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                       in_region(PoolMember.region_code, actor.region_code))
    if included is not None:
        stmt = stmt.where(PoolMember.included.is_(included))
    order = sa.case((PoolMember.verdict == Verdict.PASS.value, 0), else_=1)
    return list(session.scalars(stmt.order_by(order, PoolMember.enterprise_id)))


def _member(session: Session, pool: Pool, enterprise_id: int) -> PoolMember | None:
    return session.scalar(sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                                      PoolMember.enterprise_id == enterprise_id)
                          .execution_options(populate_existing=True))  # as it is now, under the lock


def add_candidate(session: Session, *, actor: Actor, rules: Rules, pool_id: int, enterprise_id: int,
                  reason: str, at: datetime) -> PoolMember:
    """Put an enterprise in the pool by hand, with the reason; its report is kept as evaluated now."""
    require(actor, Action.WRITE)
    lock_enterprise(session, enterprise_id)  # a second identical add waits, then finds the member included
    pool = get_pool(session, actor, pool_id)
    enterprise = get_enterprise(session, actor, enterprise_id)
    why = required_text("reason", reason, "加入培育库的理由")
    if not contains(pool.region_code, enterprise.region_code) and pool.region_code != "000000":
        raise RuleViolation.on("enterprise_id", f"企业不在该培育库的地区（{pool.region_code}）内 / outside the pool's region")
    member = _member(session, pool, enterprise.id)
    if member is not None and member.included:
        raise Conflict(f"该企业已在培育库中 / already a member (#{member.id})", field="enterprise_id")
    if member is None:  # judged now on the pool's year and date, so the report is comparable
        rule = rules.policies.tier(pool.tier, policy_code=pool.policy_code)
        verdict, snapshot = judge(session, rules, rule, enterprise, year=pool.figures_year, on=pool.reference_on,
                                  stage="pool")
        member = PoolMember(pool_id=pool.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                            verdict=verdict, evaluation=snapshot, included=False, added_manually=True)
        session.add(member)
    changes = audit.diff(member, {"included": True, "reason": why, "changed_by": actor.label, "changed_at": at})
    session.flush()
    audit.record(session, actor=actor, action="pool.member_added", entity_type="pool_member", entity_id=member.id,
                 enterprise_id=enterprise.id, region_code=enterprise.region_code, at=at,
                 changes={"pool_id": [None, pool.id], "verdict": [None, member.verdict.value], **changes},
                 why=audit.Why(note=why))
    return member


def remove_candidate(session: Session, *, actor: Actor, pool_id: int, enterprise_id: int, reason: str,
                     at: datetime) -> PoolMember:
    """Take an enterprise out of the pool by hand, with the reason (its report stays on record)."""
    require(actor, Action.WRITE)
    lock_enterprise(session, enterprise_id)
    pool = get_pool(session, actor, pool_id)
    member = _member(session, pool, enterprise_id)
    if member is None:
        raise NotFound("该企业不在培育库中 / not a member of this pool")
    require_scope(actor, member.region_code, "培育库成员")
    why = required_text("reason", reason, "移出培育库的理由")
    if not member.included:
        raise Conflict(f"该企业已被移出培育库 / already removed (#{member.id})", field="enterprise_id")
    changes = audit.diff(member, {"included": False, "reason": why, "changed_by": actor.label, "changed_at": at})
    session.flush()
    audit.record(session, actor=actor, action="pool.member_removed", entity_type="pool_member", entity_id=member.id,
                 enterprise_id=enterprise_id, region_code=member.region_code, at=at, changes=changes,
                 why=audit.Why(note=why))
    return member
