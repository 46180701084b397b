"""/certifications: titles across the roster, one title, its events."""

from __future__ import annotations

from flask import jsonify

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.domain.lifecycle import Event
from registry.enterprises.queries import certification_select, paginate
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.proposals import four_eyes
from registry.titles import services as certifications
from registry.titles.services import EventInput
from registry.web.api import bp, load, page_of
from registry.web.api.common import dump_certification, list_args, today
from registry.web.api.docs import doc
from registry.web.api.schemas import CertificationOut, EventIn, ListArgs, ProposalOut


@bp.get("/certifications")
@doc("称号列表（筛选、到期、as_of）", query=ListArgs, response=CertificationOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_certifications():
    """List titles in the caller's region with filters."""
    flt, page, per_page = list_args()
    rows, total = paginate(get_session(), certification_select(flt, today()), page, per_page)
    return jsonify(page_of([dump_certification(c) for c in rows], total, page, per_page))


@bp.get("/certifications/<int:certification_id>")
@doc("称号详情（全部有效期与事件）", response=CertificationOut)
@requires(Action.READ)
def get_certification(certification_id: int):
    """Return a title with every term and event."""
    cert = certifications.get_certification(get_session(), current_actor(), certification_id)
    return jsonify(dump_certification(cert, detail=True))


@bp.post("/certifications/<int:certification_id>/events")
@doc("称号事件：复核、撤销、放弃、到期、降级、替代；带禁止申报的撤销只提出申请（202），"
     "由同地区另一位业务人员或业务管理员确认后生效", body=EventIn, response=CertificationOut,
     accepted=ProposalOut, errors=(401, 403, 404, 409))
@requires(Action.WRITE)
def post_event(certification_id: int):
    """Apply a lifecycle event; an illegal one is refused with 409 and changes nothing."""
    data, session = load(EventIn()), get_session()
    event = EventInput(action=Event(data.pop("action")), **data)
    if four_eyes.needs_second_person(session, actor=current_actor(), rules=rules(), certification_id=certification_id,
                                     event=event):
        row = four_eyes.propose_revocation(session, actor=current_actor(), rules=rules(),
                                           certification_id=certification_id, event=event, at=utcnow(), today=today())
        session.commit()
        return jsonify(ProposalOut().dump(row)), 202
    cert = certifications.apply_event(session, actor=current_actor(), rules=rules(),
                                      certification_id=certification_id, event=event, at=utcnow(), today=today())
    session.commit()
    return jsonify(dump_certification(cert, detail=True))
