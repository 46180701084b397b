"""Four-eyes on the gravest business actions (issue 16 §4, SPEC §6).

A revocation that carries a ban, a ban lifted before it ends, and a change of an enterprise's
USCC are each proposed by one officer and take effect only when another officer or business
admin of the region confirms them — never the proposer. Until then nothing changes. A proposal
is tried first (in a savepoint that is undone), so the proposer learns at once what the rules
would refuse; the confirmation runs the same service again with both people, who are then named
in the audit events of the change (`proposed_by`, `confirmed_by`, `proposal_id`). The decision
is a compare-and-set (registry/proposals/services.py): a second or concurrent confirmation is
refused (409) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards, uscc
from registry.domain.actors import PERSON_KINDS, Action, Actor, require, require_scope
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.domain.lifecycle import Event
from registry.enterprises.locks import lock_enterprise
from registry.enterprises.models import Enterprise
from registry.enterprises.services import get_enterprise, update_enterprise
from registry.policies.rules import Rules
from registry.proposals import services as proposals
from registry.proposals.models import Proposal, ProposalStatus
from registry.proposals.services import FourEyes, SecondPersonRequired
from registry.regions.scoping import unscoped
from registry.titles.models import Ban
from registry.titles.services import EventInput, apply_event, carries_ban, get_certification

GRAVE_LIFT = ("提前解除禁止申报须两人办理：由一位业务人员提出，同地区另一位业务人员或业务管理员确认后生效"
              " / lifting a ban early needs a second person's confirmation")


def _tried(session: Session, action: Callable[[], object]) -> None:
    """Run `action` in a savepoint and undo it: a proposal is filed only for what would succeed."""
    nested = session.begin_nested()
    try:
        action()
        session.flush()
    finally:
        if nested.is_active:
            nested.rollback()


# ------------------------------------------------------------------------------------------ revocation

def needs_second_person(session: Session, *, actor: Actor, rules: Rules, certification_id: int,
                        event: EventInput) -> bool:
    """Tell whether a person's `event` on the title must be proposed (a revocation that carries a ban)."""
    if actor.kind not in PERSON_KINDS or event.action != Event.REVOKE:
        return False
    return carries_ban(rules, get_certification(session, actor, certification_id), event)


def propose_revocation(session: Session, *, actor: Actor, rules: Rules, certification_id: int,
                       event: EventInput, at: datetime, today: date | None = None) -> Proposal:
    """File a revocation that carries a ban, after trying it. :raises RuleViolation, Conflict: as apply_event."""
    require(actor, Action.WRITE)
    cert = get_certification(session, actor, certification_id)
    _tried(session, lambda: apply_event(session, actor=actor, rules=rules, certification_id=certification_id,
                                        event=event, at=at, today=today, four_eyes=proposals.trial(actor)))
    cert = get_certification(session, actor, certification_id)
    tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
    reason = tier.reason(event.reason_code or "")
    summary = (f"撤销「{cert.enterprise.name}」的{tier.name}（{event.effective_on} 起；原因：{reason.name if reason else ''}；"
               f"禁止申报 {reason.ban_years if reason else 0} 年）")
    payload = {"action": event.action.value, "effective_on": event.effective_on.isoformat(),
               "reason_code": event.reason_code, "document_no": event.document_no, "note": event.note,
               "incident_on": event.incident_on.isoformat() if event.incident_on else None,
               "version": cert.version if event.version is None else event.version}
    return proposals.propose(session, actor=actor, kind="certification.revoke", region_code=cert.region_code,
                             target_type="certification", target_id=cert.id, summary=summary, payload=payload,
                             shown={k: v for k, v in payload.items() if k != "version"}, at=at, note=event.note)


# ------------------------------------------------------------------------------------------ bans

def get_ban(session: Session, actor: Actor, ban_id: int) -> tuple[Ban, Enterprise | None]:
    """A ban and its enterprise, when the enterprise lies in the actor's region. :raises NotFound:"""
    ban = session.get(Ban, ban_id)
    if ban is None:
        raise NotFound("禁止申报记录不存在 / ban not found")
    with unscoped(session):
        enterprise = session.scalar(sa.select(Enterprise).where(Enterprise.uscc == ban.uscc))
    if enterprise is None:
        raise NotFound("禁止申报记录不存在 / ban not found")
    require_scope(actor, enterprise.region_code, "禁止申报记录")
    return ban, enterprise


def lift_ban(session: Session, *, actor: Actor, ban_id: int, lifted_on: date, at: datetime,
             document_no: str | None = None, note: str | None = None, four_eyes: FourEyes | None = None,
             today: date | None = None) -> Ban:
    """Lift a ban before it ends (e.g. a decision reversed on appeal), from `lifted_on`.

    :raises SecondPersonRequired: a person without a confirmation. :raises RuleViolation: naming the field.
    """
    require(actor, Action.WRITE)
    ban, enterprise = get_ban(session, actor, ban_id)
    if four_eyes is None and actor.kind in PERSON_KINDS:
        raise SecondPersonRequired(GRAVE_LIFT)
    lock_enterprise(session, enterprise.id)
    if ban.lifted_on is not None:
        raise Conflict(f"该禁止申报已于 {ban.lifted_on} 解除 / already lifted", field="lifted_on")
    guards.check_not_future("lifted_on", "解除日期", lifted_on, today or guards.local_today(at))
    if lifted_on < ban.starts_on or lifted_on > ban.ends_on:
        raise RuleViolation.on("lifted_on", f"解除日期应在禁止申报期内（{ban.starts_on} 至 {ban.ends_on}）")
    if not (document_no or "").strip() and not (note or "").strip():
        raise RuleViolation.on("document_no", "提前解除须注明依据文号或说明")
    changes = {**audit.diff(ban, {"lifted_on": lifted_on}), **(four_eyes.changes() if four_eyes else {})}
    session.flush()
    audit.record(session, actor=actor, action="ban.lifted", entity_type="ban", entity_id=ban.id,
                 enterprise_id=enterprise.id, region_code=enterprise.region_code, changes=changes, at=at,
                 why=audit.Why(reason_code=ban.reason_code, document_no=document_no or None,
                               note=note or f"提前解除（原定至 {ban.ends_on}）"))
    return ban


