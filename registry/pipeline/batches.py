"""Batches (第N批): create with quotas and per-level deadlines, publicise, finalise.

open → publicity → finalised. Finalising is refused while the publicity window is open or an
objection is unresolved; it grants every fully recommended application that no upheld objection
stands against — through the same grant service as a hand-entered title, recognised on the
publication date — and records every other application's outcome. `plan_finalise` works the
outcomes out without writing (the page shows them for confirmation); `finalise_batch` carries
that plan out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards
from registry.domain.actors import Action, Actor, require, require_scope
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.policy import Tier
from registry.domain.publicity import check_publicity
from registry.domain.regions import contains
from registry.pipeline.common import LEVEL_NAMES, NATIONWIDE, acting_level, get_batch, required_text, tier_rule
from registry.pipeline.models import Application, ApplicationStatus, Batch, BatchStatus, Objection, ObjectionStatus
from registry.policies.rules import Rules
from registry.regions.models import Region
from registry.titles.services import check_grant_allowed, grant_certification, tier_in_force

BATCH_FIELDS = ("tier", "policy_code", "year", "name", "region_code", "quotas", "deadlines", "status")
OUTCOMES = {
    ApplicationStatus.IN_REVIEW: "公示前未完成逐级推荐 / not recommended by every level",
    ApplicationStatus.RETURNED: "退回补正后未重新提交 / returned for correction and not resubmitted",
    ApplicationStatus.REJECTED: "推荐过程中被否决 / rejected during review",
}


def _quotas(session: Session, region_code: str, chain: tuple[str, ...], quotas: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for code, number in quotas.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise RuleViolation.on("quotas", f"{code} 的推荐名额应为非负整数 / quota must be a whole number ≥ 0")
        if session.get(Region, code) is None:
            raise RuleViolation.on("quotas", f"行政区划代码 {code} 不存在 / unknown region code")
        if region_code != NATIONWIDE and not contains(region_code, code):
            raise RuleViolation.on("quotas", f"{code} 不在本批次的地区（{region_code}）内 / outside the batch's region")
        if acting_level(code) not in chain:
            raise RuleViolation.on("quotas", f"{code} 为{LEVEL_NAMES[acting_level(code)]}，不在推荐层级"
                                             f"（{'→'.join(chain)}）中 / that level does not recommend here")
        out[code] = number
    return out


def _deadlines(chain: tuple[str, ...], deadlines: Mapping[str, date | str]) -> dict[str, str]:
    parsed: dict[str, date] = {}
    for level, when in deadlines.items():
        if level not in chain:
            raise RuleViolation.on("deadlines", f"层级 {level} 不在推荐链（{'→'.join(chain)}）中 / not a level of the chain")
        try:
            parsed[level] = when if isinstance(when, date) else date.fromisoformat(str(when))
        except ValueError:
            raise RuleViolation.on("deadlines", f"{level} 的截止日期格式应为 YYYY-MM-DD / not a date: {when!r}") from None
    ordered = [parsed[level] for level in chain if level in parsed]
    if ordered != sorted(ordered):
        raise RuleViolation.on("deadlines", "下级截止日期不能晚于上级 / a lower level's deadline is after a higher one's")
    return {level: parsed[level].isoformat() for level in chain if level in parsed}


def create_batch(session: Session, *, actor: Actor, rules: Rules, tier: str, year: int, name: str,
                 quotas: Mapping[str, Any], deadlines: Mapping[str, date | str], today: date, at: datetime,
                 region_code: str | None = None) -> Batch:
    """Open a batch for `tier` in the actor's region (or a region under it)."""
    require(actor, Action.WRITE)
    rule = tier_rule(rules, tier, today)
    region = region_code or actor.region_code
    try:
        require_scope(actor, region, "地区")
    except NotFound:
        raise RuleViolation.on("region_code", f"地区 {region} 不在您的管辖范围内 / outside your region") from None
    label = required_text("name", name, "批次名称（如“2026年第一批”）")
    if session.scalar(sa.select(Batch.id).where(Batch.tier == rule.code, Batch.year == year, Batch.name == label)):
        raise Conflict(f"{year}年{rule.name}已有批次“{label}” / duplicate batch", field="name")
    chain = rule.review_chain or (rule.authority,)
    batch = Batch(tier=rule.code, policy_code=rule.policy_code, year=year, name=label, region_code=region,
                  quotas=_quotas(session, region, chain, quotas), deadlines=_deadlines(chain, deadlines),
                  status=BatchStatus.OPEN, created_by=actor.label, created_at=at)
    session.add(batch)
    session.flush()
    audit.record(session, actor=actor, action="batch.created", entity_type="batch", entity_id=batch.id,
                 region_code=region, at=at, changes=audit.snapshot(batch, BATCH_FIELDS))
    return batch


