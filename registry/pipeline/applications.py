"""Applications up the review chain: apply, one opinion per level in order, quotas, resubmission.

A level acts only on applications of enterprises inside its own region (others are NotFound) and
only at its turn: every level below must have recommended in the current round. A recommendation
is refused past the level's deadline, while a prerequisite is missing or a ban is active, when the
tier needs an audit report verification code the latest report lacks, and beyond the level's
quota for the batch — the refusal names the quota and the applications holding it. A return
sends the application back to the enterprise; once corrected, an officer of its region resubmits
it and a new round starts from the bottom, which frees the slots the old round's recommendations
held.

`plan_opinion` and `plan_resubmission` run every check and say what the change will do without
writing anything (the pages show it for confirmation); `record_opinion` and `resubmit` carry the
plan out, so the preview and the change cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import holders
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, RuleViolation
from registry.domain.listings import check_channel_room
from registry.domain.policy import Tier
from registry.domain.regions import contains
from registry.domain.text import clean_text
from registry.enterprises.locks import lock_enterprise, lock_enterprise_of
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.queries import get_in_region, in_region
from registry.enterprises.services import get_enterprise
from registry.pipeline.common import LEVEL_NAMES, NATIONWIDE, acting_level, chain_for, get_batch, overlaps
from registry.pipeline.facts import judge
from registry.pipeline.models import Application, ApplicationStatus, Batch, BatchStatus, Decision, Opinion
from registry.policies.rules import Rules
from registry.regions.models import Region
from registry.titles.services import check_grant_allowed

APPLICATION_FIELDS = ("batch_id", "enterprise_id", "status", "current_level", "round", "applied_on", "channel",
                      "channel_unit", "outside_quota")


def get_application(session: Session, actor: Actor, application_id: int) -> Application:
    """Load an application of an enterprise inside the actor's region. :raises NotFound:"""
    return get_in_region(session, actor, Application, application_id, "申请", "application")


def _tier(rules: Rules, batch: Batch) -> Tier:
    return rules.policies.tier(batch.tier, policy_code=batch.policy_code)


def _require_open(batch: Batch) -> None:
    if batch.status != BatchStatus.OPEN:
        raise Conflict(f"批次“{batch.name}”已{'进入公示' if batch.status == BatchStatus.PUBLICITY else '办结'}，"
                       f"不再受理申请和推荐意见 / batch is {batch.status.value}", status=batch.status.value)


def apply(session: Session, *, actor: Actor, rules: Rules, batch_id: int, enterprise_id: int, today: date,
          at: datetime, channel: str | None = None, channel_unit: str | None = None,
          outside_quota: bool = False) -> Application:
    """Record an enterprise's application in a batch, with its criteria report as of today.

    With `channel`, the application comes through that recommendation channel of the tier's policy
    for `channel_unit` (a 中央企业, a 行业协会), whose quota it takes unless `outside_quota`.
    """
    require(actor, Action.WRITE)
    lock_enterprise(session, enterprise_id)  # a second identical application waits, then finds the first
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
    channel, channel_unit = _check_channel(session, tier, batch, channel, channel_unit, outside_quota)
    holders.check_holder(tier, str(enterprise.holder_kind), enterprise.name)  # a zone programme takes zones only
    _, snapshot = judge(session, rules, tier, enterprise, year=batch.year - 1, on=today, stage="title")
    first = chain_for(tier, enterprise.region_code)[0]
    application = Application(batch_id=batch.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                              status=ApplicationStatus.IN_REVIEW, current_level=first, round=1, applied_on=today,
                              evaluation=snapshot, created_at=at, updated_at=at, channel=channel,
                              channel_unit=channel_unit, outside_quota=outside_quota)
    session.add(application)
    session.flush()
    audit.record(session, actor=actor, action="application.created", entity_type="application",
                 entity_id=application.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 at=at, changes=audit.snapshot(application, APPLICATION_FIELDS))
    return application


def channel_use(session: Session, batch: Batch, channel: str, unit: str) -> list[Application]:
    """Return the applications of the batch that take a place of `unit`'s quota in `channel`.

    Every application through the channel for the unit counts but those outside the quota and
    those rejected (a rejection frees the place; a return keeps it, as the application may come back).
    """
    return list(session.scalars(
        sa.select(Application).where(Application.batch_id == batch.id, Application.channel == channel,
                                     Application.channel_unit == unit, Application.outside_quota.is_(False),
                                     Application.status != ApplicationStatus.REJECTED)
        .order_by(Application.id)))


