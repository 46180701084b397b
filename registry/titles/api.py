"""/certifications: titles across the roster, one title, its events."""

from __future__ import annotations

from flask import jsonify

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.domain.lifecycle import LIVE, Event
from registry.enterprises.queries import certification_select, paginate
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.proposals import four_eyes
from registry.titles import reports
from registry.titles import services as certifications
from registry.titles.services import EventInput
from registry.web.api import bp, load, page_of
from registry.web.api.common import dump_certification, list_args, today
from registry.web.api.docs import doc
from registry.web.api.schemas import (
    CertificationOut,
    DueReportOut,
    EventIn,
    ListArgs,
    ProposalOut,
    ReportFilingIn,
    ReportFilingOut,
    ReportFilingsOut,
)


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


@bp.get("/certifications/<int:certification_id>/report-filings")
@doc("称号的定期报告：各项报告的下一报告期、截止日期和已登记的报送", response=ReportFilingsOut, errors=(401, 403, 404))
@requires(Action.READ)
def list_report_filings(certification_id: int):
    """Return the title's filings and, for a live title, each declared report's next due period."""
    session, day = get_session(), today()
    cert = certifications.get_certification(session, current_actor(), certification_id)
    due = list(reports.due_reports(session, rules(), titles=[(cert, reports.tier_of(rules(), cert))])) \
        if cert.status in LIVE else []
    return jsonify({
        "due": [DueReportOut().dump({"report_code": r.report.code, "report_name": r.report.name, "period": r.period,
                                     "period_name": r.period_name, "due_on": r.due_on, "overdue": r.due_on < day})
                for r in due],
        "filings": ReportFilingOut(many=True).dump(reports.filings_of(session, [cert.id]))})


@bp.post("/certifications/<int:certification_id>/report-filings")
@doc("登记定期报告的报送（一企一策方案、季度梳理、年度评估等，以称号层级的政策文件为准）", body=ReportFilingIn,
     response=ReportFilingOut, status=201, errors=(401, 403, 404, 409, 422))
@requires(Action.WRITE)
def add_report_filing(certification_id: int):
    """Record a filing; a second filing of the same period is 409, an ended title 409, bad input 422."""
    data, session = load(ReportFilingIn()), get_session()
    filing = reports.record_filing(session, actor=current_actor(), rules=rules(), certification_id=certification_id,
                                   at=utcnow(), today=today(), **data)
    session.commit()
    return jsonify(ReportFilingOut().dump(filing)), 201
