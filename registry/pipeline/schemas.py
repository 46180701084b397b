"""Schemas and dumps of the cultivation pipeline API: pools, batches, applications, opinions, objections."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from registry.domain.actors import Action, Actor, can
from registry.domain.criteria_report import VERDICT_NAMES
from registry.domain.deadlines import validity_end
from registry.pipeline.common import LEVEL_NAMES
from registry.pipeline.models import (
    Application,
    Batch,
    Decision,
    Objection,
    ObjectionStatus,
    Opinion,
    Pool,
    PoolMember,
    PoolVerdict,
    SubmitterIdentity,
)
from registry.pipeline.objections import STATUS_NAMES
from registry.pipeline.services import FinalisePlan, Settlement, chain_for, public_view
from registry.platform.bounds import InSchema, page_field, per_page_field, year_field
from registry.platform.extensions import policies
from registry.platform.outputs import out_schema

LEVELS = list(LEVEL_NAMES)
REGION = validate.Regexp(r"^\d{6}$", error="应为6位行政区划代码 / must be a 6-digit GB/T 2260 code")
DECISION_NAMES = {Decision.RECOMMEND: "推荐", Decision.RETURN: "退回补正", Decision.REJECT: "不予推荐"}
OBJECTION_NAMES = STATUS_NAMES
REPORT_DOC = {"description": "条件核查报告：verdict、year、on、results（每项条件：id、name、verdict、values"
                             "（所用数值）、source（依据）、children）、blocking（不能授予的情形）"}


def _one_of(values: list[str]) -> validate.OneOf:
    return validate.OneOf(values, error="应为以下之一 / must be one of: {choices}")


def _text(size: int, required: bool = True, **kw: Any) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(1, size), **kw)
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=size), **kw)


class PoolRunIn(InSchema):
    """POST /pools/run."""

    tier = fields.String(required=True, validate=validate.Length(1, 32))
    year = year_field(required=True, metadata={"description": "评选年度；按上一年度数据核查"})


class PoolArgs(InSchema):
    """Query string of GET /pools and GET /batches."""

    tier = fields.String(load_default=None, validate=validate.Length(max=32))
    year = year_field(load_default=None)
    page = page_field()
    per_page = per_page_field()


class VerdictArgs(InSchema):
    """Query string of GET /pools/{id}/verdicts."""

    standing = fields.String(load_default="", validate=_one_of(["", "in", "out"]),
                             metadata={"description": "in 在库，out 未入库（含理由），空为全部"})
    page = page_field()
    per_page = per_page_field()


class MemberIn(InSchema):
    """POST /pools/{id}/members."""

    enterprise_id = fields.Integer(required=True)
    reason = _text(2000)


class ReasonIn(InSchema):
    """DELETE /pools/{id}/members/{enterprise_id}: why the candidate is taken out."""

    reason = _text(2000)


ApplicantRef = out_schema("ApplicantRef", "The enterprise a pool member or application concerns.",
                          "id:int name uscc region_code")


MemberOut = out_schema(
    "MemberOut", "A pool member with its criteria report.",
    "id:int enterprise region_code verdict included:bool added_manually:bool reason? changed_by? changed_at:time? "
    "evaluation", enterprise=fields.Nested(ApplicantRef),
    verdict=fields.String(metadata={"description": "pass 符合, fail 不符合, manual 待人工核实"}),
    evaluation=fields.Dict(metadata=REPORT_DOC))


VerdictOut = out_schema(
    "VerdictOut", "One evaluated enterprise's verdict in a pool: in or out, and what did not pass.",
    "enterprise verdict verdict_name admitted by_run in_pool standing_name reasons manual_reason evaluated_at:time",
    enterprise=fields.Nested(ApplicantRef),
    verdict=fields.String(metadata={"description": "pass 符合, fail 不符合, unknown 待人工核实"}),
    admitted=fields.Boolean(metadata={"description": "本次核查是否列为候选"}),
    by_run=fields.Boolean(metadata={"description": "false：不在核查范围内、由工作人员手工加入时核查"}),
    in_pool=fields.Boolean(metadata={"description": "现在是否在库"}),
    standing_name=fields.String(metadata={"description": "在库 / 未入库"}),
    reasons=fields.Dict(metadata={"description": "criteria：未通过或待核实的条件（name 规则、values 所用数值、"
                                                 "source 依据）；blocking：不能授予的情形"}),
    manual_reason=fields.String(allow_none=True, metadata={"description": "工作人员加入或移出的理由"}))


PoolVerdictOut = out_schema("PoolVerdictOut",
                            "An enterprise's verdict in one pool (GET /enterprises/{id}/pool-verdicts).",
                            "pool_id:int pool_year:int tier tier_name", base=VerdictOut)


PoolOut = out_schema(
    "PoolOut", "A candidate pool; GET /pools/{id} adds its members.",
    "id:int tier tier_name policy_code year:int figures_year:int reference_on:date region_code evaluated:int "
    "created_by created_at:time members", members=fields.List(fields.Nested(MemberOut)))


class BatchIn(InSchema):
    """POST /batches."""

    tier = fields.String(required=True, validate=validate.Length(1, 32))
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    name = _text(64)
    region_code = fields.String(load_default=None, allow_none=True, validate=REGION)
    quotas = fields.Dict(keys=fields.String(validate=REGION), values=fields.Integer(strict=True), load_default=dict)
    deadlines = fields.Dict(keys=fields.String(validate=_one_of(LEVELS)), values=fields.Date(), load_default=dict)


class ApplicationIn(InSchema):
    """POST /batches/{id}/applications."""

    enterprise_id = fields.Integer(required=True)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 32),
                            metadata={"title": "推荐渠道", "description": "称号政策的推荐渠道代码，如 central_enterprise"})
    channel_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 128),
                                 metadata={"title": "推荐单位", "description": "该渠道的推荐单位名称（中央企业、行业协会）"})
    outside_quota = fields.Boolean(load_default=False, metadata={"title": "不占名额",
                                                                "description": "政策规定不占推荐单位名额的情形"})


class OpinionIn(InSchema):
    """POST /applications/{id}/opinions."""

    level = fields.String(required=True, validate=_one_of(LEVELS))
    decision = fields.String(required=True, validate=_one_of([d.value for d in Decision]))
    note = _text(2000, required=False)


class ResubmissionIn(InSchema):
    """POST /applications/{id}/resubmission (the body is optional)."""

    note = _text(2000, required=False, metadata={"description": "补正情况说明（记入审计）"})


class PublicityIn(InSchema):
    """POST /batches/{id}/publicity."""

    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    published_where = _text(200)


class ObjectionIn(InSchema):
    """POST /batches/{id}/objections: a written objection. Real-name (or sealed) only when a person or body who
    can be reached (phone or address) signs it; any other is recorded as anonymous and not accepted."""

    application_id = fields.Integer(required=True)
    submitter_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    submitter_identity = fields.String(load_default=None, allow_none=True,
                                       validate=_one_of([s.value for s in SubmitterIdentity]))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    grounds = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8000))
    evidence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8000))
    confidential = fields.Boolean(load_default=True, metadata={"description": "异议人身份保密（默认是）"})
    received_on = fields.Date(load_default=None, allow_none=True,
                              metadata={"description": "书面异议收到日期（默认今日）"})


class ResolutionIn(InSchema):
    """POST /objections/{id}/resolution."""

    outcome = fields.String(required=True, validate=_one_of([ObjectionStatus.UPHELD.value,
                                                             ObjectionStatus.REJECTED.value]))
    note = _text(4000)


class ObjectionWithdrawalIn(InSchema):
    """POST /objections/{id}/withdrawal: an objection registered by mistake becomes 已撤回 (the record stays)."""

    reason = _text(2000, metadata={"description": "撤回原因（记入审计）"})


class ObjectionCorrectionIn(InSchema):
    """POST /objections/{id}/correction: correct a mistaken objection; a field left out keeps its value."""

    reason = _text(2000, metadata={"description": "更正原因（记入审计）"})
    grounds = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8000))
    submitter_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    submitter_identity = fields.String(load_default=None, allow_none=True,
                                       validate=_one_of([s.value for s in SubmitterIdentity]))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    received_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "收到日期"})


class FinaliseIn(InSchema):
    """POST /batches/{id}/finalise."""

    published_on = fields.Date(required=True, metadata={"description": "名单公布日期，即认定日期"})
    document_no = _text(128, required=False)
    authority = _text(128, required=False)


class FinalisePreviewArgs(InSchema):
    """GET /batches/{id}/finalise/preview."""

    published_on = fields.Date(required=True, metadata={"description": "拟定的名单公布日期（即认定日期）"})


SettlementOut = out_schema(
    "SettlementOut", "One application's outcome if the batch is finalised.", "application_id:int enterprise grant:bool note",
    enterprise=fields.Nested(ApplicantRef),
    note=fields.String(allow_none=True, metadata={"description": "不予认定的原因"}))


FinalisePreviewOut = out_schema(
    "FinalisePreviewOut", "What finalising on the given date will do; nothing is written.",
    "batch_id:int published_on:date tier policy_code valid_until granted not_granted",
    valid_until=fields.Date(allow_none=True, metadata={"description": "认定称号的有效期届满日（按政策）"}),
    granted=fields.List(fields.Nested(SettlementOut)), not_granted=fields.List(fields.Nested(SettlementOut)))


OpinionOut = out_schema("OpinionOut", "One level's opinion.",
                        "id:int round:int level level_name decision decision_name officer region_code "
                        "decided_on:date note")


ChainStepOut = out_schema(
    "ChainStepOut", "A level of the application's chain in the current round.", "level level_name state opinion",
    state=fields.String(metadata={"description": "recommend/return/reject (已出具), pending (待本级), waiting (待下级)"}),
    opinion=fields.Nested(OpinionOut, allow_none=True))


ApplicationOut = out_schema(
    "ApplicationOut", "An application with its chain and opinions.",
    "id:int batch_id:int enterprise region_code status current_level:str? round:int applied_on:date channel:str? "
    "channel_unit:str? outside_quota:bool outcome_note:str? certification_id:int? chain opinions evaluation",
    enterprise=fields.Nested(ApplicantRef), chain=fields.List(fields.Nested(ChainStepOut)),
    opinions=fields.List(fields.Nested(OpinionOut)), evaluation=fields.Dict(allow_none=True, metadata=REPORT_DOC))


QuotaOut = out_schema("QuotaOut", "A quota of the batch and its use.",
                      "region_code region_name level quota:int used:int held_by:int[]")


ObjectionOut = out_schema(
    "ObjectionOut", "An objection; the submitter's identity only for the officers who handle it.",
    "id:int batch_id:int application_id:int grounds received_on:date status resolution_note:str? resolved_on:date? "
    "submitter_name submitter_identity contact evidence confidential:bool resolved_by:str?")


BatchOut = out_schema(
    "BatchOut", "A batch; GET /batches/{id} adds quotas used, applications and objections.",
    "id:int tier tier_name policy_code year:int name region_code quotas deadlines status "
    "publicity_starts_on:date? publicity_ends_on:date? published_where:str? published_on:date? document_no:str? "
    "created_by created_at:time finalised_at:time? quota_usage applications objections",
    quotas=fields.Dict(keys=fields.String(), values=fields.Integer()),
    deadlines=fields.Dict(keys=fields.String(), values=fields.String()),
    status=fields.String(metadata={"description": "open, publicity, finalised"}),
    quota_usage=fields.List(fields.Nested(QuotaOut)), applications=fields.List(fields.Nested(ApplicationOut)),
    objections=fields.List(fields.Nested(ObjectionOut)))


def tier_label(code: str, policy_code: str) -> str:
    """Return the tier's Chinese name (its code if the policy no longer knows it)."""
    try:
        return policies().tier(code, policy_code=policy_code).name
    except Exception:  # noqa: BLE001  a tier dropped from the policies keeps its code
        return code


