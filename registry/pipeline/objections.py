"""Objections (异议) during publicity: written, under a real name or seal; resolved with a note.

An objection is real-name only when it names a person (or, sealed, an organisation) and gives a
phone or an address to reach them (registry/domain/objectors.py: 匿名, 群众, 知情人士, 王某某 … are
no name). Any other is recorded as anonymous and not accepted at once (status not_accepted, with
the reason; `objectors.ANONYMOUS_RULE`, assumed): it does not hold up the batch. A real-name
objection is resolved only by the office that published the list — the batch's own office
(level and region): not the offices below it, not the one above. The submitter's identity is
confidential: the audit trail and `public_view` leave it out unless the submitter agreed to
disclosure. An upheld objection keeps its application from being granted when the batch is
finalised. `plan_resolution` checks a resolution without writing (the pages show what it will do
before it is confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards, objectors
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.enterprises.locks import lock_enterprise_of
from registry.enterprises.queries import get_in_region
from registry.enterprises.services import region_names_of
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

STATUS_NAMES = {ObjectionStatus.OPEN: "待处理", ObjectionStatus.UPHELD: "异议成立", ObjectionStatus.REJECTED: "异议不成立",
                ObjectionStatus.NOT_ACCEPTED: "匿名，不予受理", ObjectionStatus.WITHDRAWN: "已撤回"}
PUBLIC_FIELDS = ("id", "batch_id", "application_id", "grounds", "received_on", "status", "resolution_note",
                 "resolved_on")


def office_name(session: Session, region_code: str) -> str:
    """Name the office of a region as a person reads it (工信部 for the nationwide office)."""
    if region_code == "000000":
        return "工业和信息化部"
    name = region_names_of(session, [region_code]).get(region_code, "")
    return f"{name}中小企业主管部门" if name else "发布名单的主管部门"


def get_objection(session: Session, actor: Actor, objection_id: int) -> Objection:
    """Load an objection about an enterprise inside the actor's region. :raises NotFound:"""
    return get_in_region(session, actor, Objection, objection_id, "异议", "objection")


def _submitter(name: str | None, identity: str | None, contact: str | None) -> objectors.Signature:
    try:
        return objectors.classify(name, identity or objectors.REAL_NAME, contact)
    except ValueError:
        raise RuleViolation.on("submitter_identity", "签署方式应为本人签名（实名）、单位盖章或匿名") from None


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
    signature = _submitter(submitter_name, submitter_identity, contact)
    name = (submitter_name or "").strip()[:128] or "（未署名）"
    reach = (contact or "").strip()
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
        Objection.received_on == received_on, Objection.status != ObjectionStatus.WITHDRAWN).limit(1))
    if same is not None:
        raise Conflict("同一异议人对该申请的同一异议已登记（可能是重复提交），请刷新后查看"
                       " / this objection is already recorded", field="grounds")
    objection = Objection(batch_id=batch.id, application_id=application.id, region_code=application.region_code,
                          submitter_name=name, submitter_identity=SubmitterIdentity(signature.identity),
                          contact=reach, grounds=reasons, evidence=(evidence or "").strip(),
                          confidential=confidential, received_on=received_on, status=ObjectionStatus.OPEN,
                          created_at=at)
    if signature.anonymous:  # recorded as such, not accepted (objectors.ANONYMOUS_RULE)
        objection.status = ObjectionStatus.NOT_ACCEPTED
        objection.resolution_note = f"匿名异议，不予受理：{signature.why}"
        objection.resolved_on, objection.resolved_by = received_on, actor.label
    session.add(objection)
    session.flush()
    shown = {"submitter": [None, "（保密）" if confidential else name]}
    fields = ("batch_id", "application_id", "submitter_identity", "grounds", "received_on", "status", "confidential")
    if signature.anonymous:
        fields += ("resolution_note", "resolved_on")
    audit.record(session, actor=actor, action="objection.not_accepted" if signature.anonymous else "objection.filed",
                 entity_type="objection", entity_id=objection.id, enterprise_id=application.enterprise_id,
                 region_code=objection.region_code, at=at,
                 changes={**audit.snapshot(objection, fields), **shown},
                 why=audit.Why(note=signature.why) if signature.anonymous else audit.Why())
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
    if actor.region_code != objection.batch.region_code:
        raise PermissionDenied(f"只有发布公示名单的单位（{office_name(session, objection.batch.region_code)}）"
                               "可以处理该异议")
    if objection.status != ObjectionStatus.OPEN:
        raise Conflict(f"该异议已处理（{STATUS_NAMES[objection.status]}）", status=objection.status.value)
    if objection.batch.status == BatchStatus.FINALISED:
        raise Conflict("批次已办结 / the batch is finalised", status=objection.batch.status.value)
    if outcome not in (ObjectionStatus.UPHELD, ObjectionStatus.REJECTED):
        raise RuleViolation.on("outcome", "处理结果应为异议成立或异议不成立")
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


