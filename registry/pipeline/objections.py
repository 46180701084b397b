"""Objections (异议) during publicity: written, under a real name or seal; resolved with a note.

Anonymous objections are not accepted. The submitter's identity is confidential: the audit
trail and `public_view` leave it out unless the submitter agreed to disclosure. An upheld
objection keeps its application from being granted when the batch is finalised. `plan_resolution`
checks a resolution without writing (the pages show what it will do before it is confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.enterprises.locks import lock_enterprise_of
from registry.enterprises.queries import get_in_region
from registry.pipeline.applications import get_application
from registry.pipeline.common import get_batch, required_text
from registry.pipeline.models import (
    Application,
    ApplicationStatus,
    BatchStatus,
    Objection,
    ObjectionStatus,
    SubmitterIdentity,
)

#: names that are no name: an objection signed like this is anonymous
ANONYMOUS = frozenset({"匿名", "匿名者", "匿名人", "无名氏", "佚名", "知情人", "知情者", "群众", "一群众",
                       "网友", "不愿透露姓名", "anonymous", "anon", "n/a", "none", "-"})
PUBLIC_FIELDS = ("id", "batch_id", "application_id", "grounds", "received_on", "status", "resolution_note",
                 "resolved_on")


def get_objection(session: Session, actor: Actor, objection_id: int) -> Objection:
    """Load an objection about an enterprise inside the actor's region. :raises NotFound:"""
    return get_in_region(session, actor, Objection, objection_id, "异议", "objection")


def _submitter(name: str | None, identity: str | None) -> tuple[str, SubmitterIdentity]:
    text = (name or "").strip()
    if not text or text.lower() in ANONYMOUS:
        raise RuleViolation.on("submitter_name", "异议须署真实姓名或加盖单位公章，匿名异议不予受理"
                                                 " / anonymous objections are refused: a real name or seal is required")
    try:
        kind = SubmitterIdentity(identity or "")
    except ValueError:
        raise RuleViolation.on("submitter_identity", "请注明实名签署（real_name）或单位盖章（seal），匿名异议不予受理"
                                                     " / submitter_identity must be real_name or seal") from None
    return text, kind


def file_objection(session: Session, *, actor: Actor, batch_id: int, application_id: int,
                   submitter_name: str | None, submitter_identity: str | None, contact: str | None,
                   grounds: str | None, evidence: str | None, received_on: date, at: datetime,
                   confidential: bool = True, today: date | None = None) -> Objection:
    """Record a written objection received during the batch's publicity window (never after today)."""
    require(actor, Action.WRITE)
    guards.check_not_future("received_on", "异议收到日期", received_on, today or guards.local_today(at))
    lock_enterprise_of(session, Application, application_id)  # objections to one application in turn
    batch = get_batch(session, actor, batch_id)
    application = get_application(session, actor, application_id)
    if application.batch_id != batch.id:
        raise NotFound("该申请不在本批次中 / application not in this batch")
    name, kind = _submitter(submitter_name, submitter_identity)
    reach = required_text("contact", contact, "异议人联系方式")
    reasons = required_text("grounds", grounds, "异议的事实和理由")
    if batch.status != BatchStatus.PUBLICITY:
        raise Conflict(f"批次“{batch.name}”不在公示期，不受理异议 / batch is not in publicity", status=batch.status.value)
    starts, ends = batch.publicity_starts_on, batch.publicity_ends_on
    if starts is None or ends is None or not starts <= received_on <= ends:
        raise RuleViolation.on("received_on", f"异议应在公示期（{starts} 至 {ends}）内提出 / outside the publicity window")
    if application.status != ApplicationStatus.RECOMMENDED:
        raise RuleViolation.on("application_id", "该申请不在公示名单中 / the application is not publicised")
    same = session.scalar(sa.select(Objection.id).where(
        Objection.application_id == application.id, Objection.submitter_name == name, Objection.grounds == reasons,
        Objection.received_on == received_on).limit(1))
    if same is not None:
        raise Conflict("同一异议人对该申请的同一异议已登记（可能是重复提交），请刷新后查看"
                       " / this objection is already recorded", field="grounds")
    objection = Objection(batch_id=batch.id, application_id=application.id, region_code=application.region_code,
                          submitter_name=name, submitter_identity=kind, contact=reach, grounds=reasons,
                          evidence=(evidence or "").strip(), confidential=confidential, received_on=received_on,
                          status=ObjectionStatus.OPEN, created_at=at)
    session.add(objection)
    session.flush()
    shown = {"submitter": [None, "（保密）" if confidential else name]}
    audit.record(session, actor=actor, action="objection.filed", entity_type="objection", entity_id=objection.id,
                 enterprise_id=application.enterprise_id, region_code=objection.region_code, at=at,
                 changes={**audit.snapshot(objection, ("batch_id", "application_id", "submitter_identity",
                                                       "grounds", "received_on", "status", "confidential")),
                          **shown})
    return objection


@dataclass(frozen=True)
class ResolutionPlan:
    """What resolving an objection will do."""

    objection: Objection
    outcome: ObjectionStatus
    note: str
    still_open: tuple[int, ...]  #: the batch's other open objections


def plan_resolution(session: Session, *, actor: Actor, objection_id: int, outcome: str,
                    note: str | None) -> ResolutionPlan:
    """Check a resolution as `resolve_objection` would and return what it will do; nothing is written."""
    require(actor, Action.WRITE)
    objection = get_objection(session, actor, objection_id)
    if objection.status != ObjectionStatus.OPEN:
        raise Conflict(f"该异议已处理（{objection.status.value}） / already resolved", status=objection.status.value)
    if objection.batch.status == BatchStatus.FINALISED:
        raise Conflict("批次已办结 / the batch is finalised", status=objection.batch.status.value)
    if outcome not in (ObjectionStatus.UPHELD, ObjectionStatus.REJECTED):
        raise RuleViolation.on("outcome", "处理结果应为 upheld（成立）或 rejected（不成立） / unknown outcome")
    text = required_text("note", note, "处理意见")
    others = tuple(o.id for o in objection.batch.objections
                   if o.status == ObjectionStatus.OPEN and o.id != objection.id)
    return ResolutionPlan(objection, ObjectionStatus(outcome), text, others)


def resolve_objection(session: Session, *, actor: Actor, objection_id: int, outcome: str, note: str | None,
                      on: date, at: datetime) -> Objection:
    """Close an objection as upheld (成立) or rejected (不成立), with the reasoning."""
    lock_enterprise_of(session, Objection, objection_id)  # a second identical resolution finds it resolved
    plan = plan_resolution(session, actor=actor, objection_id=objection_id, outcome=outcome, note=note)
    objection = plan.objection
    changes = audit.diff(objection, {"status": plan.outcome, "resolution_note": plan.note,
                                     "resolved_on": on, "resolved_by": actor.label})
    session.flush()
    audit.record(session, actor=actor, action=f"objection.{plan.outcome.value}", entity_type="objection",
                 entity_id=objection.id, enterprise_id=objection.application.enterprise_id,
                 region_code=objection.region_code, at=at, changes=changes, why=audit.Why(note=plan.note))
    return objection


def public_view(objection: Objection) -> dict[str, Any]:
    """Return what may be shown beyond the handling officers: the submitter only if not confidential."""
    view = {f: audit.plain(getattr(objection, f)) for f in PUBLIC_FIELDS}
    if not objection.confidential:
        view["submitter_name"] = objection.submitter_name
    return view