@dataclass(frozen=True)
class PublicityPlan:
    """What opening the publicity window will do: who is listed, whose review stops where it stands."""

    batch: Batch
    starts_on: date
    ends_on: date
    published_where: str
    listed: tuple[Application, ...]  #: recommended by every level: publicised
    stopped: tuple[Application, ...]  #: still in review or returned: no more opinions, not granted


def plan_publicity(session: Session, *, actor: Actor, batch_id: int, starts_on: date, ends_on: date,
                   published_where: str, rules: Rules | None = None) -> PublicityPlan:
    """Check opening the publicity window as `start_publicity` would; nothing is written.

    With `rules`, a window shorter than the tier's `publicity_min` (示范区: 不少于五个工作日) is refused.
    """
    require(actor, Action.WRITE)
    batch = get_batch(session, actor, batch_id)
    require_scope(actor, batch.region_code, "批次")
    if batch.status != BatchStatus.OPEN:
        raise Conflict(f"批次已{'进入公示' if batch.status == BatchStatus.PUBLICITY else '办结'}，不能再次公示"
                       f" / batch is {batch.status.value}", status=batch.status.value)
    where = required_text("published_where", published_where, "公示发布渠道（如省经信厅网站）")
    if ends_on < starts_on:
        raise RuleViolation.on("ends_on", f"公示结束日 {ends_on} 早于开始日 {starts_on} / ends before it starts")
    if rules is not None:
        try:
            tier = rules.policies.tier(batch.tier, starts_on)
        except NotFound:
            tier = None
        if tier is not None:
            check_publicity(tier, starts_on, ends_on, rules.calendar)
    listed = tuple(a for a in batch.applications if a.status == ApplicationStatus.RECOMMENDED)
    if not listed:
        raise Conflict("本批次没有已获逐级推荐的申请，无可公示名单 / nothing recommended to publicise")
    stopped = tuple(a for a in batch.applications
                    if a.status in (ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED))
    return PublicityPlan(batch, starts_on, ends_on, where, listed, stopped)


def start_publicity(session: Session, *, actor: Actor, batch_id: int, starts_on: date, ends_on: date,
                    published_where: str, at: datetime, rules: Rules | None = None) -> Batch:
    """Publish the fully recommended applications for objections from `starts_on` to `ends_on`."""
    plan = plan_publicity(session, actor=actor, batch_id=batch_id, starts_on=starts_on, ends_on=ends_on, rules=rules,
                          published_where=published_where)
    batch = plan.batch
    changes = audit.diff(batch, {"status": BatchStatus.PUBLICITY, "publicity_starts_on": starts_on,
                                 "publicity_ends_on": ends_on, "published_where": plan.published_where})
    session.flush()
    audit.record(session, actor=actor, action="batch.publicity", entity_type="batch", entity_id=batch.id,
                 region_code=batch.region_code, at=at, changes=changes)
    return batch


def _open_objections(session: Session, batch: Batch) -> list[int]:
    return list(session.scalars(sa.select(Objection.id).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.OPEN).order_by(Objection.id)))


def _check_finalisable(session: Session, batch: Batch, published_on: date, today: date) -> None:
    if batch.status != BatchStatus.PUBLICITY:
        raise Conflict(f"批次状态为 {batch.status.value}，须先公示 / batch must be in publicity to finalise",
                       status=batch.status.value)
    ends = batch.publicity_ends_on or today  # always set once in publicity
    if today <= ends:
        raise Conflict(f"公示期至 {ends} 止，尚未结束，不能办结 / the publicity window is open until {ends}",
                       publicity_ends_on=ends.isoformat())
    pending = _open_objections(session, batch)
    if pending:
        raise Conflict(f"尚有 {len(pending)} 件异议未处理（{', '.join(f'#{i}' for i in pending)}），不能办结"
                       f" / unresolved objections: {pending}", objections=pending)
    if published_on <= ends:
        raise RuleViolation.on("published_on", f"公布日期应在公示期结束（{ends}）之后 / must be after the publicity window")
    guards.check_not_future("published_on", "名单公布日期", published_on, today)


@dataclass(frozen=True)
class Settlement:
    """One application's outcome when the batch is finalised: granted, or not and why."""

    application: Application
    grant: bool
    note: str | None = None  #: why it is not granted