def _check_channel(session: Session, tier: Tier, batch: Batch, channel: str | None, unit: str | None,
                   outside_quota: bool) -> tuple[str | None, str | None]:
    """Refuse an unknown channel, a missing unit, a quota already used; return (channel, unit)."""
    if not channel:
        if (unit or "").strip() or outside_quota:
            raise RuleViolation.on("channel", "填写了推荐单位或名额外，但未选择推荐渠道")
        return None, None
    found = tier.channel(channel)
    if found is None:
        known = "、".join(f"{c.code}（{c.name}）" for c in tier.channels) or "无"
        raise RuleViolation.on("channel", f"“{tier.name}”没有推荐渠道 {channel}；可选：{known}")
    name = clean_text(unit or "")
    if not name:
        raise RuleViolation.on("channel_unit", f"请填写推荐单位（{found.unit}）的名称")
    if len(name) > 128:
        raise RuleViolation.on("channel_unit", f"推荐单位名称最多128个字符（现为{len(name)}个）")
    session.execute(sa.select(Batch.id).where(Batch.id == batch.id).with_for_update())  # one place at a time
    check_channel_room(found, name, len(channel_use(session, batch, found.code, name)), outside_quota=outside_quota)
    return found.code, name


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


@dataclass(frozen=True)
class QuotaSlot:
    """A quota of the batch that concerns one application, and the other applications holding it."""

    region_code: str
    region_name: str
    level: str
    quota: int
    held_by: tuple[Application, ...]

    @property
    def full(self) -> bool:
        """Tell whether another recommendation would exceed the quota."""
        return len(self.held_by) >= self.quota


def quota_slots(session: Session, batch: Batch, application: Application,
                levels: tuple[str, ...]) -> list[QuotaSlot]:
    """Return the batch's quotas at `levels` that cover the application's region (it excluded from the holders)."""
    slots = []
    for code, quota in sorted(batch.quotas.items()):
        level = acting_level(code)
        if level not in levels or not contains(code, application.region_code):
            continue
        region = session.get(Region, code)
        holders = tuple(a for a in quota_holders(session, batch, code, level) if a.id != application.id)
        slots.append(QuotaSlot(code, region.name if region else code, level, quota, holders))
    return slots


def held_slots(session: Session, application: Application) -> list[QuotaSlot]:
    """Return the quotas the application's current round of recommendations still holds."""
    recommended = tuple(o.level for o in application.opinions
                        if o.round == application.round and o.decision == Decision.RECOMMEND)
    return quota_slots(session, application.batch, application, recommended)


def _check_quota(session: Session, batch: Batch, application: Application, level: str) -> list[QuotaSlot]:
    # Serialise recommendations within a batch so two officers cannot both take the last slot
    # (FOR UPDATE on PostgreSQL; SQLite's single writer already serialises).
    session.execute(sa.select(Batch.id).where(Batch.id == batch.id).with_for_update())
    slots = quota_slots(session, batch, application, (level,))
    for slot in slots:
        if slot.full:
            held = "、".join(f"#{a.id} {a.enterprise.name}" for a in slot.held_by) or "无"
            ids = [a.id for a in slot.held_by]
            raise Conflict(f"{slot.region_name}（{slot.region_code}）在“{batch.name}”的{LEVEL_NAMES[level]}推荐名额为 "
                           f"{slot.quota} 个，已全部使用（{held}） / the quota of {slot.quota} for {slot.region_code}"
                           f" is used by applications {ids}",
                           field="quota", region_code=slot.region_code, quota=slot.quota, held_by=ids)
    return slots


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
                         level: str, on: date) -> list[QuotaSlot]:
    """Refuse a recommendation past the deadline, while the grant would be refused, without the code, over quota."""
    deadline = batch.deadlines.get(level)
    if deadline is not None and on > date.fromisoformat(deadline):
        raise RuleViolation.on("level", f"{LEVEL_NAMES[level]}推荐截止日期为 {deadline}，已逾期 / past the deadline")
    enterprise = application.enterprise
    check_grant_allowed(session, rules, enterprise, tier, on)  # prerequisites, bans, the 4亿 rule
    if tier.requires_audit_code:
        _check_audit_code(session, enterprise)
    return _check_quota(session, batch, application, level)


@dataclass(frozen=True)
class OpinionPlan:
    """What an opinion will do, worked out by the checks that record it."""

    application: Application
    chain: tuple[str, ...]
    level: str
    decision: Decision
    note: str
    after: dict[str, Any]  #: the application's status and current level afterwards
    quotas: tuple[QuotaSlot, ...] = ()  #: a recommendation: the quotas it takes a place of
    held: tuple[QuotaSlot, ...] = ()  #: a return or rejection: the quotas the round keeps holding


def plan_opinion(session: Session, *, actor: Actor, rules: Rules, application_id: int, level: str,
                 decision: str, note: str | None, on: date) -> OpinionPlan:
    """Check an opinion as `record_opinion` would and return what it will do; nothing is written."""
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
    after = _after(chain, level, choice)
    if choice == Decision.RECOMMEND:
        slots = _check_recommendable(session, rules, tier, batch, application, level, on)
        return OpinionPlan(application, chain, level, choice, text, after, quotas=tuple(slots))
    return OpinionPlan(application, chain, level, choice, text, after, held=tuple(held_slots(session, application)))


