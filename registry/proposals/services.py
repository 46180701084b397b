"""Proposals: a change that waits for a second person (issue 16 §4), shared by accounts and four-eyes.

A proposal is written by the first person with what the change needs; the second person decides
it once. The decision is a compare-and-set (`UPDATE … WHERE status = 'pending'`): of two
confirmations at once, on either backend, exactly one matches the row; the other is refused
with 409 and changes nothing. The change itself runs in the same transaction as the decision,
so a change the rules refuse leaves the proposal pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Actor, in_scope
from registry.domain.errors import Conflict, NotFound, PermissionDenied
from registry.proposals.models import Proposal, ProposalStatus

#: the Chinese name of every kind of proposal
KIND_NAMES = {
    "account.create": "新建账号", "account.disable": "停用账号", "account.enable": "启用账号",
    "account.unlock": "解除锁定", "account.reset": "重置密码", "account.update": "变更角色或地区",
    "certification.revoke": "撤销称号并禁止申报", "ban.lift": "提前解除禁止申报",
    "enterprise.uscc": "变更统一社会信用代码",
}
STATUS_NAMES = {ProposalStatus.PENDING: "待确认", ProposalStatus.CONFIRMED: "已确认生效",
                ProposalStatus.REJECTED: "已驳回"}
ACCOUNT_PREFIX = "account."


class SecondPersonRequired(PermissionDenied):
    """The change needs a second person: it must be proposed, then confirmed (403 when tried alone)."""


@dataclass(frozen=True)
class FourEyes:
    """Who proposed a change and who confirmed it: written into the audit event of the change."""

    proposal_id: int
    proposed_by: str
    confirmed_by: str

    def changes(self) -> dict[str, list[Any]]:
        """The two people and the proposal, as audit fields."""
        return {"proposal_id": [None, self.proposal_id], "proposed_by": [None, self.proposed_by],
                "confirmed_by": [None, self.confirmed_by]}


def trial(actor: Actor) -> FourEyes:
    """The confirmation a proposal is tried with (in a savepoint that is undone) before it is filed."""
    return FourEyes(0, actor.label, "（试算）")


def propose(session: Session, *, actor: Actor, kind: str, region_code: str, target_type: str,
            target_id: int | None, summary: str, payload: dict[str, Any], at: datetime,
            note: str | None = None, shown: dict[str, Any] | None = None) -> Proposal:
    """File a proposal (audited as `proposal.created`); `shown` is what the audit event says of the
    change (the payload without secrets). :raises Conflict: the same change is already waiting."""
    waiting = session.scalar(sa.select(Proposal.id).where(
        Proposal.kind == kind, Proposal.target_type == target_type, Proposal.target_id == target_id,
        Proposal.status == ProposalStatus.PENDING,
        *([Proposal.payload["username"].as_string() == payload.get("username")] if target_id is None else [])))
    if waiting is not None:
        raise Conflict(f"同一变更已在等待确认（申请编号 {waiting}），请勿重复提交 / already proposed",
                       field="proposal", proposal_id=waiting)
    row = Proposal(kind=kind, status=ProposalStatus.PENDING, region_code=region_code, target_type=target_type,
                   target_id=target_id, summary=summary[:400], payload=payload, note=note or None,
                   proposed_by_id=actor.user_id, proposed_by=actor.label, proposed_at=at,
                   pending_key=pending_key(kind, target_type, target_id, payload))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=_action(kind, "created"), entity_type="proposal", entity_id=row.id,
                 region_code=region_code, at=at, why=audit.Why(note=note or None),
                 changes={"kind": [None, kind], "summary": [None, row.summary],
                          **{k: [None, v] for k, v in (shown or {}).items()}})
    return row


def pending_key(kind: str, target_type: str, target_id: int | None, payload: dict[str, Any]) -> str:
    """What a waiting proposal changes, as its unique key: the same change cannot wait twice."""
    target = target_id if target_id is not None else f"@{payload.get('username', '')}"
    return f"{kind}:{target_type}:{target}"[:200]


def proposed_by(row: Proposal, actor: Actor) -> bool:
    """Tell whether `actor` is the person who proposed `row` (by account, or by name for the CLI)."""
    if row.proposed_by_id is not None and actor.user_id is not None:
        return row.proposed_by_id == actor.user_id
    return row.proposed_by.split(":", 1)[-1] == actor.name


def _action(kind: str, step: str) -> str:
    """The audit action of a proposal's step: account.proposed/approved/rejected (security events, read by
    the security administrator) or proposal.created/confirmed/rejected (business)."""
    if kind.startswith(ACCOUNT_PREFIX):
        return {"created": "account.proposed", "confirmed": "account.approved", "rejected": "account.rejected"}[step]
    return f"proposal.{step}"


def load(session: Session, actor: Actor, proposal_id: int, *, accounts: bool) -> Proposal:
    """Load a proposal of the family (account changes or business actions) in the actor's region. :raises NotFound:"""
    row = session.get(Proposal, proposal_id)
    if row is None or row.kind.startswith(ACCOUNT_PREFIX) != accounts or not in_scope(actor, row.region_code):
        raise NotFound("申请不存在 / proposal not found")
    return row


def decide(session: Session, row: Proposal, *, actor: Actor, status: ProposalStatus, at: datetime,
           note: str | None = None) -> None:
    """Record the decision once (compare-and-set on the pending status), audited. :raises Conflict:"""
    done = session.execute(
        sa.update(Proposal).where(Proposal.id == row.id, Proposal.status == ProposalStatus.PENDING)
        .values(status=status, decided_by_id=actor.user_id, decided_by=actor.label, decided_at=at,
                decision_note=note or None, pending_key=None)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("该申请已由他人处理，请刷新后查看 / this proposal has already been decided", field="proposal")
    session.refresh(row)
    action = _action(row.kind, "confirmed" if status == ProposalStatus.CONFIRMED else "rejected")
    audit.record(session, actor=actor, action=action, entity_type="proposal", entity_id=row.id,
                 region_code=row.region_code, at=at, why=audit.Why(note=note or None),
                 changes={"status": [ProposalStatus.PENDING.value, status.value], "kind": [None, row.kind],
                          "proposed_by": [None, row.proposed_by], "decided_by": [None, actor.label]})


def listing(session: Session, actor: Actor, *, accounts: bool, status: str | None = "pending",
            limit: int = 200) -> list[Proposal]:
    """Proposals of one family in the actor's region, newest first (status None: every status)."""
    query = sa.select(Proposal).order_by(Proposal.id.desc()).limit(limit)
    query = query.where(Proposal.kind.startswith(ACCOUNT_PREFIX) if accounts
                        else sa.not_(Proposal.kind.startswith(ACCOUNT_PREFIX)))
    if status:
        query = query.where(Proposal.status == status)
    return [p for p in session.scalars(query) if in_scope(actor, p.region_code)]