def _ref(enterprise: Any) -> dict[str, Any]:
    return {"id": enterprise.id, "name": enterprise.name, "uscc": enterprise.uscc, "region_code": enterprise.region_code}


def dump_member(member: PoolMember) -> dict[str, Any]:
    """Return a pool member as the API shows it."""
    names = ("id", "region_code", "included", "added_manually", "reason", "changed_by", "changed_at", "evaluation")
    return MemberOut().dump({**{n: getattr(member, n) for n in names}, "verdict": member.verdict.value,
                             "enterprise": _ref(member.enterprise)})


def _verdict(verdict: PoolVerdict, member: PoolMember | None, enterprise: Any) -> dict[str, Any]:
    inside = member is not None and member.included
    return {"enterprise": _ref(enterprise), "verdict": verdict.verdict.value,
            "verdict_name": VERDICT_NAMES[verdict.verdict], "admitted": verdict.admitted, "by_run": verdict.by_run,
            "in_pool": inside, "standing_name": "在库" if inside else "未入库", "reasons": verdict.reasons,
            "manual_reason": member.reason if member is not None else None, "evaluated_at": verdict.evaluated_at}


def dump_verdict(verdict: PoolVerdict, member: PoolMember | None, enterprise: Any) -> dict[str, Any]:
    """Return an evaluated enterprise's verdict as the API shows it."""
    return VerdictOut().dump(_verdict(verdict, member, enterprise))


