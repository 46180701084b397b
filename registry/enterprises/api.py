"""/enterprises: the roster, an enterprise, its reports and new titles."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from flask import jsonify, request

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.enterprises import services as enterprises
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import COMMON_PAIRS, RosterFilter, page_statements, read_page, roster_select
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.privacy import unmask
from registry.regions.scoping import scope_of
from registry.titles import services as certifications
from registry.web.api import bp, load, page_of
from registry.web.api.common import dump_certification, dump_enterprise, dump_listed, list_args, list_columns, today
from registry.web.api.docs import doc
from registry.web.api.schemas import (
    AnnualReportIn,
    AnnualReportOut,
    CertificationIn,
    CertificationOut,
    ChangeReportedIn,
    ChangeReportIn,
    ChangeReportOut,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    ListArgs,
    UnmaskArgs,
)
from registry.web.downloads import criteria
from registry.web.unmasking import recorded

WRITE_ERRORS = (401, 403, 404, 409)


@bp.get("/enterprises")
@doc("企业名录（筛选、搜索、分页、as_of）", query=ListArgs, response=EnterpriseOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_enterprises():
    """List enterprises in the caller's region with filters (contacts masked unless `unmask` by a role that may)."""
    flt, page, per_page = list_args()
    actor, session = current_actor(), get_session()
    unmasked = unmask.requested(actor)
    rows, total = read_page(session, _listed(flt, today(), unmasked, scope_of(session), COMMON_PAIRS.pairs),
                            page, per_page)
    data = dump_listed(rows)
    if unmasked and rows:
        recorded(session, actor, purpose="接口：企业名录", enterprises=rows, at=utcnow(),
                      detail={"filter": criteria(flt)})
    return jsonify(page_of(data, total, page, per_page))


@lru_cache(maxsize=256)
def _listed(flt: RosterFilter, day: date, unmasked: bool, prefix: str | None,
            common: frozenset[str]) -> tuple[sa.Select, sa.Select]:
    """The roster list's count and page statements for a filter, a day, masked or not, a region scope and the
    names' common character pairs that `roster_select` reads (queries.CommonPairs): the listed
    columns only, not ORM objects (no identity map, no loader options, no schema dump per row). Kept for the
    filter's next request (its other pages too): building them and their cache keys was a quarter of a page's
    Python calls (bench/RESULTS.md, pagefast). Everything they depend on is in the key."""
    stmt = roster_select(flt, day).with_only_columns(*list_columns(unmasked))
    return page_statements(stmt, Enterprise.id, prefix)


@bp.post("/enterprises")
@doc("登记企业", body=EnterpriseIn, response=EnterpriseOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def create_enterprise():
    """Register an enterprise; 201 with warnings (e.g. USCC region mismatch)."""
    session = get_session()
    ent, warnings = enterprises.register_enterprise(session, actor=current_actor(), data=load(EnterpriseIn()), at=utcnow())
    session.commit()
    return jsonify(dump_enterprise(ent, detail=True, warnings=warnings)), 201


@bp.get("/enterprises/<int:enterprise_id>")
@doc("企业详情（称号、年报、变更报告；联系人脱敏，unmask=1 完整显示并记入审计）", query=UnmaskArgs, response=EnterpriseOut)
@requires(Action.READ)
def get_enterprise(enterprise_id: int):
    """Return an enterprise with its titles and reports (contacts masked unless `unmask` by a role that may)."""
    actor, session = current_actor(), get_session()
    unmasked = unmask.check(actor, load(UnmaskArgs(), request.args.to_dict())["unmask"])
    ent = enterprises.get_enterprise(session, actor, enterprise_id)
    if unmasked:
        recorded(session, actor, purpose="接口：企业详情", enterprises=[ent], at=utcnow())
    return jsonify(dump_enterprise(ent, detail=True, unmasked=unmasked))


@bp.patch("/enterprises/<int:enterprise_id>")
@doc("修改企业（须携带 version；过期版本返回 409）", body=EnterprisePatch, response=EnterpriseOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def patch_enterprise(enterprise_id: int):
    """Change an enterprise if `version` is current."""
    data, session = load(EnterprisePatch()), get_session()
    version = data.pop("version")
    ent, warnings = enterprises.update_enterprise(session, actor=current_actor(), enterprise_id=enterprise_id,
                                                  data=data, version=version, at=utcnow())
    session.commit()
    return jsonify(dump_enterprise(ent, detail=True, warnings=warnings))


@bp.post("/enterprises/<int:enterprise_id>/annual-reports")
@doc("录入或更正年度报告", body=AnnualReportIn, response=AnnualReportOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def add_annual_report(enterprise_id: int):
    """Record one year's figures (a second post for the same year corrects it)."""
    data, session = load(AnnualReportIn()), get_session()
    warnings: list[str] = []
    report, _ = enterprises.record_annual_report(session, actor=current_actor(), enterprise_id=enterprise_id,
                                                 year=data.pop("year"), data=data, at=utcnow(), today=today(),
                                                 warnings=warnings)
    session.commit()
    return jsonify({**AnnualReportOut().dump(report), "warnings": warnings}), 201


@bp.post("/enterprises/<int:enterprise_id>/change-reports")
@doc("录入重大变化报告（计算报告期限）", body=ChangeReportIn, response=ChangeReportOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def add_change_report(enterprise_id: int):
    """Record a major change with its reporting deadline."""
    data, session = load(ChangeReportIn()), get_session()
    report, warnings = enterprises.record_change_report(session, actor=current_actor(), rules=rules(),
                                                        enterprise_id=enterprise_id, at=utcnow(), today=today(), **data)
    session.commit()
    return jsonify(ChangeReportOut().dump({**{n: getattr(report, n) for n in ChangeReportOut._declared_fields
                                              if n != "warnings"}, "warnings": warnings})), 201


@bp.post("/change-reports/<int:change_report_id>/reported")
@doc("登记重大变化已报告（逾期报告按政策丧失复核资格）", body=ChangeReportedIn, response=ChangeReportOut,
     errors=WRITE_ERRORS)
@requires(Action.WRITE)
def mark_change_reported(change_report_id: int):
    """Mark a registered major change as reported on `reported_on`; a late date has its consequences."""
    data, session = load(ChangeReportedIn()), get_session()
    report, warnings = enterprises.mark_change_reported(session, actor=current_actor(), rules=rules(),
                                                        change_report_id=change_report_id, at=utcnow(),
                                                        today=today(), **data)
    session.commit()
    return jsonify({**ChangeReportOut().dump(report), "warnings": warnings}), 200


@bp.post("/enterprises/<int:enterprise_id>/certifications")
@doc("授予称号（校验前置称号、禁止申报期）", body=CertificationIn, response=CertificationOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def grant(enterprise_id: int):
    """Grant a title."""
    data, session = load(CertificationIn()), get_session()
    cert = certifications.grant_certification(session, actor=current_actor(), rules=rules(),
                                              enterprise_id=enterprise_id, at=utcnow(), today=today(), **data)
    session.commit()
    return jsonify(dump_certification(cert, detail=True)), 201
