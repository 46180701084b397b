"""Applications up the review chain: apply, one opinion per level in order, quotas, resubmission.

A level acts only on applications of enterprises inside its own region (others are NotFound) and
only at its turn: every level below must have recommended in the current round. A recommendation
is refused past the level's deadline, while a prerequisite is missing or a ban is active, when the
tier needs an audit report verification code the latest report lacks, and beyond the level's
quota for the batch — the refusal names the quota and the applications holding it. A return
sends the application back to the enterprise; resubmitting starts a new round from the bottom,
which frees the slots the old round's recommendations held.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry import audit
from registry.domain.actors import Action, Actor, require, require_scope
from registry.domain.eligibility import check_grant
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.lifecycle import LIVE
from registry.domain.policy import Tier
from registry.domain.regions import contains
from registry.models import (
    AnnualReport, Application, ApplicationStatus, Batch, BatchStatus, Decision, Enterprise, Opinion, Region)
from registry.queries import in_region
from registry.services import Rules
from registry.services.certifications import bans_for, revenue_before
from registry.services.enterprises import get_enterprise
from registry.services.flags import holdings_of
from registry.services.pipeline.common import (
    LEVEL_NAMES, NATIONWIDE, acting_level, chain_for, get_batch, overlaps)
from registry.services.pipeline.facts import judge

APPLICATION_FIELDS = ("batch_id", "enterprise_id", "status", "current_level", "round", "applied_on")


def get_application(session: Session, actor: Actor, application_id: int) -> Application:
    """Load an application of an enterprise inside the actor's region. :raises NotFound:"""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("申请不存在 / application not found")
    require_scope(actor, application.region_code, "申请")
    return application


def _tier(rules: Rules, batch: Batch) -> Tier:
    return rules.policies.tier(batch.tier, policy_code=batch.policy_code)


def _require_open(batch: Batch) -> None:
    if batch.status != BatchStatus.OPEN:
        raise Conflict(f"批次“{batch.name}”已{'进入公示' if batch.status == BatchStatus.PUBLICITY else '办结'}，"
                       f"不再受理申请和推荐意见 / batch is {batch.status.value}", status=batch.status.value)


def apply(session: Session, *, actor: Actor, rules: Rules, batch_id: int, enterprise_id: int, today: date,
          at: datetime) -> Application:
    """Record an enterprise's application in a batch, with its criteria report as of today."""
    require(actor, Action.WRITE)
    batch = get_batch(session, actor, batch_id)
    _require_open(batch)
    enterprise = get_enterprise(session, actor, enterprise_id)
    if batch.region_code != NATIONWIDE and not contains(batch.region_code, enterprise.region_code):
        raise RuleViolation.on("enterprise_id", f"企业不在本批次的地区（{batch.region_code}）内 / outside the batch's region")
    existing = session.scalar(sa.select(Application.id).where(Application.batch_id == batch.id,
                                                              Application.enterprise_id == enterprise.id))
    if existing is not None:
        raise Conflict(f"该企业已在本批次申报（申请 #{existing}） / already applied", field="enterprise_id",
                       existing_id=existing)
    tier = _tier(rules, batch)
    _, snapshot = judge(session, rules, tier, enterprise, year=batch.year - 1, on=today, stage="title")
    first = chain_for(tier, enterprise.region_code)[0]
    application = Application(batch_id=batch.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                              status=ApplicationStatus.IN_REVIEW, current_level=first, round=1, applied_on=today,
                              evaluation=snapshot, created_at=at, updated_at=at)
    session.add(application)
    session.flush()
    audit.record(session, actor=actor, action="application.created", entity_type="application",
                 entity_id=application.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 at=at, changes=audit.snapshot(application, APPLICATION_FIELDS))
    return application


