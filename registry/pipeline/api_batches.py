"""/batches, /applications, /objections: a batch's applications up the chain, publicity, objections, finalising."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from sqlalchemy.orm import selectinload

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.enterprises.queries import in_region
from registry.pipeline import services as pipeline
from registry.pipeline.api_pools import WRITE_ERRORS, list_args, visible
from registry.pipeline.models import Application, Batch, Objection
from registry.pipeline.schemas import (
    ApplicationIn,
    ApplicationOut,
    BatchIn,
    BatchOut,
    FinaliseIn,
    FinalisePreviewArgs,
    FinalisePreviewOut,
    ObjectionCorrectionIn,
    ObjectionIn,
    ObjectionOut,
    ObjectionWithdrawalIn,
    OpinionIn,
    OpinionOut,
    PoolArgs,
    PublicityIn,
    ResolutionIn,
    ResubmissionIn,
    dump_application,
    dump_batch,
    dump_finalise_plan,
    dump_objection,
    dump_opinion,
)
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.web.api import bp, load, page_of
from registry.web.api.common import schema, today
from registry.web.api.docs import doc
from registry.web.api.writes import written


def board(batch: Batch) -> dict[str, Any]:
    """Return the batch with its quota counters, applications and objections in the caller's region."""
    session, actor = get_session(), current_actor()
    applications = session.scalars(
        sa.select(Application).where(Application.batch_id == batch.id,
                                     in_region(Application.region_code, actor.region_code))
        .options(selectinload(Application.opinions), selectinload(Application.enterprise))
        .order_by(Application.id)).all()
    objections = session.scalars(
        sa.select(Objection).where(Objection.batch_id == batch.id, in_region(Objection.region_code, actor.region_code))
        .order_by(Objection.id)).all()
    return {**dump_batch(batch), "quota_usage": pipeline.quota_usage(session, actor=actor, batch_id=batch.id),
            "applications": [dump_application(a, detail=False) for a in applications],
            "objections": [dump_objection(o, actor) for o in objections]}


def objection_for_caller(objection: Objection) -> dict[str, Any]:
    """Return an objection as the caller may see it (its submitter only for the officers who handle it)."""
    return dump_objection(objection, current_actor())


