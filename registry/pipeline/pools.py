"""Candidate pools (培育库): run a tier's pre-check over a region's roster; add or remove by hand.

The roster for tier T is every enterprise in the actor's region that holds T's unconditional
prerequisites on the reference date (e.g. a valid 专精特新 for 小巨人) and does not already hold
T or an excluding title. Each is judged on the selection year's previous-year figures; those
that do not fail (符合, or 待人工核实 where the figures cannot decide) and have no blocking
problem (ban, missing prerequisite) become members, each with its criteria report.

Every enterprise the run evaluated, member or not, keeps its verdict (`PoolVerdict`): whether the
run admitted it and, compactly, what did not pass — each failing or undecided criterion with its
rule, the values compared and the source quote, and the blocking problems — so an officer sees why
one was left out. They are written set-based (one INSERT per chunk). `rerun_pool` judges the same
roster again on the pool's own year and reference date and replaces the pool's verdicts in the
caller's transaction: a failure leaves the previous verdicts as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require, require_scope
from registry.domain.criteria import Verdict
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.domain.policy import Tier
from registry.domain.regions import contains
from registry.enterprises.locks import lock_enterprise
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import in_region, valid_on
from registry.enterprises.services import get_enterprise
from registry.pipeline.common import get_pool, required_text, tier_rule
from registry.pipeline.facts import facts_for, judge, load_bans, report
from registry.pipeline.models import Pool, PoolMember, PoolVerdict
from registry.policies.rules import Rules
from registry.titles.models import Certification, CertificationTerm

POOL_FIELDS = ("tier", "policy_code", "year", "figures_year", "reference_on", "region_code", "evaluated")
VERDICT_CHUNK = 1000  #: verdict rows per INSERT
REMOVED_ON_RERUN = "重新核查未通过（由系统移出）"


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


def _compact(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the deepest criteria under `result` that did not pass, each with its rule, values and source."""
    if result.get("verdict") == Verdict.PASS.value:
        return []
    below = [c for child in result.get("children") or [] for c in _compact(child)]
    if below:
        return below
    item = {k: result.get(k) for k in ("id", "name", "verdict", "verdict_name", "detail", "source")}
    item["values"] = [{k: v.get(k) for k in ("label", "value", "display")} for v in result.get("values") or []]
    if result.get("note"):
        item["note"] = result["note"]
    return [item]


def reasons_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Return the compact reasons of a criteria report: what failed first, then what is undecided, then
    the blocking problems (a ban, a missing prerequisite)."""
    items = [i for r in snapshot.get("results") or [] for i in _compact(r)]
    items.sort(key=lambda i: 0 if i["verdict"] == Verdict.FAIL.value else 1)
    return {"criteria": items, "blocking": list(snapshot.get("blocking") or [])}


def _evaluate(session: Session, rules: Rules, rule: Tier, pool: Pool,
              ) -> list[tuple[Enterprise, Verdict, dict[str, Any], bool]]:
    """Judge the pool's roster: each enterprise with its verdict, report and whether the run admits it."""
    roster = session.scalars(roster_for(rule, pool.region_code, pool.reference_on)).all()
    bans = load_bans(session, [e.uscc for e in roster])
    facts = facts_for(session, roster, year=pool.figures_year, on=pool.reference_on,
                      span=rule.criteria.years_needed() + 1, bans=bans)
    out = []
    for enterprise in roster:
        verdict, snapshot = report(rules, rule, facts[enterprise.id], bans[enterprise.uscc], "pool")
        out.append((enterprise, verdict, snapshot, verdict != Verdict.FAIL and not snapshot["blocking"]))
    return out


def _write_verdicts(session: Session, pool: Pool, judged: list[tuple[Enterprise, Verdict, dict[str, Any], bool]],
                    at: datetime) -> None:
    """Replace the pool's verdicts by `judged`, set-based (the pool_verdicts table is not an audited one:
    the run's audit event carries the counts)."""
    session.execute(sa.delete(PoolVerdict).where(PoolVerdict.pool_id == pool.id))
    rows = [{"pool_id": pool.id, "enterprise_id": e.id, "region_code": e.region_code, "verdict": verdict,
             "admitted": admitted, "by_run": True, "reasons": reasons_of(snapshot), "evaluated_at": at}
            for e, verdict, snapshot, admitted in judged]
    for start in range(0, len(rows), VERDICT_CHUNK):
        session.execute(sa.insert(PoolVerdict), rows[start:start + VERDICT_CHUNK])