def record_opinion(session: Session, *, actor: Actor, rules: Rules, application_id: int, level: str,
                   decision: str, note: str | None, on: date, at: datetime) -> Opinion:
    """Record a level's opinion (recommend, return for correction, reject) on an application."""
    lock_enterprise_of(session, Application, application_id)  # a second identical opinion finds the first
    plan = plan_opinion(session, actor=actor, rules=rules, application_id=application_id, level=level,
                        decision=decision, note=note, on=on)
    application = plan.application
    opinion = Opinion(application_id=application.id, round=application.round, level=level, decision=plan.decision,
                      officer=actor.label, officer_user_id=actor.user_id, region_code=actor.region_code,
                      decided_on=on, note=plan.note, created_at=at)
    session.add(opinion)
    changes = audit.diff(application, plan.after)
    application.updated_at = at
    session.flush()
    audit.record(session, actor=actor, action=f"application.{plan.decision.value}", entity_type="application",
                 entity_id=application.id, enterprise_id=application.enterprise_id,
                 region_code=application.region_code, at=at, why=audit.Why(note=plan.note or None),
                 changes={"level": [None, level], "decision": [None, plan.decision.value],
                          "round": [None, opinion.round], **changes})
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


@dataclass(frozen=True)
class ResubmissionPlan:
    """What resubmitting a returned application will do."""

    application: Application
    chain: tuple[str, ...]
    round: int  #: the new round
    freed: tuple[QuotaSlot, ...]  #: the quotas the old round's recommendations stop holding


def plan_resubmission(session: Session, *, actor: Actor, rules: Rules, application_id: int) -> ResubmissionPlan:
    """Check a resubmission as `resubmit` would and return what it will do; nothing is written."""
    require(actor, Action.WRITE)
    application = get_application(session, actor, application_id)  # an officer of its region (else NotFound)
    _require_open(application.batch)
    if application.status != ApplicationStatus.RETURNED:
        raise Conflict(f"只有被退回补正的申请才能重新提交（当前 {application.status.value}） / only a returned"
                       " application can be resubmitted", status=application.status.value)
    chain = chain_for(_tier(rules, application.batch), application.region_code)
    return ResubmissionPlan(application, chain, application.round + 1, tuple(held_slots(session, application)))


def resubmit(session: Session, *, actor: Actor, rules: Rules, application_id: int, on: date, at: datetime,
             note: str | None = None) -> Application:
    """Put a returned, corrected application back at the bottom of the chain in a new round."""
    lock_enterprise_of(session, Application, application_id)
    plan = plan_resubmission(session, actor=actor, rules=rules, application_id=application_id)
    application = plan.application
    changes = audit.diff(application, {"status": ApplicationStatus.IN_REVIEW, "current_level": plan.chain[0],
                                       "round": plan.round})
    application.updated_at = at
    session.flush()
    text = (note or "").strip() or None
    audit.record(session, actor=actor, action="application.resubmitted", entity_type="application",
                 entity_id=application.id, enterprise_id=application.enterprise_id,
                 region_code=application.region_code, at=at, why=audit.Why(note=text),
                 changes={**changes, "on": [None, on.isoformat()],
                          "freed_quotas": [None, [s.region_code for s in plan.freed]]})
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


def withdraw_application(session: Session, *, actor: Actor, application_id: int, reason: str,
                         at: datetime) -> tuple[int, str]:
    """Withdraw an application registered by mistake (wrong enterprise, wrong batch), with a reason; return the
    batch's id and the enterprise's name.

    Only while the batch still takes applications and before any level has given an opinion: once an office
    has judged it, the way out is that office's opinion (不予推荐), which the chain and the quotas account for.
    The record goes; the trail keeps what it was (`application.withdrawn`, each field before → empty, with the
    reason); reminders of opinions due on it are retired by the next scan.
    :raises RuleViolation: no reason. :raises Conflict: the batch or the application is past that point.
    """
    require(actor, Action.WRITE)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation.on("reason", "请填写撤回原因 / a reason is required")
    if len(reason) > 2000:
        raise RuleViolation.on("reason", "撤回原因最多 2000 个字 / reason too long")
    application = get_application(session, actor, application_id)
    lock_enterprise(session, application.enterprise_id)
    _require_open(application.batch)
    if application.opinions or application.status != ApplicationStatus.IN_REVIEW:
        raise Conflict("该申请已有推荐意见，不能撤回；如不应推荐，请由当前层级出具“不予推荐”意见"
                       " / an application with an opinion cannot be withdrawn", field="application")
    changes = {f: [v, None] for f, (_, v) in audit.snapshot(application, APPLICATION_FIELDS).items()}
    batch_id, name = application.batch_id, application.enterprise.name
    enterprise_id, region_code = application.enterprise_id, application.region_code
    session.delete(application)
    session.flush()
    audit.record(session, actor=actor, action="application.withdrawn", entity_type="application",
                 entity_id=application_id, enterprise_id=enterprise_id, region_code=region_code,
                 changes=changes, at=at, why=audit.Why(note=reason))
    return batch_id, name