def propose_ban_lift(session: Session, *, actor: Actor, ban_id: int, lifted_on: date, at: datetime,
                     document_no: str | None = None, note: str | None = None, today: date | None = None) -> Proposal:
    """File an early lifting of a ban, after trying it."""
    require(actor, Action.WRITE)
    ban, enterprise = get_ban(session, actor, ban_id)
    _tried(session, lambda: lift_ban(session, actor=actor, ban_id=ban_id, lifted_on=lifted_on, at=at, today=today,
                                     document_no=document_no, note=note, four_eyes=proposals.trial(actor)))
    summary = f"提前解除「{enterprise.name}」的禁止申报（{ban.reason}，原定至 {ban.ends_on}），自 {lifted_on} 起"
    payload = {"lifted_on": lifted_on.isoformat(), "document_no": document_no, "note": note}
    return proposals.propose(session, actor=actor, kind="ban.lift", region_code=enterprise.region_code,
                             target_type="ban", target_id=ban.id, summary=summary, payload=payload, shown=payload,
                             at=at, note=note)


# ------------------------------------------------------------------------------------------ USCC

def propose_uscc_change(session: Session, *, actor: Actor, enterprise_id: int, new_uscc: str, at: datetime,
                        version: int | None = None, note: str | None = None) -> Proposal:
    """File a change of an enterprise's USCC, after trying it. :raises RuleViolation: on `uscc`."""
    require(actor, Action.WRITE)
    enterprise = get_enterprise(session, actor, enterprise_id)
    code = uscc.validate(new_uscc)
    if code == enterprise.uscc:
        raise RuleViolation.on("uscc", "新的统一社会信用代码与现有的相同")
    version = enterprise.version if version is None else version
    _tried(session, lambda: update_enterprise(session, actor=actor, enterprise_id=enterprise_id, data={"uscc": code},
                                              version=version, at=at, four_eyes=proposals.trial(actor)))
    enterprise = get_enterprise(session, actor, enterprise_id)
    summary = f"变更「{enterprise.name}」的统一社会信用代码：{enterprise.uscc} → {code}"
    payload = {"uscc": code, "before": enterprise.uscc, "version": version}
    return proposals.propose(session, actor=actor, kind="enterprise.uscc", region_code=enterprise.region_code,
                             target_type="enterprise", target_id=enterprise.id, summary=summary, payload=payload,
                             shown={"uscc": [enterprise.uscc, code]}, at=at, note=note)


# ------------------------------------------------------------------------------------------ deciding

def _decider(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    require(actor, Action.CONFIRM)
    return proposals.load(session, actor, proposal_id, accounts=False)


def confirm(session: Session, *, actor: Actor, rules: Rules, proposal_id: int, at: datetime,
            today: date | None = None, note: str | None = None) -> Proposal:
    """Confirm a proposal (another officer or admin of the region): the change takes effect now.

    :raises PermissionDenied: the proposer confirming their own. :raises Conflict: already decided.
    """
    row = _decider(session, actor, proposal_id)
    if proposals.proposed_by(row, actor):
        raise PermissionDenied("提出人不能确认自己的申请，须由同地区另一位业务人员或业务管理员确认"
                               " / the proposer cannot confirm their own proposal")
    proposals.decide(session, row, actor=actor, status=ProposalStatus.CONFIRMED, at=at, note=note)
    both = FourEyes(row.id, row.proposed_by, actor.label)
    data: dict[str, Any] = row.payload
    if row.kind == "certification.revoke":
        # no version: the title may have been touched since (a flag); the guards judge it as it is now
        incident = data.get("incident_on")
        event = EventInput(Event(data["action"]), date.fromisoformat(data["effective_on"]), data.get("reason_code"),
                           data.get("document_no"), data.get("note"),
                           incident_on=date.fromisoformat(incident) if incident else None)
        apply_event(session, actor=actor, rules=rules, certification_id=row.target_id, event=event, at=at,
                    today=today, four_eyes=both)
    elif row.kind == "ban.lift":
        lift_ban(session, actor=actor, ban_id=row.target_id, lifted_on=date.fromisoformat(data["lifted_on"]), at=at,
                 document_no=data.get("document_no"), note=data.get("note"), four_eyes=both, today=today)
    elif row.kind == "enterprise.uscc":
        enterprise = get_enterprise(session, actor, row.target_id)
        if enterprise.uscc != data["before"]:
            raise Conflict(f"该企业的统一社会信用代码已变为 {enterprise.uscc}，本申请已不适用，请驳回"
                           " / the USCC has changed since", field="uscc")
        update_enterprise(session, actor=actor, enterprise_id=row.target_id, data={"uscc": data["uscc"]},
                          version=enterprise.version, at=at, four_eyes=both, why=audit.Why(note=row.note))
    else:
        raise NotFound("申请不存在 / proposal not found")
    return row


def reject(session: Session, *, actor: Actor, proposal_id: int, at: datetime, note: str | None = None) -> Proposal:
    """Reject a proposal (another officer or admin of the region, or the proposer withdrawing it): nothing changes."""
    row = _decider(session, actor, proposal_id)
    proposals.decide(session, row, actor=actor, status=ProposalStatus.REJECTED, at=at, note=note)
    return row