def _check_turn(actor: Actor, application: Application, chain: tuple[str, ...], level: str) -> None:
    if level not in chain:
        raise RuleViolation.on("level", f"{level} 不在该申请的推荐链（{'→'.join(chain)}）中 / not a level of the chain")
    mine = acting_level(actor.region_code)
    if mine != level:
        raise RuleViolation.on("level", f"您所在地区（{actor.region_code}）为{LEVEL_NAMES[mine]}，不能出具"
                                        f"{LEVEL_NAMES[level]}意见 / your office acts at the {mine} level")
    if application.status != ApplicationStatus.IN_REVIEW or application.current_level is None:
        raise Conflict(f"申请状态为 {application.status.value}，不在推荐流程中 / not in review",
                       status=application.status.value)
    current = application.current_level
    if chain.index(level) > chain.index(current):
        raise Conflict(f"须待{LEVEL_NAMES[current]}推荐后才能出具{LEVEL_NAMES[level]}意见"
                       f" / waiting for the {current} level's recommendation", current_level=current)
    if level != current:
        raise Conflict(f"{LEVEL_NAMES[level]}已出具意见 / this level has already given its opinion",
                       current_level=current)


def quota_holders(session: Session, batch: Batch, region_code: str, level: str) -> list[Application]:
    """Return the applications whose standing recommendation at `level` uses `region_code`'s quota."""
    return list(session.scalars(
        sa.select(Application)
        .join(Opinion, sa.and_(Opinion.application_id == Application.id, Opinion.round == Application.round))
        .where(Application.batch_id == batch.id, Opinion.level == level, Opinion.decision == Decision.RECOMMEND,
               in_region(Application.region_code, region_code))
        .order_by(Application.id)))


def _check_quota(session: Session, batch: Batch, application: Application, level: str) -> None:
    # Serialise recommendations within a batch so two officers cannot both take the last slot
    # (FOR UPDATE on PostgreSQL; SQLite's single writer already serialises).
    session.execute(sa.select(Batch.id).where(Batch.id == batch.id).with_for_update())
    for code, quota in batch.quotas.items():
        if acting_level(code) != level or not contains(code, application.region_code):
            continue
        holders = [a for a in quota_holders(session, batch, code, level) if a.id != application.id]
        if len(holders) >= quota:
            region = session.get(Region, code)
            held = "、".join(f"#{a.id} {a.enterprise.name}" for a in holders) or "无"
            raise Conflict(f"{region.name if region else code}（{code}）在“{batch.name}”的{LEVEL_NAMES[level]}推荐名额为 "
                           f"{quota} 个，已全部使用（{held}） / the quota of {quota} for {code} is used by "
                           f"applications {[a.id for a in holders]}",
                           field="quota", region_code=code, quota=quota, held_by=[a.id for a in holders])


def _check_audit_code(session: Session, enterprise: Enterprise) -> None:
    latest = session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == enterprise.id)
                            .order_by(AnnualReport.year.desc()).limit(1))
    if latest is None:
        raise RuleViolation.on("audit_report_code", "无年度报告，无法核验审计报告验证码（财办会〔2024〕15号）"
                                                    " / no annual report with an audit verification code")
    if not (latest.audit_report_code or "").strip():
        raise RuleViolation.on("audit_report_code", f"最近一期（{latest.year}年）年度报告的审计报告缺少验证码"
                                                    "（财办会〔2024〕15号），不能推荐 / the latest audit report has no"
                                                    " verification code")


def _check_recommendable(session: Session, rules: Rules, tier: Tier, batch: Batch, application: Application,
                         level: str, on: date) -> None:
    deadline = batch.deadlines.get(level)
    if deadline is not None and on > date.fromisoformat(deadline):
        raise RuleViolation.on("level", f"{LEVEL_NAMES[level]}推荐截止日期为 {deadline}，已逾期 / past the deadline")
    enterprise = application.enterprise
    check_grant(tier, on, holdings_of([c for c in enterprise.certifications if c.status in LIVE]),
                bans_for(session, enterprise.uscc), revenue_before(session, enterprise.id, on), rules.tier_names())
    if tier.requires_audit_code:
        _check_audit_code(session, enterprise)
    _check_quota(session, batch, application, level)


