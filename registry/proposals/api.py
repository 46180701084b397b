"""/proposals, /bans/{id}/lift, /enterprises/{id}/uscc: four-eyes on the gravest business actions.

One officer proposes (202, nothing changes yet); another officer or admin of the region confirms
(not the proposer) or rejects. A revocation that carries a ban, posted to
/certifications/{id}/events, is filed the same way (registry/titles/api.py).
"""

from __future__ import annotations

from flask import jsonify, request

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.proposals import four_eyes
from registry.proposals import services as proposals
from registry.web.api import bp, load
from registry.web.api.common import schema, today
from registry.web.api.docs import doc
from registry.web.api.schemas import BanLiftIn, NoteIn, ProposalArgs, ProposalOut, UsccChangeIn


@bp.get("/proposals")
@doc("待确认事项：撤销并禁止申报、提前解除禁止申报、变更统一社会信用代码（默认待确认；?status=…）",
     query=ProposalArgs, response=ProposalOut, many=True)
@requires(Action.READ)
def list_proposals():
    """List the four-eyes proposals of the caller's region."""
    args = schema(ProposalArgs).load(request.args.to_dict())
    rows = proposals.listing(get_session(), current_actor(), accounts=False,
                             status=None if args["status"] == "all" else args["status"])
    return jsonify(items=ProposalOut(many=True).dump(rows), total=len(rows), page=1, per_page=max(len(rows), 1))


@bp.post("/proposals/<int:proposal_id>/<any(confirm, reject):decision>")
@doc("确认（同地区另一位业务人员或业务管理员，不能是提出人）或驳回待确认事项；已处理的再次确认 409",
     body=NoteIn, body_required=False, response=ProposalOut, errors=(401, 403, 404, 409, 422))
@requires(Action.CONFIRM)
def decide_proposal(proposal_id: int, decision: str):
    """Confirm (the change takes effect now, both people audited) or reject a proposal."""
    data, session = load(NoteIn(), request.get_json(silent=True) or {}), get_session()
    if decision == "confirm":
        row = four_eyes.confirm(session, actor=current_actor(), rules=rules(), proposal_id=proposal_id, at=utcnow(),
                                today=today(), note=data.get("note"))
    else:
        row = four_eyes.reject(session, actor=current_actor(), proposal_id=proposal_id, at=utcnow(),
                               note=data.get("note"))
    session.commit()
    return jsonify(ProposalOut().dump(row))


@bp.post("/bans/<int:ban_id>/lift")
@doc("提出提前解除禁止申报（须注明文号或说明）；同地区另一位业务人员或业务管理员确认后生效", body=BanLiftIn,
     accepted=ProposalOut, status=202, response=ProposalOut, errors=(401, 403, 404, 409, 422))
@requires(Action.WRITE)
def propose_ban_lift(ban_id: int):
    """Propose lifting a ban early."""
    data, session = load(BanLiftIn()), get_session()
    row = four_eyes.propose_ban_lift(session, actor=current_actor(), ban_id=ban_id, lifted_on=data["lifted_on"],
                                     document_no=data.get("document_no"), note=data.get("note"), at=utcnow(),
                                     today=today())
    session.commit()
    return jsonify(ProposalOut().dump(row)), 202


@bp.post("/enterprises/<int:enterprise_id>/uscc")
@doc("提出变更统一社会信用代码；同地区另一位业务人员或业务管理员确认后生效（PATCH 不能直接修改）",
     body=UsccChangeIn, accepted=ProposalOut, status=202, response=ProposalOut, errors=(401, 403, 404, 409, 422))
@requires(Action.WRITE)
def propose_uscc_change(enterprise_id: int):
    """Propose a new USCC for an enterprise."""
    data, session = load(UsccChangeIn()), get_session()
    row = four_eyes.propose_uscc_change(session, actor=current_actor(), enterprise_id=enterprise_id,
                                        new_uscc=data["uscc"], version=data.get("version"), note=data.get("note"),
                                        at=utcnow())
    session.commit()
    return jsonify(ProposalOut().dump(row)), 202