@dataclass(frozen=True)
class FinalisePlan:
    """What finalising will do: the batch, the recognition date and every application's outcome."""

    batch: Batch
    published_on: date
    tier: Tier  #: the tier in force on the publication date: the terms the titles get
    settlements: tuple[Settlement, ...]

    @property
    def granted(self) -> list[Application]:
        """Return the applications that will be granted."""
        return [s.application for s in self.settlements if s.grant]

    @property
    def not_granted(self) -> list[Settlement]:
        """Return the applications that will not be granted, with why."""
        return [s for s in self.settlements if not s.grant]


def _settlement(session: Session, rules: Rules, tier: Tier, application: Application, upheld: set[int],
                published_on: date) -> Settlement:
    """Decide one application's outcome: only a recommended, unchallenged one that may be granted is."""
    if application.status != ApplicationStatus.RECOMMENDED:
        return Settlement(application, False, OUTCOMES.get(application.status, application.status.value))
    if application.id in upheld:
        return Settlement(application, False, "公示期间异议成立 / an objection was upheld")
    try:  # e.g. a ban that began after the recommendation
        check_grant_allowed(session, rules, application.enterprise, tier, published_on)
    except RuleViolation as exc:
        return Settlement(application, False, "不予认定：" + "；".join(m for ms in exc.errors.values() for m in ms))
    return Settlement(application, True)


def plan_finalise(session: Session, *, actor: Actor, rules: Rules, batch_id: int, published_on: date,
                  today: date) -> FinalisePlan:
    """Check finalising as `finalise_batch` would and say who will be granted and who not; nothing is written."""
    require(actor, Action.WRITE)
    batch = get_batch(session, actor, batch_id)
    require_scope(actor, batch.region_code, "批次")
    _check_finalisable(session, batch, published_on, today)
    tier = tier_in_force(rules, batch.tier, published_on)
    upheld = set(session.scalars(sa.select(Objection.application_id).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.UPHELD)))
    return FinalisePlan(batch, published_on, tier, tuple(
        _settlement(session, rules, tier, a, upheld, published_on) for a in batch.applications))


def finalise_batch(session: Session, *, actor: Actor, rules: Rules, batch_id: int, published_on: date,
                   today: date, at: datetime, document_no: str | None = None,
                   authority: str | None = None) -> Batch:
    """Grant the recommended, unchallenged applications (recognised on `published_on`); record the rest."""
    plan = plan_finalise(session, actor=actor, rules=rules, batch_id=batch_id, published_on=published_on,
                         today=today)
    batch = plan.batch
    for settlement in plan.settlements:
        _settle(session, actor, rules, batch, settlement, published_on, at, document_no, authority, today)
    granted = len(plan.granted)
    changes = audit.diff(batch, {"status": BatchStatus.FINALISED, "published_on": published_on,
                                 "document_no": document_no, "finalised_at": at})
    session.flush()
    audit.record(session, actor=actor, action="batch.finalised", entity_type="batch", entity_id=batch.id,
                 region_code=batch.region_code, at=at, why=audit.Why(document_no=document_no),
                 changes={**changes, "granted": [None, granted],
                          "not_granted": [None, len(plan.settlements) - granted]})
    return batch


def _settle(session: Session, actor: Actor, rules: Rules, batch: Batch, settlement: Settlement,
            published_on: date, at: datetime, document_no: str | None, authority: str | None,
            today: date) -> None:
    """Grant one application through the grant service, or record why not."""
    application, cert_id = settlement.application, None
    if settlement.grant:
        cert_id = grant_certification(session, actor=actor, rules=rules, enterprise_id=application.enterprise_id,
                                      tier=batch.tier, recognized_on=published_on, at=at, batch=batch.name,
                                      document_no=document_no, authority=authority, today=today).id
        status = ApplicationStatus.GRANTED
    else:  # a rejection stays a rejection; the rest were simply not granted
        status = ApplicationStatus.REJECTED if application.status == ApplicationStatus.REJECTED \
            else ApplicationStatus.NOT_GRANTED
    changes = audit.diff(application, {"status": status, "certification_id": cert_id,
                                       "outcome_note": settlement.note, "current_level": None})
    application.updated_at = at
    session.flush()
    action = "application.granted" if cert_id else "application.not_granted"
    audit.record(session, actor=actor, action=action, entity_type="application",
                 entity_id=application.id, enterprise_id=application.enterprise_id,
                 region_code=application.region_code, at=at, changes=changes,
                 why=audit.Why(document_no=document_no, note=settlement.note))