def run_pool(session: Session, *, actor: Actor, rules: Rules, tier: str, year: int, on: date,
             at: datetime) -> Pool:
    """Pre-check the actor's roster for `tier` on `year - 1`'s figures; keep the candidates and every verdict."""
    require(actor, Action.WRITE)
    rule = tier_rule(rules, tier, on)
    if not 2000 <= year <= on.year + 1:
        raise RuleViolation.on("year", f"年度 {year} 不合理（应在 2000 至 {on.year + 1} 之间）")
    pool = Pool(tier=rule.code, policy_code=rule.policy_code, year=year, figures_year=year - 1,
                reference_on=on, region_code=actor.region_code, evaluated=0, created_by=actor.label,
                created_by_user_id=actor.user_id, created_at=at)
    session.add(pool)
    session.flush()
    judged = _evaluate(session, rules, rule, pool)
    for enterprise, verdict, snapshot, admitted in judged:
        if admitted:
            session.add(PoolMember(pool_id=pool.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                                   verdict=verdict, evaluation=snapshot, included=True))
    pool.evaluated = len(judged)
    session.flush()
    _write_verdicts(session, pool, judged, at)
    candidates = session.scalar(sa.select(sa.func.count()).where(PoolMember.pool_id == pool.id))
    audit.record(session, actor=actor, action="pool.run", entity_type="pool", entity_id=pool.id,
                 region_code=pool.region_code, at=at,
                 changes={**audit.snapshot(pool, POOL_FIELDS), "candidates": [None, candidates],
                          "left_out": [None, len(judged) - candidates]})
    return pool


def rerun_pool(session: Session, *, actor: Actor, rules: Rules, pool_id: int, at: datetime) -> Pool:
    """Judge the pool's roster again (its year, figures year and reference date; the figures as they are
    now) and replace its verdicts. New candidates join; a member the run had admitted and nobody touched
    leaves when it no longer passes; members an officer added or removed by hand keep their status.
    Only the office that ran the pool may re-run it."""
    require(actor, Action.WRITE)
    pool = get_pool(session, actor, pool_id)
    if actor.region_code != pool.region_code:
        raise PermissionDenied(f"只有生成该培育库的单位（{pool.region_code}）可以重新核查")
    session.execute(sa.select(Pool.id).where(Pool.id == pool.id).with_for_update())  # re-runs of one pool in turn
    rule = rules.policies.tier(pool.tier, policy_code=pool.policy_code)
    judged = _evaluate(session, rules, rule, pool)
    members = {m.enterprise_id: m for m in session.scalars(
        sa.select(PoolMember).where(PoolMember.pool_id == pool.id).execution_options(populate_existing=True))}
    added = dropped = 0
    for enterprise, verdict, snapshot, admitted in judged:
        member = members.get(enterprise.id)
        if member is None:
            if admitted:
                session.add(PoolMember(pool_id=pool.id, enterprise_id=enterprise.id,
                                       region_code=enterprise.region_code, verdict=verdict, evaluation=snapshot,
                                       included=True))
                added += 1
            continue
        member.verdict, member.evaluation = verdict, snapshot
        if member.changed_by is None and not member.added_manually and member.included and not admitted:
            member.included, member.reason, member.changed_by, member.changed_at = (
                False, REMOVED_ON_RERUN, actor.label, at)
            dropped += 1
    before = pool.evaluated
    pool.evaluated = len(judged)
    session.flush()
    _write_verdicts(session, pool, judged, at)
    _keep_manual_verdicts(session, rules, rule, pool, {e.id for e, *_ in judged}, at)
    audit.record(session, actor=actor, action="pool.rerun", entity_type="pool", entity_id=pool.id,
                 region_code=pool.region_code, at=at,
                 changes={"evaluated": [before, pool.evaluated], "added": [None, added], "dropped": [None, dropped],
                          "left_out": [None, sum(1 for *_, admitted in judged if not admitted)]})
    return pool