def dump_pool_verdict(enterprise: Any, pool: Pool, verdict: PoolVerdict, member: PoolMember | None) -> dict[str, Any]:
    """Return an enterprise's verdict in `pool` (the enterprise's own list of pools)."""
    return PoolVerdictOut().dump({**_verdict(verdict, member, enterprise), "pool_id": pool.id, "pool_year": pool.year,
                                  "tier": pool.tier, "tier_name": tier_label(pool.tier, pool.policy_code)})


def dump_pool(pool: Pool, members: list[PoolMember] | None = None) -> dict[str, Any]:
    """Return a pool (with its members when given)."""
    names = [n for n in PoolOut._declared_fields if n not in ("members", "tier_name")]
    data = PoolOut(exclude=("members",)).dump({**{n: getattr(pool, n) for n in names},
                                               "tier_name": tier_label(pool.tier, pool.policy_code)})
    if members is not None:
        data["members"] = [dump_member(m) for m in members]
    return data


def _opinion(opinion: Opinion) -> dict[str, Any]:
    names = ("id", "round", "level", "officer", "region_code", "decided_on", "note")
    return {**{n: getattr(opinion, n) for n in names}, "decision": opinion.decision.value,
            "level_name": LEVEL_NAMES[opinion.level], "decision_name": DECISION_NAMES[opinion.decision]}