# -- a mistaken entry: corrected or withdrawn (issue 18 §3) -----------------------------------------

CORRECTABLE = ("grounds", "submitter_name", "submitter_identity", "contact", "received_on")
FIELD_NAMES = {"grounds": "异议的事实和理由", "submitter_name": "异议人姓名或单位名称", "submitter_identity": "签署方式",
               "contact": "联系电话或地址", "received_on": "收到日期", "status": "状态"}
IDENTITY_NAMES = {SubmitterIdentity.REAL_NAME: "本人签名（实名）", SubmitterIdentity.SEAL: "单位盖章",
                  SubmitterIdentity.ANONYMOUS: "未署名（匿名）"}
_HIDDEN = "（保密）"


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise RuleViolation.on("reason", "请填写原因（记入审计） / a reason is required")
    if len(text) > 2000:
        raise RuleViolation.on("reason", "原因最多 2000 个字 / reason too long")
    return text


def _open_for_change(session: Session, actor: Actor, objection_id: int, what: str) -> Objection:
    """The objection, if the actor's office published its list and it is still open. :raises NotFound,
    PermissionDenied, Conflict:"""
    require(actor, Action.WRITE)
    objection = get_objection(session, actor, objection_id)
    if actor.region_code != objection.batch.region_code:
        raise PermissionDenied(f"只有发布公示名单的单位（{office_name(session, objection.batch.region_code)}）"
                               f"可以{what}该异议")
    if objection.batch.status == BatchStatus.FINALISED:
        raise Conflict(f"批次已办结，不能{what}异议 / the batch is finalised", status=objection.batch.status.value)
    if objection.status != ObjectionStatus.OPEN:
        raise Conflict(f"该异议已不是待处理状态（{STATUS_NAMES[objection.status]}），不能再{what}（可能是重复提交）"
                       f" / the objection is no longer open", status=objection.status.value, field="reason")
    return objection


@dataclass(frozen=True)
class CorrectionPlan:
    """What correcting an objection will change: (field, shown before, shown after) and the new values."""

    objection: Objection
    changes: tuple[tuple[str, str, str], ...]
    values: dict[str, Any]
    anonymous_why: str  #: non-empty when the corrected signature is no name: the objection is not accepted
    reason: str


def _shown(objection: Objection, name: str, value: Any) -> str:
    if name == "contact" or (name == "submitter_name" and objection.confidential):
        return _HIDDEN  # a contact is personal information (encrypted at rest): never in the trail
    if name == "submitter_identity":
        return IDENTITY_NAMES[SubmitterIdentity(value)]
    return str(value)