def record_opinion(session: Session, *, actor: Actor, rules: Rules, application_id: int, level: str,
                   decision: str, note: str | None, on: date, at: datetime) -> Opinion:
    """Record a level's opinion (recommend, return for correction, reject) on an application."""
    require(actor, Action.WRITE)
    application = get_application(session, actor, application_id)
    batch = application.batch
    _require_open(batch)
    try:
        choice = Decision(decision)
    except ValueError:
        raise RuleViolation.on("decision", "意见应为 recommend、return 或 reject / unknown decision") from None
    tier = _tier(rules, batch)
    chain = chain_for(tier, application.region_code)
    _check_turn(actor, application, chain, level)
    text = (note or "").strip()
    if choice != Decision.RECOMMEND and not text:
        raise RuleViolation.on("note", "退回或不予推荐须说明理由 / a return or rejection needs a note")
    if choice == Decision.RECOMMEND:
        _check_recommendable(session, rules, tier, batch, application, level, on)
    opinion = Opinion(application_id=application.id, round=application.round, level=level, decision=choice,
                      officer=actor.label, officer_user_id=actor.user_id, region_code=actor.region_code,
                      decided_on=on, note=text, created_at=at)
    session.add(opinion)
    after = _after(chain, level, choice)
    changes = audit.diff(application, after)
    application.updated_at = at
    session.flush()
    audit.record(session, actor=actor, action=f"application.{choice.value}", entity_type="application",
                 entity_id=application.id, enterprise_id=application.enterprise_id,
                 region_code=application.region_code, at=at, why=audit.Why(note=text or None),
                 changes={"level": [None, level], "decision": [None, choice.value], "round": [None, opinion.round],
                          **changes})
    return opinion


def _after(chain: tuple[str, ...], level: str, choice: Decision) -> dict[str, Any]:
    if choice == Decision.RETURN:
        return {"status": ApplicationStatus.RETURNED, "current_level": None}
    if choice == Decision.REJECT:
        return {"status": ApplicationStatus.REJECTED, "current_level": None}
    rest = chain[chain.index(level) + 1:]
    if rest:
        return {"status": ApplicationStatus.IN_REVIEW, "current_level": rest[0]}
    return {"status": ApplicationStatus.RECOMMENDED, "current_level": None}


def resubmit(session: Session, *, actor: Actor, rules: Rules, application_id: int, on: date,
             at: datetime) -> Application:
    """Put a returned application back at the bottom of the chain in a new round."""
    require(actor, Action.WRITE)
    application = get_application(session, actor, application_id)
    _require_open(application.batch)
    if application.status != ApplicationStatus.RETURNED:
        raise Conflict(f"只有被退回的申请才能重新提交（当前 {application.status.value}） / only a returned application"
                       " can be resubmitted", status=application.status.value)
    chain = chain_for(_tier(rules, application.batch), application.region_code)
    changes = audit.diff(application, {"status": ApplicationStatus.IN_REVIEW, "current_level": chain[0],
                                       "round": application.round + 1})
    application.updated_at = at
    session.flush()
    audit.record(session, actor=actor, action="application.resubmitted", entity_type="application",
                 entity_id=application.id, enterprise_id=application.enterprise_id,
                 region_code=application.region_code, at=at, changes={**changes, "on": [None, on.isoformat()]})
    return application


def quota_usage(session: Session, *, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    """Return each quota of the batch with the applications holding it (the batch board's counters)."""
    require(actor, Action.READ)
    batch = get_batch(session, actor, batch_id)
    rows = []
    for code, quota in sorted(batch.quotas.items()):
        if not overlaps(actor, code):
            continue
        region = session.get(Region, code)
        level = acting_level(code)
        holders = quota_holders(session, batch, code, level)
        rows.append({"region_code": code, "region_name": region.name if region else code, "level": level,
                     "quota": quota, "used": len(holders), "held_by": [a.id for a in holders]})
    return rows