def dump_opinion(opinion: Opinion) -> dict[str, Any]:
    """Return an opinion as the API shows it."""
    return OpinionOut().dump(_opinion(opinion))


def chain_state(application: Application) -> list[dict[str, Any]]:
    """Return each level of the application's chain with its opinion in the current round."""
    tier = policies().tier(application.batch.tier, policy_code=application.batch.policy_code)
    current = {o.level: o for o in application.opinions if o.round == application.round}
    steps = []
    for level in chain_for(tier, application.region_code):
        opinion = current.get(level)
        state = opinion.decision.value if opinion else "pending" if level == application.current_level else "waiting"
        steps.append({"level": level, "level_name": LEVEL_NAMES[level], "state": state,
                      "opinion": _opinion(opinion) if opinion else None})
    return steps


def dump_application(application: Application, *, detail: bool = True) -> dict[str, Any]:
    """Return an application with its chain (and, in detail, every opinion and its criteria report)."""
    names = ("id", "batch_id", "region_code", "current_level", "round", "applied_on", "outcome_note",
             "certification_id", "channel", "channel_unit", "outside_quota")
    data = {**{n: getattr(application, n) for n in names}, "status": application.status.value,
            "enterprise": _ref(application.enterprise), "chain": chain_state(application)}
    if detail:
        data.update(opinions=[_opinion(o) for o in application.opinions], evaluation=application.evaluation)
        return ApplicationOut().dump(data)
    return ApplicationOut(exclude=("opinions", "evaluation")).dump(data)


def may_see_submitter(actor: Actor) -> bool:
    """Only the officers who handle objections (writers in the region) see who objected."""
    return can(actor, Action.WRITE)


def dump_objection(objection: Objection, actor: Actor) -> dict[str, Any]:
    """Return an objection: in full for its handling officers, its public view for everyone else."""
    if not may_see_submitter(actor):
        return public_view(objection)  # already plain JSON: dates as ISO text
    names = ("id", "batch_id", "application_id", "grounds", "received_on", "resolution_note", "resolved_on",
             "submitter_name", "contact", "evidence", "confidential", "resolved_by")
    return ObjectionOut().dump({**{n: getattr(objection, n) for n in names}, "status": objection.status.value,
                                "submitter_identity": objection.submitter_identity.value})


def dump_batch(batch: Batch) -> dict[str, Any]:
    """Return a batch's own fields (the detail view adds quota use, applications and objections)."""
    skip = ("quota_usage", "applications", "objections", "tier_name", "status")
    names = [n for n in BatchOut._declared_fields if n not in skip]
    return BatchOut(exclude=skip[:3]).dump({**{n: getattr(batch, n) for n in names}, "status": batch.status.value,
                                            "tier_name": tier_label(batch.tier, batch.policy_code)})


def dump_finalise_plan(plan: FinalisePlan) -> dict[str, Any]:
    """Return what finalising will do: the applications granted (with the policy's term) and the rest with why."""
    def one(settlement: Settlement) -> dict[str, Any]:
        application = settlement.application
        return {"application_id": application.id, "enterprise": _ref(application.enterprise),
                "grant": settlement.grant, "note": settlement.note}

    return FinalisePreviewOut().dump({
        "batch_id": plan.batch.id, "published_on": plan.published_on, "tier": plan.tier.code,
        "policy_code": plan.tier.policy_code, "valid_until": validity_end(plan.tier, plan.published_on),
        "granted": [one(s) for s in plan.settlements if s.grant],
        "not_granted": [one(s) for s in plan.settlements if not s.grant]})