def plan_objection_correction(session: Session, *, actor: Actor, objection_id: int, reason: str | None,
                              today: date, grounds: str | None = None, submitter_name: str | None = None,
                              submitter_identity: str | None = None, contact: str | None = None,
                              received_on: date | None = None) -> CorrectionPlan:
    """Check a correction as `correct_objection` does and return old → new; nothing is written. A field left
    out (None) keeps its value. :raises RuleViolation, Conflict (nothing changes), PermissionDenied, NotFound:"""
    objection = _open_for_change(session, actor, objection_id, "更正")
    text = _reason(reason)
    name = objection.submitter_name if submitter_name is None else submitter_name.strip()[:128]
    identity = objection.submitter_identity.value if submitter_identity is None else submitter_identity
    reach = objection.contact if contact is None else contact.strip()
    signature = _submitter(name, identity, reach)
    values: dict[str, Any] = {
        "grounds": objection.grounds if grounds is None else required_text("grounds", grounds, "异议的事实和理由"),
        "submitter_name": name or "（未署名）", "submitter_identity": SubmitterIdentity(signature.identity),
        "contact": reach, "received_on": objection.received_on if received_on is None else received_on}
    on = values["received_on"]
    guards.check_not_future("received_on", "异议收到日期", on, today)
    starts, ends = objection.batch.publicity_starts_on, objection.batch.publicity_ends_on
    if starts is None or ends is None or not starts <= on <= ends:
        raise RuleViolation.on("received_on", f"异议应在公示期（{starts} 至 {ends}）内提出 / outside the publicity window")
    changes = tuple((f, _shown(objection, f, getattr(objection, f)), _shown(objection, f, values[f]))
                    for f in CORRECTABLE if audit.plain(getattr(objection, f)) != audit.plain(values[f]))
    if not changes:
        raise Conflict("没有修改任何内容，未保存（可能已更正过） / nothing to correct", field="grounds")
    return CorrectionPlan(objection, changes, values, signature.why if signature.anonymous else "", text)


def correct_objection(session: Session, *, actor: Actor, objection_id: int, reason: str | None, today: date,
                      at: datetime, **fields: Any) -> Objection:
    """Correct a mistaken objection's grounds, submitter or received date, with a reason (the note of
    `objection.corrected`; a contact, and a confidential submitter's name, are shown as （保密） before and after).
    A correction that leaves no reachable name records it as anonymous and not accepted, as filing does."""
    lock_enterprise_of(session, Objection, objection_id)  # a second identical correction finds nothing to do
    plan = plan_objection_correction(session, actor=actor, objection_id=objection_id, reason=reason, today=today,
                                     **fields)
    objection = plan.objection
    shown = {f: [before, after] for f, before, after in plan.changes}
    for f in CORRECTABLE:
        setattr(objection, f, plan.values[f])
    if plan.anonymous_why:
        shown.update(audit.diff(objection, {"status": ObjectionStatus.NOT_ACCEPTED,
                                            "resolution_note": f"匿名异议，不予受理：{plan.anonymous_why}",
                                            "resolved_on": today, "resolved_by": actor.label}))
    session.flush()
    audit.record(session, actor=actor, action="objection.corrected", entity_type="objection",
                 entity_id=objection.id, enterprise_id=objection.application.enterprise_id,
                 region_code=objection.region_code, at=at, changes=shown, why=audit.Why(note=plan.reason))
    return objection


def plan_objection_withdrawal(session: Session, *, actor: Actor, objection_id: int,
                              reason: str | None) -> tuple[Objection, str]:
    """Check a withdrawal as `withdraw_objection` does; nothing is written."""
    objection = _open_for_change(session, actor, objection_id, "撤回")
    return objection, _reason(reason)


def withdraw_objection(session: Session, *, actor: Actor, objection_id: int, reason: str | None, on: date,
                       at: datetime) -> Objection:
    """Withdraw an objection registered by mistake: status 已撤回 with the reason; the record and its trail stay.
    A withdrawn objection no longer holds up finalising, upholds nothing and leaves 待办."""
    lock_enterprise_of(session, Objection, objection_id)  # a second identical withdrawal finds it withdrawn
    objection, text = plan_objection_withdrawal(session, actor=actor, objection_id=objection_id, reason=reason)
    changes = audit.diff(objection, {"status": ObjectionStatus.WITHDRAWN, "resolution_note": f"误登记，撤回原因：{text}",
                                     "resolved_on": on, "resolved_by": actor.label})
    session.flush()
    audit.record(session, actor=actor, action="objection.withdrawn", entity_type="objection",
                 entity_id=objection.id, enterprise_id=objection.application.enterprise_id,
                 region_code=objection.region_code, at=at, changes=changes, why=audit.Why(note=text))
    return objection