def _keep_manual_verdicts(session: Session, rules: Rules, rule: Tier, pool: Pool, judged: set[int],
                          at: datetime) -> None:
    """Judge again the enterprises added by hand that the run's roster does not hold (their verdict row)."""
    extra = session.scalars(sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                                        PoolMember.added_manually.is_(True))).all()
    for member in extra:
        if member.enterprise_id not in judged:
            verdict, snapshot = judge(session, rules, rule, member.enterprise, year=pool.figures_year,
                                      on=pool.reference_on, stage="pool")
            member.verdict, member.evaluation = verdict, snapshot
            _manual_verdict(session, pool, member.enterprise, verdict, snapshot, at)
    session.flush()


def _manual_verdict(session: Session, pool: Pool, enterprise: Enterprise, verdict: Verdict,
                    snapshot: dict[str, Any], at: datetime) -> None:
    """Keep the verdict of an enterprise judged because an officer added it (not by the run)."""
    session.add(PoolVerdict(pool_id=pool.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                            verdict=verdict, admitted=False, by_run=False, reasons=reasons_of(snapshot),
                            evaluated_at=at))


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
        if session.scalar(sa.select(PoolVerdict.id).where(PoolVerdict.pool_id == pool.id,
                                                          PoolVerdict.enterprise_id == enterprise.id)) is None:
            _manual_verdict(session, pool, enterprise, verdict, snapshot, at)
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


#: the verdict list's filters: everyone evaluated, those in the pool now, those not in it (with the reason)
STANDINGS = {"": "全部", "in": "在库", "out": "未入库"}


def in_pool() -> sa.ColumnElement[bool]:
    """Whether a verdict's enterprise is in the pool now (a member, included)."""
    return sa.and_(PoolMember.id.is_not(None), PoolMember.included.is_(True))


def pool_verdicts(session: Session, *, actor: Actor, pool_id: int, standing: str = "", page: int = 1,
                  per_page: int = 50) -> tuple[list[tuple[PoolVerdict, PoolMember | None, Enterprise]], int]:
    """Return one page of the pool's verdicts inside the actor's region — the candidates first, then those
    left out, each by enterprise — with the member row where there is one; and the total."""
    require(actor, Action.READ)
    pool = get_pool(session, actor, pool_id)
    if standing not in STANDINGS:
        raise RuleViolation.on("standing", "筛选应为：全部、在库或未入库")
    joined = sa.and_(PoolMember.pool_id == PoolVerdict.pool_id, PoolMember.enterprise_id == PoolVerdict.enterprise_id)
    where = [PoolVerdict.pool_id == pool.id, in_region(PoolVerdict.region_code, actor.region_code)]
    if standing == "in":
        where.append(in_pool())
    elif standing == "out":
        where.append(sa.not_(in_pool()))
    total = session.scalar(sa.select(sa.func.count()).select_from(PoolVerdict).outerjoin(PoolMember, joined)
                           .where(*where)) or 0
    order = sa.case((in_pool(), 0), else_=1)
    rows = session.execute(
        sa.select(PoolVerdict, PoolMember, Enterprise).outerjoin(PoolMember, joined)
        .join(Enterprise, Enterprise.id == PoolVerdict.enterprise_id).where(*where)
        .order_by(order, PoolVerdict.enterprise_id).limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [(v, m, e) for v, m, e in rows], total


def enterprise_verdicts(session: Session, *, actor: Actor, enterprise_id: int,
                        limit: int = 20) -> list[tuple[Pool, PoolVerdict, PoolMember | None]]:
    """Return the enterprise's verdict in each pool that evaluated it, newest pool first (a re-run replaces
    a pool's verdicts, so each is the latest of its pool)."""
    require(actor, Action.READ)
    enterprise = get_enterprise(session, actor, enterprise_id)
    joined = sa.and_(PoolMember.pool_id == PoolVerdict.pool_id, PoolMember.enterprise_id == PoolVerdict.enterprise_id)
    rows = session.execute(
        sa.select(Pool, PoolVerdict, PoolMember).join(PoolVerdict, PoolVerdict.pool_id == Pool.id)
        .outerjoin(PoolMember, joined).where(PoolVerdict.enterprise_id == enterprise.id)
        .order_by(Pool.year.desc(), Pool.id.desc()).limit(limit)).all()
    return [(p, v, m) for p, v, m in rows]