@bp.post("/batches")
@doc("创建申报批次（各地推荐名额、各级截止日期）", body=BatchIn, response=BatchOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def create_batch():
    """Open a batch for a tier with quotas per region and deadlines per level."""
    return written(BatchIn, pipeline.create_batch, board, 201, rules=rules(), today=today(), at=utcnow())


@bp.get("/batches")
@doc("申报批次列表", query=PoolArgs, response=BatchOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_batches():
    """List the batches that concern the caller's region."""
    rows, total, page, per_page = visible(Batch, list_args())
    return jsonify(page_of([dump_batch(b) for b in rows], total, page, per_page))


@bp.get("/batches/<int:batch_id>")
@doc("批次看板（各地各级名额使用、每件申请的推荐链、异议）", response=BatchOut)
@requires(Action.READ)
def get_batch(batch_id: int):
    """Return the batch board: quotas used per region and level, each application's chain, objections."""
    return jsonify(board(pipeline.get_batch(get_session(), current_actor(), batch_id)))


@bp.post("/batches/<int:batch_id>/applications")
@doc("企业申报（记录申报时的条件核查报告）", body=ApplicationIn, response=ApplicationOut, status=201,
     errors=WRITE_ERRORS)
@requires(Action.WRITE)
def apply(batch_id: int):
    """Record an enterprise's application in the batch."""
    return written(ApplicationIn, pipeline.apply, dump_application, 201, rules=rules(), batch_id=batch_id,
                   today=today(), at=utcnow())


@bp.get("/applications/<int:application_id>")
@doc("申请详情（推荐链、各级意见、条件核查报告）", response=ApplicationOut)
@requires(Action.READ)
def get_application(application_id: int):
    """Return an application with its chain and every opinion."""
    return jsonify(dump_application(pipeline.get_application(get_session(), current_actor(), application_id)))


@bp.post("/applications/<int:application_id>/opinions")
@doc("出具本级意见：推荐、退回补正、不予推荐（超出名额 409 并指明名额及占用者）", body=OpinionIn, response=OpinionOut,
     status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def record_opinion(application_id: int):
    """Record the caller's level's opinion on the application."""
    return written(OpinionIn, pipeline.record_opinion, dump_opinion, 201, rules=rules(),
                   application_id=application_id, on=today(), at=utcnow())


@bp.post("/applications/<int:application_id>/resubmission")
@doc("退回补正后重新提交（本地区经办人办理；进入新一轮，从最低一级重新推荐，原推荐占用的名额释放）",
     body=ResubmissionIn, body_required=False, response=ApplicationOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def resubmit(application_id: int):
    """Put a returned, corrected application back at the bottom of its chain (the body is optional)."""
    return written(ResubmissionIn, pipeline.resubmit, dump_application, optional_body=True, rules=rules(),
                   application_id=application_id, on=today(), at=utcnow())


@bp.post("/batches/<int:batch_id>/publicity")
@doc("开始公示（公示期、发布渠道）", body=PublicityIn, response=BatchOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def start_publicity(batch_id: int):
    """Publish the fully recommended applications for objections."""
    return written(PublicityIn, pipeline.start_publicity, board, batch_id=batch_id, at=utcnow(), rules=rules())


@bp.post("/batches/<int:batch_id>/objections")
@doc("登记书面异议（须署真实姓名或单位盖章，匿名不予受理；异议人身份保密）", body=ObjectionIn, response=ObjectionOut,
     status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def file_objection(batch_id: int):
    """Record a written objection received during the publicity window."""
    data, session = load(ObjectionIn()), get_session()
    received = data.pop("received_on") or today()
    objection = pipeline.file_objection(session, actor=current_actor(), batch_id=batch_id, received_on=received,
                                        at=utcnow(), today=today(), **data)
    session.commit()
    return jsonify(objection_for_caller(objection)), 201


@bp.post("/objections/<int:objection_id>/resolution")
@doc("处理异议：成立或不成立（须说明理由）", body=ResolutionIn, response=ObjectionOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def resolve_objection(objection_id: int):
    """Close an objection as upheld or rejected, with the reasoning."""
    return written(ResolutionIn, pipeline.resolve_objection, objection_for_caller, objection_id=objection_id,
                   on=today(), at=utcnow())


@bp.post("/objections/<int:objection_id>/withdrawal")
@doc("撤回误登记的异议（仍待处理、批次未办结时，由发布公示名单的单位撤回，须说明原因；记录保留，状态为已撤回）",
     body=ObjectionWithdrawalIn, response=ObjectionOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def withdraw_objection(objection_id: int):
    """Withdraw an objection registered by mistake: 已撤回, with the reason; it no longer holds up finalising."""
    return written(ObjectionWithdrawalIn, pipeline.withdraw_objection, objection_for_caller,
                   objection_id=objection_id, on=today(), at=utcnow())


@bp.post("/objections/<int:objection_id>/correction")
@doc("更正误登记的异议（事实和理由、异议人、签署方式、联系方式、收到日期；未提供的字段不变；须说明原因）",
     body=ObjectionCorrectionIn, response=ObjectionOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def correct_objection(objection_id: int):
    """Correct a mistaken objection's grounds, submitter or received date, with a reason."""
    return written(ObjectionCorrectionIn, pipeline.correct_objection, objection_for_caller,
                   objection_id=objection_id, today=today(), at=utcnow())


@bp.post("/batches/<int:batch_id>/finalise")
@doc("办结批次：授予获推荐且无成立异议的申请（认定日期为公布日期），记录其余结果", body=FinaliseIn, response=BatchOut,
     errors=WRITE_ERRORS)
@requires(Action.WRITE)
def finalise(batch_id: int):
    """Grant the recommended, unchallenged applications; refused while publicity or an objection is open."""
    return written(FinaliseIn, pipeline.finalise_batch, board, rules=rules(), batch_id=batch_id, today=today(),
                   at=utcnow())


@bp.get("/batches/<int:batch_id>/finalise/preview")
@doc("办结预览：按拟定公布日期列出将予认定和不予认定的申请（不作任何更改；不能办结时 409/422 说明原因）",
     query=FinalisePreviewArgs, response=FinalisePreviewOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def finalise_preview(batch_id: int):
    """Say what finalising on `published_on` would do, with the same checks as finalising."""
    args = schema(FinalisePreviewArgs).load(request.args.to_dict())
    plan = pipeline.plan_finalise(get_session(), actor=current_actor(), rules=rules(), batch_id=batch_id,
                                  published_on=args["published_on"], today=today())
    return jsonify(dump_finalise_plan(plan))
